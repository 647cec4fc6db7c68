//! The one mapping from filesystem errors to the store error vocabulary.

use std::fmt::Display;
use std::io;

use glint_sdk::{ErrorKind, StoreError};

/// Maps an I/O error on `subject` (a path, for the message) to a store error.
pub fn parse_error(err: io::Error, subject: impl Display) -> StoreError {
    let kind = match err.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            ErrorKind::PermissionDenied
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::StorageFull,
        io::ErrorKind::ResourceBusy => ErrorKind::InUse,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::Interrupted
        | io::ErrorKind::WouldBlock
        | io::ErrorKind::StaleNetworkFileHandle => ErrorKind::Unavailable,
        _ => ErrorKind::Unexpected,
    };
    let error = StoreError::new(kind, format!("{subject}: {err}"));
    // Only a passing condition is worth a retry.
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
    fn io_errors_map_to_store_kinds() {
        let cases = [
            (io::ErrorKind::NotFound, ErrorKind::NotFound),
            (io::ErrorKind::AlreadyExists, ErrorKind::AlreadyExists),
            (io::ErrorKind::PermissionDenied, ErrorKind::PermissionDenied),
            (io::ErrorKind::StorageFull, ErrorKind::StorageFull),
            (io::ErrorKind::QuotaExceeded, ErrorKind::StorageFull),
            (io::ErrorKind::TimedOut, ErrorKind::Timeout),
            (io::ErrorKind::InvalidData, ErrorKind::Unexpected),
        ];
        for (io_kind, kind) in cases {
            let err = parse_error(io::Error::from(io_kind), "/srv/x");
            assert_eq!(err.kind, kind, "{io_kind:?}");
            assert!(err.message.starts_with("/srv/x: "), "{}", err.message);
            assert!(!err.temporary);
        }
        assert!(parse_error(io::Error::from(io::ErrorKind::Interrupted), "x").temporary);
    }
}
