//! `dirhash`: an example Glint store plugin, built outside the Glint workspace.
//!
//! Each image is one file, `<root>/<shard>/<image id>`, where the shard is the first two hex digits
//! of the id, so no directory grows past a few thousand entries. Writes go to a temporary file in
//! `<root>/.incoming/` and are published with an atomic, no-replace link. See `README.md`.

mod config;
mod driver;
mod error;
mod layout;
mod reader;
mod writer;

pub use driver::DirHashDriver;

glint_sdk::export_store_plugin!(DirHashDriver);
