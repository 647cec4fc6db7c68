//! The swift store's options (`[stores.<id>.options]`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use glint_sdk::{ErrorKind, StoreError};
use reqwest::Url;
use serde::Deserialize;

/// Glance's default `swift_store_large_object_size`: 5 GiB.
const DEFAULT_LARGE_OBJECT_SIZE: u64 = 5 << 30;
/// Glance's default `swift_store_large_object_chunk_size`: 200 MiB.
const DEFAULT_LARGE_OBJECT_CHUNK_SIZE: u64 = 200 << 20;
/// The longest `timeout_secs` may be: one hour.
const TIMEOUT_LIMIT: u64 = 3600;
/// Swift's limit on container names, in bytes.
const CONTAINER_NAME_LIMIT: usize = 256;
/// The most image-id characters `multiple_containers_seed` may take (Glance's limit).
const SEED_LIMIT: usize = 32;

/// When and what the orphan-segment sweep (`sweep.rs`) removes.
#[derive(Debug, Clone, Copy)]
pub struct SweepSchedule {
    /// Between two sweeps (and before the first); `None`: never.
    pub interval: Option<Duration>,
    /// How old an orphan segment must be to go.
    pub min_age: Duration,
}

/// Options of a swift store, as written in the configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    auth_url: Option<String>,
    #[serde(default = "default_auth_version")]
    auth_version: String,
    user: Option<String>,
    key: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    user_domain_id: Option<String>,
    user_domain_name: Option<String>,
    project_domain_id: Option<String>,
    project_domain_name: Option<String>,
    region: Option<String>,
    #[serde(default = "default_endpoint_type")]
    endpoint_type: String,
    #[serde(default = "default_service_type")]
    service_type: String,
    endpoint: Option<String>,
    #[serde(default = "default_container")]
    container: String,
    #[serde(default = "default_true")]
    create_container_on_put: bool,
    #[serde(default)]
    multiple_containers_seed: usize,
    #[serde(default = "default_large_object_size")]
    large_object_size: u64,
    #[serde(default = "default_large_object_chunk_size")]
    large_object_chunk_size: u64,
    #[serde(default = "default_timeout_secs")]
    timeout_secs: u64,
    #[serde(default)]
    insecure: bool,
    ca_file: Option<PathBuf>,
    #[serde(default)]
    multi_tenant: bool,
    #[serde(default = "default_orphan_sweep_interval_secs")]
    orphan_sweep_interval_secs: u64,
    #[serde(default = "default_orphan_min_age_secs")]
    orphan_min_age_secs: u64,
}

fn default_auth_version() -> String {
    "3".to_owned()
}
fn default_endpoint_type() -> String {
    "publicURL".to_owned()
}
fn default_service_type() -> String {
    "object-store".to_owned()
}
fn default_container() -> String {
    "glance".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_large_object_size() -> u64 {
    DEFAULT_LARGE_OBJECT_SIZE
}
fn default_large_object_chunk_size() -> u64 {
    DEFAULT_LARGE_OBJECT_CHUNK_SIZE
}
fn default_timeout_secs() -> u64 {
    60
}
fn default_orphan_sweep_interval_secs() -> u64 {
    3600
}
fn default_orphan_min_age_secs() -> u64 {
    24 * 3600
}

/// A domain, by id or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Domain {
    Id(String),
    Name(String),
}

/// The project a Keystone token is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Project {
    Id(String),
    Name { name: String, domain: Domain },
}

/// Which catalog interface the object-store endpoint is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    Public,
    Internal,
    Admin,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// How the store authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Swift's v1 protocol (tempauth, swauth): `GET auth_url` with `X-Auth-User`/`X-Auth-Key`.
    V1 { user: String, key: String },
    /// Keystone v3 password authentication, scoped to a project.
    V3 {
        user: String,
        password: String,
        user_domain: Domain,
        project: Project,
        region: Option<String>,
        interface: Interface,
        service_type: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::V1 { user, .. } => f
                .debug_struct("V1")
                .field("user", user)
                .field("key", &"<hidden>")
                .finish(),
            Credentials::V3 {
                user,
                user_domain,
                project,
                region,
                interface,
                service_type,
                ..
            } => f
                .debug_struct("V3")
                .field("user", user)
                .field("password", &"<hidden>")
                .field("user_domain", user_domain)
                .field("project", project)
                .field("region", region)
                .field("interface", interface)
                .field("service_type", service_type)
                .finish(),
        }
    }
}

