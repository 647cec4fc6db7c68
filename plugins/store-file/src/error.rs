//! The one mapping from filesystem errors to store error kinds.

use std::fmt::Display;
use std::io;

use glint_sdk::{ErrorKind, StoreError};

/// Maps an I/O error on `subject` (a path or location, for the message) to a store error.
pub fn parse_error(err: io::Error, subject: impl Display) -> StoreError {
    let kind = match err.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            ErrorKind::PermissionDenied
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::StorageFull,
        io::ErrorKind::ResourceBusy | io::ErrorKind::ExecutableFileBusy => ErrorKind::InUse,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::Interrupted
        | io::ErrorKind::WouldBlock
        | io::ErrorKind::StaleNetworkFileHandle => ErrorKind::Unavailable,
        // A symbolic link where an image should be: treated like a path outside the data directory.
        _ if err.raw_os_error() == Some(libc::ELOOP) => ErrorKind::PermissionDenied,
        _ => ErrorKind::Unexpected,
    };
    let error = StoreError::new(kind, format!("{subject}: {err}"));
    if kind == ErrorKind::Unavailable {
        error.temporary()
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_map_to_kinds() {
        let cases = [
            (libc::ENOENT, ErrorKind::NotFound),
            (libc::EEXIST, ErrorKind::AlreadyExists),
            (libc::EACCES, ErrorKind::PermissionDenied),
            (libc::EPERM, ErrorKind::PermissionDenied),
            (libc::EROFS, ErrorKind::PermissionDenied),
            (libc::ENOSPC, ErrorKind::StorageFull),
            (libc::EDQUOT, ErrorKind::StorageFull),
            (libc::EBUSY, ErrorKind::InUse),
            (libc::ETIMEDOUT, ErrorKind::Timeout),
            (libc::ELOOP, ErrorKind::PermissionDenied),
            (libc::EIO, ErrorKind::Unexpected),
        ];
        for (errno, kind) in cases {
            let err = parse_error(io::Error::from_raw_os_error(errno), "/data/x");
            assert_eq!(err.kind, kind, "errno {errno}");
            assert!(err.message.starts_with("/data/x: "), "{}", err.message);
        }
        assert!(parse_error(io::Error::from_raw_os_error(libc::EINTR), "x").temporary);
    }
}
