//! The one mapping from vSphere failures (transport, HTTP status, SOAP fault) to store errors.

use std::error::Error as _;
use std::fmt::Write as _;

use glint_sdk::http::status_kind;
use glint_sdk::{ErrorKind, StoreError};
use reqwest::StatusCode;

use crate::soap::Fault;

/// A request that did not get an answer, on `subject` (what was asked, for the message).
pub fn transport_error(err: reqwest::Error, subject: &str) -> StoreError {
    let (kind, temporary) = if err.is_timeout() {
        (ErrorKind::Timeout, true)
    } else if err.is_connect() || err.is_request() || err.is_body() || err.is_decode() {
        (ErrorKind::Unavailable, true)
    } else {
        (ErrorKind::Unexpected, false)
    };
    // reqwest would print the URL; the subject names the object instead.
    let err = err.without_url();
    let mut message = format!("{subject}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        // Ignored result: writing to a String cannot fail.
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    if kind == ErrorKind::Unavailable && message.contains("certificate verify failed") {
        // Retrying cannot help: the server's certificate is not trusted.
        message.push_str(
            " (the server's TLS certificate is not trusted: set `ca_file` to its CA certificate)",
        );
        return StoreError::new(kind, message);
    }
    with_temporary(StoreError::new(kind, message), temporary)
}

/// An error status of the datastore file service (`/folder`).
pub fn status_error(status: StatusCode, subject: &str) -> StoreError {
    if status == StatusCode::UNAUTHORIZED {
        return StoreError::new(
            ErrorKind::PermissionDenied,
            format!("{subject}: the server refused the session (401) even after a new login"),
        );
    }
    let (kind, temporary) = status_kind(status.as_u16());
    with_temporary(
        StoreError::new(kind, format!("{subject}: the server answered {status}")),
        temporary,
    )
}

/// Whether a status is worth retrying for a request that can safely be sent again.
pub fn retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// A SOAP fault of a call on `subject`.
pub fn fault_error(fault: &Fault, subject: &str) -> StoreError {
    let kind = match fault.kind.as_str() {
        "FileNotFound" | "InvalidDatastore" | "InvalidDatastorePath" | "ManagedObjectNotFound" => {
            ErrorKind::NotFound
        }
        "FileAlreadyExists" | "AlreadyExists" | "DuplicateName" => ErrorKind::AlreadyExists,
        "NoPermission" | "NotAuthenticated" | "InvalidLogin" | "FileLocked" => {
            ErrorKind::PermissionDenied
        }
        "NoDiskSpace" | "InsufficientStorageSpace" | "OutOfBounds" => ErrorKind::StorageFull,
        "TaskInProgress" | "ResourceInUse" => ErrorKind::InUse,
        "HostCommunication" | "HostNotConnected" | "HostNotReachable" | "RequestCanceled" => {
            return StoreError::new(ErrorKind::Unavailable, describe(fault, subject)).temporary();
        }
        _ => ErrorKind::Unexpected,
    };
    StoreError::new(kind, describe(fault, subject))
}

/// Whether an error is the server not knowing a managed object reference (fault
/// `ManagedObjectNotFound`): the store's references are stale, as after a server restart that
/// built a new inventory.
pub fn is_stale_reference(err: &StoreError) -> bool {
    err.kind == ErrorKind::NotFound && err.message.contains("vSphere fault ManagedObjectNotFound")
}

fn describe(fault: &Fault, subject: &str) -> String {
    if fault.message.is_empty() {
        format!("{subject}: vSphere fault {}", fault.kind)
    } else {
        format!("{subject}: vSphere fault {}: {}", fault.kind, fault.message)
    }
}

fn with_temporary(error: StoreError, temporary: bool) -> StoreError {
    if temporary { error.temporary() } else { error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (404, ErrorKind::NotFound, false),
            (401, ErrorKind::PermissionDenied, false),
            (403, ErrorKind::PermissionDenied, false),
            (409, ErrorKind::AlreadyExists, false),
            (416, ErrorKind::RangeNotSatisfiable, false),
            (507, ErrorKind::StorageFull, false),
            (504, ErrorKind::Timeout, true),
            (500, ErrorKind::Unavailable, true),
            (503, ErrorKind::Unavailable, true),
            (400, ErrorKind::Unexpected, false),
        ];
        for (code, kind, temporary) in cases {
            let err = status_error(StatusCode::from_u16(code).unwrap(), "[ds] dir/x");
            assert_eq!(
                (err.kind, err.temporary),
                (kind, temporary),
                "status {code}"
            );
            assert!(err.message.starts_with("[ds] dir/x: "), "{err}");
        }
        assert!(retryable_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!retryable_status(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn faults_map_to_kinds() {
        let fault = |kind: &str| Fault {
            kind: kind.to_owned(),
            message: String::new(),
        };
        assert_eq!(
            fault_error(&fault("FileNotFound"), "x").kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            fault_error(&fault("FileAlreadyExists"), "x").kind,
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            fault_error(&fault("NoPermission"), "x").kind,
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            fault_error(&fault("NoDiskSpace"), "x").kind,
            ErrorKind::StorageFull
        );
        assert!(is_stale_reference(&fault_error(
            &fault("ManagedObjectNotFound"),
            "x"
        )));
        assert!(!is_stale_reference(&fault_error(
            &fault("FileNotFound"),
            "x"
        )));
        let err = fault_error(&fault("HostCommunication"), "x");
        assert!(err.kind == ErrorKind::Unavailable && err.temporary);
        let err = fault_error(
            &Fault {
                kind: "SystemError".into(),
                message: "boom".into(),
            },
            "delete [ds] a",
        );
        assert_eq!(err.kind, ErrorKind::Unexpected);
        assert_eq!(
            err.message,
            "delete [ds] a: vSphere fault SystemError: boom"
        );
    }
}
