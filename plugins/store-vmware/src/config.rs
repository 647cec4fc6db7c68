//! The vmware store's options (`[stores.<id>.options]`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

/// The longest `timeout_secs` may be: one hour.
const TIMEOUT_LIMIT: u64 = 3600;
/// The most retries `api_retry_count` may ask for.
const RETRY_LIMIT: u32 = 100;
/// Glance's `vmware_store_image_dir` default.
const DEFAULT_IMAGE_DIR: &str = "/openstack_glance";

/// Options of a vmware store, as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    host: String,
    #[serde(default = "default_port")]
    port: u16,
    username: String,
    password: String,
    #[serde(default)]
    datacenter: Option<String>,
    datastores: Vec<serde_json::Value>,
    #[serde(default = "default_image_dir")]
    store_image_dir: String,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    insecure: bool,
    #[serde(default = "default_api_retry_count")]
    api_retry_count: u32,
    #[serde(default = "default_task_poll_interval_ms")]
    task_poll_interval_ms: u64,
    #[serde(default = "default_timeout_secs")]
    timeout_secs: u64,
}

fn default_port() -> u16 {
    443
}

fn default_image_dir() -> String {
    DEFAULT_IMAGE_DIR.to_owned()
}

fn default_api_retry_count() -> u32 {
    10
}

fn default_task_poll_interval_ms() -> u64 {
    500
}

fn default_timeout_secs() -> u64 {
    60
}

/// One configured datastore: where it is and how much it is preferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreSpec {
    /// Inventory path of its datacenter (`DC0`, `folder/dc1`).
    pub datacenter: String,
    /// The datastore's name.
    pub name: String,
    /// Higher weights are chosen first; 0 when not given, as in Glance.
    pub weight: i64,
}

/// The checked options of a vmware store.
#[derive(Clone)]
pub struct VmwareConfig {
    /// Host name or IP address of the vCenter or ESXi server (no brackets for IPv6).
    pub host: String,
    /// HTTPS port of the server (default 443).
    pub port: u16,
    /// The user the driver logs in as.
    pub username: String,
    /// That user's password; never logged.
    pub password: String,
    /// Where images may be stored; at least one.
    pub datastores: Vec<DatastoreSpec>,
    /// Directory of the images inside each datastore, as path segments (default `openstack_glance`).
    pub image_dir: Vec<String>,
    /// A PEM file of CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// Accept any TLS certificate. For test servers only.
    pub insecure: bool,
    /// How often a request that failed to reach the server is retried (default 10).
    pub api_retry_count: u32,
    /// Pause between two polls of a server-side task (default 500 ms).
    pub task_poll_interval: Duration,
    /// Connect timeout, and the longest silence while reading (default 60 s).
    pub timeout: Duration,
}

impl VmwareConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "port": default_port(),
            "store_image_dir": default_image_dir(),
            "insecure": false,
            "api_retry_count": default_api_retry_count(),
            "task_poll_interval_ms": default_task_poll_interval_ms(),
            "timeout_secs": default_timeout_secs(),
        })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let raw: RawConfig = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid vmware store options: {err}")))?;
        let host = raw
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
            return Err(invalid(format!(
                "option `host` must be a host name or IP address, got {:?}",
                raw.host
            )));
        }
        if raw.port == 0 {
            return Err(invalid("option `port` must not be 0".to_owned()));
        }
        if raw.username.is_empty() {
            return Err(invalid("option `username` must not be empty".to_owned()));
        }
        if raw.password.is_empty() {
            return Err(invalid("option `password` must not be empty".to_owned()));
        }
        if let Some(datacenter) = &raw.datacenter
            && datacenter.trim().is_empty()
        {
            return Err(invalid("option `datacenter` must not be empty".to_owned()));
        }
        if raw.datastores.is_empty() {
            return Err(invalid(
                "option `datastores` must name at least one datastore".to_owned(),
            ));
        }
        let datastores = raw
            .datastores
            .iter()
            .enumerate()
            .map(|(index, entry)| parse_datastore(entry, raw.datacenter.as_deref(), index))
            .collect::<Result<Vec<_>, _>>()?;
        for (index, spec) in datastores.iter().enumerate() {
            if datastores[..index]
                .iter()
                .any(|other| other.datacenter == spec.datacenter && other.name == spec.name)
            {
                return Err(invalid(format!(
                    "option `datastores` names {}:{} twice",
                    spec.datacenter, spec.name
                )));
            }
        }
        let image_dir = parse_image_dir(&raw.store_image_dir)?;
        if raw.insecure && raw.ca_file.is_some() {
            return Err(invalid(
                "options `insecure` and `ca_file` exclude each other: `insecure` trusts any certificate"
                    .to_owned(),
            ));
        }
        if raw.api_retry_count > RETRY_LIMIT {
            return Err(invalid(format!(
                "option `api_retry_count` must be at most {RETRY_LIMIT}, got {}",
                raw.api_retry_count
            )));
        }
        if !(10..=60_000).contains(&raw.task_poll_interval_ms) {
            return Err(invalid(format!(
                "option `task_poll_interval_ms` must be between 10 and 60000, got {}",
                raw.task_poll_interval_ms
            )));
        }
        if !(1..=TIMEOUT_LIMIT).contains(&raw.timeout_secs) {
            return Err(invalid(format!(
                "option `timeout_secs` must be between 1 and {TIMEOUT_LIMIT}, got {}",
                raw.timeout_secs
            )));
        }
        Ok(VmwareConfig {
            host: host.to_owned(),
            port: raw.port,
            username: raw.username,
            password: raw.password,
            datastores,
            image_dir,
            ca_file: raw.ca_file,
            insecure: raw.insecure,
            api_retry_count: raw.api_retry_count,
            task_poll_interval: Duration::from_millis(raw.task_poll_interval_ms),
            timeout: Duration::from_secs(raw.timeout_secs),
        })
    }

    /// `host[:port]` as it appears in URLs and locations; the port is left out when it is 443.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// One `datastores` entry: `"<datacenter path>:<datastore>[:<weight>]"`, a bare `"<datastore>"`
