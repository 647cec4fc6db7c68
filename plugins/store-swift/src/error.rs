//! The one mapping from Swift and Keystone failures to store error kinds.

use std::error::Error as _;
use std::fmt::Write as _;

use glint_sdk::http::status_kind;
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
    let (kind, temporary) = status_kind(status.as_u16());
    let detail = detail.trim();
    let message = if detail.is_empty() {
        format!("{subject}: Swift answered {status}")
    } else {
        format!("{subject}: Swift answered {status}: {}", shorten(detail))
    };
    with_temporary(StoreError::new(kind, message), temporary)
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
