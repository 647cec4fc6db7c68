//! A Keystone v3 client validating callers' tokens as keystonemiddleware's
//! auth_token does: Glint holds a service token of its own (password auth as
//! the configured service user) and asks `GET /v3/auth/tokens` about each
//! token it has not validated recently.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::cache::{TokenCache, TokenKey, cache_until};
use super::{AuthError, AuthSetupError, CatalogEndpoint, Identity, UserToken};
use crate::config::KeystoneConfig;

/// Most tokens kept validated at once.
const CACHE_CAPACITY: usize = 10_000;
/// Most refused tokens remembered at once. Kept apart from the valid ones, so a caller sending
/// made-up tokens evicts only its own.
const REFUSED_CAPACITY: usize = 10_000;

pub struct Keystone {
    http: reqwest::Client,
    /// `auth_url` without a trailing slash.
    base: String,
    config: KeystoneConfig,
    /// Held while a new service token is fetched, so only one request does it.
    service_token: tokio::sync::Mutex<Option<ServiceToken>>,
    cache: Mutex<TokenCache>,
    /// Tokens Keystone said are not valid (unknown, expired, revoked): answered 401 without
    /// asking again, as keystonemiddleware does, for `token_cache_seconds`.
    refused: Mutex<TokenCache<()>>,
}

/// What Keystone said of a token.
enum Lookup {
    Valid(Identity),
    /// Not a token Keystone knows as valid: the same answer next time.
    NotFound,
}

struct ServiceToken {
    token: String,
    renew_at: Instant,
}

