//! The store registry: finds plugin libraries, opens the configured stores,
//! and hands them out by id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glint_sdk::host::{Store, StorePlugin, load_store_plugin};

use crate::config::Config;

/// Plugin files follow this naming so that unrelated libraries next to the
/// executable are never opened.
const PLUGIN_PREFIX: &str = "libglint_store_";

/// The opened stores, by id, plus the default.
#[derive(Clone, Debug)]
pub struct StoreRegistry {
    stores: BTreeMap<String, (Store, StoreInfo)>,
    default_id: String,
}

/// What the API tells about a store.
#[derive(Debug, Clone)]
pub struct StoreInfo {
    pub id: String,
    pub description: Option<String>,
    pub weight: i64,
}

impl StoreRegistry {
    /// Load plugins and open every configured store. A store that fails to
    /// open is logged and left out; the others still serve.
    pub fn open(config: &Config) -> Self {
        let plugins = load_plugins(&config.plugin_dirs(), &config.plugins.paths);
        let mut stores = BTreeMap::new();
        for (id, sc) in &config.stores {
            let Some(plugin) = plugins.get(&sc.driver) else {
                tracing::error!(store = %id, driver = %sc.driver, "store not opened: no plugin provides driver '{}'", sc.driver);
                continue;
            };
            match plugin.open(id, &sc.options) {
                Ok(store) => {
                    tracing::info!(store = %id, driver = %sc.driver, plugin = %plugin.path().display(), "store opened");
                    let info = StoreInfo {
                        id: id.clone(),
                        description: sc.description.clone(),
                        weight: sc.weight,
                    };
                    stores.insert(id.clone(), (store, info));
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

    pub fn get(&self, id: &str) -> Option<&Store> {
        self.stores.get(id).map(|(s, _)| s)
    }

    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    pub fn infos(&self) -> impl Iterator<Item = &StoreInfo> {
        self.stores.values().map(|(_, i)| i)
    }

    pub fn weight(&self, id: &str) -> i64 {
        self.stores.get(id).map_or(0, |(_, i)| i.weight)
    }
}

/// Load every explicit path and every plugin in `dirs` (files named
/// `libglint_store_*.so`), keyed by driver name. The first plugin of a driver
/// wins, so explicit paths beat discovered files.
fn load_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> BTreeMap<String, StorePlugin> {
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
