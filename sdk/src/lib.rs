//! Glint plugin SDK: the one crate a plugin needs.
//!
//! A store plugin implements [`StoreDriver`] in safe Rust and exports it with
//! [`export_store_plugin!`]; a metadef provider plugin implements [`metadef::MetadefProvider`] and
//! exports it with [`export_metadef_provider!`]. The host loads plugins with
//! [`host::load_store_plugin`] and [`host::load_metadef_plugin`] (cargo feature `host`). Design
//! notes on every ABI decision are in `docs/abi.md`.
//!
//! ```ignore
//! struct MyDriver { /* … */ }
//! impl glint_sdk::StoreDriver for MyDriver { const DRIVER: &'static str = "my"; /* … */ }
//! glint_sdk::export_store_plugin!(MyDriver);
//! ```
//!
//! A plugin crate is a `cdylib` and must depend on `abi_stable` directly (same exact version as
//! this SDK): the export macro expands to `::abi_stable::…` paths.

pub mod abi;
mod driver;
mod error;
pub mod ffi;
#[cfg(feature = "host")]
pub mod host;
#[doc = "Ranged reads over HTTP for drivers."]
pub mod http;
pub mod metadef;
pub mod names;
pub mod runtime;

/// File-system helpers for drivers.
pub mod fs {
    pub use crate::ffi::start_writeback;
}
mod types;

pub use driver::StoreDriver;
pub use error::{ErrorKind, StoreError};
pub use types::{
    Acl, Capabilities, ContextCapabilities, DataStream, DriverDescription, GetOutcome, ListPage,
    ListedObject, OpenContext, PutOutcome, ReadRange, RequestContext,
};

// Re-exported so plugins use the exact versions the SDK was built with.
pub use abi_stable;
pub use bytes;
pub use futures;
pub use serde_json;
pub use tracing;

/// Exports a [`StoreDriver`] as this library's store plugin.
///
/// Generates the stable-ABI root module; every entry point it exposes catches panics and reports
/// them as `Unexpected` errors. Use it exactly once, in a `cdylib` crate that depends on
/// `abi_stable` directly.
#[macro_export]
macro_rules! export_store_plugin {
    ($driver:ty) => {
        #[::abi_stable::export_root_module]
        fn glint_store_plugin_root_module() -> $crate::ffi::StorePluginModuleRef {
            $crate::ffi::store_plugin_module::<$driver>()
        }
    };
}

/// Exports a [`metadef::MetadefProvider`] as this library's metadef provider plugin.
///
/// Generates the stable-ABI root module of metadef plugins (distinct from the store plugin's: one
/// library is one kind of plugin); every entry point it exposes catches panics and reports them as
/// `Unexpected` errors. Use it exactly once, in a `cdylib` crate that depends on `abi_stable`
/// directly.
#[macro_export]
macro_rules! export_metadef_provider {
    ($provider:ty) => {
        #[::abi_stable::export_root_module]
        fn glint_metadef_plugin_root_module() -> $crate::ffi::MetadefPluginModuleRef {
            $crate::ffi::metadef_plugin_module::<$provider>()
        }
    };
}