/// when `datacenter` is set, or `{ datacenter, datastore, weight }`.
fn parse_datastore(
    entry: &serde_json::Value,
    default_datacenter: Option<&str>,
    index: usize,
) -> Result<DatastoreSpec, StoreError> {
    let bad = |reason: &str| {
        invalid(format!(
            "option `datastores` entry {index} ({entry}): {reason}"
        ))
    };
    let (datacenter, name, weight) = match entry {
        serde_json::Value::String(text) => {
            // As Glance: split from the right, so a datacenter path may itself hold colons.
            let parts: Vec<&str> = text.rsplitn(3, ':').map(str::trim).collect();
            match parts.as_slice() {
                [name] => (default_datacenter.map(str::to_owned), name.to_string(), 0),
                [name, datacenter] => (Some(datacenter.to_string()), name.to_string(), 0),
                [weight, name, datacenter] => {
                    let weight = if weight.is_empty() {
                        0
                    } else {
                        weight
                            .parse()
                            .map_err(|_| bad(&format!("weight {weight:?} is not an integer")))?
                    };
                    (Some(datacenter.to_string()), name.to_string(), weight)
                }
                _ => unreachable!("rsplitn(3) yields one to three parts"),
            }
        }
        serde_json::Value::Object(fields) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Entry {
                datacenter: Option<String>,
                datastore: String,
                #[serde(default)]
                weight: i64,
            }
            let parsed: Entry = serde_json::from_value(serde_json::Value::Object(fields.clone()))
                .map_err(|err| bad(&err.to_string()))?;
            let datacenter = parsed
                .datacenter
                .or_else(|| default_datacenter.map(str::to_owned));
            (datacenter, parsed.datastore, parsed.weight)
        }
        _ => {
            return Err(bad(
                "expected \"<datacenter>:<datastore>:<weight>\" or { datacenter, datastore, weight }",
            ));
        }
    };
    let datacenter = datacenter
        .map(|path| path.trim().trim_matches('/').to_owned())
        .filter(|path| !path.is_empty())
        .ok_or_else(|| {
            bad("no datacenter path: write \"<datacenter>:<datastore>\" or set `datacenter`")
        })?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.contains(['[', ']', '/']) {
        return Err(bad("the datastore name is empty or holds '[', ']' or '/'"));
    }
    Ok(DatastoreSpec {
        datacenter,
        name,
        weight,
    })
}

/// `store_image_dir` as path segments; `.`/`..`, empty and control-character segments are refused.
fn parse_image_dir(dir: &str) -> Result<Vec<String>, StoreError> {
    let segments: Vec<String> = dir
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    let usable = |segment: &String| {
        segment != "." && segment != ".." && !segment.chars().any(|c| c.is_control() || c == '\\')
    };
    if segments.is_empty() || !segments.iter().all(usable) {
        return Err(invalid(format!(
            "option `store_image_dir` must be a directory path such as {DEFAULT_IMAGE_DIR:?}, got {dir:?}"
        )));
    }
    Ok(segments)
}

/// A `ConfigInvalid` error.
pub fn invalid(message: String) -> StoreError {
    StoreError::new(ErrorKind::ConfigInvalid, message)
}

