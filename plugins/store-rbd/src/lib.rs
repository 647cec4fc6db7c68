//! Glint store driver for Ceph RBD: one RBD image per Glance image, with a protected snapshot
//! `snap` for copy-on-write clones, as Glance's rbd store keeps them. See `docs.md`.
//!
//! Bindings: this crate declares the few librados/librbd C functions it calls itself
//! (`ceph::sys`, linked against the system's `librados.so` and `librbd.so`, Debian's
//! `librados-dev`/`librbd-dev`) and wraps them in the small safe [`ceph`] module. No maintained
//! high-level librbd crate exists, and a bindgen-based `-sys` crate would add libclang to the
//! build for about thirty functions.

pub mod ceph;
mod config;
mod driver;
mod error;
mod location;
mod reader;
mod writer;

pub use driver::SNAPSHOT;

glint_sdk::export_store_plugin!(driver::RbdDriver);
