//! Configuration: built-in defaults, then a TOML file, then `GLINT_` environment
//! variables (`__` separates nesting levels: `GLINT_DATABASE__URL`), then flags.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the API listens on.
    pub bind: SocketAddr,
    /// Where the embedded defaults keep their state: the SQLite database,
    /// the default file store and extra plugins.
    pub data_dir: PathBuf,
    /// Base URL used in the versions document; the request's host when unset.
    pub public_endpoint: Option<String>,
    pub database: DatabaseConfig,
    pub plugins: PluginsConfig,
    /// Named stores (Glance's `enabled_backends`): id → driver and options.
    pub stores: BTreeMap<String, StoreConfig>,
    /// The store uploads go to; the first configured store when unset.
    pub default_store: Option<String>,
    /// Store ids in the order the configuration file lists them, then any
    /// given only by environment variables, by id. Discovery lists stores in
    /// this order, as Glance lists `enabled_backends`.
    #[serde(skip)]
    pub store_order: Vec<String>,
    /// Adding image locations (`POST /v2/images/{id}/locations`).
    pub locations: LocationsConfig,
    /// Which URLs the server may be asked to fetch data from (Glance's
    /// `[import_filtering_opts]`). An allowed list, when not empty, wins over
    /// its disallowed list.
    pub import_filtering: ImportFilteringConfig,
    pub api: ApiConfig,
    pub auth: AuthConfig,
    pub image_format: ImageFormatConfig,
    pub policy: PolicyConfig,
    /// Interoperable import (`POST /v2/images/{id}/import`).
    pub import: ImportConfig,
    /// The glance-download import method (Glance's `[glance_download_properties]`).
    pub glance_download: GlanceDownloadConfig,
    /// Per-project limits (Glance's unified limits).
    pub quotas: QuotaConfig,
    /// Metadata definitions served from elsewhere than the database.
    pub metadefs: MetadefsConfig,
    /// The image cache of this API node (Glance's `image_cache_*`).
    pub cache: CacheConfig,
    /// Background jobs: the reaper, the purge (`[jobs.<name>]`).
    pub jobs: crate::jobs::config::JobsConfig,
    /// DELETE leaves an image with data in `pending_delete` and the reaper
    /// deletes its data after `scrub_time` (Glance's `delayed_delete`).
    pub delayed_delete: bool,
    /// Seconds an image stays in `pending_delete` before the reaper deletes its data.
    pub scrub_time: u64,
    /// Image data deletes the reaper runs at once.
    pub scrub_pool_size: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…`, `postgres://…` or `mysql://…`; `<data_dir>/glint.db` when unset.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Directories searched for `libglint_store_*.so`. `<data_dir>/plugins`
    /// and the directory of the `glint` executable are always searched.
    pub dirs: Vec<PathBuf>,
    /// Plugin files loaded explicitly; those named `libglint_metadef_*.so`
    /// are metadef provider plugins.
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Driver name, as the plugin declares it (`file`, `swift`, `rbd`, …).
    pub driver: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Downloads try higher weights first.
    #[serde(default)]
    pub weight: i64,
    /// Driver options, handed to the plugin as JSON (an empty object when absent).
    #[serde(default = "no_options")]
    pub options: serde_json::Value,
}

/// Glance's four unified limits, per project; -1 is no limit. Off unless
/// `enabled` (Glance's `use_keystone_limits`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    pub enabled: bool,
    /// MiB of image data a project may store.
    pub image_size_total: i64,
    /// MiB a project may have in staging.
    pub image_stage_total: i64,
    /// Images a project may have.
    pub image_count_total: i64,
    /// Uploads, stages and imports a project may run at once.
    pub image_count_uploading: i64,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            image_size_total: -1,
            image_stage_total: -1,
            image_count_total: -1,
            image_count_uploading: -1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// The import methods offered (Glance's `enabled_import_methods`):
    /// `glance-direct`, `web-download`, `copy-image`, and `glance-download`
    /// (offered only when listed).
    pub methods: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlanceDownloadConfig {
    /// Prefixes of the remote image's properties copied onto the local image.
    pub extra_properties: Vec<String>,
}

