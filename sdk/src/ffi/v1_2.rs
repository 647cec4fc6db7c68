//! The store plugin root module of ABI 1.2, frozen.
//!
//! ABI 1.3 appended `open_ext` to the root module; abi_stable's layout check refuses a library
//! whose prefix types are shorter than the host's, so the host checks a 1.2 plugin against this
//! copy (same name, same package, so abi_stable compares it field by field) and then uses its
//! module as the current one, reading `open_ext` through its optional accessor (`None`). The
//! `FfiStore` vtable did not change in 1.3 (the new methods are on `FfiStoreExt`), so the current
//! one is the 1.2 one.
//!
//! Never change anything here. Plugin authors have no use for it.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RStr, RString};

use super::{FfiResult, FfiStoreBox, HostLogger};

/// `StorePluginModule` as ABI 1.2 defines it.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = StorePluginModuleRef)))]
pub struct StorePluginModule {
    pub sdk_version: RStr<'static>,
    pub driver_name: RStr<'static>,
    pub set_logger: extern "C" fn(HostLogger),
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(RStr<'_>, RStr<'_>) -> FfiResult<FfiStoreBox>,
    pub describe: extern "C" fn() -> FfiResult<RString>,
}

impl RootModule for StorePluginModuleRef {
    abi_stable::declare_root_module_statics! {StorePluginModuleRef}
    const BASE_NAME: &'static str = "glint_store";
    const NAME: &'static str = "glint_store";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.2.0");
}
