//! How the replicator authenticates to an endpoint: not at all (a noauth
//! service), with a token it was given, or as a Keystone user whose token is
//! renewed before it expires, so a copy that outlives one token goes on.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::RemoteError;
use crate::config::{EndpointAuthConfig, Secret};

/// A token is renewed when less than this much of its life is left.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// Keystone v3 password credentials, scoped to a project.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Keystone's endpoint, with or without its `/v3`.
    pub auth_url: String,
    pub username: String,
    pub password: Secret,
    pub project_name: String,
    pub user_domain_name: String,
    pub project_domain_name: String,
}

/// How requests to an endpoint are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No token (a noauth Glint or Glance).
    None,
    /// This token, as given (`X-Auth-Token`).
    Token(Secret),
    /// A token issued by Keystone for these credentials.
    Password(Credentials),
}

impl Auth {
    /// The authentication a `[jobs.replicate]` side's settings describe
    /// (checked complete when the configuration was loaded).
    pub fn from_config(config: Option<&EndpointAuthConfig>) -> Auth {
        let Some(c) = config else {
            return Auth::None;
        };
        if let Some(token) = &c.token {
            return Auth::Token(token.clone());
        }
        let domain = c.domain.clone().unwrap_or_else(|| "Default".into());
        match (&c.auth_url, &c.username, &c.password, &c.project_name) {
            (Some(auth_url), Some(username), Some(password), Some(project_name)) => {
                Auth::Password(Credentials {
                    auth_url: auth_url.clone(),
                    username: username.clone(),
                    password: password.clone(),
                    project_name: project_name.clone(),
                    user_domain_name: domain.clone(),
                    project_domain_name: domain,
                })
            }
            _ => Auth::None,
        }
    }
}

/// The token requests carry, issued again when it nears its expiry.
pub(super) struct Tokens {
    auth: Auth,
    http: reqwest::Client,
    current: Mutex<Option<Issued>>,
}

struct Issued {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: DateTime<Utc>,
}

impl Tokens {
    pub(super) fn new(auth: Auth, http: reqwest::Client) -> Self {
        Self {
            auth,
            http,
            current: Mutex::new(None),
        }
    }

    /// The token for the next request, if the endpoint takes one.
    pub(super) async fn token(&self) -> Result<Option<String>, RemoteError> {
        let credentials = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Token(token) => return Ok(Some(token.expose().to_owned())),
            Auth::Password(credentials) => credentials,
        };
        let mut slot = self.current.lock().await;
        let fresh = |t: &&Issued| {
            t.expires_at - Utc::now() > chrono::Duration::from_std(RENEW_MARGIN).unwrap_or_default()
        };
        if let Some(issued) = slot.as_ref().filter(fresh) {
            return Ok(Some(issued.token.clone()));
        }
        let issued = self.issue(credentials).await?;
        let token = issued.token.clone();
        *slot = Some(issued);
        Ok(Some(token))
    }

    /// Forgets `stale` (the service refused it), so the next call issues another.
    pub(super) async fn forget(&self, stale: &str) {
        let mut slot = self.current.lock().await;
        if slot.as_ref().is_some_and(|t| t.token == stale) {
            *slot = None;
        }
    }

    /// Whether a refused token may be replaced by a new one.
    pub(super) fn renewable(&self) -> bool {
        matches!(self.auth, Auth::Password(_))
    }

    async fn issue(&self, c: &Credentials) -> Result<Issued, RemoteError> {
        let auth_url = v3(&c.auth_url);
        let refused = |reason: String| RemoteError::Auth {
            auth_url: auth_url.clone(),
            reason,
        };
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username,
                "domain": {"name": c.user_domain_name},
                "password": c.password.expose(),
            }}},
            "scope": {"project": {"name": c.project_name, "domain": {"name": c.project_domain_name}}},
        }});
        let response = self
            .http
            .post(format!("{auth_url}/auth/tokens?nocatalog"))
            .json(&body)
            .send()
            .await
            .map_err(|e| refused(e.without_url().to_string()))?;
        if response.status() != StatusCode::CREATED {
            return Err(refused(format!(
                "answered {} to the credentials of {}",
                response.status(),
                c.username
            )));
        }
        let token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| refused("no X-Subject-Token in the answer".into()))?;
        let body: TokenBody = response
            .json()
            .await
            .map_err(|e| refused(e.without_url().to_string()))?;
        Ok(Issued {
            token,
            expires_at: body.token.expires_at,
        })
    }
}

/// Keystone's v3 endpoint from an auth URL given with or without its `/v3`.
fn v3(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v3") {
        base.to_owned()
    } else {
        format!("{base}/v3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_url_gets_its_v3_once() {
        assert_eq!(v3("http://k:5000"), "http://k:5000/v3");
        assert_eq!(v3("http://k:5000/"), "http://k:5000/v3");
        assert_eq!(v3("http://k:5000/v3/"), "http://k:5000/v3");
        assert_eq!(v3("http://k/identity/v3"), "http://k/identity/v3");
    }

    #[test]
    fn debug_hides_the_password() {
        let auth = Auth::Password(Credentials {
            auth_url: "http://k:5000/v3".into(),
            username: "admin".into(),
            password: Secret::new("hunter2"),
            project_name: "admin".into(),
            user_domain_name: "Default".into(),
            project_domain_name: "Default".into(),
        });
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("admin"), "{shown}");
    }
}
