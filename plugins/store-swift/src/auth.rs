//! Authentication: a token and the account's storage URL, from tempauth (v1) or Keystone v3.
//!
//! One session is shared by every request of a store. It is renewed a few minutes before it
//! expires, and on demand when Swift answers 401 (`invalidate`). Tokens, keys and passwords are
//! never logged or shown by `Debug`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use glint_sdk::{ErrorKind, StoreError};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::json;

use crate::config::{CatalogFilter, Credentials, Domain, Interface, Project};
use crate::error::{status_error, transport_error, unexpected};

/// A session is renewed this long before its token expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// An authenticated session: where the account lives and the token for it.
pub struct Session {
    pub token: String,
    pub storage_url: Url,
    /// When to authenticate again; `None` when the token's lifetime is unknown.
    renew_at: Option<Instant>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<hidden>")
            .field("storage_url", &self.storage_url.as_str())
            .field("renew_at", &self.renew_at)
            .finish()
    }
}

impl Session {
    /// A caller's session (multi-tenant mode): their token, for the account at `storage_url`.
    /// It is never renewed: the caller's token lives as long as the caller made it.
    pub fn for_caller(token: &str, storage_url: Url) -> Self {
        Session {
            token: token.to_owned(),
            storage_url,
            renew_at: None,
        }
    }

    fn is_fresh(&self) -> bool {
        self.renew_at.is_none_or(|at| Instant::now() < at)
    }
}

/// Authenticates a store and keeps its current session.
pub struct Authenticator {
    http: reqwest::Client,
    auth_url: Option<Url>,
    credentials: Option<Credentials>,
    endpoint: Option<Url>,
    /// A caller's session, used as is (multi-tenant mode): nothing to renew.
    fixed: Option<Arc<Session>>,
    current: Mutex<Option<Arc<Session>>>,
    /// Held while authenticating, so concurrent requests wait for one new session.
    renewing: tokio::sync::Mutex<()>,
}

