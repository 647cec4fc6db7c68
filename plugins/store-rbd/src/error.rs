//! The one mapping from librados/librbd errors to store error kinds.

use std::fmt::Display;

use glint_sdk::{ErrorKind, StoreError};

use crate::ceph::{CephError, errno};

/// Maps a failed cluster call about `subject` (an image or location, for the message).
pub fn parse_error(err: CephError, subject: impl Display) -> StoreError {
    let kind = match err.errno {
        errno::ENOENT => ErrorKind::NotFound,
        errno::EEXIST => ErrorKind::AlreadyExists,
        errno::ENOSPC | errno::EDQUOT => ErrorKind::StorageFull,
        errno::EACCES | errno::EPERM | errno::EROFS => ErrorKind::PermissionDenied,
        errno::EBUSY | errno::ENOTEMPTY => ErrorKind::InUse,
        errno::ETIMEDOUT => ErrorKind::Timeout,
        errno::ENOTCONN
        | errno::ESHUTDOWN
        | errno::ECONNREFUSED
        | errno::EHOSTUNREACH
        | errno::EAGAIN
        | errno::EINTR => ErrorKind::Unavailable,
        _ => ErrorKind::Unexpected,
    };
    let error = StoreError::new(kind, format!("{subject}: {err}"));
    if matches!(kind, ErrorKind::Unavailable | ErrorKind::Timeout) {
        error.temporary()
    } else {
        error
    }
}

/// A failure to reach the cluster at all: `Unavailable` (temporary) unless the cluster refused
/// the credentials or the configuration, which is `ConfigInvalid` naming the options to check.
pub fn connect_error(err: CephError, user: &str) -> StoreError {
    match (err.op, err.errno) {
        ("rados_conf_read_file", _) => StoreError::new(
            ErrorKind::ConfigInvalid,
            format!("option `ceph_conf`: {err}"),
        ),
        ("rados_conf_set", _) => StoreError::new(
            ErrorKind::ConfigInvalid,
            format!("option `keyring` or `connect_timeout`: {err}"),
        ),
        ("rados_create2", _) => StoreError::new(
            ErrorKind::ConfigInvalid,
            format!("option `rados_user`: {err}"),
        ),
        // cephx refused the key (EACCES/EPERM), or no key for the user was found (ENOENT, EINVAL).
        ("rados_connect", errno::EACCES | errno::EPERM | errno::ENOENT | errno::EINVAL) => {
            StoreError::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "the cluster refused client.{user}: check options `rados_user` and `keyring` ({err})"
                ),
            )
        }
        _ => StoreError::new(
            ErrorKind::Unavailable,
            format!("cannot reach the Ceph cluster as client.{user}: {err}"),
        )
        .temporary(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(op: &'static str, errno: i32) -> CephError {
        CephError { op, errno }
    }

    #[test]
    fn errno_values_map_to_kinds() {
        let cases = [
            (errno::ENOENT, ErrorKind::NotFound),
            (errno::EEXIST, ErrorKind::AlreadyExists),
            (errno::ENOSPC, ErrorKind::StorageFull),
            (errno::EDQUOT, ErrorKind::StorageFull),
            (errno::EACCES, ErrorKind::PermissionDenied),
            (errno::EPERM, ErrorKind::PermissionDenied),
            (errno::EBUSY, ErrorKind::InUse),
            (errno::ENOTEMPTY, ErrorKind::InUse),
            (errno::ETIMEDOUT, ErrorKind::Timeout),
            (errno::ESHUTDOWN, ErrorKind::Unavailable),
            (errno::EIO, ErrorKind::Unexpected),
        ];
        for (errno, kind) in cases {
            let err = parse_error(error("rbd_open", errno), "images/x");
            assert_eq!(err.kind, kind, "errno {errno}");
            assert!(
                err.message.starts_with("images/x: rbd_open failed: "),
                "{}",
                err.message
            );
        }
        assert!(parse_error(error("rbd_read2", errno::ETIMEDOUT), "x").temporary);
        assert!(!parse_error(error("rbd_read2", errno::EIO), "x").temporary);
    }

    #[test]
    fn connect_errors_name_the_options() {
        let refused = connect_error(error("rados_connect", errno::EACCES), "glance");
        assert_eq!(refused.kind, ErrorKind::ConfigInvalid);
        assert!(refused.message.contains("`rados_user`"), "{refused}");
        assert!(refused.message.contains("`keyring`"), "{refused}");
        let conf = connect_error(error("rados_conf_read_file", errno::ENOENT), "glance");
        assert!(conf.message.contains("`ceph_conf`"), "{conf}");
        let down = connect_error(error("rados_connect", errno::ETIMEDOUT), "glance");
        assert_eq!(down.kind, ErrorKind::Unavailable);
        assert!(down.temporary);
    }
}
