//! Loading plugin libraries: the compatibility check and the one-paragraph refusals.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use abi_stable::library::{
    LibHeader, LibraryError, RootModule, RootModuleError, lib_header_from_path,
};
use abi_stable::sabi_types::{VersionNumber, VersionStrings};
use abi_stable::std_types::RStr;
use tracing::Level;

use super::Store;
use crate::abi::{ABI_VERSION, is_compatible};
use crate::ffi::{HostLogger, StorePluginModuleRef, level_code, v1_0, v1_1, v1_2};
use crate::{DriverDescription, StoreError};

/// Which interface a plugin library implements; each has its own root module and ABI version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// A store driver (`export_store_plugin!`).
    Store,
    /// A metadef provider (`export_metadef_provider!`).
    Metadef,
}

impl PluginKind {
    /// How the files of plugins of this kind are named: `lib<prefix>*.so`. Discovery opens no
    /// other file, so unrelated libraries next to the server are never loaded.
    pub fn file_prefix(self) -> &'static str {
        match self {
            PluginKind::Store => "libglint_store_",
            PluginKind::Metadef => "libglint_metadef_",
        }
    }

    /// Whether `path` is named like a plugin file of this kind.
    pub fn is_plugin_file(self, path: &Path) -> bool {
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| {
                name.starts_with(self.file_prefix()) && name.ends_with(std::env::consts::DLL_SUFFIX)
            })
    }

    /// The kind of an explicitly configured plugin file, by its name: a metadef plugin when named
    /// like one, else a store plugin (explicit store plugin paths predate metadef plugins and may
    /// be named freely).
    pub fn of_explicit_file(path: &Path) -> PluginKind {
        if PluginKind::Metadef.is_plugin_file(path) {
            PluginKind::Metadef
        } else {
            PluginKind::Store
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Store => "store",
            PluginKind::Metadef => "metadef",
        })
    }
}

/// Why a plugin file was refused. Each message is one short paragraph naming the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened as a shared library.
    #[error("cannot load {kind} plugin {path}: {reason}")]
    Open {
        kind: PluginKind,
        path: PathBuf,
        reason: String,
    },
    /// The file is a library but not a Glint plugin of the expected kind.
    #[error("{path} is not a Glint {kind} plugin: {reason}")]
    NotAPlugin {
        kind: PluginKind,
        path: PathBuf,
        reason: String,
    },
    /// The plugin was built for a plugin ABI this host does not accept.
    #[error(
        "{kind} plugin {path} was built for {kind} plugin ABI {plugin_abi}, but this host speaks \
         {kind} plugin ABI {host_abi} (glint-sdk {host_sdk}); the major versions must match and \
         the plugin's minor version may not exceed the host's; rebuild the plugin against this \
         host's glint-sdk"
    )]
    Incompatible {
        kind: PluginKind,
        path: PathBuf,
        plugin_abi: String,
        host_abi: String,
        host_sdk: &'static str,
    },
    /// The plugin claims a compatible ABI but its boundary types differ from the host's.
    #[error(
        "{kind} plugin {path} claims {kind} plugin ABI {plugin_abi}, which this host ({kind} \
         plugin ABI {host_abi}, glint-sdk {host_sdk}) accepts, but the layout of its interface \
         types differs from that version's; it was probably built from a modified or mismatched \
         glint-sdk; rebuild it against this host's glint-sdk (details at debug level)"
    )]
    LayoutMismatch {
        kind: PluginKind,
        path: PathBuf,
        plugin_abi: String,
        host_abi: String,
        host_sdk: &'static str,
    },
    /// The plugin's initialisation failed.
    #[error("{kind} plugin {path} failed to initialise: {reason}")]
    Init {
        kind: PluginKind,
        path: PathBuf,
        reason: String,
    },
}

/// A loaded store plugin library. Cloning is cheap.
#[derive(Clone)]
pub struct StorePlugin {
    inner: Arc<Loaded>,
}

struct Loaded {
    path: PathBuf,
    module: StorePluginModuleRef,
    driver: String,
    sdk_version: String,
    description: Option<DriverDescription>,
}

impl StorePlugin {
    /// The driver name a store configuration selects.
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

