//! The one mapping from Swift and Keystone failures to store error kinds.

use std::error::Error as _;
use std::fmt::Write as _;

use glint_sdk::{ErrorKind, StoreError};
use reqwest::StatusCode;

/// Maps a transport failure of a request about `subject` to a store error.
pub fn transport_error(err: reqwest::Error, subject: &str) -> StoreError {
    let (kind, temporary) = if err.is_timeout() {
        (ErrorKind::Timeout, true)
    } else if err.is_connect() || err.is_request() || err.is_body() || err.is_decode() {
        (ErrorKind::Unavailable, true)
    } else {
        (ErrorKind::Unexpected, false)
    };
    // reqwest would print the URL, which may carry the account; the subject is enough.
    let err = err.without_url();
    let mut message = format!("{subject}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        // Ignored result: writing to a String cannot fail.
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    with_temporary(StoreError::new(kind, message), temporary)
}

/// Maps an error status Swift (or Keystone) answered about `subject` to a store error.
pub fn status_error(status: StatusCode, subject: &str, detail: &str) -> StoreError {
    let (kind, temporary) = status_kind(status);
    let detail = detail.trim();
    let message = if detail.is_empty() {
        format!("{subject}: Swift answered {status}")
    } else {
        format!("{subject}: Swift answered {status}: {}", shorten(detail))
    };
    with_temporary(StoreError::new(kind, message), temporary)
}

/// The kind of an error status, and whether retrying later may succeed.
fn status_kind(status: StatusCode) -> (ErrorKind, bool) {
    match status {
        StatusCode::NOT_FOUND | StatusCode::GONE => (ErrorKind::NotFound, false),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (ErrorKind::PermissionDenied, false),
        StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => (ErrorKind::AlreadyExists, false),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::INSUFFICIENT_STORAGE => {
            (ErrorKind::StorageFull, false)
        }
        StatusCode::RANGE_NOT_SATISFIABLE => (ErrorKind::RangeNotSatisfiable, false),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => (ErrorKind::Timeout, true),
        StatusCode::TOO_MANY_REQUESTS => (ErrorKind::Unavailable, true),
        // 499 is Swift's "client disconnected"; the others are the server's trouble.
        status if status.is_server_error() || status.as_u16() == 499 => {
            (ErrorKind::Unavailable, true)
        }
        _ => (ErrorKind::Unexpected, false),
    }
}

fn with_temporary(error: StoreError, temporary: bool) -> StoreError {
    if temporary { error.temporary() } else { error }
}

/// The first line of an error body, at most 200 characters.
fn shorten(detail: &str) -> String {
    let line = detail
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let mut short: String = line.chars().take(200).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// An `Unexpected` error.
pub fn unexpected(message: String) -> StoreError {
    StoreError::new(ErrorKind::Unexpected, message)
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
            (412, ErrorKind::AlreadyExists, false),
            (413, ErrorKind::StorageFull, false),
            (507, ErrorKind::StorageFull, false),
            (416, ErrorKind::RangeNotSatisfiable, false),
            (408, ErrorKind::Timeout, true),
            (504, ErrorKind::Timeout, true),
            (429, ErrorKind::Unavailable, true),
            (499, ErrorKind::Unavailable, true),
            (500, ErrorKind::Unavailable, true),
            (503, ErrorKind::Unavailable, true),
            (400, ErrorKind::Unexpected, false),
            (422, ErrorKind::Unexpected, false),
        ];
        for (code, kind, temporary) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(status_kind(status), (kind, temporary), "status {code}");
        }
    }

    #[test]
    fn messages_name_the_subject_and_the_first_line_of_the_body() {
        let err = status_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "container glance",
            "\n<html>down</html>\nmore",
        );
        assert_eq!(
            err.message,
            "container glance: Swift answered 503 Service Unavailable: <html>down</html>"
        );
        assert!(err.temporary);
        let long = "x".repeat(500);
        let err = status_error(StatusCode::BAD_REQUEST, "s", &long);
        assert!(
            err.message.ends_with('…') && err.message.len() < 300,
            "{err}"
        );
    }

    #[tokio::test]
    async fn refused_connection_is_temporarily_unavailable() {
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let err = reqwest::get("http://127.0.0.1:9/v1/AUTH_test")
            .await
            .expect_err("nothing listens on port 9");
        let err = transport_error(err, "object x");
        assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
        assert!(err.temporary);
        assert!(err.message.starts_with("object x: "), "{err}");
        assert!(!err.message.contains("AUTH_test"), "{err}");
    }
}