/// Which catalog endpoint is the object store (Keystone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogFilter {
    pub service_type: String,
    pub interface: Interface,
    pub region: Option<String>,
}

/// Checked options of a swift store. `Debug` never shows the key or password.
#[derive(Clone, Debug)]
pub struct SwiftConfig {
    /// Absent only in multi-tenant mode, where callers bring their tokens.
    pub auth_url: Option<Url>,
    /// The store's own credentials; absent only in multi-tenant mode.
    pub credentials: Option<Credentials>,
    /// A storage URL used instead of the one authentication returns.
    pub endpoint: Option<Url>,
    /// Multi-tenant mode: each image in its caller's account, with the caller's token.
    pub multi_tenant: bool,
    /// Multi-tenant mode: the `endpoint` option as written, `{project_id}` standing for the
    /// caller's project.
    pub endpoint_template: Option<String>,
    /// Where the object store is in a Keystone catalog.
    pub catalog: CatalogFilter,
    pub container: String,
    pub create_container_on_put: bool,
    pub multiple_containers_seed: usize,
    pub large_object_size: u64,
    pub large_object_chunk_size: u64,
    pub timeout_secs: u64,
    pub insecure: bool,
    pub ca_file: Option<PathBuf>,
    /// The orphan segment sweep (`orphan_sweep_interval_secs`, 0 turns it off, and
    /// `orphan_min_age_secs`).
    pub sweep: SweepSchedule,
}

impl SwiftConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "auth_version": default_auth_version(),
            "endpoint_type": default_endpoint_type(),
            "service_type": default_service_type(),
            "container": default_container(),
            "create_container_on_put": default_true(),
            "multiple_containers_seed": 0,
            "large_object_size": default_large_object_size(),
            "large_object_chunk_size": default_large_object_chunk_size(),
            "timeout_secs": default_timeout_secs(),
            "insecure": false,
            "multi_tenant": false,
            "orphan_sweep_interval_secs": default_orphan_sweep_interval_secs(),
            "orphan_min_age_secs": default_orphan_min_age_secs(),
        })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let raw: RawConfig = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid swift store options: {err}")))?;
        let required = |value: Option<String>, option: &str| {
            value
                .filter(|value| !value.is_empty())
                .ok_or_else(|| invalid(format!("option `{option}` is required")))
        };
        let multi_tenant = raw.multi_tenant;
        if multi_tenant {
            if raw.auth_version != "3" {
                return Err(invalid(
                    "option `multi_tenant` needs Keystone (`auth_version` = \"3\"): callers bring Keystone tokens"
                        .into(),
                ));
            }
            if raw.multiple_containers_seed > 0 {
                return Err(invalid(
                    "options `multi_tenant` and `multiple_containers_seed` exclude each other: \
                     in multi-tenant mode each image has a container of its own"
                        .into(),
                ));
            }
        }
        let interface = match raw.endpoint_type.as_str() {
            "public" | "publicURL" => Interface::Public,
            "internal" | "internalURL" => Interface::Internal,
            "admin" | "adminURL" => Interface::Admin,
            other => {
                return Err(invalid(format!(
                    "option `endpoint_type` must be publicURL, internalURL or adminURL, got {other:?}"
                )));
            }
        };
        let catalog = CatalogFilter {
            service_type: required(Some(raw.service_type.clone()), "service_type")?,
            interface,
            region: raw.region.clone(),
        };
        let auth_url = match raw.auth_url.clone() {
            None if multi_tenant => None,
            auth_url => Some(parse_url(&required(auth_url, "auth_url")?, "auth_url")?),
        };
        // A multi-tenant store needs no credentials of its own: callers bring their tokens.
        let own_credentials = !multi_tenant || raw.user.is_some() || raw.key.is_some();
        let credentials = if own_credentials {
            Some(credentials(raw.clone(), catalog.clone())?)
        } else {
            None
        };
        if credentials.is_some() && auth_url.is_none() {
            return Err(invalid(
                "option `auth_url` is required with `user` and `key`".into(),
            ));
        }
        let (endpoint, endpoint_template) = match raw.endpoint {
            Some(template) if multi_tenant => {
                parse_url(&template.replace("{project_id}", "p"), "endpoint")?;
                (None, Some(template))
            }
            Some(endpoint) if endpoint.contains("{project_id}") => {
                return Err(invalid(
                    "option `endpoint` may name `{project_id}` in multi-tenant mode only".into(),
                ));
            }
            endpoint => (
                endpoint
                    .map(|endpoint| parse_url(&endpoint, "endpoint"))
                    .transpose()?,
                None,
            ),
        };
        if multi_tenant && endpoint_template.is_none() && auth_url.is_none() {
            return Err(invalid(
                "a multi-tenant store needs `endpoint` (with `{project_id}`) or `auth_url` to find \
                 each caller's storage URL when the host passes no service catalog"
                    .into(),
            ));
        }
        if raw.multiple_containers_seed > SEED_LIMIT {
            return Err(invalid(format!(
                "option `multiple_containers_seed` must be between 0 and {SEED_LIMIT}, got {}",
                raw.multiple_containers_seed
            )));
        }
        check_container(&raw.container, raw.multiple_containers_seed)?;
        if raw.large_object_size == 0 {
            return Err(invalid(
                "option `large_object_size` must be at least 1 byte".into(),
            ));
        }
        if raw.large_object_chunk_size == 0 {
            return Err(invalid(
                "option `large_object_chunk_size` must be at least 1 byte".into(),
            ));
        }
        if !(1..=TIMEOUT_LIMIT).contains(&raw.timeout_secs) {
            return Err(invalid(format!(
                "option `timeout_secs` must be between 1 and {TIMEOUT_LIMIT}, got {}",
                raw.timeout_secs
            )));
        }
        if raw.insecure && raw.ca_file.is_some() {
            return Err(invalid(
                "options `insecure` and `ca_file` exclude each other: `insecure` trusts any certificate"
                    .into(),
            ));
        }
        Ok(SwiftConfig {
            auth_url,
            credentials,
            endpoint,
            multi_tenant,
            endpoint_template,
            catalog,
            container: raw.container,
            create_container_on_put: raw.create_container_on_put,
            multiple_containers_seed: raw.multiple_containers_seed,
            large_object_size: raw.large_object_size,
            large_object_chunk_size: raw.large_object_chunk_size,
            timeout_secs: raw.timeout_secs,
            insecure: raw.insecure,
            ca_file: raw.ca_file,
            sweep: SweepSchedule {
                interval: (raw.orphan_sweep_interval_secs > 0)
                    .then(|| Duration::from_secs(raw.orphan_sweep_interval_secs)),
                min_age: Duration::from_secs(raw.orphan_min_age_secs),
            },
        })
    }

    /// The container that holds `image_id`: `container`, or in multiple-containers mode
    /// `<container>_<first seed characters of the id>` as Glance names it (lower-cased; dashes in
    /// those characters do not count towards the seed).
    pub fn container_for(&self, image_id: &str) -> String {
        let seed = self.multiple_containers_seed;
        if seed == 0 {
            return self.container.clone();
        }
        let id = image_id.to_lowercase();
        let dashes = id.chars().take(seed).filter(|c| *c == '-').count();
        let suffix: String = id.chars().take(seed + dashes).collect();
        format!("{}_{suffix}", self.container)
    }
}

