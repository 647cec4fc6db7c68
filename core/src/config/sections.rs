//! The settings of each section (table) of the configuration file. Their
//! defaults are in `defaults.toml`; see the module documentation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://…`, `postgres://…` or `mysql://…`; `<data_dir>/glint.db` when unset.
    pub url: Option<String>,
    /// PostgreSQL and MySQL: seconds a request waits for a database connection (the server
    /// down, restarting or every connection busy) before it is answered 503 with `Retry-After`.
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Seconds a call into the store may go without progress (a backend that stopped
    /// answering, a hung plugin) before it fails with 503; 0: no limit. A slow client never
    /// counts: see `core/src/store/deadline.rs`.
    #[serde(default = "default_store_timeout")]
    pub timeout_secs: u64,
}

/// A store's `timeout_secs` when its table has none: well above any one call of a working
/// backend (each chunk of a transfer counts on its own), well below "forever".
pub(super) fn default_store_timeout() -> u64 {
    300
}

/// Glance's four unified limits, per project; -1 is no limit. Off unless
/// `enabled` (Glance's `use_keystone_limits`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// The import methods offered (Glance's `enabled_import_methods`):
    /// `glance-direct`, `web-download`, `copy-image`, and `glance-download`
    /// (offered only when listed).
    pub methods: Vec<String>,
    /// Stores one copy-image or multi-store import writes at once (at least 1).
    pub max_parallel_stores: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlanceDownloadConfig {
    /// Prefixes of the remote image's properties copied onto the local image.
    pub extra_properties: Vec<String>,
}

/// The key managers image signing certificates can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyManagerBackend {
    Barbican,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyManagerConfig {
    /// The key manager holding the certificates that image signatures are
    /// verified with (castellan's `backend`).
    pub backend: KeyManagerBackend,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarbicanConfig {
    /// Barbican's endpoint; empty: the `key-manager` entry of the caller's
    /// Keystone catalog.
    pub barbican_endpoint: String,
    /// Appended to the endpoint unless it already ends with it.
    pub barbican_api_version: String,
    /// The catalog interface (`public`, `internal`, `admin`) when the
    /// endpoint comes from the catalog.
    pub barbican_endpoint_type: String,
    /// The catalog region when the endpoint comes from the catalog; empty: any.
    pub barbican_region_name: String,
    /// Seconds one request to Barbican may take.
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationsConfig {
    /// Compute `checksum` and `os_hash_value` of an added location by reading
    /// its data in the background (Glance's `do_secure_hash`); when false the
    /// caller's `validation_data` is taken as is.
    pub do_secure_hash: bool,
    /// Attempts at reading an added location's data for its hash (Glance's `http_retries`).
    pub http_retries: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The image cache: copies of image data on this node's disk, filled by
/// downloads and by `PUT /v2/cache/{image_id}`, served to later downloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// This node's name in the shared cache index; the top-level
    /// `worker_self_reference_url` when unset, else `http://<host name>:<port>`.
    /// Nodes sharing one database must have different names.
    pub node_url: Option<String>,
    /// Seconds an unfinished cache file may stay before the cleaner removes it.
    pub stall_time_secs: u64,
    /// Images fetched into the cache at the same time.
    pub prefetch_workers: usize,
    /// Drivers whose downloads are not copied into the cache: their stores
    /// keep the data on a local disk already, so a copy would only write it
    /// a second time. Images queued with `PUT /v2/cache/{image_id}` are
    /// cached whatever their store.
    pub uncached_drivers: Vec<String>,
    /// Seconds between runs of the pruner, the cleaner and the retry of
    /// queued images.
    pub prune_interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadefsConfig {
    /// Named metadef providers: name → driver and options. Their namespaces
    /// are served read-only beside the database's; a namespace name a
    /// provider serves hides a database namespace of that name.
    #[serde(default)]
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
#[serde(deny_unknown_fields)]
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
    /// Seconds `glint serve` lets requests in progress finish after SIGTERM;
    /// an upload still streaming then is aborted (its image back to `queued`).
    pub shutdown_grace_secs: u64,
    /// Seconds an upload or stage body may send no byte before it is aborted
    /// and its image freed.
    pub body_idle_timeout_secs: u64,
    /// Seconds a connection may stay silent (no request headers, no body
    /// byte, no response byte read) before it is closed.
    pub header_timeout_secs: u64,
    /// Most filters one image list may carry (tags, property filters, time
    /// ranges and the other filter parameters, counted as given).
    pub max_list_filters: usize,
    /// Most values in one `in:` filter.
    pub max_in_list_items: usize,
    /// Most sort keys of one list.
    pub max_sort_keys: usize,
    /// Most operations in one JSON-patch document.
    pub max_patch_operations: usize,
    /// Largest JSON request body, in bytes.
    pub max_json_body_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON request body.
    pub max_json_depth: usize,
    /// Longest request target (path and query string), in bytes.
    pub max_url_bytes: usize,
    /// Most bytes of request headers (names and values together).
    pub max_header_bytes: usize,
}

/// Cross-origin resource sharing (oslo.middleware's `[cors]`): the
/// preflight is answered before authentication, and answers to allowed
/// origins carry the `Access-Control-*` headers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed to read answers, `*` for any; empty turns CORS off.
    pub allowed_origin: Vec<String>,
    /// Whether answers allow credentials (`Access-Control-Allow-Credentials`).
    pub allow_credentials: bool,
    /// Headers a script may read (`Access-Control-Expose-Headers`).
    pub expose_headers: Vec<String>,
    /// Seconds a preflight answer may be cached; 0 sends no `Access-Control-Max-Age`.
    pub max_age: u64,
    /// Methods a preflight may ask for.
    pub allow_methods: Vec<String>,
    /// Request headers a preflight may ask for, besides the simple ones.
    pub allow_headers: Vec<String>,
}

/// Who may do what (`glint policy defaults` prints the rules).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Rules overriding or adding to the defaults, in oslo.policy's format
    /// (YAML or JSON: rule name → check string), as Glance's policy file.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
