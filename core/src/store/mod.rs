//! The store registry: finds plugin libraries, opens the configured stores,
//! and hands them out by id, in the order the configuration lists them.

mod deadline;
mod layer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use glint_sdk::DriverDescription;
use glint_sdk::host::{Discovered, StorePlugin, discover_store_plugins};
use serde_json::{Map, Value, json};

pub use self::layer::{RetryPolicy, StoreHandle};
use crate::config::{Config, LocationStrategy, StoreConfig};
use crate::domain::Location;

/// The opened stores, in configuration order, plus the default.
#[derive(Clone, Debug)]
pub struct StoreRegistry {
    stores: Vec<(StoreHandle, StoreInfo)>,
    default_id: String,
    /// Store types (drivers) read first, in order, under the `store_type`
    /// location strategy; empty under `location_order`.
    type_preference: Vec<String>,
}

/// What the API tells about a store.
#[derive(Debug, Clone)]
pub struct StoreInfo {
    pub id: String,
    pub description: Option<String>,
    pub weight: i64,
    /// The driver name (`file`, `http`, …): the `type` of store discovery.
    pub driver: String,
    /// The store takes no uploads (an `http` store, as Glance marks it).
    pub read_only: bool,
    /// Driver facts shown by `/v2/info/stores/detail`, as Glance shows them per type.
    pub properties: Value,
    /// The URL schemes of the driver's locations, lower case.
    pub schemes: Vec<String>,
}

impl StoreRegistry {
    /// Load plugins and open every configured store. A store that fails to
    /// open is logged and left out; the others still serve.
    pub fn open(config: &Config) -> Self {
        let plugins = load_plugins(&config.plugin_dirs(), &config.plugins.paths);
        let mut stores = Vec::new();
        for id in &config.store_order {
            let Some(sc) = config.stores.get(id) else {
                continue;
            };
            let Some(plugin) = plugins.get(&sc.driver) else {
                let searched: Vec<String> = config
                    .plugin_dirs()
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect();
                tracing::error!(store = %id, driver = %sc.driver, "store not opened: no plugin provides driver '{}' (searched {} for libglint_store_{}.so, and [plugins] paths)", sc.driver, searched.join(", "), sc.driver);
                continue;
            };
            match plugin.open(id, &sc.options) {
                Ok(store) => {
                    tracing::info!(store = %id, driver = %sc.driver, plugin = %plugin.path().display(), "store opened");
                    let described = description(plugin);
                    let info = StoreInfo {
                        id: id.clone(),
                        description: sc.description.clone().filter(|d| !d.is_empty()),
                        weight: sc.weight,
                        driver: sc.driver.clone(),
                        read_only: !store.capabilities().write,
                        properties: detail_properties(
                            &sc.driver,
                            &with_defaults(sc, &described.option_defaults),
                        ),
                        schemes: described.schemes,
                    };
                    let timeout =
                        (sc.timeout_secs > 0).then(|| Duration::from_secs(sc.timeout_secs));
                    stores.push((StoreHandle::new(store).with_timeout(timeout), info));
                }
                Err(e) => {
                    tracing::error!(store = %id, driver = %sc.driver, "store not opened: {e}")
                }
            }
        }
        Self {
            stores,
            default_id: config.default_store().to_owned(),
            type_preference: type_preference(config),
        }
    }

    pub fn get(&self, id: &str) -> Option<&StoreHandle> {
        self.stores
            .iter()
            .find(|(s, _)| s.id() == id)
            .map(|(s, _)| s)
    }

    pub fn info(&self, id: &str) -> Option<&StoreInfo> {
        self.stores.iter().find(|(_, i)| i.id == id).map(|(_, i)| i)
    }

    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    /// The open stores, in configuration order.
    pub fn infos(&self) -> impl Iterator<Item = &StoreInfo> {
        self.stores.iter().map(|(_, i)| i)
    }

    pub fn weight(&self, id: &str) -> i64 {
        self.info(id).map_or(0, |i| i.weight)
    }

    /// Orders locations as Glance does before reading: by the weight of
    /// their store, highest first; equal weights keep their order, so copies
    /// added earlier come first. Locations of unknown stores weigh 0. Under
    /// the `store_type` location strategy, the preferred store types come
    /// first, in preference order, and the others after them.
    pub fn sort_locations(&self, locations: &mut [Location]) {
        locations.sort_by_key(|l| std::cmp::Reverse(l.store().map_or(0, |s| self.weight(s))));
        if !self.type_preference.is_empty() {
            let rank = |l: &Location| {
                l.store()
                    .and_then(|s| self.info(s))
                    .and_then(|i| self.type_preference.iter().position(|t| *t == i.driver))
                    .unwrap_or(usize::MAX)
            };
            locations.sort_by_key(rank);
        }
    }

    /// The store that serves a location URL given by a client, as Glance's
    /// `_get_store_id_from_uri` finds it: the first store, in configuration
    /// order, whose driver claims the URL's scheme.
    pub fn store_for_url(&self, url: &str) -> Option<&StoreInfo> {
        let scheme = url.split_once("://")?.0.to_ascii_lowercase();
        self.infos().find(|i| i.schemes.contains(&scheme))
    }
}