/// The store's own credentials, from the options.
fn credentials(raw: RawConfig, catalog: CatalogFilter) -> Result<Credentials, StoreError> {
    let required = |value: Option<String>, option: &str| {
        value
            .filter(|value| !value.is_empty())
            .ok_or_else(|| invalid(format!("option `{option}` is required")))
    };
    let user = required(raw.user, "user")?;
    let key = required(raw.key, "key")?;
    Ok(match raw.auth_version.as_str() {
        "1" | "1.0" => {
            let keystone_only = [
                ("project_name", raw.project_name.is_some()),
                ("project_id", raw.project_id.is_some()),
                ("user_domain_id", raw.user_domain_id.is_some()),
                ("user_domain_name", raw.user_domain_name.is_some()),
                ("project_domain_id", raw.project_domain_id.is_some()),
                ("project_domain_name", raw.project_domain_name.is_some()),
                ("region", raw.region.is_some()),
            ];
            if let Some((option, _)) = keystone_only.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "option `{option}` applies to Keystone (`auth_version` = \"3\") only"
                )));
            }
            Credentials::V1 { user, key }
        }
        "3" => {
            let user_domain = domain(raw.user_domain_id, raw.user_domain_name, "user")?;
            let project = match (raw.project_id, raw.project_name) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "options `project_id` and `project_name` exclude each other".into(),
                    ));
                }
                (Some(id), None) => {
                    if raw.project_domain_id.is_some() || raw.project_domain_name.is_some() {
                        return Err(invalid(
                        "option `project_domain_id`/`project_domain_name` applies to `project_name` only"
                            .into(),
                    ));
                    }
                    Project::Id(required(Some(id), "project_id")?)
                }
                (None, Some(name)) => Project::Name {
                    name: required(Some(name), "project_name")?,
                    domain: domain(raw.project_domain_id, raw.project_domain_name, "project")?,
                },
                (None, None) => {
                    return Err(invalid(
                    "option `project_name` (or `project_id`) is required with Keystone (`auth_version` = \"3\")"
                        .into(),
                ));
                }
            };
            Credentials::V3 {
                user,
                password: key,
                user_domain,
                project,
                region: catalog.region,
                interface: catalog.interface,
                service_type: catalog.service_type,
            }
        }
        other => {
            return Err(invalid(format!(
                "option `auth_version` must be \"1\" (tempauth) or \"3\" (Keystone), got {other:?}"
            )));
        }
    })
}

