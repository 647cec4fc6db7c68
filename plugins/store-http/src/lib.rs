//! Glint store driver for images served read-only by an HTTP(S) server. See `docs.md`.

mod client;
mod config;
mod driver;
mod error;

glint_sdk::export_store_plugin!(driver::HttpDriver);
