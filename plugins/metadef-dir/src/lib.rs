//! Glint metadef provider serving a directory of definitions files read-only. See `docs.md`.

mod config;
mod provider;

glint_sdk::export_metadef_provider!(provider::DirProvider);