impl fmt::Debug for VmwareConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VmwareConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("datastores", &self.datastores)
            .field("image_dir", &self.image_dir.join("/"))
            .field("ca_file", &self.ca_file)
            .field("insecure", &self.insecure)
            .field("api_retry_count", &self.api_retry_count)
            .field("task_poll_interval", &self.task_poll_interval)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "host": "vc.example",
            "username": "glance",
            "password": "s3cr3t",
            "datastores": ["DC0:LocalDS_0:100"],
        })
    }

    fn with(extra: serde_json::Value) -> serde_json::Value {
        let mut options = base();
        for (key, value) in extra.as_object().unwrap() {
            options[key] = value.clone();
        }
        options
    }

    fn message(options: serde_json::Value) -> String {
        let err = VmwareConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn defaults_apply() {
        let config = VmwareConfig::parse(base()).unwrap();
        assert_eq!(config.port, 443);
        assert_eq!(config.authority(), "vc.example");
        assert_eq!(config.image_dir, ["openstack_glance"]);
        assert_eq!(config.api_retry_count, 10);
        assert_eq!(config.task_poll_interval, Duration::from_millis(500));
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert!(!config.insecure && config.ca_file.is_none());
        assert_eq!(
            config.datastores,
            [DatastoreSpec {
                datacenter: "DC0".into(),
                name: "LocalDS_0".into(),
                weight: 100
            }]
        );
    }

    #[test]
    fn datastore_entries_in_every_form() {
        let config = VmwareConfig::parse(with(json!({
            "datacenter": "DC1",
            "port": 8989,
            "host": "::1",
            "store_image_dir": "/images/glance/",
            "datastores": [
                "folder:dc:x:ds-a:7",
                "dc2:ds-b",
                "ds-c",
                "dc3:ds-d:",
                { "datastore": "ds-e", "weight": -3 },
                { "datacenter": "/dc4/", "datastore": "ds-f" },
            ],
        })))
        .unwrap();
        let got: Vec<(String, String, i64)> = config
            .datastores
            .clone()
            .into_iter()
            .map(|spec| (spec.datacenter, spec.name, spec.weight))
            .collect();
        let want = [
            ("folder:dc:x", "ds-a", 7),
            ("dc2", "ds-b", 0),
            ("DC1", "ds-c", 0),
            ("dc3", "ds-d", 0),
            ("DC1", "ds-e", -3),
            ("dc4", "ds-f", 0),
        ];
        assert_eq!(got.len(), want.len());
        for ((dc, ds, weight), (want_dc, want_ds, want_weight)) in got.iter().zip(want) {
            assert_eq!(
                (dc.as_str(), ds.as_str(), *weight),
                (want_dc, want_ds, want_weight)
            );
        }
        assert_eq!(config.image_dir, ["images", "glance"]);
        assert_eq!(config.authority(), "[::1]:8989");
    }

    #[test]
    fn errors_name_the_option() {
        assert!(message(with(json!({ "server_host": "x" }))).contains("`server_host`"));
        let mut missing = base();
        missing.as_object_mut().unwrap().remove("password");
        assert!(message(missing).contains("`password`"));
        assert!(message(with(json!({ "host": "a/b" }))).contains("`host`"));
        assert!(message(with(json!({ "port": 0 }))).contains("`port`"));
        assert!(message(with(json!({ "port": 70000 }))).contains("invalid value"));
        assert!(message(with(json!({ "username": "" }))).contains("`username`"));
        assert!(message(with(json!({ "datastores": [] }))).contains("`datastores`"));
        assert!(message(with(json!({ "datastores": ["LocalDS_0"] }))).contains("`datastores`"));
        assert!(message(with(json!({ "datastores": ["DC0:ds:heavy"] }))).contains("heavy"));
        assert!(message(with(json!({ "datastores": [":ds"] }))).contains("`datastores`"));
        assert!(message(with(json!({ "datastores": ["DC0:"] }))).contains("`datastores`"));
        assert!(message(with(json!({ "datastores": [7] }))).contains("`datastores`"));
        assert!(
            message(with(
                json!({ "datastores": [{ "datastore": "x", "wieght": 1 }] })
            ))
            .contains("`wieght`")
        );
        assert!(message(with(json!({ "datastores": ["a:b", "a:b:3"] }))).contains("twice"));
        assert!(message(with(json!({ "store_image_dir": "/" }))).contains("`store_image_dir`"));
        assert!(
            message(with(json!({ "store_image_dir": "a/../b" }))).contains("`store_image_dir`")
        );
        assert!(
            message(with(json!({ "insecure": true, "ca_file": "/ca.pem" }))).contains("`ca_file`")
        );
        assert!(message(with(json!({ "api_retry_count": 101 }))).contains("`api_retry_count`"));
        assert!(
            message(with(json!({ "task_poll_interval_ms": 1 })))
                .contains("`task_poll_interval_ms`")
        );
        assert!(message(with(json!({ "timeout_secs": 0 }))).contains("`timeout_secs`"));
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", VmwareConfig::parse(base()).unwrap());
        assert!(
            shown.contains("glance") && shown.contains("<hidden>"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
