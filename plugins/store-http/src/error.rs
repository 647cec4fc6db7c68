//! The one mapping from HTTP failures to store error kinds.

use std::error::Error as _;
use std::fmt::Write as _;

use glint_sdk::http::status_kind;
use glint_sdk::{ErrorKind, StoreError};

/// Maps a failed request on `subject` (a redacted location, for the message) to a store error.
///
/// A status error (from `error_for_status`) maps by its status, a transport error by what failed.
pub fn parse_error(err: reqwest::Error, subject: &str) -> StoreError {
    let (kind, temporary) = match err.status() {
        Some(status) => status_kind(status.as_u16()),
        None if err.is_timeout() => (ErrorKind::Timeout, true),
        None if err.is_connect() || err.is_request() || err.is_body() => {
            (ErrorKind::Unavailable, true)
        }
        None => (ErrorKind::Unexpected, false),
    };
    // reqwest would print the URL as requested; `subject` is the redacted location instead.
    let err = err.without_url();
    let mut message = format!("{subject}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        // Ignored result: writing to a String cannot fail.
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    let error = StoreError::new(kind, message);
    if temporary { error.temporary() } else { error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connection_is_temporarily_unavailable_and_names_the_subject() {
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let err = reqwest::get("http://user:s3cr3t@127.0.0.1:9/x")
            .await
            .expect_err("nothing listens on port 9");
        let err = parse_error(err, "http://user@127.0.0.1:9/x");
        assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
        assert!(err.temporary);
        assert!(
            err.message.starts_with("http://user@127.0.0.1:9/x: "),
            "{err}"
        );
        assert!(!err.message.contains("s3cr3t"), "{err}");
    }
}
