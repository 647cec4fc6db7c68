//! The store plugin interface of ABI 1.0, frozen.
//!
//! abi_stable's layout check refuses a library whose prefix types (root module, vtables) are
//! shorter than the host's, so a plugin built for 1.0 would fail the check against the 1.1
//! `FfiStore`, which has more methods. The host therefore checks a 1.0 plugin against these
//! copies of the 1.0 types (same names, same package, so abi_stable compares them field by
//! field), and then uses its module as the current one: the methods added since are read through
//! abi_stable's optional accessors, which consult the plugin's own vtable length and fall back to
//! their default bodies (an `Unsupported` error).
//!
//! Never change anything here. Plugin authors have no use for it; the kit's tests build a 1.0
//! plugin from it.

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RStr, RString};
use async_ffi::FfiFuture;

use super::{FfiGetOutcome, FfiPutOutcome, FfiReadRange, FfiResult, FfiStreamBox, HostLogger};

/// `FfiStore` as ABI 1.0 defines it.
#[sabi_trait]
pub trait FfiStore: Send + Sync {
    fn capabilities(&self) -> FfiResult<u64>;

    fn put(
        &self,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>>;

    fn get(
        &self,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>>;

    fn delete(&self, location: RString) -> FfiFuture<FfiResult<()>>;

    #[sabi(last_prefix_field)]
    fn size(&self, location: RString) -> FfiFuture<FfiResult<u64>>;
}

/// An owned, type-erased 1.0 [`FfiStore`].
pub type FfiStoreBox = FfiStore_TO<'static, RBox<()>>;

/// `StorePluginModule` as ABI 1.0 defines it.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = StorePluginModuleRef)))]
pub struct StorePluginModule {
    pub sdk_version: RStr<'static>,
    pub driver_name: RStr<'static>,
    pub set_logger: extern "C" fn(HostLogger),
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(RStr<'_>, RStr<'_>) -> FfiResult<FfiStoreBox>,
}

impl RootModule for StorePluginModuleRef {
    abi_stable::declare_root_module_statics! {StorePluginModuleRef}
    const BASE_NAME: &'static str = "glint_store";
    const NAME: &'static str = "glint_store";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");
}
