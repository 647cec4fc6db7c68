//! Glint store driver for OpenStack Swift (tempauth or Keystone v3 authentication). See `docs.md`.

mod auth;
mod client;
mod config;
mod driver;
mod error;
mod listing;
mod location;
mod reader;
mod sweep;
mod writer;

glint_sdk::export_store_plugin!(driver::SwiftDriver);
