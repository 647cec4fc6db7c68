//! Configuration: built-in defaults, then a TOML file, then `GLINT_` environment
//! variables (`__` separates nesting levels: `GLINT_DATABASE__URL`), then flags.
//!
//! The built-in defaults are one commented file, `defaults.toml`: it is the
//! first layer of every load and what `glint config defaults` prints, so the
//! two cannot disagree. The structs below therefore carry no serde defaults
//! for settings: a setting missing from that file fails every load (and the
//! tests), where a default written in Rust would silently differ from it.
//! Only maps (no entries) and optional settings (unset) may be absent.
//!
//! `sections` and `auth` hold the settings' types, `load` the layering and
//! `validate` what is derived and checked once everything is merged.

mod auth;
mod imports;
mod jobs;
mod load;
mod notifications;
mod operations;
mod sections;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

pub use auth::{AuthConfig, AuthStrategy, KeystoneConfig, Secret};
pub use imports::{
    ImageConversionConfig, ImageDecompressionConfig, ImageImportOptsConfig, ImportPluginName,
    InjectMetadataConfig, LocationStrategy, OutputFormat, StoreTypeLocationStrategyConfig,
    TaskConfig,
};
pub use jobs::{
    AuditConfig, EndpointAuthConfig, JobsConfig, PurgeConfig, ReaperConfig, RecoveryConfig,
    ReplicateJobConfig, UpdaterConfig,
};
pub use load::Overrides;
pub use notifications::NotificationsConfig;
pub use operations::{HealthConfig, LogFormat, MetricsConfig, TlsConfig, resolve_bind};
pub use sections::{
    ApiConfig, CacheConfig, CorsConfig, DatabaseConfig, GlanceDownloadConfig, ImageFormatConfig,
    ImportConfig, ImportFilteringConfig, LocationsConfig, MetadefProviderConfig, MetadefsConfig,
    PluginsConfig, PolicyConfig, QuotaConfig, StoreConfig,
};
pub use sections::{BarbicanConfig, KeyManagerBackend, KeyManagerConfig};

/// The commented default configuration file: the first layer of every load,
/// and what `glint config defaults` prints.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// Every setting, one field or table per section of the configuration file.
/// A new section needs its table in `defaults.toml` (see the module notes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on; the host may be a name.
    #[serde(deserialize_with = "operations::bind")]
    pub bind: SocketAddr,
    /// Where the embedded defaults keep their state: the SQLite database,
    /// the default file store and extra plugins.
    pub data_dir: PathBuf,
    /// Base URL used in the versions document; the request's host when unset.
    pub public_endpoint: Option<String>,
    /// The URL other API nodes reach this one at, when several share one
    /// database (Glance's `worker_self_reference_url`). A stage records it
    /// on the image (`os_glance_stage_host`), and a glance-direct import
    /// that lands on another node is forwarded here, where the staged data
    /// is. Also this node's name in the cache index unless `[cache] node_url`
    /// is set. `public_endpoint` stands in for it when unset, as in Glance.
    pub worker_self_reference_url: Option<String>,
    pub database: DatabaseConfig,
    pub plugins: PluginsConfig,
    /// Named stores (Glance's `enabled_backends`): id → driver and options.
    #[serde(default)]
    pub stores: BTreeMap<String, StoreConfig>,
    /// The store uploads go to; the first configured store when unset.
    pub default_store: Option<String>,
    /// Store ids in the order the configuration file lists them, then any
    /// given only by environment variables, by id. Discovery lists stores in
    /// this order, as Glance lists `enabled_backends`.
    #[serde(skip)]
    pub store_order: Vec<String>,
    /// What loading found odd but not fatal, for the caller to log once
    /// logging is set up (unknown `GLINT_*` variables).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Adding image locations (`POST /v2/images/{id}/locations`).
    pub locations: LocationsConfig,
    /// Which URLs the server may be asked to fetch data from (Glance's
    /// `[import_filtering_opts]`). An allowed list, when not empty, wins over
    /// its disallowed list.
    pub import_filtering: ImportFilteringConfig,
    pub api: ApiConfig,
    /// Cross-origin resource sharing (oslo.middleware's `[cors]`).
    pub cors: CorsConfig,
    pub auth: AuthConfig,
    pub image_format: ImageFormatConfig,
    pub policy: PolicyConfig,
    /// Interoperable import (`POST /v2/images/{id}/import`).
    pub import: ImportConfig,
    /// The glance-download import method (Glance's `[glance_download_properties]`).
    pub glance_download: GlanceDownloadConfig,
    /// The import plugins run on imported data (Glance's `[image_import_opts]`).
    pub image_import_opts: ImageImportOptsConfig,
    /// The `image_conversion` import plugin.
    pub image_conversion: ImageConversionConfig,
    /// The `image_decompression` import plugin.
    pub image_decompression: ImageDecompressionConfig,
    /// The `inject_image_metadata` import plugin.
    pub inject_metadata_properties: InjectMetadataConfig,
    /// Which copy of an image a download reads first.
    pub location_strategy: LocationStrategy,
    /// The order of store types under `location_strategy = "store_type"`.
    pub store_type_location_strategy: StoreTypeLocationStrategyConfig,
    /// Tasks (Glance's `[task]`).
    pub task: TaskConfig,
    /// Where image signing certificates are read (castellan's `[key_manager]`).
    pub key_manager: KeyManagerConfig,
    /// The Barbican key manager (castellan's `[barbican]`).
    pub barbican: BarbicanConfig,
    /// Per-project limits (Glance's unified limits).
    pub quotas: QuotaConfig,
    /// Metadata definitions served from elsewhere than the database.
    pub metadefs: MetadefsConfig,
    /// The image cache of this API node (Glance's `image_cache_*`).
    pub cache: CacheConfig,
    /// Background jobs: the reaper, the purge (`[jobs.<name>]`).
    pub jobs: JobsConfig,
    /// Events sent to a message broker, as Glance's notifier sends them.
    pub notifications: NotificationsConfig,
    /// DELETE leaves an image with data in `pending_delete` and the reaper
    /// deletes its data after `scrub_time` (Glance's `delayed_delete`).
    pub delayed_delete: bool,
    /// Seconds an image stays in `pending_delete` before the reaper deletes its data.
    pub scrub_time: u64,
    /// Image data deletes the reaper runs at once.
    pub scrub_pool_size: usize,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// Take the scheme and host of links from `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` (or `Forwarded`), for a service behind a proxy.
    pub enable_proxy_headers_parsing: bool,
    /// `/healthcheck`.
    pub health: HealthConfig,
    /// The Prometheus metrics listener.
    pub metrics: MetricsConfig,
    /// HTTPS on the API listener.
    pub tls: TlsConfig,
}