fn domain(id: Option<String>, name: Option<String>, whose: &str) -> Result<Domain, StoreError> {
    match (id, name) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "options `{whose}_domain_id` and `{whose}_domain_name` exclude each other"
        ))),
        (Some(id), None) => Ok(Domain::Id(id)),
        (None, Some(name)) => Ok(Domain::Name(name)),
        (None, None) => Ok(Domain::Id("default".to_owned())),
    }
}

fn parse_url(text: &str, option: &str) -> Result<Url, StoreError> {
    let url = Url::parse(text)
        .map_err(|err| invalid(format!("option `{option}` is not a URL ({text:?}): {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(invalid(format!(
            "option `{option}` must be an http(s) URL with a host, got {text:?}"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "option `{option}` must not carry credentials; use `user` and `key`"
        )));
    }
    Ok(url)
}

fn check_container(container: &str, seed: usize) -> Result<(), StoreError> {
    // The seed suffix: `_`, up to `seed` characters and the dashes among them.
    let longest = container.len() + if seed > 0 { 1 + seed + 4 } else { 0 };
    if container.is_empty() || container.contains('/') || longest > CONTAINER_NAME_LIMIT {
        return Err(invalid(format!(
            "option `container` must be a non-empty Swift container name without `/`, at most \
             {CONTAINER_NAME_LIMIT} bytes with its `multiple_containers_seed` suffix, got {container:?}"
        )));
    }
    Ok(())
}

