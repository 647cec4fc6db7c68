//! A library that claims metadef plugin ABI 1.1 when the host speaks 1.0, as a metadef plugin
//! built by a newer SDK minor would: its root module may have fields this host cannot provide for.

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RStr;
use abi_stable::{StableAbi, declare_root_module_statics, export_root_module};

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = NewerModuleRef)))]
pub struct NewerModule {
    #[sabi(last_prefix_field)]
    pub description: RStr<'static>,
}

impl RootModule for NewerModuleRef {
    declare_root_module_statics! {NewerModuleRef}
    const BASE_NAME: &'static str = "glint_metadef";
    const NAME: &'static str = "glint_metadef";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.1.0");
}

#[export_root_module]
fn root_module() -> NewerModuleRef {
    NewerModule {
        description: RStr::from_str("a metadef plugin from a newer SDK minor"),
    }
    .leak_into_prefix()
}