/// The store types the `store_type` location strategy reads first, as
/// driver names: Glance's store names (`filesystem`, `vsphere`) are
/// accepted for the drivers that serve them.
fn type_preference(config: &Config) -> Vec<String> {
    if config.location_strategy != LocationStrategy::StoreType {
        return Vec::new();
    }
    config
        .store_type_location_strategy
        .store_type_preference
        .iter()
        .map(|t| match t.trim().to_ascii_lowercase().as_str() {
            "filesystem" => "file".to_owned(),
            "vsphere" => "vmware".to_owned(),
            other => other.to_owned(),
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// What the plugin says about its driver; for a plugin built before drivers
/// described themselves (store plugin ABI 1.2), what the host knows of it.
fn description(plugin: &StorePlugin) -> DriverDescription {
    plugin
        .description()
        .cloned()
        .unwrap_or_else(|| legacy_description(plugin.driver_name()))
}

/// The URL schemes (glance_store's vocabulary) and option defaults of the
/// drivers Glint knew before plugins described themselves: only used for
/// plugins older than store plugin ABI 1.2.
fn legacy_description(driver: &str) -> DriverDescription {
    let (schemes, defaults): (&[&str], Value) = match driver {
        "http" => (&["http", "https"], json!({})),
        "file" => (&["file", "filesystem"], json!({"chunk_size": 1 << 20})),
        "swift" => (
            &["swift", "swift+http", "swift+https", "swift+config"],
            json!({
                "container": "glance",
                "large_object_size": 5_u64 << 30,
                "large_object_chunk_size": 200_u64 << 20,
            }),
        ),
        "rbd" => (&["rbd"], json!({"pool": "images", "chunk_size": 8})),
        "s3" => (&["s3", "s3+http", "s3+https"], json!({})),
        "cinder" => (&["cinder"], json!({"use_multipath": false})),
        "vmware" => (&["vsphere"], json!({})),
        _ => (&[], json!({})),
    };
    DriverDescription::new(driver, schemes).with_option_defaults(defaults)
}

/// The store's options, with the driver's default for each one left out.
fn with_defaults(sc: &StoreConfig, defaults: &Map<String, Value>) -> Map<String, Value> {
    let mut options = defaults.clone();
    if let Value::Object(given) = &sc.options {
        options.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    options
}

/// `properties` of `/v2/info/stores/detail`: the keys Glance shows for each
/// store type, read from the store's options (defaults included). Credentials
/// are never among them.
fn detail_properties(driver: &str, options: &Map<String, Value>) -> Value {
    let option = |key: &str| options.get(key).cloned().unwrap_or(Value::Null);
    let mut p = Map::new();
    match driver {
        "file" => {
            p.insert("data_dir".into(), option("datadir"));
            p.insert("chunk_size".into(), option("chunk_size"));
            p.insert("thin_provisioning".into(), json!(false));
        }
        "rbd" => {
            // The option is in MiB; Glance shows bytes.
            let mib = options.get("chunk_size").and_then(Value::as_u64);
            p.insert("pool".into(), option("pool"));
            p.insert("chunk_size".into(), json!(mib.map(|mib| mib << 20)));
            // Chunks of zeroes are never written.
            p.insert("thin_provisioning".into(), json!(true));
            p.insert("fsid".into(), option("fsid"));
        }
        "swift" => {
            for key in ["container", "large_object_size", "large_object_chunk_size"] {
                p.insert(key.into(), option(key));
            }
        }
        "cinder" => {
            p.insert("volume_type".into(), option("volume_type"));
            p.insert("use_multipath".into(), option("use_multipath"));
        }
        "s3" => {
            for key in [
                "s3_store_large_object_size",
                "s3_store_large_object_chunk_size",
                "s3_store_thread_pools",
            ] {
                p.insert(key.into(), option(key));
            }
        }
        // http shows nothing, and so does a driver Glance does not know.
        _ => {}
    }
    Value::Object(p)
}

/// Loads every explicit store plugin path and every `libglint_store_*.so`
/// in `dirs`, and says what it refused and ignored (`glint plugins list`).
pub fn discover_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> Discovered<StorePlugin> {
    discover_store_plugins(dirs, paths)
}

/// Loads every explicit store plugin path and every `libglint_store_*.so`
/// in `dirs`, keyed by driver name (see `glint_sdk::host::plugin_files`);
/// refusals and duplicates are logged.
pub fn load_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> BTreeMap<String, StorePlugin> {
    let found = discover_plugins(dirs, paths);
    for err in &found.refused {
        tracing::error!("{err}");
    }
    for (driver, ignored, used) in &found.duplicates {
        tracing::warn!(driver = %driver, ignored = %ignored.display(), used = %used.display(), "two plugins provide the same driver");
    }
    for (driver, plugin) in &found.plugins {
        tracing::debug!(driver = %driver, path = %plugin.path().display(), sdk = %plugin.sdk_version(), "plugin loaded");
    }
    found.plugins
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(driver: &str, options: Value) -> Value {
        let sc = StoreConfig {
            driver: driver.into(),
            description: None,
            weight: 0,
            options,
            timeout_secs: 0,
        };
        let described = legacy_description(driver);
        detail_properties(driver, &with_defaults(&sc, &described.option_defaults))
    }

    #[test]
    fn detail_properties_follow_glance_per_type() {
        let file = properties("file", json!({"datadir": "/srv/a"}));
        assert_eq!(
            file,
            json!({"data_dir": "/srv/a", "chunk_size": 1048576, "thin_provisioning": false})
        );
        let http = properties("http", json!({"user": "u", "password": "p"}));
        assert_eq!(http, json!({}));
        let swift = properties("swift", json!({"key": "secret"}));
        assert!(!swift.to_string().contains("secret"));
        assert_eq!(swift["container"], "glance");
        let rbd = properties("rbd", json!({"chunk_size": 4}));
        assert_eq!(
            rbd,
            json!({"pool": "images", "chunk_size": 4 << 20, "thin_provisioning": true, "fsid": null})
        );
    }

    /// A driver that only has to exist: the registry never calls it here.
    struct Idle;

    impl glint_sdk::StoreDriver for Idle {
        const DRIVER: &'static str = "idle";

        fn open(_: glint_sdk::OpenContext, _: Value) -> Result<Self, glint_sdk::StoreError> {
            Ok(Idle)
        }

        fn capabilities(&self) -> glint_sdk::Capabilities {
            glint_sdk::Capabilities::read_only()
        }

        async fn get(
            &self,
            _: Option<&glint_sdk::RequestContext>,
            _: &str,
            _: Option<glint_sdk::ReadRange>,
        ) -> Result<glint_sdk::GetOutcome, glint_sdk::StoreError> {
            Err(glint_sdk::StoreError::unsupported("get"))
        }
    }

    fn registry(stores: &[(&str, DriverDescription)]) -> StoreRegistry {
        let stores = stores
            .iter()
            .map(|(id, described)| {
                let store = glint_sdk::host::Store::in_process(id, Idle).unwrap();
                let info = StoreInfo {
                    id: (*id).to_owned(),
                    description: None,
                    weight: 0,
                    driver: described.name.clone(),
                    read_only: true,
                    properties: json!({}),
                    schemes: described.schemes.clone(),
                };
                (StoreHandle::new(store), info)
            })
            .collect();
        StoreRegistry {
            stores,
            default_id: "a".into(),
            type_preference: Vec::new(),
        }
    }

    #[test]
    fn the_store_type_strategy_reads_preferred_types_first() {
        let mut registry = registry(&[
            ("a", DriverDescription::new("file", &["file"])),
            ("b", DriverDescription::new("rbd", &["rbd"])),
            ("c", DriverDescription::new("swift", &["swift"])),
        ]);
        let location = |store: &str| {
            let mut metadata = serde_json::Map::new();
            metadata.insert("store".into(), store.into());
            Location {
                url: format!("{store}://x"),
                metadata,
                status: "active".into(),
            }
        };
        let order = |registry: &StoreRegistry| {
            let mut locations = vec![location("a"), location("b"), location("c")];
            registry.sort_locations(&mut locations);
            locations
                .iter()
                .map(|l| l.store().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&registry), ["a", "b", "c"]);
        let config = Config {
            location_strategy: LocationStrategy::StoreType,
            store_type_location_strategy: crate::config::StoreTypeLocationStrategyConfig {
                store_type_preference: vec![" rbd".into(), "FileSystem ".into()],
            },
            ..Config::default()
        };
        registry.type_preference = type_preference(&config);
        assert_eq!(registry.type_preference, ["rbd", "file"]);
        assert_eq!(order(&registry), ["b", "a", "c"]);
    }

    #[test]
    fn location_urls_go_to_the_first_store_whose_driver_claims_the_scheme() {
        let registry = registry(&[
            ("a", DriverDescription::new("dirhash", &["dirhash"])),
            ("b", legacy_description("http")),
            ("c", DriverDescription::new("mirror", &["HTTPS", "mirror"])),
        ]);
        let store = |url| registry.store_for_url(url).map(|i| i.id.as_str());
        assert_eq!(store("dirhash://ab/img"), Some("a"));
        assert_eq!(store("HTTPS://example/img"), Some("b"));
        assert_eq!(store("mirror://x"), Some("c"));
        assert_eq!(store("rbd://fsid/pool/img/snap"), None);
        assert_eq!(store("no scheme"), None);
    }

    #[test]
    fn legacy_schemes_name_their_drivers() {
        assert!(legacy_description("http").schemes.contains(&"https".into()));
        assert_eq!(legacy_description("rbd").schemes, ["rbd"]);
        assert!(legacy_description("gopher").schemes.is_empty());
    }
}