/// A `ConfigInvalid` error.
pub fn invalid(message: String) -> StoreError {
    StoreError::new(ErrorKind::ConfigInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1() -> serde_json::Value {
        json!({
            "auth_url": "http://127.0.0.1:8080/auth/v1.0",
            "auth_version": "1",
            "user": "test:tester",
            "key": "s3cr3t-key",
        })
    }

    fn v3() -> serde_json::Value {
        json!({
            "auth_url": "http://127.0.0.1:5000/v3",
            "user": "glance",
            "key": "s3cr3t-password",
            "project_name": "service",
        })
    }

    fn with(mut base: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
        base[key] = value;
        base
    }

    fn without(mut base: serde_json::Value, key: &str) -> serde_json::Value {
        base.as_object_mut().unwrap().remove(key);
        base
    }

    fn message(options: serde_json::Value) -> String {
        let err = SwiftConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn defaults_follow_glance() {
        let config = SwiftConfig::parse(v1()).unwrap();
        assert_eq!(config.container, "glance");
        assert!(config.create_container_on_put);
        assert_eq!(config.multiple_containers_seed, 0);
        assert_eq!(config.large_object_size, 5 << 30);
        assert_eq!(config.large_object_chunk_size, 200 << 20);
        assert_eq!(config.timeout_secs, 60);
        let config = SwiftConfig::parse(v3()).unwrap();
        let Some(Credentials::V3 {
            user_domain,
            project,
            interface,
            service_type,
            region,
            ..
        }) = config.credentials
        else {
            panic!("auth_version defaults to 3");
        };
        assert_eq!(user_domain, Domain::Id("default".into()));
        assert_eq!(
            project,
            Project::Name {
                name: "service".into(),
                domain: Domain::Id("default".into())
            }
        );
        assert_eq!(interface, Interface::Public);
        assert_eq!(service_type, "object-store");
        assert_eq!(region, None);
    }

    #[test]
    fn errors_name_the_option() {
        assert!(message(without(v1(), "auth_url")).contains("`auth_url`"));
        assert!(message(without(v1(), "user")).contains("`user`"));
        assert!(message(without(v1(), "key")).contains("`key`"));
        assert!(message(with(v1(), "key", json!(""))).contains("`key`"));
        assert!(message(with(v1(), "containr", json!("x"))).contains("`containr`"));
        assert!(message(with(v1(), "auth_url", json!("nope"))).contains("`auth_url`"));
        assert!(message(with(v1(), "auth_version", json!("2"))).contains("`auth_version`"));
        assert!(message(with(v1(), "project_name", json!("p"))).contains("`project_name`"));
        assert!(message(without(v3(), "project_name")).contains("`project_name`"));
        assert!(message(with(v3(), "project_id", json!("p"))).contains("`project_id`"));
        assert!(message(with(v3(), "endpoint_type", json!("x"))).contains("`endpoint_type`"));
        assert!(message(with(v3(), "endpoint", json!("ftp://x/"))).contains("`endpoint`"));
        assert!(message(with(v1(), "container", json!("a/b"))).contains("`container`"));
        assert!(message(with(v1(), "container", json!(""))).contains("`container`"));
        assert!(
            message(with(v1(), "multiple_containers_seed", json!(33)))
                .contains("`multiple_containers_seed`")
        );
        assert!(message(with(v1(), "large_object_size", json!(0))).contains("`large_object_size`"));
        assert!(
            message(with(v1(), "large_object_chunk_size", json!(0)))
                .contains("`large_object_chunk_size`")
        );
        assert!(message(with(v1(), "timeout_secs", json!(0))).contains("`timeout_secs`"));
        assert!(
            message(with(
                v1(),
                "auth_url",
                json!("http://u:p@127.0.0.1:8080/auth/v1.0")
            ))
            .contains("`auth_url`")
        );
    }

    #[test]
    fn debug_hides_key_and_password() {
        for options in [v1(), v3()] {
            let shown = format!("{:?}", SwiftConfig::parse(options).unwrap());
            assert!(shown.contains("<hidden>"), "{shown}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
    }

    #[test]
    fn multiple_containers_take_the_seed_from_the_image_id() {
        let config = |seed: usize| {
            SwiftConfig::parse(with(v1(), "multiple_containers_seed", json!(seed))).unwrap()
        };
        let id = "3A1B2C3D-4E5F-4000-8000-000000000001";
        assert_eq!(config(0).container_for(id), "glance");
        assert_eq!(config(3).container_for(id), "glance_3a1");
        // Dashes within the seed characters do not count towards the seed.
        assert_eq!(config(9).container_for(id), "glance_3a1b2c3d-4");
        assert_eq!(config(32).container_for(id).len(), "glance_".len() + 36);
    }

    #[test]
    fn multi_tenant_needs_no_credentials_of_its_own() {
        let config = SwiftConfig::parse(json!({
            "multi_tenant": true,
            "endpoint": "http://127.0.0.1:8080/v1/AUTH_{project_id}",
        }))
        .unwrap();
        assert!(config.multi_tenant && config.credentials.is_none());
        assert_eq!(config.endpoint, None);
        assert_eq!(
            config.endpoint_template.as_deref(),
            Some("http://127.0.0.1:8080/v1/AUTH_{project_id}")
        );
        let config =
            SwiftConfig::parse(json!({ "multi_tenant": true, "auth_url": "http://ks:5000/v3" }))
                .unwrap();
        assert!(config.credentials.is_none() && config.auth_url.is_some());
        // With credentials, they are checked as usual.
        let config = SwiftConfig::parse(with(v3(), "multi_tenant", json!(true))).unwrap();
        assert!(config.credentials.is_some());
    }

    #[test]
    fn multi_tenant_errors_name_the_options() {
        let mt = || json!({ "multi_tenant": true, "auth_url": "http://ks:5000/v3" });
        assert!(message(json!({ "multi_tenant": true })).contains("`endpoint`"));
        assert!(message(with(mt(), "auth_version", json!("1"))).contains("`multi_tenant`"));
        assert!(
            message(with(mt(), "multiple_containers_seed", json!(2)))
                .contains("`multiple_containers_seed`")
        );
        assert!(message(with(mt(), "user", json!("glance"))).contains("`key`"));
        assert!(
            message(with(mt(), "endpoint", json!("ftp://x/{project_id}"))).contains("`endpoint`")
        );
        assert!(
            message(with(
                v3(),
                "endpoint",
                json!("http://x/v1/AUTH_{project_id}")
            ))
            .contains("multi-tenant")
        );
    }
}
