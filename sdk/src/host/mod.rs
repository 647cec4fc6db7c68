//! The host side: loading plugins, calling the stores and metadef providers they open.

mod loader;
mod metadef;
mod store;

pub use loader::{LoadError, PluginKind, StorePlugin, discover_store_plugins, load_store_plugin};
pub use metadef::{MetadefPlugin, MetadefSource, load_metadef_plugin};
pub use store::Store;