impl Default for GlanceDownloadConfig {
    fn default() -> Self {
        Self {
            extra_properties: ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            methods: vec![
                "glance-direct".into(),
                "web-download".into(),
                "copy-image".into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocationsConfig {
    /// Compute `checksum` and `os_hash_value` of an added location by reading
    /// its data in the background (Glance's `do_secure_hash`); when false the
    /// caller's `validation_data` is taken as is.
    pub do_secure_hash: bool,
    /// Attempts at reading an added location's data for its hash (Glance's `http_retries`).
    pub http_retries: u32,
}

impl Default for LocationsConfig {
    fn default() -> Self {
        Self {
            do_secure_hash: true,
            http_retries: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportFilteringConfig {
    pub allowed_schemes: Vec<String>,
    pub disallowed_schemes: Vec<String>,
    /// Host names or IP addresses.
    pub allowed_hosts: Vec<String>,
    pub disallowed_hosts: Vec<String>,
    /// Checked only for URLs that name a port.
    pub allowed_ports: Vec<u16>,
    pub disallowed_ports: Vec<u16>,
}

impl Default for ImportFilteringConfig {
    fn default() -> Self {
        Self {
            allowed_schemes: vec!["http".into(), "https".into()],
            disallowed_schemes: Vec::new(),
            allowed_hosts: Vec::new(),
            disallowed_hosts: Vec::new(),
            allowed_ports: vec![80, 443],
            disallowed_ports: Vec::new(),
        }
    }
}

/// The image cache: copies of image data on this node's disk, filled by
/// downloads and by `PUT /v2/cache/{image_id}`, served to later downloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Cache downloaded and queued images; when false the `/v2/cache` API
    /// answers 404 and downloads always read the stores.
    pub enabled: bool,
    /// Where cached files live; `<data_dir>/cache` when unset.
    pub dir: Option<PathBuf>,
    /// Size in bytes above which the least recently used images are evicted
    /// (after each fill and every `prune_interval_secs`). A threshold, not a
    /// hard limit: a fill in progress may go past it.
    pub max_size: u64,
    /// This node's name in the shared cache index (Glance's
    /// `worker_self_reference_url`); `http://<host name>:<port>` when unset.
    /// Nodes sharing one database must have different names.
    pub node_url: Option<String>,
    /// Seconds an unfinished cache file may stay before the cleaner removes it.
    pub stall_time_secs: u64,
    /// Images fetched into the cache at the same time.
    pub prefetch_workers: usize,
    /// Seconds between runs of the pruner, the cleaner and the retry of
    /// queued images.
    pub prune_interval_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            max_size: 10 << 30,
            node_url: None,
            stall_time_secs: 86_400,
            prefetch_workers: 2,
            prune_interval_secs: 300,
        }
    }
}

impl Config {
    /// The cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }

    /// This node's name in the cache index.
    pub fn cache_node_url(&self) -> String {
        if let Some(url) = &self.cache.node_url {
            return url.trim_end_matches('/').to_owned();
        }
        let ip = self.bind.ip();
        let host = if ip.is_unspecified() || ip.is_loopback() {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| ip.to_string())
        } else if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        format!("http://{host}:{}", self.bind.port())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadefsConfig {
    /// Named metadef providers: name → driver and options. Their namespaces
    /// are served read-only beside the database's; a namespace name a
    /// provider serves hides a database namespace of that name.
    pub providers: BTreeMap<String, MetadefProviderConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadefProviderConfig {
    /// Driver name, as the plugin declares it (`dir`, …).
    pub driver: String,
    /// Driver options, handed to the plugin as JSON (an empty object when absent).
    #[serde(default = "no_options")]
    pub options: serde_json::Value,
}

fn no_options() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Page size when a list request gives no `limit`.
    pub limit_param_default: u32,
    /// Largest page a list request may ask for.
    pub api_limit_max: u32,
    /// Largest image accepted, in bytes.
    pub image_size_cap: u64,
    /// Most extra properties per image.
    pub image_property_quota: usize,
    /// Most tags per image.
    pub image_tag_quota: usize,
    /// Most projects an image may be shared with.
    pub image_member_quota: usize,
    /// Most locations per image.
    pub image_location_quota: usize,
    /// Glance's property protections file (INI; see `domain::protections`);
    /// none by default: every extra property is open.
    pub property_protection_file: Option<PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            limit_param_default: 25,
            api_limit_max: 1000,
            image_size_cap: 1 << 40,
            image_property_quota: 128,
            image_tag_quota: 128,
            image_member_quota: 128,
            image_location_quota: 10,
            property_protection_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStrategy {
    /// Every request acts as an administrator with no project, like Glance's
    /// unauthenticated context. For standalone use only.
    #[default]
    Noauth,
    /// Every request but version discovery carries a Keystone token in
    /// `X-Auth-Token`, validated against `[auth.keystone]` the way
    /// keystonemiddleware's auth_token does.
    Keystone,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub strategy: AuthStrategy,
    /// The Keystone to validate tokens with; required by `strategy = "keystone"`.
    pub keystone: Option<KeystoneConfig>,
}

/// Keystone v3 settings: the service user Glint validates tokens as, and
/// how long a validated token is trusted without asking Keystone again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoneConfig {
    /// Keystone's v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    pub auth_url: String,
    /// The service user (Glance's `[keystone_authtoken] username`).
    pub username: String,
    pub password: Secret,
    /// The project the service token is scoped to.
    pub project_name: String,
    #[serde(default = "default_domain")]
    pub user_domain_name: String,
    #[serde(default = "default_domain")]
    pub project_domain_name: String,
    /// Sent to unauthenticated clients in `WWW-Authenticate: Keystone uri="…"`;
    /// `auth_url` without its `/v3` when unset.
    #[serde(default)]
    pub www_authenticate_uri: Option<String>,
    /// Longest time a validated token is trusted before asking Keystone again
    /// (never past the token's own expiry), so a revoked token keeps working
    /// at most this long.
    #[serde(default = "default_token_cache_seconds")]
    pub token_cache_seconds: u64,
    /// Roles an `X-Service-Token` must have (any of them) to count.
    #[serde(default = "default_service_token_roles")]
    pub service_token_roles: Vec<String>,
    /// Ignore a service token without one of `service_token_roles`; when
    /// false, such a token is only logged.
    #[serde(default = "default_true")]
    pub service_token_roles_required: bool,
    /// Timeout of each request to Keystone, in seconds.
    #[serde(default = "default_keystone_timeout_secs")]
    pub timeout_secs: u64,
}

impl KeystoneConfig {
    /// The URI clients are sent to for a token.
    pub fn www_authenticate_uri(&self) -> String {
        self.www_authenticate_uri.clone().unwrap_or_else(|| {
            let url = self.auth_url.trim_end_matches('/');
            url.strip_suffix("/v3").unwrap_or(url).to_owned()
        })
    }
}

fn default_domain() -> String {
    "Default".into()
}

fn default_token_cache_seconds() -> u64 {
    300
}

fn default_service_token_roles() -> Vec<String> {
    vec!["service".into()]
}

fn default_true() -> bool {
    true
}

fn default_keystone_timeout_secs() -> u64 {
    10
}

/// A password or other credential: readable through `expose` only, shown as
/// `***` by `Debug` and `Serialize` so it never reaches a log or a dump.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

/// Who may do what (`glint policy defaults` prints the rules).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Rules overriding or adding to the defaults, in oslo.policy's format
    /// (YAML or JSON: rule name → check string), as Glance's policy file.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageFormatConfig {
    pub container_formats: Vec<String>,
    pub disk_formats: Vec<String>,
    /// Inspect the data of `bare` images as it arrives and refuse content
    /// that is not the image's `disk_format` (raw accepts anything). When
    /// false a mismatch is only logged; safety checks refuse either way.
    pub require_image_format_match: bool,
    /// Safety checks (`mbr`) that only warn for content detected as `gpt`.
    pub gpt_safety_checks_nonfatal: Vec<String>,
}

impl Default for ImageFormatConfig {
    fn default() -> Self {
        let list = |s: &str| s.split(',').map(str::to_owned).collect();
        Self {
            container_formats: list("ami,ari,aki,bare,ovf,ova,docker,compressed"),
            disk_formats: list("ami,ari,aki,vhd,vhdx,vmdk,raw,qcow2,vdi,iso,ploop"),
            require_image_format_match: true,
            gpt_safety_checks_nonfatal: Vec::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 9292)),
            data_dir: PathBuf::from("./data"),
            public_endpoint: None,
            database: DatabaseConfig::default(),
            plugins: PluginsConfig::default(),
            stores: BTreeMap::new(),
            default_store: None,
            store_order: Vec::new(),
            locations: LocationsConfig::default(),
            import_filtering: ImportFilteringConfig::default(),
            api: ApiConfig::default(),
            auth: AuthConfig::default(),
            image_format: ImageFormatConfig::default(),
            policy: PolicyConfig::default(),
            import: ImportConfig::default(),
            glance_download: GlanceDownloadConfig::default(),
            quotas: QuotaConfig::default(),
            metadefs: MetadefsConfig::default(),
            cache: CacheConfig::default(),
            jobs: Default::default(),
            delayed_delete: false,
            scrub_time: 0,
            scrub_pool_size: 1,
        }
    }
}

/// Values given on the command line; they override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

// figment's own error type is large; configuration loads once, at start-up.
#[allow(clippy::result_large_err)]
impl Config {
    /// Layer defaults, the optional TOML file, the environment and flags.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Self, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        // GLINT_LOG and GLINT_CONFIG are read elsewhere; GLINT_TEST_*, GLINT_SHARED
        // and GLINT_HARNESS_* belong to the test suites and their tools.
        let env = Env::prefixed("GLINT_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            key != "log"
                && key != "config"
                && key != "shared"
                && !key.starts_with("test_")
                && !key.starts_with("harness_")
        });
        let mut config = figment
            .merge(env)
            .merge(Serialized::globals(overrides))
            .extract::<Config>()?;
        config.store_order = file.map(stores_in_file_order).unwrap_or_default();
        config.finish()
    }

