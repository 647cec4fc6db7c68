//! Glint core: the Images API server, its domain model, database and store registry.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod context;
pub mod db;
pub mod domain;
pub mod fetch;
pub mod format;
pub mod jobs;
pub mod keymgr;
pub mod logging;
pub mod metadef_providers;
pub mod metrics;
pub mod notify;
pub mod policy;
pub mod remote;
pub mod replicate;
pub mod server;
pub mod service;
pub mod store;
