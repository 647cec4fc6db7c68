//! Glint store driver for images kept as files on VMware vSphere datastores. See `docs.md`.

mod config;
mod driver;
mod error;
mod location;
mod session;
mod soap;
mod transfer;

glint_sdk::export_store_plugin!(driver::VmwareDriver);
