//! The store registry: finds plugin libraries, opens the configured stores,
//! and hands them out by id, in the order the configuration lists them.

mod layer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glint_sdk::host::{StorePlugin, load_store_plugin};
use serde_json::{Map, Value, json};

pub use self::layer::StoreHandle;
use crate::config::{Config, StoreConfig};
use crate::domain::Location;

/// Plugin files follow this naming so that unrelated libraries next to the
/// executable are never opened.
const PLUGIN_PREFIX: &str = "libglint_store_";

/// The opened stores, in configuration order, plus the default.
#[derive(Clone, Debug)]
pub struct StoreRegistry {
    stores: Vec<(StoreHandle, StoreInfo)>,
    default_id: String,
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
                tracing::error!(store = %id, driver = %sc.driver, "store not opened: no plugin provides driver '{}' (searched {} for {PLUGIN_PREFIX}{}.so, and [plugins] paths)", sc.driver, searched.join(", "), sc.driver);
                continue;
            };
            match plugin.open(id, &sc.options) {
                Ok(store) => {
                    tracing::info!(store = %id, driver = %sc.driver, plugin = %plugin.path().display(), "store opened");
                    let info = StoreInfo {
                        id: id.clone(),
                        description: sc.description.clone().filter(|d| !d.is_empty()),
                        weight: sc.weight,
                        driver: sc.driver.clone(),
                        read_only: !store.capabilities().write,
                        properties: detail_properties(sc),
                    };
                    stores.push((StoreHandle::new(store), info));
                }
                Err(e) => {
                    tracing::error!(store = %id, driver = %sc.driver, "store not opened: {e}")
                }
            }
        }
        Self {
            stores,
            default_id: config.default_store().to_owned(),
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
    /// added earlier come first. Locations of unknown stores weigh 0.
    pub fn sort_locations(&self, locations: &mut [Location]) {
        locations.sort_by_key(|l| std::cmp::Reverse(l.store().map_or(0, |s| self.weight(s))));
    }

    /// The store that serves a location URL given by a client, as Glance's
    /// `_get_store_id_from_uri` finds it: the first store, in configuration
    /// order, whose driver claims the URL's scheme.
    pub fn store_for_url(&self, url: &str) -> Option<&StoreInfo> {
        let scheme = url.split_once("://")?.0.to_ascii_lowercase();
        let driver = driver_of_scheme(&scheme)?;
        self.infos().find(|i| i.driver == driver)
    }
}

/// The driver that serves each URL scheme of glance_store's vocabulary.
fn driver_of_scheme(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "http" | "https" => "http",
        "file" | "filesystem" => "file",
        "swift" | "swift+http" | "swift+https" | "swift+config" => "swift",
        "rbd" => "rbd",
        "s3" | "s3+http" | "s3+https" => "s3",
        "cinder" => "cinder",
        "vsphere" => "vmware",
        _ => return None,
    })
}

/// `properties` of `/v2/info/stores/detail`: the keys Glance shows for each
/// store type, read from the store's options (with the driver's defaults).
/// Credentials are never among them.
fn detail_properties(sc: &StoreConfig) -> Value {
    let option = |key: &str| sc.options.get(key).cloned().unwrap_or(Value::Null);
    let or = |key: &str, default: Value| sc.options.get(key).cloned().unwrap_or(default);
    let mut p = Map::new();
    match sc.driver.as_str() {
        "file" => {
            p.insert("data_dir".into(), option("datadir"));
            p.insert("chunk_size".into(), or("chunk_size", json!(1 << 20)));
            p.insert("thin_provisioning".into(), json!(false));
        }
        "rbd" => {
            // The option is in MiB; Glance shows bytes.
            let mib = sc
                .options
                .get("chunk_size")
                .and_then(Value::as_u64)
                .unwrap_or(8);
            p.insert("pool".into(), or("pool", json!("images")));
            p.insert("chunk_size".into(), json!(mib << 20));
            // Chunks of zeroes are never written.
            p.insert("thin_provisioning".into(), json!(true));
            p.insert("fsid".into(), option("fsid"));
        }
        "swift" => {
            p.insert("container".into(), or("container", json!("glance")));
            p.insert(
                "large_object_size".into(),
                or("large_object_size", json!(5_u64 << 30)),
            );
            p.insert(
                "large_object_chunk_size".into(),
                or("large_object_chunk_size", json!(200_u64 << 20)),
            );
        }
        "cinder" => {
            p.insert("volume_type".into(), option("volume_type"));
            p.insert("use_multipath".into(), or("use_multipath", json!(false)));
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

/// Load every explicit path and every plugin in `dirs` (files named
/// `libglint_store_*.so`), keyed by driver name. The first plugin of a driver
/// wins, so explicit paths beat discovered files.
pub fn load_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> BTreeMap<String, StorePlugin> {
    // Metadef plugins listed among the paths are the metadef registry's.
    let mut files: Vec<PathBuf> = paths
        .iter()
        .filter(|p| !crate::metadef_providers::is_plugin_file(p))
        .cloned()
        .collect();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_plugin_file(p))
            .collect();
        found.sort();
        files.extend(found);
    }

    let mut plugins = BTreeMap::new();
    for path in files {
        match load_store_plugin(&path) {
            Ok(plugin) => {
                let driver = plugin.driver_name().to_owned();
                if let Some(first) = plugins
                    .get(&driver)
                    .map(|p: &StorePlugin| p.path().to_path_buf())
                {
                    if first != plugin.path() {
                        tracing::warn!(driver = %driver, ignored = %path.display(), used = %first.display(), "two plugins provide the same driver");
                    }
                    continue;
                }
                tracing::debug!(driver = %driver, path = %path.display(), sdk = %plugin.sdk_version(), "plugin loaded");
                plugins.insert(driver, plugin);
            }
            Err(e) => tracing::error!("{e}"),
        }
    }
    plugins
}

fn is_plugin_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with(PLUGIN_PREFIX) && name.ends_with(std::env::consts::DLL_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(driver: &str, options: Value) -> StoreConfig {
        StoreConfig {
            driver: driver.into(),
            description: None,
            weight: 0,
            options,
        }
    }

    #[test]
    fn detail_properties_follow_glance_per_type() {
        let file = detail_properties(&config("file", json!({"datadir": "/srv/a"})));
        assert_eq!(
            file,
            json!({"data_dir": "/srv/a", "chunk_size": 1048576, "thin_provisioning": false})
        );
        let http = detail_properties(&config("http", json!({"user": "u", "password": "p"})));
        assert_eq!(http, json!({}));
        let swift = detail_properties(&config("swift", json!({"key": "secret"})));
        assert!(!swift.to_string().contains("secret"));
    }

    #[test]
    fn schemes_name_their_drivers() {
        assert_eq!(driver_of_scheme("https"), Some("http"));
        assert_eq!(driver_of_scheme("rbd"), Some("rbd"));
        assert_eq!(driver_of_scheme("gopher"), None);
    }
}
