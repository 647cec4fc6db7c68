//! The rbd store's options (`[stores.<id>.options]`).

use std::path::PathBuf;

use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

use crate::ceph::ORDERS;

const MIB: u64 = 1024 * 1024;

/// Options of an rbd store. Nothing here is secret (the key itself stays in the keyring file),
/// so `Debug` shows every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbdConfig {
    /// The RADOS pool holding the images (default `images`).
    #[serde(default = "default_pool")]
    pub pool: String,
    /// The cephx id to connect as, without `client.` (default: librados' own, `admin`).
    #[serde(default)]
    pub rados_user: Option<String>,
    /// The Ceph configuration file (default `/etc/ceph/ceph.conf`).
    #[serde(default = "default_ceph_conf")]
    pub ceph_conf: PathBuf,
    /// The keyring holding the user's key, when `ceph_conf` does not name it.
    #[serde(default)]
    pub keyring: Option<PathBuf>,
    /// MiB per RBD object and per write (default 8; a power of two from 1 to 32).
    #[serde(default = "default_chunk_size")]
    pub chunk_size: u64,
    /// Seconds to wait for the monitors when connecting and for each cluster operation
    /// (default 30, 1 to 3600).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// The librados file to load, when not `librados.so.2` from the system's library path.
    #[serde(default)]
    pub librados_path: Option<PathBuf>,
    /// The librbd file to load, when not `librbd.so.1` from the system's library path.
    #[serde(default)]
    pub librbd_path: Option<PathBuf>,
}

fn default_pool() -> String {
    "images".to_owned()
}

fn default_ceph_conf() -> PathBuf {
    PathBuf::from("/etc/ceph/ceph.conf")
}

fn default_chunk_size() -> u64 {
    8
}

fn default_connect_timeout() -> u64 {
    30
}

impl RbdConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "pool": default_pool(),
            "ceph_conf": default_ceph_conf(),
            "chunk_size": default_chunk_size(),
            "connect_timeout": default_connect_timeout(),
        })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let invalid = |message: String| StoreError::new(ErrorKind::ConfigInvalid, message);
        let config: RbdConfig = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid rbd store options: {err}")))?;
        let plain = |value: &str| {
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"/@".contains(&b))
        };
        if !plain(&config.pool) {
            return Err(invalid(format!(
                "option `pool` must be a non-empty pool name without spaces, '/' or '@', got {:?}",
                config.pool
            )));
        }
        if let Some(user) = &config.rados_user
            && (!plain(user) || user.starts_with("client."))
        {
            return Err(invalid(format!(
                "option `rados_user` must be a cephx id without the `client.` prefix, got {user:?}"
            )));
        }
        for (option, path) in [
            ("ceph_conf", Some(&config.ceph_conf)),
            ("keyring", config.keyring.as_ref()),
        ] {
            let Some(path) = path else { continue };
            if !path.is_absolute() || path.to_str().is_none() {
                return Err(invalid(format!(
                    "option `{option}` must be an absolute UTF-8 path, got {}",
                    path.display()
                )));
            }
            if let Err(err) = std::fs::File::open(path) {
                return Err(invalid(format!(
                    "option `{option}`: cannot read {}: {err}",
                    path.display()
                )));
            }
        }
        // Not opened here: loading the library reports a missing or unusable file itself.
        for (option, path) in [
            ("librados_path", config.librados_path.as_ref()),
            ("librbd_path", config.librbd_path.as_ref()),
        ] {
            if let Some(path) = path
                && (!path.is_absolute() || path.to_str().is_none())
            {
                return Err(invalid(format!(
                    "option `{option}` must be an absolute UTF-8 path, got {}",
                    path.display()
                )));
            }
        }
        if !config.chunk_size.is_power_of_two() || config.chunk_size > 32 {
            return Err(invalid(format!(
                "option `chunk_size` must be a power of two from 1 to 32 (MiB), got {}",
                config.chunk_size
            )));
        }
        if !(1..=3600).contains(&config.connect_timeout) {
            return Err(invalid(format!(
                "option `connect_timeout` must be from 1 to 3600 (seconds), got {}",
                config.connect_timeout
            )));
        }
        Ok(config)
    }

    /// Bytes per RBD object and per write.
    pub fn chunk_bytes(&self) -> usize {
        (self.chunk_size * MIB) as usize
    }

    /// log2 of the object size, as librbd's `order`.
    pub fn order(&self) -> u32 {
        let order = (self.chunk_size * MIB).trailing_zeros();
        debug_assert!(ORDERS.contains(&order));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(options: serde_json::Value) -> String {
        let err = RbdConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    fn conf() -> tempfile::NamedTempFile {
        tempfile::NamedTempFile::new().unwrap()
    }

    #[test]
    fn defaults_apply() {
        let conf = conf();
        let config = RbdConfig::parse(json!({ "ceph_conf": conf.path() })).unwrap();
        assert_eq!(config.pool, "images");
        assert_eq!(config.rados_user, None);
        assert_eq!(config.keyring, None);
        assert_eq!(config.chunk_bytes(), 8 << 20);
        assert_eq!(config.order(), 23);
        assert_eq!(config.connect_timeout, 30);
        assert_eq!(config.librados_path, None);
        assert_eq!(config.librbd_path, None);
    }

    #[test]
    fn errors_name_the_option() {
        let conf = conf();
        let with = |extra: serde_json::Value| {
            let mut options = json!({ "ceph_conf": conf.path() });
            options
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            options
        };
        assert!(message(with(json!({ "rbd_pool": "x" }))).contains("`rbd_pool`"));
        assert!(message(with(json!({ "pool": "" }))).contains("`pool`"));
        assert!(message(with(json!({ "pool": "a/b" }))).contains("`pool`"));
        assert!(message(with(json!({ "rados_user": "client.glance" }))).contains("`rados_user`"));
        assert!(message(with(json!({ "rados_user": 7 }))).contains("invalid type"));
        assert!(message(with(json!({ "chunk_size": 3 }))).contains("`chunk_size`"));
        assert!(message(with(json!({ "chunk_size": 64 }))).contains("`chunk_size`"));
        assert!(message(with(json!({ "chunk_size": 0 }))).contains("`chunk_size`"));
        assert!(message(with(json!({ "connect_timeout": 0 }))).contains("`connect_timeout`"));
        assert!(message(with(json!({ "keyring": "/nonexistent/keyring" }))).contains("`keyring`"));
        assert!(message(with(json!({ "keyring": "relative" }))).contains("`keyring`"));
        assert!(message(with(json!({ "librbd_path": "librbd.so.1" }))).contains("`librbd_path`"));
        assert!(
            message(with(json!({ "librados_path": "lib/librados.so.2" })))
                .contains("`librados_path`")
        );
        assert!(message(json!({ "ceph_conf": "/nonexistent/ceph.conf" })).contains("`ceph_conf`"));
    }

    #[test]
    fn every_allowed_chunk_size_is_a_valid_order() {
        let conf = conf();
        for chunk_size in [1, 2, 4, 8, 16, 32] {
            let config =
                RbdConfig::parse(json!({ "ceph_conf": conf.path(), "chunk_size": chunk_size }))
                    .unwrap();
            assert!(ORDERS.contains(&config.order()));
        }
    }
}
