//! Loading metadef provider plugins and calling the providers they open.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use abi_stable::std_types::RStr;

use super::LoadError;
use super::loader::{Discovered, PluginKind, PluginRoot, canonical, discover, load_root};
use crate::StoreError;
use crate::abi::METADEF_ABI_VERSION;
use crate::ffi::{FfiMetadefProviderBox, HostLogger, MetadefPluginModuleRef, metadef_import};
use crate::metadef::NamespaceEntry;

impl PluginRoot for MetadefPluginModuleRef {
    const PLUGIN_KIND: PluginKind = PluginKind::Metadef;
    const ABI_VERSION: &'static str = METADEF_ABI_VERSION;
    fn set_logger(self) -> extern "C" fn(HostLogger) {
        MetadefPluginModuleRef::set_logger(&self)
    }
}

/// A loaded metadef provider plugin library. Cloning is cheap.
#[derive(Clone)]
pub struct MetadefPlugin {
    inner: Arc<LoadedPlugin>,
}

struct LoadedPlugin {
    path: PathBuf,
    module: MetadefPluginModuleRef,
    driver: String,
    sdk_version: String,
}

impl MetadefPlugin {
    /// The driver name a provider configuration selects.
    pub fn driver_name(&self) -> &str {
        &self.inner.driver
    }

    /// The canonical path the plugin was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The `glint-sdk` version the plugin was built with.
    pub fn sdk_version(&self) -> String {
        self.inner.sdk_version.clone()
    }

    /// Opens the provider `name` with its options; bad options fail with `ConfigInvalid`.
    ///
    /// The provider's `open` runs on the calling thread and may read its source: call this at
    /// startup, or from a blocking task.
    pub fn open(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<MetadefSource, StoreError> {
        let config = config.to_string();
        let object = (self.inner.module.open())(RStr::from_str(name), RStr::from_str(&config))
            .into_result()?;
        let read_only = metadef_import::read_only(&object)?;
        Ok(MetadefSource {
            inner: Arc::new(Source {
                name: name.to_owned(),
                driver: self.inner.driver.clone(),
                read_only,
                object,
            }),
        })
    }
}

impl fmt::Debug for MetadefPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadefPlugin")
            .field("driver", &self.inner.driver)
            .field("path", &self.inner.path)
            .field("sdk_version", &self.inner.sdk_version)
            .finish()
    }
}

/// Loads the metadef provider plugin at `path`, with the same checks and refusals as
/// [`super::load_store_plugin`]. Loading the same file again returns the loaded plugin; plugins
/// are never unloaded. Never panics: every failure is a [`LoadError`].
pub fn load_metadef_plugin(path: &Path) -> Result<MetadefPlugin, LoadError> {
    let canonical = canonical(path, PluginKind::Metadef)?;
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, MetadefPlugin>>> = OnceLock::new();
    // Held while loading, so two threads loading one file initialise it once.
    let mut loaded = LOADED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(plugin) = loaded.get(&canonical) {
        return Ok(plugin.clone());
    }
    let module = load_root::<MetadefPluginModuleRef>(&canonical)?;
    let plugin = MetadefPlugin {
        inner: Arc::new(LoadedPlugin {
            path: canonical.clone(),
            module,
            driver: module.driver_name().to_string(),
            sdk_version: module.sdk_version().to_string(),
        }),
    };
    loaded.insert(canonical, plugin.clone());
    Ok(plugin)
}

/// Finds and loads the metadef plugins among `paths` and in `dirs` ([`super::plugin_files`]).
pub fn discover_metadef_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> Discovered<MetadefPlugin> {
    discover(
        PluginKind::Metadef,
        dirs,
        paths,
        load_metadef_plugin,
        |plugin| (plugin.driver_name(), plugin.path()),
    )
}

/// A metadef provider opened through a plugin. Cloning is cheap; every call may run on any thread.
#[derive(Clone)]
pub struct MetadefSource {
    inner: Arc<Source>,
}

struct Source {
    name: String,
    driver: String,
    read_only: bool,
    object: FfiMetadefProviderBox,
}

impl MetadefSource {
    /// The provider's name in the configuration.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The driver name of the plugin behind the provider.
    pub fn driver(&self) -> &str {
        &self.inner.driver
    }

    /// Whether the provider's namespaces are read-only, as reported when it was opened.
    pub fn read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Every namespace the provider serves; see `MetadefProvider::list_namespaces`.
    pub async fn list_namespaces(&self) -> Result<Vec<NamespaceEntry>, StoreError> {
        metadef_import::list_namespaces(&self.inner.object).await
    }

    /// The namespace `name` as a JSON document in Glance's definitions-file format; see
    /// `MetadefProvider::get_namespace`.
    pub async fn get_namespace(&self, name: &str) -> Result<String, StoreError> {
        metadef_import::get_namespace(&self.inner.object, name).await
    }
}

impl fmt::Debug for MetadefSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadefSource")
            .field("name", &self.inner.name)
            .field("driver", &self.inner.driver)
            .field("read_only", &self.inner.read_only)
            .finish_non_exhaustive()
    }
}