    /// Fill in what depends on other settings.
    fn finish(mut self) -> Result<Self, figment::Error> {
        // Stores and the database see one absolute directory, whatever the
        // working directory of later code (plugins require absolute paths).
        self.data_dir = std::path::absolute(&self.data_dir).map_err(|e| {
            figment::Error::from(format!("data_dir {}: {e}", self.data_dir.display()))
        })?;
        if self.stores.is_empty() {
            self.stores.insert(
                "file".into(),
                StoreConfig {
                    driver: "file".into(),
                    description: Some("Local filesystem store".into()),
                    weight: 0,
                    options: serde_json::json!({ "datadir": self.data_dir.join("images") }),
                },
            );
        }
        self.store_order.retain(|id| self.stores.contains_key(id));
        for id in self.stores.keys() {
            if !self.store_order.contains(id) {
                self.store_order.push(id.clone());
            }
        }
        if let Some(bad) = self.stores.keys().find(|id| id.starts_with("os_glance_")) {
            return Err(figment::Error::from(format!(
                "store id '{bad}' is reserved: ids starting with os_glance_ are not allowed"
            )));
        }
        match &self.default_store {
            Some(id) if !self.stores.contains_key(id) => {
                return Err(figment::Error::from(format!(
                    "default_store '{id}' is not one of the configured stores"
                )));
            }
            Some(_) => {}
            None => self.default_store = self.store_order.first().cloned(),
        }
        if self.auth.strategy == AuthStrategy::Keystone && self.auth.keystone.is_none() {
            return Err(figment::Error::from(
                "auth.strategy = \"keystone\" needs an [auth.keystone] table".to_string(),
            ));
        }
        if self.cache.prefetch_workers == 0 || self.cache.prune_interval_secs == 0 {
            return Err(figment::Error::from(
                "cache.prefetch_workers and cache.prune_interval_secs must be positive".to_string(),
            ));
        }
        if self.api.api_limit_max == 0 || self.api.limit_param_default == 0 {
            return Err(figment::Error::from(
                "api.api_limit_max and api.limit_param_default must be positive".to_string(),
            ));
        }
        Ok(self)
    }

    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("glint.db").display()
            )
        })
    }

    pub fn default_store(&self) -> &str {
        self.default_store
            .as_deref()
            .expect("set by Config::finish")
    }

    /// Directories searched for plugins, in order.
    pub fn plugin_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.plugins.dirs.clone();
        dirs.push(self.data_dir.join("plugins"));
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            dirs.push(exe_dir);
        }
        dirs
    }
}