impl Keystone {
    pub fn new(config: &KeystoneConfig) -> Result<Self, AuthSetupError> {
        let base = config.auth_url.trim_end_matches('/').to_owned();
        if let Err(e) = reqwest::Url::parse(&base) {
            return Err(AuthSetupError::AuthUrl {
                url: base,
                reason: e.to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(AuthSetupError::HttpClient)?;
        Ok(Self {
            http,
            base,
            config: config.clone(),
            service_token: tokio::sync::Mutex::new(None),
            cache: Mutex::new(TokenCache::new(CACHE_CAPACITY)),
            refused: Mutex::new(TokenCache::new(REFUSED_CAPACITY)),
        })
    }

    pub fn www_authenticate_uri(&self) -> String {
        self.config.www_authenticate_uri()
    }

    /// Who `token` belongs to, from the caches or from Keystone. Keystone's refusal is
    /// remembered like its approval; a Keystone that could not answer is not.
    pub async fn validate(&self, token: &str) -> Result<Arc<Identity>, AuthError> {
        let key = TokenKey::of(token);
        let now = Instant::now();
        if let Some(identity) = lock(&self.cache).get(&key, now) {
            return Ok(identity);
        }
        if lock(&self.refused).get(&key, now).is_some() {
            return Err(AuthError::Unauthenticated);
        }
        let ttl = Duration::from_secs(self.config.token_cache_seconds);
        let identity = match self.fetch_identity(token).await {
            Ok(Lookup::Valid(identity)) => Arc::new(identity),
            Ok(Lookup::NotFound) => {
                tracing::info!(token = %key.short(), "token refused: Keystone does not know it");
                let now = Instant::now();
                lock(&self.refused).insert(key, (), now + ttl, now);
                return Err(AuthError::Unauthenticated);
            }
            Err(err) => {
                tracing::info!(token = %key.short(), error = %err, "token refused");
                return Err(err);
            }
        };
        let now = Instant::now();
        let until = cache_until(now, Utc::now(), identity.expires_at, ttl);
        lock(&self.cache).insert(key, identity.clone(), until, now);
        Ok(identity)
    }

    /// A service token's identity, when it is valid and (if required) has
    /// one of the service roles; anything else is ignored, as with
    /// keystonemiddleware under Glance's `delay_auth_decision`.
    pub async fn validate_service_token(
        &self,
        token: &str,
    ) -> Result<Option<Arc<Identity>>, AuthError> {
        let identity = match self.validate(token).await {
            Ok(identity) => identity,
            Err(AuthError::Unauthenticated) => return Ok(None),
            Err(e) => return Err(e),
        };
        let wanted = &self.config.service_token_roles;
        if identity
            .roles
            .iter()
            .any(|r| wanted.iter().any(|w| w.eq_ignore_ascii_case(r)))
        {
            return Ok(Some(identity));
        }
        let key = TokenKey::of(token);
        if self.config.service_token_roles_required {
            tracing::warn!(token = %key.short(), "service token without a service role: ignored");
            Ok(None)
        } else {
            tracing::warn!(token = %key.short(), "service token without a service role: accepted");
            Ok(Some(identity))
        }
    }

    /// Ask Keystone. A 401 means Keystone no longer takes our service token:
    /// renew it and ask once more. A 404 is Keystone's verdict on the token itself (unknown,
    /// expired or revoked); other refusals may be about the request, and are not remembered.
    async fn fetch_identity(&self, token: &str) -> Result<Lookup, AuthError> {
        for last_try in [false, true] {
            let service = self.service_token().await?;
            let resp = self
                .http
                .get(format!("{}/auth/tokens?nocatalog", self.base))
                .header("x-auth-token", &service)
                .header("x-subject-token", token)
                .send()
                .await
                .map_err(unavailable)?;
            match resp.status() {
                StatusCode::OK => {
                    let body: TokenBody = resp.json().await.map_err(unavailable)?;
                    return Ok(Lookup::Valid(body.token.into_identity()));
                }
                StatusCode::NOT_FOUND => return Ok(Lookup::NotFound),
                StatusCode::UNAUTHORIZED if !last_try => self.forget_service_token(&service).await,
                status if status.is_client_error() => return Err(AuthError::Unauthenticated),
                status => {
                    return Err(AuthError::Unavailable(format!(
                        "Keystone answered {status}"
                    )));
                }
            }
        }
        Err(AuthError::Unauthenticated)
    }

    /// `GET /v3/auth/catalog` with the caller's own token.
    pub async fn catalog(&self, token: &UserToken) -> Result<Vec<CatalogEndpoint>, AuthError> {
        let resp = self
            .http
            .get(format!("{}/auth/catalog", self.base))
            .header("x-auth-token", token.expose())
            .send()
            .await
            .map_err(unavailable)?;
        match resp.status() {
            StatusCode::OK => {}
            status if status.is_client_error() => return Err(AuthError::Unauthenticated),
            status => {
                return Err(AuthError::Unavailable(format!(
                    "Keystone answered {status}"
                )));
            }
        }
        let body: CatalogBody = resp.json().await.map_err(unavailable)?;
        Ok(body
            .catalog
            .into_iter()
            .flat_map(|service| {
                let kind = service.kind;
                service.endpoints.into_iter().map(move |e| CatalogEndpoint {
                    service_type: kind.clone(),
                    region: e.region_id.or(e.region),
                    interface: e.interface,
                    url: e.url,
                })
            })
            .collect())
    }

    async fn service_token(&self) -> Result<String, AuthError> {
        let mut slot = self.service_token.lock().await;
        if let Some(current) = slot.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(current.token.clone());
        }
        let fresh = self.issue_service_token().await?;
        let token = fresh.token.clone();
        *slot = Some(fresh);
        Ok(token)
    }

    async fn forget_service_token(&self, stale: &str) {
        let mut slot = self.service_token.lock().await;
        if slot.as_ref().is_some_and(|t| t.token == stale) {
            *slot = None;
        }
    }

    /// Password auth as the service user, scoped to its project.
    async fn issue_service_token(&self) -> Result<ServiceToken, AuthError> {
        let c = &self.config;
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username,
                "domain": {"name": c.user_domain_name},
                "password": c.password.expose(),
            }}},
            "scope": {"project": {"name": c.project_name, "domain": {"name": c.project_domain_name}}},
        }});
        let resp = self
            .http
            .post(format!("{}/auth/tokens?nocatalog", self.base))
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        if resp.status() != StatusCode::CREATED {
            tracing::error!(status = %resp.status(), user = %c.username, "Keystone refused the service credentials");
            return Err(AuthError::Unavailable(format!(
                "Keystone answered {} to the service credentials",
                resp.status()
            )));
        }
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| AuthError::Unavailable("Keystone issued no X-Subject-Token".into()))?;
        let body: TokenBody = resp.json().await.map_err(unavailable)?;
        let lifetime = (body.token.expires_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        tracing::debug!(token = %TokenKey::of(&token).short(), "service token issued");
        Ok(ServiceToken {
            token,
            renew_at: Instant::now() + renew_after(lifetime),
        })
    }
}

