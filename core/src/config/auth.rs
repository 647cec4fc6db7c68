//! Who a request is: no authentication, or Keystone tokens.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStrategy {
    /// Every request acts as an administrator with no project, like Glance's
    /// unauthenticated context. For standalone use only.
    Noauth,
    /// Every request but version discovery carries a Keystone token in
    /// `X-Auth-Token`, validated against `[auth.keystone]` the way
    /// keystonemiddleware's auth_token does.
    Keystone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub strategy: AuthStrategy,
    /// The Keystone to validate tokens with; required by `strategy = "keystone"`.
    pub keystone: Option<KeystoneConfig>,
}

/// Keystone v3 settings: the service user Glint validates tokens as, and
/// how long a validated token is trusted without asking Keystone again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoneConfig {
    /// Keystone's v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    pub auth_url: String,
    /// The service user (Glance's `[keystone_authtoken] username`).
    pub username: String,
    pub password: Secret,
    /// The project the service token is scoped to.
    pub project_name: String,
    #[serde(default = "default_domain")]
    pub user_domain_name: String,
    #[serde(default = "default_domain")]
    pub project_domain_name: String,
    /// Sent to unauthenticated clients in `WWW-Authenticate: Keystone uri="…"`;
    /// `auth_url` without its `/v3` when unset.
    #[serde(default)]
    pub www_authenticate_uri: Option<String>,
    /// Longest time a validated token is trusted before asking Keystone again
    /// (never past the token's own expiry), so a revoked token keeps working
    /// at most this long.
    #[serde(default = "default_token_cache_seconds")]
    pub token_cache_seconds: u64,
    /// Roles an `X-Service-Token` must have (any of them) to count.
    #[serde(default = "default_service_token_roles")]
    pub service_token_roles: Vec<String>,
    /// Ignore a service token without one of `service_token_roles`; when
    /// false, such a token is only logged.
    #[serde(default = "default_true")]
    pub service_token_roles_required: bool,
    /// Timeout of each request to Keystone, in seconds.
    #[serde(default = "default_keystone_timeout_secs")]
    pub timeout_secs: u64,
}

impl KeystoneConfig {
    /// The URI clients are sent to for a token.
    pub fn www_authenticate_uri(&self) -> String {
        self.www_authenticate_uri.clone().unwrap_or_else(|| {
            let url = self.auth_url.trim_end_matches('/');
            url.strip_suffix("/v3").unwrap_or(url).to_owned()
        })
    }
}

fn default_domain() -> String {
    "Default".into()
}

fn default_token_cache_seconds() -> u64 {
    300
}

fn default_service_token_roles() -> Vec<String> {
    vec!["service".into()]
}

fn default_true() -> bool {
    true
}

fn default_keystone_timeout_secs() -> u64 {
    10
}

/// A password or other credential: readable through `expose` only, shown as
/// `***` by `Debug` and `Serialize` so it never reaches a log or a dump.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}