    /// What the driver says about itself (its location URL schemes and option defaults); `None`
    /// for a plugin built for an ABI older than 1.2, or one whose description was unreadable
    /// (logged at load).
    pub fn description(&self) -> Option<&DriverDescription> {
        self.inner.description.as_ref()
    }

    /// Opens the store `store_id` with its options; bad options fail with `ConfigInvalid`.
    ///
    /// The driver's `open` runs on the calling thread and may touch its backend: call this at
    /// startup, or from a blocking task.
    pub fn open(&self, store_id: &str, config: &serde_json::Value) -> Result<Store, StoreError> {
        let (id, config) = (RStr::from_str(store_id), config.to_string());
        let config = RStr::from_str(&config);
        // A 1.3 plugin opens the store with its 1.3 entry points; an older one has only `open`.
        match self.inner.module.open_ext() {
            Some(open_ext) => {
                let ext = open_ext(id, config).into_result()?;
                Store::with_ext(store_id, &self.inner.driver, ext)
            }
            None => {
                let object = (self.inner.module.open())(id, config).into_result()?;
                Store::new(store_id, &self.inner.driver, object)
            }
        }
    }
}

impl fmt::Debug for StorePlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorePlugin")
            .field("driver", &self.inner.driver)
            .field("path", &self.inner.path)
            .field("sdk_version", &self.inner.sdk_version)
            .finish()
    }
}

/// Loads the store plugin at `path`. Loading the same file again returns the loaded plugin; plugins
/// are never unloaded. Never panics: every failure is a [`LoadError`].
pub fn load_store_plugin(path: &Path) -> Result<StorePlugin, LoadError> {
    let canonical = canonical(path, PluginKind::Store)?;
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, StorePlugin>>> = OnceLock::new();
    // Held while loading, so two threads loading one file initialise it once.
    let mut loaded = LOADED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(plugin) = loaded.get(&canonical) {
        return Ok(plugin.clone());
    }
    let module = load_root::<StorePluginModuleRef>(&canonical)?;
    let plugin = StorePlugin {
        inner: Arc::new(Loaded {
            path: canonical.clone(),
            module,
            driver: module.driver_name().to_string(),
            sdk_version: module.sdk_version().to_string(),
            description: describe(module, &canonical),
        }),
    };
    loaded.insert(canonical, plugin.clone());
    Ok(plugin)
}

/// The canonical path of a plugin file, or why it cannot be opened.
pub(crate) fn canonical(path: &Path, kind: PluginKind) -> Result<PathBuf, LoadError> {
    path.canonicalize().map_err(|err| LoadError::Open {
        kind,
        path: path.to_owned(),
        reason: err.to_string(),
    })
}

/// The driver description of a loaded store plugin, if its ABI has one (1.2 and later).
fn describe(module: StorePluginModuleRef, path: &Path) -> Option<DriverDescription> {
    let describe = module.describe()?;
    let described = catch_unwind(|| describe())
        .ok()
        .and_then(|result| result.into_result().ok())
        .and_then(|json| serde_json::from_str::<DriverDescription>(json.as_str()).ok());
    if described.is_none() {
        tracing::warn!(path = %path.display(), "the store plugin's driver description is unreadable; using the host's defaults for its driver");
    }
    described
}

/// The plugin files of `kind` the server loads: the explicit `paths` of that kind (see
/// [`PluginKind::of_explicit_file`]), in the order given, then in each of `dirs` the files named
/// `lib<prefix>*.so` for the kind ([`PluginKind::file_prefix`]), in name order. A directory that
/// cannot be read adds nothing.
pub fn plugin_files(kind: PluginKind, dirs: &[PathBuf], paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = paths
        .iter()
        .filter(|path| PluginKind::of_explicit_file(path) == kind)
        .cloned()
        .collect();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| kind.is_plugin_file(path))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// What discovery found: the plugins by driver name, and what it left out.
#[derive(Debug)]
pub struct Discovered<P> {
    /// One plugin per driver name: the first file that provides it, so explicit paths beat
    /// discovered files.
    pub plugins: BTreeMap<String, P>,
    /// Files that were refused, with why.
    pub refused: Vec<LoadError>,
    /// Later files providing a driver already taken: `(driver, ignored file, file used)`.
    pub duplicates: Vec<(String, PathBuf, PathBuf)>,
}