/// The settings of [`DEFAULTS_TOML`] alone, before [`Config::load`] derives
/// anything from them.
static DEFAULTS: LazyLock<Config> = LazyLock::new(|| {
    Figment::from(Toml::string(DEFAULTS_TOML))
        .extract()
        .unwrap_or_else(|e| panic!("the built-in defaults.toml must hold every setting: {e}"))
});

impl Default for Config {
    fn default() -> Self {
        DEFAULTS.clone()
    }
}

/// Each section's default is its table in [`DEFAULTS_TOML`].
macro_rules! section_defaults {
    ($($field:ident: $section:ty),* $(,)?) => {$(
        impl Default for $section {
            fn default() -> Self {
                DEFAULTS.$field.clone()
            }
        }
    )*};
}

section_defaults!(
    database: DatabaseConfig,
    plugins: PluginsConfig,
    locations: LocationsConfig,
    import_filtering: ImportFilteringConfig,
    api: ApiConfig,
    cors: CorsConfig,
    auth: AuthConfig,
    image_format: ImageFormatConfig,
    policy: PolicyConfig,
    import: ImportConfig,
    glance_download: GlanceDownloadConfig,
    image_import_opts: ImageImportOptsConfig,
    image_conversion: ImageConversionConfig,
    image_decompression: ImageDecompressionConfig,
    inject_metadata_properties: InjectMetadataConfig,
    store_type_location_strategy: StoreTypeLocationStrategyConfig,
    task: TaskConfig,
    key_manager: KeyManagerConfig,
    barbican: BarbicanConfig,
    quotas: QuotaConfig,
    metadefs: MetadefsConfig,
    cache: CacheConfig,
    jobs: JobsConfig,
    health: HealthConfig,
    metrics: MetricsConfig,
    tls: TlsConfig,
    notifications: NotificationsConfig,
);

impl Default for ReaperConfig {
    fn default() -> Self {
        DEFAULTS.jobs.reaper.clone()
    }
}

