//! The host side: loading store plugins and calling the stores they open.

mod loader;
mod store;

pub use loader::{LoadError, StorePlugin, discover_store_plugins, load_store_plugin};
pub use store::Store;