/// Finds and loads the store plugins among `paths` and in `dirs` ([`plugin_files`]).
pub fn discover_store_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> Discovered<StorePlugin> {
    discover(
        PluginKind::Store,
        dirs,
        paths,
        load_store_plugin,
        |plugin| (plugin.driver_name(), plugin.path()),
    )
}

/// The one discovery of every plugin kind: loads each file of `kind` with `load` and keys the
/// plugins by driver name (`identify` gives a plugin's driver and canonical path).
pub(crate) fn discover<P>(
    kind: PluginKind,
    dirs: &[PathBuf],
    paths: &[PathBuf],
    load: impl Fn(&Path) -> Result<P, LoadError>,
    identify: impl Fn(&P) -> (&str, &Path),
) -> Discovered<P> {
    let mut found = Discovered {
        plugins: BTreeMap::new(),
        refused: Vec::new(),
        duplicates: Vec::new(),
    };
    for file in plugin_files(kind, dirs, paths) {
        let plugin = match load(&file) {
            Ok(plugin) => plugin,
            Err(err) => {
                found.refused.push(err);
                continue;
            }
        };
        let (driver, path) = identify(&plugin);
        if let Some(first) = found.plugins.get(driver) {
            let used = identify(first).1;
            // The same file listed twice (or through a symlink) is no duplicate.
            if used != path {
                found
                    .duplicates
                    .push((driver.to_owned(), file.clone(), used.to_owned()));
            }
            continue;
        }
        let driver = driver.to_owned();
        found.plugins.insert(driver, plugin);
    }
    found
}

/// A root module type of this SDK: what the loader needs to check and initialise it.
pub(crate) trait PluginRoot: RootModule + Copy {
    const PLUGIN_KIND: PluginKind;
    /// The ABI version this host speaks for the interface.
    const ABI_VERSION: &'static str;
    fn set_logger(self) -> extern "C" fn(HostLogger);

    /// Runs abi_stable's layout check for a plugin built for ABI `plugin` (already known to be
    /// compatible by our version rule) and returns its root module.
    fn check_layout(header: &LibHeader, plugin: VersionNumber) -> Result<Self, LibraryError> {
        let _ = plugin;
        header.check_layout::<Self>()
    }
}

impl PluginRoot for StorePluginModuleRef {
    const PLUGIN_KIND: PluginKind = PluginKind::Store;
    const ABI_VERSION: &'static str = ABI_VERSION;
    fn set_logger(self) -> extern "C" fn(HostLogger) {
        StorePluginModuleRef::set_logger(&self)
    }

    /// abi_stable refuses prefix types shorter than the host's, so a plugin of an older minor is
    /// checked against the frozen interface of its minor (`ffi::v1_0`, `ffi::v1_1`, `ffi::v1_2`) and then
    /// used as the current one.
    fn check_layout(header: &LibHeader, plugin: VersionNumber) -> Result<Self, LibraryError> {
        match plugin.minor {
            0 => header.ensure_layout::<v1_0::StorePluginModuleRef>()?,
            1 => header.ensure_layout::<v1_1::StorePluginModuleRef>()?,
            2 => header.ensure_layout::<v1_2::StorePluginModuleRef>()?,
            _ => return header.check_layout::<Self>(),
        }
        // SAFETY: the library's root module has the layout of its minor, just checked. The
        // current module has the same fields followed by appended ones, and its `FfiStore`
        // vtable only appends methods after the last prefix field; both are read through
        // accessors that check the plugin's own prefix metadata and answer `None` (fields) or
        // take the methods' default bodies (methods) when absent.
        unsafe { header.unchecked_layout::<Self>() }
            .map_err(RootModuleError::into_library_error::<Self>)
    }
}

/// Opens the library at canonical `path` and checks that it is a compatible plugin of kind `M`;
/// hands it the host's logger. Never panics.
pub(crate) fn load_root<M: PluginRoot>(path: &Path) -> Result<M, LoadError> {
    catch_unwind(AssertUnwindSafe(|| load_uncached::<M>(path))).unwrap_or_else(|_| {
        Err(LoadError::Init {
            kind: M::PLUGIN_KIND,
            path: path.to_owned(),
            reason: "loading panicked".into(),
        })
    })
}

