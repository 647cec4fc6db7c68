//! Glint core: the Images API server, its domain model, database and store registry.

pub mod db;
pub mod domain;