/// The service token is renewed once 80% of its lifetime has passed.
fn renew_after(lifetime: Duration) -> Duration {
    lifetime * 4 / 5
}

fn unavailable(e: reqwest::Error) -> AuthError {
    AuthError::Unavailable(e.without_url().to_string())
}

/// `GET /v3/auth/catalog` answers `{"catalog": [{"type", "endpoints"}]}`.
#[derive(Deserialize)]
struct CatalogBody {
    #[serde(default)]
    catalog: Vec<CatalogService>,
}

#[derive(Deserialize)]
struct CatalogService {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    endpoints: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(default)]
    region_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    interface: String,
    url: String,
}

/// `GET /v3/auth/tokens` answers `{"token": {...}}`.
#[derive(Deserialize)]
struct TokenBody {
    token: Token,
}

#[derive(Deserialize)]
struct Token {
    user: Scoped,
    project: Option<Scoped>,
    domain: Option<Id>,
    /// `{"all": true}` for system-scoped tokens.
    system: Option<HashMap<String, bool>>,
    #[serde(default)]
    roles: Vec<Role>,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Scoped {
    id: String,
    domain: Option<Id>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[derive(Deserialize)]
struct Role {
    name: String,
}

impl Token {
    fn into_identity(self) -> Identity {
        let system_scope = self
            .system
            .and_then(|s| s.into_iter().find_map(|(scope, on)| on.then_some(scope)));
        Identity {
            user_id: self.user.id,
            user_domain_id: self.user.domain.map(|d| d.id),
            project_domain_id: self
                .project
                .as_ref()
                .and_then(|p| p.domain.as_ref())
                .map(|d| d.id.clone()),
            project_id: self.project.map(|p| p.id),
            domain_id: self.domain.map(|d| d.id),
            system_scope,
            roles: self
                .roles
                .into_iter()
                .map(|r| r.name.to_lowercase())
                .collect(),
            expires_at: self.expires_at,
        }
    }
}

fn lock<V>(cache: &Mutex<TokenCache<V>>) -> std::sync::MutexGuard<'_, TokenCache<V>> {
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(json: serde_json::Value) -> Identity {
        serde_json::from_value::<TokenBody>(json)
            .unwrap()
            .token
            .into_identity()
    }

    #[test]
    fn a_project_token_gives_ids_and_lower_cased_roles() {
        let id = identity(serde_json::json!({"token": {
            "methods": ["password"],
            "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "Member"}, {"id": "r2", "name": "READER"}, {"id": "r3", "name": "admin"}],
            "expires_at": "2030-01-01T12:00:00.000000Z",
            "issued_at": "2030-01-01T08:00:00.000000Z"
        }}));
        assert_eq!(id.user_id, "u1");
        assert_eq!(id.user_domain_id.as_deref(), Some("default"));
        assert_eq!(id.project_id.as_deref(), Some("p1"));
        assert_eq!(id.project_domain_id.as_deref(), Some("default"));
        assert_eq!(id.roles, ["member", "reader", "admin"]);
        assert_eq!(id.system_scope, None);
        assert_eq!(id.expires_at.to_rfc3339(), "2030-01-01T12:00:00+00:00");
    }

    #[test]
    fn a_system_token_has_the_all_scope_and_no_project() {
        let id = identity(serde_json::json!({"token": {
            "user": {"id": "u0", "domain": {"id": "default"}},
            "system": {"all": true},
            "roles": [{"id": "r", "name": "Admin"}],
            "expires_at": "2030-01-01T12:00:00Z"
        }}));
        assert_eq!(id.system_scope.as_deref(), Some("all"));
        assert_eq!(id.project_id, None);
        assert_eq!(id.roles, ["admin"]);
    }

    #[test]
    fn the_service_token_is_renewed_at_four_fifths_of_its_life() {
        assert_eq!(
            renew_after(Duration::from_secs(4 * 3600)),
            Duration::from_secs(11520)
        );
        assert_eq!(renew_after(Duration::ZERO), Duration::ZERO);
    }
}
