//! The host side: loading plugins, calling the stores and metadef providers they open.

mod loader;
mod metadef;
mod store;

pub use loader::{
    Discovered, LoadError, PluginKind, StorePlugin, discover_store_plugins, load_store_plugin,
    plugin_files,
};
pub use metadef::{MetadefPlugin, MetadefSource, discover_metadef_plugins, load_metadef_plugin};
pub use store::Store;
