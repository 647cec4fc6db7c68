//! The root module every store plugin exports.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RStr, RString};

use super::{
    FfiResult, FfiStoreBox, FfiStoreExtBox, HostLogger, export_store, export_store_ext, guard, log,
};
use crate::{ErrorKind, OpenContext, StoreDriver, StoreError};

/// The plugin's entry points. A prefix type: fields are only ever appended after the last one, so
/// a host can read an older plugin's fields and ignore a newer plugin's extra ones.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = StorePluginModuleRef)))]
pub struct StorePluginModule {
    /// The `glint-sdk` version the plugin was built with, for messages.
    pub sdk_version: RStr<'static>,
    /// [`StoreDriver::DRIVER`].
    pub driver_name: RStr<'static>,
    /// Hands the host's log sink to the plugin; called once, right after loading.
    pub set_logger: extern "C" fn(HostLogger),
    /// Opens a store: `(store id, options as JSON text)`.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(RStr<'_>, RStr<'_>) -> FfiResult<FfiStoreBox>,
    // ABI 1.2. Fields after the last prefix field are absent from an older plugin's module: the
    // host reads them through accessors that answer `None` then.
    /// [`StoreDriver::describe`] as JSON text (a [`crate::DriverDescription`]).
    pub describe: extern "C" fn() -> FfiResult<RString>,
    // ABI 1.3.
    /// Opens a store like `open`, with its 1.3 entry points (listing) on the returned object.
    pub open_ext: extern "C" fn(RStr<'_>, RStr<'_>) -> FfiResult<FfiStoreExtBox>,
}

impl RootModule for StorePluginModuleRef {
    abi_stable::declare_root_module_statics! {StorePluginModuleRef}
    const BASE_NAME: &'static str = "glint_store";
    const NAME: &'static str = "glint_store";
    // The plugin ABI version, checked by the host's own rule (see `crate::abi`), not the crate version.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(crate::abi::ABI_VERSION);
}

/// The root module for driver `D`; called once, at load, by the code
/// [`crate::export_store_plugin!`] generates (the module is leaked: plugins are never unloaded).
pub fn store_plugin_module<D: StoreDriver>() -> StorePluginModuleRef {
    StorePluginModule {
        sdk_version: RStr::from_str(env!("CARGO_PKG_VERSION")),
        driver_name: RStr::from_str(D::DRIVER),
        set_logger: set_logger::<D>,
        open: open::<D>,
        describe: describe::<D>,
        open_ext: open_ext::<D>,
    }
    .leak_into_prefix()
}

extern "C" fn set_logger<D: StoreDriver>(logger: HostLogger) {
    let _ = guard(|| {
        log::install(logger, D::DRIVER);
        Ok(())
    });
}

extern "C" fn open<D: StoreDriver>(store_id: RStr<'_>, config: RStr<'_>) -> FfiResult<FfiStoreBox> {
    guard(|| open_driver::<D>(store_id, config).map(export_store))
}

extern "C" fn open_ext<D: StoreDriver>(
    store_id: RStr<'_>,
    config: RStr<'_>,
) -> FfiResult<FfiStoreExtBox> {
    guard(|| open_driver::<D>(store_id, config).map(export_store_ext))
}

fn open_driver<D: StoreDriver>(store_id: RStr<'_>, config: RStr<'_>) -> Result<D, StoreError> {
    let config = serde_json::from_str(config.as_str()).map_err(|err| {
        StoreError::new(
            ErrorKind::ConfigInvalid,
            format!("store options are not valid JSON: {err}"),
        )
    })?;
    D::open(OpenContext::new(store_id.as_str()), config)
}

extern "C" fn describe<D: StoreDriver>() -> FfiResult<RString> {
    guard(|| {
        serde_json::to_string(&D::describe())
            .map(RString::from)
            .map_err(|err| {
                StoreError::new(
                    ErrorKind::Unexpected,
                    format!("the driver description is not JSON: {err}"),
                )
            })
    })
}
