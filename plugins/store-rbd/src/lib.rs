//! Glint store driver for Ceph RBD: one RBD image per Glance image, with a protected snapshot
//! `snap` for copy-on-write clones, as Glance's rbd store keeps them. See `docs.md`.
//!
//! Bindings: this crate declares the few librados/librbd C functions it calls itself
//! (`ceph::sys`, looked up at run time in `librados.so.2` and `librbd.so.1`, Debian's
//! `librados2`/`librbd1`, when the first rbd store opens) and wraps them in the small safe
//! [`ceph`] module. Nothing is linked, so building needs no Ceph package. No maintained
//! high-level librbd crate exists, and a bindgen-based `-sys` crate would add libclang to the
//! build for about thirty functions.

pub mod ceph;
mod config;
mod driver;
mod error;
mod location;
mod reader;
mod shared;
mod writer;

pub use shared::SNAPSHOT;

glint_sdk::export_store_plugin!(driver::RbdDriver);