impl Default for PurgeConfig {
    fn default() -> Self {
        DEFAULTS.jobs.purge.clone()
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

    /// The URL this node records as a stage host (Glance's `self_url`):
    /// `worker_self_reference_url`, else `public_endpoint`.
    pub fn self_url(&self) -> Option<String> {
        self.worker_self_reference_url
            .as_deref()
            .or(self.public_endpoint.as_deref())
            .map(|url| url.trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
    }

    /// This node's name in the cache index and in its leases:
    /// `[cache] node_url`, else `worker_self_reference_url`, else
    /// `http://<host name>:<port>`.
    pub fn cache_node_url(&self) -> String {
        if let Some(url) = self
            .cache
            .node_url
            .as_ref()
            .or(self.worker_self_reference_url.as_ref())
        {
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

    /// How long a request waits for a connection to a database server.
    pub fn database_acquire_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.database.acquire_timeout_secs.max(1))
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

    /// Directories searched for plugins, in order: `[plugins] dirs`,
    /// `<data_dir>/plugins`, `<exe dir>/../lib/glint/plugins`, `<exe dir>`.
    pub fn plugin_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.plugins.dirs.clone();
        dirs.push(self.data_dir.join("plugins"));
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            // The install layout: <prefix>/bin/glint, <prefix>/lib/glint/plugins.
            dirs.push(exe_dir.join("../lib/glint/plugins"));
            dirs.push(exe_dir);
        }
        dirs
    }
}

#[cfg(test)]
// figment::Jail's closures return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The settings the defaults were written out in Rust as before they
    /// moved to `defaults.toml`: moving them changed none.
    #[test]
    fn the_defaults_file_holds_the_settings_of_before() {
        let expected = json!({
            "bind": "127.0.0.1:9292",
            "data_dir": "./data",
            "public_endpoint": null,
            "worker_self_reference_url": null,
            "database": { "url": null, "acquire_timeout_secs": 3 },
            "plugins": { "dirs": [], "paths": [] },
            "stores": {},
            "default_store": null,
            "locations": { "do_secure_hash": true, "http_retries": 3 },
            "import_filtering": {
                "allowed_schemes": ["http", "https"],
                "disallowed_schemes": [],
                "allowed_hosts": [],
                "disallowed_hosts": [],
                "allowed_ports": [80, 443],
                "disallowed_ports": [],
            },
            "api": {
                "limit_param_default": 25,
                "api_limit_max": 1000,
                "image_size_cap": 1_u64 << 40,
                "image_property_quota": 128,
                "image_tag_quota": 128,
                "image_member_quota": 128,
                "image_location_quota": 10,
                "property_protection_file": null,
                "shutdown_grace_secs": 10,
                "body_idle_timeout_secs": 60,
                "header_timeout_secs": 30,
                "max_list_filters": 100,
                "max_in_list_items": 1000,
                "max_sort_keys": 10,
                "max_patch_operations": 500,
                "max_json_body_bytes": 1048576,
                "max_json_depth": 32,
                "max_url_bytes": 16384,
                "max_header_bytes": 65536,
            },
            "auth": { "strategy": "noauth", "keystone": null },
            "image_format": {
                "container_formats":
                    ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"],
                "disk_formats":
                    ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"],
                "require_image_format_match": true,
                "gpt_safety_checks_nonfatal": [],
            },
            "policy": { "file": null },
            "import": {
                "methods": ["glance-direct", "web-download", "copy-image"],
                "max_parallel_stores": 1,
            },
            "glance_download": {
                "extra_properties": ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"],
            },

            "key_manager": { "backend": "barbican" },
            "barbican": {
                "barbican_endpoint": "",
                "barbican_api_version": "v1",
                "barbican_endpoint_type": "public",
                "barbican_region_name": "",
                "timeout_secs": 30,
            },
            "quotas": {
                "enabled": false,
                "image_size_total": -1,
                "image_stage_total": -1,
                "image_count_total": -1,
                "image_count_uploading": -1,
            },
            "metadefs": { "providers": {} },
            "cors": {
                "allowed_origin": [],
                "allow_credentials": true,
                "expose_headers": ["X-Image-Meta-Checksum", "X-Auth-Token", "X-Subject-Token",
                    "X-Service-Token", "X-OpenStack-Request-ID"],
                "max_age": 3600,
                "allow_methods": ["GET", "PUT", "POST", "DELETE", "PATCH"],
                "allow_headers": ["Content-MD5", "X-Image-Meta-Checksum", "X-Storage-Token",
                    "Accept-Encoding", "X-Auth-Token", "X-Identity-Status", "X-Roles",
                    "X-Service-Catalog", "X-User-Id", "X-Tenant-Id", "X-OpenStack-Request-ID"],
            },
            "cache": {
                "enabled": true,
                "dir": null,
                "max_size": 10_u64 << 30,
                "node_url": null,
                "stall_time_secs": 86_400,
                "prefetch_workers": 2,
                "uncached_drivers": ["file"],
                "prune_interval_secs": 300,
            },
            "jobs": {
                "lease_secs": 60,
                "shutdown_grace_secs": 10,
                "reaper": {
                    "enabled": true,
                    "interval_secs": 60,
                    "batch_size": 100,
                    "max_deletes_per_sec": 0,
                    "retry_max_secs": 3600,
                    "sweep_orphans": true,
                    "orphan_grace_secs": 86_400,
                },
                "purge": {
                    "enabled": false,
                    "interval_secs": 86_400,
                    "age_in_days": 30,
                    "max_rows": 100,
                },
                "recovery": { "enabled": true, "interval_secs": 30 },
                "updater": {
                    "enabled": true,
                    "interval_secs": 60,
                    "batch_size": 100,
                    "retry_max_secs": 3600,
                },
                "replicate": {
                    "enabled": false,
                    "interval_secs": 3600,
                    "source": "",
                    "target": "",
                    "metadata_only": false,
                    "dont_replicate": ["created_at", "date", "deleted_at", "location", "updated_at"],
                    "owner_map": {},
                    "source_auth": null,
                    "target_auth": null,
                },
                "audit": {
                    "enabled": true,
                    "interval_secs": 3600,
                    "batch_size": 100,
                    "content": false,
                    "content_mb_per_sec": 50,
                    "reaudit_days": 30,
                    "orphans": false,
                    "orphan_grace_secs": 86_400,
                    "auto_repair": false,
                },
            },
            "delayed_delete": false,
            "scrub_time": 0,
            "scrub_pool_size": 1,
            "log_format": "text",
            "enable_proxy_headers_parsing": false,
            "health": { "disable_by_file": null, "drain_secs": 0 },
            "metrics": { "bind": null },
            "tls": { "cert_file": null, "key_file": null },
            "notifications": {
                "transport_url": null,
                "topics": ["notifications"],
                "control_exchange": "glance",
                "default_publisher_id": "image.localhost",
                "disabled_notifications": [],
                "amqp_durable_queues": false,
                "batch_size": 100,
                "interval_secs": 1,
                "confirm_timeout_secs": 10,
            },
        });
        let mut expected = expected;
        // Added after the move, with Glance's defaults (one macro call would
        // nest too deep).
        let added = json!({
            "image_import_opts": { "image_import_plugins": [] },
            "image_conversion": { "output_format": "raw" },
            "image_decompression": { "max_output_bytes": 1_u64 << 40 },
            "inject_metadata_properties": { "ignore_user_roles": ["admin"], "inject": {} },
            "location_strategy": "location_order",
            "store_type_location_strategy": { "store_type_preference": [] },
            "task": { "task_time_to_live": 48 },
        });
        for (key, value) in added.as_object().unwrap() {
            expected[key] = value.clone();
        }
        assert_eq!(serde_json::to_value(Config::default()).unwrap(), expected);
        assert_eq!(ApiConfig::default().image_location_quota, 10);
    }