impl Authenticator {
    pub fn new(
        http: reqwest::Client,
        auth_url: Option<Url>,
        credentials: Option<Credentials>,
        endpoint: Option<Url>,
    ) -> Self {
        Authenticator {
            http,
            auth_url,
            credentials,
            endpoint,
            fixed: None,
            current: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    /// An authenticator that always answers `session` (a caller's).
    pub fn fixed(http: reqwest::Client, session: Arc<Session>) -> Self {
        Authenticator {
            fixed: Some(session),
            ..Authenticator::new(http, None, None, None)
        }
    }

    /// Whether a refused token can be replaced by authenticating again.
    pub fn renews(&self) -> bool {
        self.fixed.is_none()
    }

    /// The current session, authenticating first when there is none or it is about to expire.
    pub async fn session(&self) -> Result<Arc<Session>, StoreError> {
        if let Some(session) = &self.fixed {
            return Ok(session.clone());
        }
        if let Some(session) = self.fresh() {
            return Ok(session);
        }
        let _renewing = self.renewing.lock().await;
        if let Some(session) = self.fresh() {
            return Ok(session);
        }
        let session = Arc::new(self.authenticate().await?);
        tracing::debug!(storage_url = %session.storage_url, "swift: authenticated");
        *self.lock() = Some(session.clone());
        Ok(session)
    }

    /// Forgets `stale` (Swift refused its token), unless a newer session already replaced it.
    pub fn invalidate(&self, stale: &Arc<Session>) {
        let mut current = self.lock();
        if current
            .as_ref()
            .is_some_and(|session| Arc::ptr_eq(session, stale))
        {
            *current = None;
        }
    }

    fn auth_url(&self) -> Result<&Url, StoreError> {
        self.auth_url
            .as_ref()
            .ok_or_else(|| crate::config::invalid("option `auth_url` is required".into()))
    }

    fn fresh(&self) -> Option<Arc<Session>> {
        self.lock()
            .as_ref()
            .filter(|session| session.is_fresh())
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Session>>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn authenticate(&self) -> Result<Session, StoreError> {
        let (token, storage_url, lifetime) = match &self.credentials {
            Some(Credentials::V1 { user, key }) => self.tempauth(user, key).await?,
            Some(Credentials::V3 { .. }) => self.keystone().await?,
            None => {
                return Err(StoreError::new(
                    ErrorKind::PermissionDenied,
                    "this multi-tenant store has no credentials of its own (options `user` and \
                     `key`): the operation needs the caller's token",
                ));
            }
        };
        let storage_url = self.endpoint.clone().unwrap_or(storage_url);
        let renew_at = lifetime.map(|lifetime| Instant::now() + renew_after(lifetime));
        Ok(Session {
            token,
            storage_url,
            renew_at,
        })
    }

    /// Swift's v1 protocol: `GET auth_url` with `X-Auth-User` and `X-Auth-Key`.
    async fn tempauth(
        &self,
        user: &str,
        key: &str,
    ) -> Result<(String, Url, Option<Duration>), StoreError> {
        let auth_url = self.auth_url()?;
        let subject = format!("authentication of {user} at {auth_url}");
        let response = self
            .http
            .get(auth_url.clone())
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .send()
            .await
            .map_err(|err| transport_error(err, &subject))?;
        let status = response.status();
        if !status.is_success() {
            return Err(refused(status, &subject, response).await);
        }
        let headers = response.headers();
        let token = header(headers, "x-auth-token", &subject)?;
        let storage_url = header(headers, "x-storage-url", &subject)?;
        let storage_url = Url::parse(&storage_url)
            .map_err(|err| unexpected(format!("{subject}: bad X-Storage-Url: {err}")))?;
        let lifetime = headers
            .get("x-auth-token-expires")
            .and_then(|value| value.to_str().ok()?.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
            .map(Duration::from_secs_f64);
        Ok((token, storage_url, lifetime))
    }

    /// Keystone v3 password authentication scoped to a project; the storage URL comes from the
    /// catalog (or the `endpoint` option).
    async fn keystone(&self) -> Result<(String, Url, Option<Duration>), StoreError> {
        let Some(Credentials::V3 {
            user,
            password,
            user_domain,
            project,
            region,
            interface,
            service_type,
        }) = &self.credentials
        else {
            unreachable!("keystone() is called for v3 credentials only");
        };
        let auth_url = self.auth_url()?;
        let subject = format!("Keystone authentication of {user} at {auth_url}");
        let mut url = auth_url.clone();
        url.path_segments_mut()
            .map_err(|()| unexpected(format!("{subject}: the auth_url cannot have a path")))?
            .pop_if_empty()
            .extend(["auth", "tokens"]);
        let body = json!({ "auth": {
            "identity": { "methods": ["password"], "password": { "user": {
                "name": user, "domain": domain_json(user_domain), "password": password,
            }}},
            "scope": { "project": project_json(project) },
        }});
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|err| transport_error(err, &subject))?;
        let status = response.status();
        if !status.is_success() {
            return Err(refused(status, &subject, response).await);
        }
        let token = header(response.headers(), "x-subject-token", &subject)?;
        let reply: TokenReply = response
            .json()
            .await
            .map_err(|err| unexpected(format!("{subject}: unreadable token reply: {err}")))?;
        let lifetime = reply.token.expires_at.as_deref().and_then(|expires_at| {
            let expires_at = chrono::DateTime::parse_from_rfc3339(expires_at).ok()?;
            (expires_at.to_utc() - chrono::Utc::now()).to_std().ok()
        });
        let storage_url = match &self.endpoint {
            // The `endpoint` option replaces the catalog's answer.
            Some(endpoint) => endpoint.clone(),
            None => catalog_endpoint(
                &reply.token.catalog,
                service_type,
                *interface,
                region.as_deref(),
            )
            .ok_or_else(|| {
                StoreError::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "{subject}: the catalog has no `{service_type}` endpoint for interface {}{} \
                         (options `service_type`, `endpoint_type`, `region`)",
                        interface.as_str(),
                        region
                            .as_deref()
                            .map(|region| format!(" in region {region}"))
                            .unwrap_or_default()
                    ),
                )
            })?,
        };
        Ok((token, storage_url, lifetime))
    }
}

/// The error for a refused authentication: wrong credentials are `PermissionDenied`, naming the
/// user and the auth URL, never the key.
async fn refused(status: StatusCode, subject: &str, response: reqwest::Response) -> StoreError {
    let detail = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        "check the options `user` and `key`".to_owned()
    } else {
        // Ignored failure: the status alone explains enough.
        response.text().await.unwrap_or_default()
    };
    status_error(status, subject, &detail)
}

/// How long a token of `lifetime` is used: until a few minutes before it expires, or half-way
/// through a short-lived one.
fn renew_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2)
}

fn header(headers: &HeaderMap, name: &str, subject: &str) -> Result<String, StoreError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| unexpected(format!("{subject}: the reply has no {name} header")))
}

fn domain_json(domain: &Domain) -> serde_json::Value {
    match domain {
        Domain::Id(id) => json!({ "id": id }),
        Domain::Name(name) => json!({ "name": name }),
    }
}

fn project_json(project: &Project) -> serde_json::Value {
    match project {
        Project::Id(id) => json!({ "id": id }),
        Project::Name { name, domain } => json!({ "name": name, "domain": domain_json(domain) }),
    }
}

#[derive(Deserialize)]
struct TokenReply {
    token: Token,
}

#[derive(Deserialize)]
struct Token {
    expires_at: Option<String>,
    #[serde(default)]
    catalog: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    endpoints: Vec<CatalogEndpoint>,
}

