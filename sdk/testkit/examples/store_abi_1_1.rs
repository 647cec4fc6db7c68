//! A store plugin as the SDK of store plugin ABI 1.1 built it: its root module is the frozen 1.1
//! one (`glint_sdk::ffi::v1_1`), without the `describe` entry point 1.2 appended. The `FfiStore`
//! vtable did not change in 1.2, so its stores are today's: each `open` goes to a small current
//! driver. The loader tests load it into the current host.

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::RStr;
use glint_sdk::ffi::v1_1::{StorePluginModule, StorePluginModuleRef};
use glint_sdk::ffi::{FfiResult, FfiStoreBox, HostLogger, store_plugin_module};
use glint_sdk::{Capabilities, ErrorKind, OpenContext, RequestContext, StoreDriver, StoreError};

#[export_root_module]
fn root_module() -> StorePluginModuleRef {
    StorePluginModule {
        sdk_version: RStr::from_str("0.1.0"),
        driver_name: RStr::from_str("v11"),
        set_logger,
        open,
    }
    .leak_into_prefix()
}

extern "C" fn set_logger(_: HostLogger) {}

extern "C" fn open(store_id: RStr<'_>, config: RStr<'_>) -> FfiResult<FfiStoreBox> {
    (store_plugin_module::<SizeOnly>().open())(store_id, config)
}

/// Answers every size query with 11.
struct SizeOnly;

impl StoreDriver for SizeOnly {
    const DRIVER: &'static str = "v11";

    fn open(_: OpenContext, _: serde_json::Value) -> Result<Self, StoreError> {
        Ok(SizeOnly)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            size: true,
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
        Ok(11)
    }
}
