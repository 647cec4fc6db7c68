// A library that looks like a store plugin to abi_stable but is not the one this SDK defines:
// included by the `store_future_abi` and `store_bad_layout` examples with their ABI version.

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RStr;
use abi_stable::{StableAbi, declare_root_module_statics, export_root_module};

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = OtherModuleRef)))]
pub struct OtherModule {
    #[sabi(last_prefix_field)]
    pub description: RStr<'static>,
}

impl RootModule for OtherModuleRef {
    declare_root_module_statics! {OtherModuleRef}
    const BASE_NAME: &'static str = "glint_store";
    const NAME: &'static str = "glint_store";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(ABI_VERSION);
}

#[export_root_module]
fn root_module() -> OtherModuleRef {
    OtherModule {
        description: RStr::from_str("not this SDK's store plugin module"),
    }
    .leak_into_prefix()
}
