//! A store plugin as the SDK of store plugin ABI 1.2 built it: its root module is the frozen 1.2
//! one (`glint_sdk::ffi::v1_2`), without the `open_ext` entry point 1.3 appended, so its stores
//! have no 1.3 methods: even a driver that says it can list does not list through the host. The
//! loader tests load it into the current host.

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{RStr, RString};
use glint_sdk::ffi::v1_2::{StorePluginModule, StorePluginModuleRef};
use glint_sdk::ffi::{FfiResult, FfiStoreBox, HostLogger, store_plugin_module};
use glint_sdk::{
    Capabilities, DriverDescription, ErrorKind, ListPage, OpenContext, RequestContext, StoreDriver,
    StoreError,
};

#[export_root_module]
fn root_module() -> StorePluginModuleRef {
    StorePluginModule {
        sdk_version: RStr::from_str("0.1.0"),
        driver_name: RStr::from_str("v12"),
        set_logger,
        open,
        describe,
    }
    .leak_into_prefix()
}

extern "C" fn set_logger(_: HostLogger) {}

extern "C" fn open(store_id: RStr<'_>, config: RStr<'_>) -> FfiResult<FfiStoreBox> {
    (store_plugin_module::<Lister>().open())(store_id, config)
}

extern "C" fn describe() -> FfiResult<RString> {
    // As a 1.2 SDK wrote it: no `secret_options`.
    FfiResult::ROk(r#"{"name":"v12","schemes":["v12"],"option_defaults":{}}"#.into())
}

/// Says it can list and answers every size query with 12.
struct Lister;

impl StoreDriver for Lister {
    const DRIVER: &'static str = "v12";

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["v12"])
    }

    fn open(_: OpenContext, _: serde_json::Value) -> Result<Self, StoreError> {
        Ok(Lister)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            size: true,
            list: true,
            ..Capabilities::default()
        }
    }

    async fn get(
        &self,
        _: Option<&RequestContext>,
        _: &str,
        _: Option<glint_sdk::ReadRange>,
    ) -> Result<glint_sdk::GetOutcome, StoreError> {
        Err(StoreError::new(ErrorKind::Unsupported, "get"))
    }

    async fn size(&self, _: Option<&RequestContext>, _: &str) -> Result<u64, StoreError> {
        Ok(12)
    }

    async fn list(&self, _: Option<&str>) -> Result<ListPage, StoreError> {
        panic!("a 1.2 plugin's listing is never reached");
    }
}