#[derive(Deserialize)]
struct CatalogEndpoint {
    interface: String,
    url: String,
    region: Option<String>,
    region_id: Option<String>,
}

/// The object-store endpoint of a Keystone catalog given as JSON text (the list of
/// `token.catalog`), or `None` when it has none matching `filter`.
pub fn catalog_storage_url(
    catalog_json: &str,
    filter: &CatalogFilter,
) -> Result<Option<Url>, StoreError> {
    let catalog: Vec<CatalogEntry> = serde_json::from_str(catalog_json)
        .map_err(|err| unexpected(format!("the caller's service catalog is unreadable: {err}")))?;
    Ok(catalog_endpoint(
        &catalog,
        &filter.service_type,
        filter.interface,
        filter.region.as_deref(),
    ))
}

/// The caller's service catalog, asked of Keystone with the caller's token
/// (`GET <auth_url>/auth/catalog`), as JSON text of its list.
pub async fn fetch_catalog(
    http: &reqwest::Client,
    auth_url: &Url,
    token: &str,
) -> Result<String, StoreError> {
    let subject = format!("the caller's service catalog at {auth_url}");
    let mut url = auth_url.clone();
    url.path_segments_mut()
        .map_err(|()| unexpected(format!("{subject}: the auth_url cannot have a path")))?
        .pop_if_empty()
        .extend(["auth", "catalog"]);
    let response = http
        .get(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .map_err(|err| transport_error(err, &subject))?;
    let status = response.status();
    if !status.is_success() {
        // Ignored failure: the status alone explains enough.
        let detail = response.text().await.unwrap_or_default();
        return Err(status_error(status, &subject, &detail));
    }
    let reply: CatalogReply = response
        .json()
        .await
        .map_err(|err| unexpected(format!("{subject}: unreadable reply: {err}")))?;
    Ok(reply.catalog.to_string())
}

#[derive(Deserialize)]
struct CatalogReply {
    catalog: serde_json::Value,
}

/// The first endpoint of `service_type` on `interface` (in `region`, when given).
fn catalog_endpoint(
    catalog: &[CatalogEntry],
    service_type: &str,
    interface: Interface,
    region: Option<&str>,
) -> Option<Url> {
    catalog
        .iter()
        .filter(|entry| entry.kind == service_type)
        .flat_map(|entry| &entry.endpoints)
        .filter(|endpoint| endpoint.interface == interface.as_str())
        .filter(|endpoint| {
            region.is_none_or(|region| {
                endpoint.region_id.as_deref() == Some(region)
                    || endpoint.region.as_deref() == Some(region)
            })
        })
        .find_map(|endpoint| Url::parse(&endpoint.url).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<CatalogEntry> {
        serde_json::from_value(json!([
            { "type": "identity", "endpoints": [
                { "interface": "public", "url": "http://ks/v3", "region_id": "One", "region": "One" },
            ]},
            { "type": "object-store", "endpoints": [
                { "interface": "internal", "url": "http://int-one/v1/AUTH_p", "region_id": "One" },
                { "interface": "public", "url": "http://pub-one/v1/AUTH_p", "region_id": "One" },
                { "interface": "public", "url": "http://pub-two/v1/AUTH_p", "region": "Two" },
            ]},
        ]))
        .unwrap()
    }

    #[test]
    fn endpoint_is_chosen_by_type_interface_and_region() {
        let catalog = catalog();
        let pick = |interface, region| {
            catalog_endpoint(&catalog, "object-store", interface, region).map(String::from)
        };
        assert_eq!(
            pick(Interface::Public, None).as_deref(),
            Some("http://pub-one/v1/AUTH_p")
        );
        assert_eq!(
            pick(Interface::Public, Some("Two")).as_deref(),
            Some("http://pub-two/v1/AUTH_p")
        );
        assert_eq!(
            pick(Interface::Internal, Some("One")).as_deref(),
            Some("http://int-one/v1/AUTH_p")
        );
        assert_eq!(pick(Interface::Admin, None), None);
        assert_eq!(pick(Interface::Internal, Some("Two")), None);
        assert_eq!(
            catalog_endpoint(&catalog, "image", Interface::Public, None),
            None
        );
    }

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(renew_after(hours(4)), hours(4) - RENEW_BEFORE);
        assert_eq!(
            renew_after(Duration::from_secs(400)),
            Duration::from_secs(200)
        );
        assert_eq!(renew_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn session_debug_hides_the_token() {
        let session = Session {
            token: "gAAAAAsecret-token".into(),
            storage_url: Url::parse("http://127.0.0.1:8080/v1/AUTH_test").unwrap(),
            renew_at: None,
        };
        let shown = format!("{session:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("AUTH_test"), "{shown}");
    }
}
