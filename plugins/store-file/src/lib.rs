//! Glint store driver for a local or shared filesystem directory. See `docs.md`.

mod config;
mod driver;
mod error;
mod reader;
mod writer;

glint_sdk::export_store_plugin!(driver::FileDriver);
