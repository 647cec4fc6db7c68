//! Another image service, spoken to over the Images API v2: a Glint or a
//! Glance elsewhere, as the replicator reads and writes it.
//!
//! - [`keystone`]: a token for the endpoint, by password (renewed before it
//!   expires) or as given;
//! - [`images`]: the calls the replicator makes (list, show, create, patch,
//!   data in and out as streams, members), each answer checked;
//! - [`stage_host`]: another node of this service, where a glance-direct
//!   import is forwarded when its data was staged there.
//!
//! An endpoint is named by its operator, not by an API caller, so the
//! `[import_filtering]` rules of [`crate::fetch`] do not apply to it.

pub mod images;
pub mod keystone;
pub mod stage_host;

use reqwest::StatusCode;

pub use images::{ByteStream, Images};
pub use keystone::{Auth, Credentials};

/// Why a call to the other image service failed. The text names the call
/// and never carries a token or a password.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The request could not be made or answered (connection, TLS, timeout).
    #[error("{call}: {reason}")]
    Request { call: String, reason: String },
    /// The service answered, but not with success.
    #[error("{call}: the server answered {status}{}", detail(.message))]
    Status {
        call: String,
        status: StatusCode,
        message: String,
    },
    /// The answer could not be read as expected.
    #[error("{call}: {reason}")]
    Body { call: String, reason: String },
    /// Keystone refused the credentials or issued no usable token.
    #[error("Keystone at {auth_url}: {reason}")]
    Auth { auth_url: String, reason: String },
}

impl RemoteError {
    /// The HTTP status the service answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}