    /// `glint config defaults` prints `DEFAULTS_TOML`: given back as the
    /// configuration file, it loads to the settings of no file at all.
    #[test]
    fn the_printed_defaults_load_to_the_built_in_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("defaults.toml", DEFAULTS_TOML)?;
            let from_file =
                Config::load(Some(Path::new("defaults.toml")), Overrides::default()).unwrap();
            let built_in = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(
                serde_json::to_value(&from_file).unwrap(),
                serde_json::to_value(&built_in).unwrap()
            );
            assert_eq!(from_file.store_order, built_in.store_order);
            Ok(())
        });
    }

    /// `[auth.keystone]` is optional, so its defaults cannot be a table of
    /// the file; the file shows them commented out. Uncommented, they must
    /// be what an `[auth.keystone]` table without them gets.
    #[test]
    fn the_commented_keystone_defaults_are_the_real_ones() {
        let block = DEFAULTS_TOML
            .lines()
            .skip_while(|line| *line != "# [auth.keystone]")
            .skip(1)
            .take_while(|line| line.starts_with('#'))
            .map(|line| line.trim_start_matches('#').trim())
            // Prose does not parse as a TOML line; settings do.
            .filter(|line| line.parse::<toml::Table>().is_ok_and(|t| !t.is_empty()))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(block.contains("timeout_secs"), "{block}");
        let required = ["auth_url", "username", "password", "project_name"];
        let required = block
            .lines()
            .filter(|line| {
                required
                    .iter()
                    .any(|key| line.starts_with(&format!("{key} =")))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let read =
            |text: &str| -> KeystoneConfig { Figment::from(Toml::string(text)).extract().unwrap() };
        let with_defaults = read(&required);
        let written_out = read(&block);
        assert_eq!(with_defaults.auth_url, written_out.auth_url);
        let mut written_out = serde_json::to_value(written_out).unwrap();
        // The one example that is not a default: unset, it is derived from auth_url.
        written_out["www_authenticate_uri"] = serde_json::Value::Null;
        assert_eq!(serde_json::to_value(with_defaults).unwrap(), written_out);
    }
}