/// The `[stores.*]` ids of a TOML file in the order it lists them; empty when
/// the file cannot be read (figment reports that error itself).
fn stores_in_file_order(file: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    match table.get("stores") {
        Some(toml::Value::Table(stores)) => stores.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The commented default configuration file, for `glint config defaults`.
pub const DEFAULTS_TOML: &str = r#"# Glint configuration. Every key is optional; shown here with its default.
# Environment variables override this file: GLINT_BIND, GLINT_DATABASE__URL, ...

# Address the API listens on.
bind = "127.0.0.1:9292"
# State of the embedded defaults: SQLite database, file store, extra plugins.
data_dir = "./data"
# Base URL used in the versions document (default: the request's host).
# public_endpoint = "https://images.example.org"
# The store uploads go to (default: the first store configured).
# default_store = "file"

[database]
# sqlite://PATH?mode=rwc, postgres://USER@HOST/DB or mysql://USER@HOST/DB.
# Default: sqlite://<data_dir>/glint.db?mode=rwc
# url = "postgres://glint@127.0.0.1/glint"

[plugins]
# Extra directories searched for libglint_store_*.so; <data_dir>/plugins and
# the directory of the glint executable are always searched.
dirs = []
# Plugin files loaded explicitly.
paths = []

# Named stores, like Glance's enabled_backends. Without any, one "file" store
# keeps images under <data_dir>/images.
# [stores.file]
# driver = "file"
# description = "Local filesystem store"
# weight = 0
# options = { datadir = "/var/lib/glint/images" }   # absolute

# Named metadef providers (plugins libglint_metadef_*.so, found like store
# plugins): their namespaces are served read-only beside the database's, and
# a namespace name a provider serves hides a database namespace of that name.
# [metadefs.providers.bundled]
# driver = "dir"
# options = { path = "/usr/share/glint/metadefs" }   # absolute; also visibility, owner

[locations]
# Hash an added location's data in the background (checksum, os_hash_value).
do_secure_hash = true
# Attempts at reading an added location's data for its hash.
http_retries = 3

# URLs the server may be asked to read from (added locations). A non-empty
# allowed list wins over its disallowed list; ports are checked only when
# the URL names one.
[import_filtering]
allowed_schemes = ["http", "https"]
disallowed_schemes = []
allowed_hosts = []
disallowed_hosts = []
allowed_ports = [80, 443]
disallowed_ports = []

[api]
limit_param_default = 25
api_limit_max = 1000
# Largest image accepted, in bytes (1 TiB).
image_size_cap = 1099511627776
image_property_quota = 128
image_tag_quota = 128

[auth]
# "noauth": every request acts as an administrator without a project.
# "keystone": requests carry a Keystone token (X-Auth-Token), validated
# against [auth.keystone]; GET / needs none.
strategy = "noauth"

# Required by strategy = "keystone".
# [auth.keystone]
# Keystone's v3 endpoint.
# auth_url = "http://127.0.0.1:5000/v3"
# The service user tokens are validated as, and its project.
# username = "glance"
# password = "..."
# project_name = "service"
# user_domain_name = "Default"
# project_domain_name = "Default"
# Sent in WWW-Authenticate to clients without a valid token (default: auth_url without /v3).
# www_authenticate_uri = "http://127.0.0.1:5000"
# Seconds a validated token is trusted before Keystone is asked again
# (never past its expiry): a revoked token keeps working at most this long.
# token_cache_seconds = 300
# An X-Service-Token counts only with one of these roles...
# service_token_roles = ["service"]
# ...unless this is false, in which case the mismatch is only logged.
# service_token_roles_required = true
# Timeout of each request to Keystone, in seconds.
# timeout_secs = 10

# The glance-download import method (enabled when [import] methods lists
# "glance-download"): remote image properties whose names start with one of
# these prefixes are copied onto the imported image.
[glance_download]
extra_properties = ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"]

[policy]
# Rules overriding or adding to the default policy, in oslo.policy's format
# (YAML or JSON, rule name: check string); `glint policy defaults` prints
# the defaults. A rule that does not parse stops the server from starting.
# file = "/etc/glint/policy.yaml"

[cache]
# Keep copies of downloaded and queued images (PUT /v2/cache/{image_id}) on
# this node's disk and serve later downloads from them.
enabled = true
# Default: <data_dir>/cache
# dir = "/var/cache/glint"
# Bytes above which the least recently used images are evicted (10 GiB).
max_size = 10737418240
# This node's name in the cache index shared through the database; nodes
# sharing a database need different names. Default: http://<host name>:<port>
# node_url = "http://api1.example.org:9292"
# Seconds an unfinished cache file may stay before it is removed.
stall_time_secs = 86400
# Images fetched into the cache at the same time.
prefetch_workers = 2
# Seconds between runs of the pruner and the cleaner.
prune_interval_secs = 300

[image_format]
container_formats = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
disk_formats = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
# Inspect uploads of bare images and refuse data that is not the image's
# disk_format (anything may be raw). False only logs a mismatch; failed safety
# checks (a qcow2 backing file, VMDK extents naming other files, ...) refuse anyway.
require_image_format_match = true
# Safety checks that only warn for content detected as gpt: "mbr".
gpt_safety_checks_nonfatal = []
"#;

#[cfg(test)]
// figment::Jail's closures return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_one_file_store_under_the_data_dir() {
        let c = Config::default().finish().unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:9292");
        assert_eq!(c.default_store(), "file");
        // Relative to the working directory, made absolute (other tests move it: compare shapes).
        assert!(c.data_dir.is_absolute() && c.data_dir.ends_with("data"));
        let images = c.data_dir.join("images");
        assert_eq!(
            c.stores["file"].options["datadir"],
            images.to_str().unwrap()
        );
        assert!(
            c.database_url()
                .starts_with(&format!("sqlite://{}/glint.db", c.data_dir.display()))
        );
    }

    #[test]
    fn the_commented_defaults_file_parses_to_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(DEFAULTS_TOML))
            .extract()
            .unwrap();
        let parsed = parsed.finish().unwrap();
        let default = Config::default().finish().unwrap();
        assert_eq!(
            serde_json::to_value(parsed).unwrap(),
            serde_json::to_value(default).unwrap()
        );
    }

    #[test]
    fn file_env_and_flags_layer_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "glint.toml",
                r#"
                bind = "127.0.0.1:1000"
                default_store = "b"
                [stores.a]
                driver = "file"
                [stores.b]
                driver = "file"
                options = { datadir = "/tmp/b" }
                "#,
            )?;
            jail.set_env("GLINT_API__API_LIMIT_MAX", "50");
            jail.set_env("GLINT_BIND", "127.0.0.1:2000");
            jail.set_env("GLINT_LOG", "debug");
            jail.set_env("GLINT_TEST_POSTGRES_URL", "postgres://elsewhere");
            let c = Config::load(
                Some(Path::new("glint.toml")),
                Overrides {
                    data_dir: Some("/srv".into()),
                    bind: None,
                },
            )
            .unwrap();
            assert_eq!(c.bind.port(), 2000);
            assert_eq!(c.api.api_limit_max, 50);
            assert_eq!(c.default_store(), "b");
            assert_eq!(c.data_dir, PathBuf::from("/srv"));
            assert_eq!(c.store_order, ["a", "b"]);
            let c = Config::load(
                Some(Path::new("glint.toml")),
                Overrides {
                    bind: Some("127.0.0.1:3000".parse().unwrap()),
                    data_dir: None,
                },
            )
            .unwrap();
            assert_eq!(c.bind.port(), 3000);
            Ok(())
        });
    }

    #[test]
    fn stores_keep_the_file_order_and_the_first_is_the_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "glint.toml",
                "[stores.slow]\ndriver = \"file\"\n[stores.fast]\ndriver = \"file\"\n",
            )?;
            jail.set_env("GLINT_STORES__ENV__DRIVER", "http");
            let c = Config::load(Some(Path::new("glint.toml")), Overrides::default()).unwrap();
            assert_eq!(c.store_order, ["slow", "fast", "env"]);
            assert_eq!(c.default_store(), "slow");
            Ok(())
        });
    }

    #[test]
    fn bad_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "default_store = \"nope\"")?;
            assert!(Config::load(Some(Path::new("a.toml")), Overrides::default()).is_err());
            jail.create_file("b.toml", "[stores.os_glance_staging]\ndriver = \"file\"")?;
            assert!(Config::load(Some(Path::new("b.toml")), Overrides::default()).is_err());
            jail.create_file("d.toml", "[auth]\nstrategy = \"keystone\"")?;
            assert!(Config::load(Some(Path::new("d.toml")), Overrides::default()).is_err());
            jail.create_file("c.toml", "unknown_key = 1")?;
            assert!(Config::load(Some(Path::new("c.toml")), Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn keystone_settings_come_from_the_environment_and_hide_the_password() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GLINT_AUTH__STRATEGY", "keystone");
            jail.set_env("GLINT_AUTH__KEYSTONE__AUTH_URL", "http://ks:5000/v3/");
            jail.set_env("GLINT_AUTH__KEYSTONE__USERNAME", "glance");
            jail.set_env("GLINT_AUTH__KEYSTONE__PASSWORD", "hunter2");
            jail.set_env("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service");
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.auth.strategy, AuthStrategy::Keystone);
            let ks = c.auth.keystone.as_ref().unwrap();
            assert_eq!(ks.password.expose(), "hunter2");
            assert_eq!(ks.user_domain_name, "Default");
            assert_eq!(ks.token_cache_seconds, 300);
            assert_eq!(ks.service_token_roles, ["service"]);
            assert_eq!(ks.www_authenticate_uri(), "http://ks:5000");
            assert!(!format!("{c:?}").contains("hunter2"));
            assert!(!serde_json::to_string(&c).unwrap().contains("hunter2"));
            Ok(())
        });
    }
}
