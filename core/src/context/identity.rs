//! What a validated token says: the caller's identity, its own token and its
//! catalog. Plain data that the request context is built from and that the
//! authentication strategies produce; it depends on nothing else in the crate.

use chrono::{DateTime, Utc};

/// A caller's own token, kept for the calls Glint makes on the caller's
/// behalf (glance-download). Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct UserToken(String);

impl UserToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for an `X-Auth-Token` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UserToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserToken(<redacted>)")
    }
}

/// One endpoint of a service in a token's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEndpoint {
    pub service_type: String,
    pub region: Option<String>,
    pub interface: String,
    pub url: String,
}

/// What a valid token says about its bearer. Role names are lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub user_domain_id: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_id: Option<String>,
    /// Set for domain-scoped tokens.
    pub domain_id: Option<String>,
    /// `all` for system-scoped tokens.
    pub system_scope: Option<String>,
    pub roles: Vec<String>,
    pub expires_at: DateTime<Utc>,
}