fn load_uncached<M: PluginRoot>(path: &Path) -> Result<M, LoadError> {
    let kind = M::PLUGIN_KIND;
    let header = lib_header_from_path(path).map_err(|err| refusal::<M>(path, err, None))?;
    let name = header.root_mod_consts().name();
    if name.as_str() != M::NAME {
        return Err(LoadError::NotAPlugin {
            kind,
            path: path.to_owned(),
            reason: format!("its root module is `{name}`, not `{}`", M::NAME),
        });
    }
    let plugin_abi = header.version_strings();
    let plugin_version = plugin_abi.parsed().map_err(|err| LoadError::NotAPlugin {
        kind,
        path: path.to_owned(),
        reason: format!("its ABI version `{plugin_abi}` is unreadable: {err}"),
    })?;
    let host = host_abi(M::ABI_VERSION);
    if !is_compatible(plugin_version, host) {
        return Err(LoadError::Incompatible {
            kind,
            path: path.to_owned(),
            plugin_abi: short(plugin_version),
            host_abi: short(host),
            host_sdk: env!("CARGO_PKG_VERSION"),
        });
    }
    // Our own rule replaces abi_stable's version rule, so only the layout is checked here.
    let module = M::check_layout(header, plugin_version)
        .map_err(|err| refusal::<M>(path, err, Some(plugin_version)))?;
    (module.set_logger())(HostLogger {
        max_level: max_level(),
        log: forward_log,
    });
    Ok(module)
}

fn host_abi(version: &'static str) -> VersionNumber {
    VersionStrings::new(version)
        .parsed()
        .expect("the SDK's ABI versions are valid versions")
}

fn short(version: VersionNumber) -> String {
    format!("{}.{}", version.major, version.minor)
}

/// Condenses abi_stable's error (the layout report alone is about 30 KB) into one paragraph; the
/// full text goes to the debug log. `plugin` is the ABI version the library claims, once read.
fn refusal<M: PluginRoot>(
    path: &Path,
    err: LibraryError,
    plugin: Option<VersionNumber>,
) -> LoadError {
    let kind = M::PLUGIN_KIND;
    tracing::debug!(path = %path.display(), error = %err, "{kind} plugin refused");
    let path = path.to_owned();
    match err {
        LibraryError::OpenError { err, .. } => LoadError::Open {
            kind,
            path,
            reason: err.to_string(),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin {
            kind,
            path,
            reason: "it exports no abi_stable root module".into(),
        },
        LibraryError::InvalidAbiHeader(_) | LibraryError::InvalidCAbi { .. } => {
            LoadError::NotAPlugin {
                kind,
                path,
                reason: "it was built with an incompatible abi_stable version".into(),
            }
        }
        LibraryError::AbiInstability(_) => LoadError::LayoutMismatch {
            kind,
            path,
            // The layout is only checked after the version was read; "unknown" is a safety net.
            plugin_abi: plugin.map_or_else(|| "unknown".into(), short),
            host_abi: short(host_abi(M::ABI_VERSION)),
            host_sdk: env!("CARGO_PKG_VERSION"),
        },
        other => LoadError::Init {
            kind,
            path,
            reason: first_line(&other.to_string()),
        },
    }
}

fn first_line(text: &str) -> String {
    const LIMIT: usize = 200;
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

fn max_level() -> u8 {
    tracing::level_filters::LevelFilter::current()
        .into_level()
        .map_or(0, level_code)
}

/// Re-emits a plugin's log event in the host. `tracing` targets are static, so the target is
/// `glint::plugin` and the driver and plugin-side target are fields.
extern "C" fn forward_log(level: u8, driver: RStr<'_>, target: RStr<'_>, message: RStr<'_>) {
    let (driver, target, message) = (driver.as_str(), target.as_str(), message.as_str());
    let _ = catch_unwind(|| {
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "glint::plugin", $level, driver, plugin_target = target, "{message}")
            };
        }
        match level {
            1 => emit!(Level::ERROR),
            2 => emit!(Level::WARN),
            3 => emit!(Level::INFO),
            4 => emit!(Level::DEBUG),
            _ => emit!(Level::TRACE),
        }
    });
}
