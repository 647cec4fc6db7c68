//! Everything that crosses the plugin boundary. All `unsafe` code of the SDK lives here.
//!
//! Plugin authors never use these types directly: [`crate::export_store_plugin!`] wires a
//! [`crate::StoreDriver`] to them, and the host module turns them back into plain Rust types.

mod buffer;
mod error;
mod ext;
mod log;
mod metadef;
mod module;
mod os;
mod store;
mod stream;
pub mod v1_0;
pub mod v1_1;
pub mod v1_2;

pub use buffer::FfiBuf;
pub use error::{FfiError, FfiResult};
pub use ext::{FfiStoreExt, FfiStoreExtBox};
pub use log::HostLogger;
pub use metadef::{
    FfiMetadefProvider, FfiMetadefProviderBox, FfiNamespaceEntry, MetadefPluginModule,
    MetadefPluginModuleRef, metadef_plugin_module,
};
pub use module::{StorePluginModule, StorePluginModuleRef, store_plugin_module};
pub use os::start_writeback;
pub use store::{
    FfiAcl, FfiGetOutcome, FfiPutOutcome, FfiReadRange, FfiRequestContext, FfiStore, FfiStoreBox,
};
pub use stream::{FfiStream, FfiStreamBox, FfiStreamItem, export_stream, import_stream};

pub(crate) use error::{guard, panicked};
pub(crate) use ext::export_store_ext;
#[cfg(feature = "host")]
pub(crate) use ext::import as ext_import;
#[cfg(feature = "host")]
pub(crate) use log::level_code;
#[cfg(feature = "host")]
pub(crate) use metadef::import as metadef_import;
#[cfg(feature = "host")]
pub(crate) use store::import;
pub(crate) use store::{export_store, guarded};
