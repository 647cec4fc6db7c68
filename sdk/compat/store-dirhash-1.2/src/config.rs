//! The store's options (`[stores.<id>.options]` in glint's configuration).

use std::path::PathBuf;

use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Options of a `dirhash` store. Unknown options are refused, so a typo never goes unnoticed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirHashConfig {
    /// Absolute path of the directory holding the shards; created when missing.
    pub root: PathBuf,
    /// Size in bytes of the buffers a download streams (default 1 MiB, 4 KiB to 16 MiB).
    #[serde(default = "default_chunk_size")]
    pub chunk_size: usize,
    /// Flush data and directory entries to disk before an upload is acknowledged (default true).
    #[serde(default = "default_fsync")]
    pub fsync: bool,
}

fn default_chunk_size() -> usize {
    MIB
}

fn default_fsync() -> bool {
    true
}

impl DirHashConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> glint_sdk::serde_json::Value {
        glint_sdk::serde_json::json!({ "chunk_size": default_chunk_size(), "fsync": default_fsync() })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` and names the option.
    pub fn parse(options: glint_sdk::serde_json::Value) -> Result<Self, StoreError> {
        let invalid = |message: String| StoreError::new(ErrorKind::ConfigInvalid, message);
        // serde's messages name the field: "unknown field `rot`", "missing field `root`".
        let config: DirHashConfig = glint_sdk::serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid dirhash store options: {err}")))?;
        if !config.root.is_absolute() {
            return Err(invalid(format!(
                "option `root` must be an absolute path, got {:?}",
                config.root
            )));
        }
        if !(4 * KIB..=16 * MIB).contains(&config.chunk_size) {
            return Err(invalid(format!(
                "option `chunk_size` must be between {} and {} bytes, got {}",
                4 * KIB,
                16 * MIB,
                config.chunk_size
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glint_sdk::serde_json::json;

    fn message(options: glint_sdk::serde_json::Value) -> String {
        let err = DirHashConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn defaults_apply() {
        let config = DirHashConfig::parse(json!({ "root": "/srv/images" })).unwrap();
        assert_eq!(config.chunk_size, MIB);
        assert!(config.fsync);
    }

    #[test]
    fn every_error_names_its_option() {
        assert!(message(json!({})).contains("`root`"));
        assert!(message(json!({ "root": "images" })).contains("`root`"));
        assert!(message(json!({ "root": "/x", "rot": "/y" })).contains("`rot`"));
        assert!(message(json!({ "root": "/x", "chunk_size": 1 })).contains("`chunk_size`"));
        assert!(message(json!({ "root": "/x", "chunk_size": -1 })).contains("invalid value"));
        assert!(message(json!({ "root": "/x", "fsync": "yes" })).contains("invalid type"));
        assert!(message(json!("/x")).contains("invalid type"));
    }
}
