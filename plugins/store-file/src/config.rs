//! The file store's options (`[stores.<id>.options]`).

use std::path::PathBuf;

use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

const MIB: usize = 1024 * 1024;

/// Options of a file store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Absolute path of the directory holding the images; created when missing.
    pub datadir: PathBuf,
    /// Size in bytes of the buffers a read streams (default 512 KiB, 4 KiB to 64 MiB). Each
    /// download holds a few of them.
    #[serde(default = "default_chunk_size")]
    pub chunk_size: usize,
    /// Flush data and directory entries to disk before a write is acknowledged (default true).
    /// Turn off only for throwaway stores: a crash may then lose acknowledged images.
    #[serde(default = "default_fsync")]
    pub fsync: bool,
}

fn default_chunk_size() -> usize {
    512 * 1024
}

fn default_fsync() -> bool {
    true
}

impl FileConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({ "chunk_size": default_chunk_size(), "fsync": default_fsync() })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let invalid = |message: String| StoreError::new(ErrorKind::ConfigInvalid, message);
        let config: FileConfig = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid file store options: {err}")))?;
        if !config.datadir.is_absolute() {
            return Err(invalid(format!(
                "option `datadir` must be an absolute path, got {}",
                config.datadir.display()
            )));
        }
        if !(4096..=64 * MIB).contains(&config.chunk_size) {
            return Err(invalid(format!(
                "option `chunk_size` must be between 4096 and {}, got {}",
                64 * MIB,
                config.chunk_size
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn described_defaults_are_the_parsed_ones() {
        let mut options = FileConfig::defaults();
        options["datadir"] = json!("/x");
        let described = FileConfig::parse(options).unwrap();
        let parsed = FileConfig::parse(json!({ "datadir": "/x" })).unwrap();
        assert_eq!(described.chunk_size, parsed.chunk_size);
        assert_eq!(described.fsync, parsed.fsync);
    }

    fn message(options: serde_json::Value) -> String {
        let err = FileConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn defaults_apply() {
        let config = FileConfig::parse(json!({ "datadir": "/srv/images" })).unwrap();
        assert_eq!(config.chunk_size, 512 * 1024);
        assert!(config.fsync);
    }

    #[test]
    fn errors_name_the_option() {
        assert!(message(json!({})).contains("`datadir`"));
        assert!(message(json!({ "datadir": "/x", "chunksize": 1 })).contains("`chunksize`"));
        assert!(message(json!({ "datadir": "relative" })).contains("`datadir`"));
        assert!(message(json!({ "datadir": "/x", "chunk_size": 1 })).contains("`chunk_size`"));
        assert!(message(json!({ "datadir": "/x", "fsync": "yes" })).contains("invalid type"));
    }
}
