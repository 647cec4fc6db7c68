//! Swift requests for one store. Every method runs on the plugin's runtime (reqwest needs this
//! library's tokio reactor and timers).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use glint_sdk::{ErrorKind, StoreError};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, IF_NONE_MATCH, RANGE};
use reqwest::{Body, Certificate, Method, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;

use crate::auth::{Authenticator, Session};
use crate::config::{SwiftConfig, invalid};
use crate::error::{status_error, transport_error, unexpected};

/// Objects listed per container-listing request (Swift's maximum).
const LISTING_LIMIT: usize = 10_000;

/// Talks to one Swift account.
pub struct SwiftClient {
    http: reqwest::Client,
    auth: Authenticator,
    create_container_on_put: bool,
    /// Containers known to exist, so a put checks each container once.
    containers: Mutex<HashSet<String>>,
}

/// An object in the account, and how messages name it.
pub struct ObjectPath<'a> {
    pub container: &'a str,
    pub object: &'a str,
}

impl ObjectPath<'_> {
    pub fn subject(&self) -> String {
        format!("object {}/{}", self.container, self.object)
    }
}

impl SwiftClient {
    /// Builds the client; an unusable `ca_file` is `ConfigInvalid` naming the option.
    pub fn new(config: &SwiftConfig) -> Result<Self, StoreError> {
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("glint-store-swift/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .read_timeout(timeout)
            // Swift and Keystone answer directly; a redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(config.insecure);
        if let Some(ca_file) = &config.ca_file {
            let unusable = |err: &dyn std::fmt::Display| {
                invalid(format!("option `ca_file` ({}): {err}", ca_file.display()))
            };
            let pem = std::fs::read(ca_file).map_err(|err| unusable(&err))?;
            for certificate in Certificate::from_pem_bundle(&pem).map_err(|err| unusable(&err))? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|err| invalid(format!("cannot build the HTTP client: {err}")))?;
        let auth = Authenticator::new(
            http.clone(),
            config.auth_url.clone(),
            config.credentials.clone(),
            config.endpoint.clone(),
        );
        Ok(SwiftClient {
            http,
            auth,
            create_container_on_put: config.create_container_on_put,
            containers: Mutex::new(HashSet::new()),
        })
    }

    /// A client acting with a caller's session (multi-tenant mode), sharing this one's connections.
    pub fn for_caller(&self, session: Session) -> SwiftClient {
        SwiftClient {
            http: self.http.clone(),
            auth: Authenticator::fixed(self.http.clone(), Arc::new(session)),
            create_container_on_put: self.create_container_on_put,
            containers: Mutex::new(HashSet::new()),
        }
    }

    /// The HTTP client, for requests beside Swift's (Keystone's catalog).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The store's own session (authenticating when needed).
    pub async fn own_session(&self) -> Result<Arc<Session>, StoreError> {
        self.auth.session().await
    }

    /// Replaces the read ACL of `container` (`X-Container-Read`) and clears its write ACL, as
    /// Glance's `set_acls` does.
    pub async fn set_container_read(&self, container: &str, read: &str) -> Result<(), StoreError> {
        let subject = format!("ACL of container {container}");
        let response = self
            .send(&subject, Method::POST, container, None, |r| {
                r.header("X-Container-Read", read)
                    .header("X-Container-Write", "")
                    .header(CONTENT_LENGTH, 0)
            })
            .await?;
        check(response, &subject).await.map(drop)
    }

    /// Deletes an empty container.
    pub async fn delete_container(&self, container: &str) -> Result<(), StoreError> {
        let subject = format!("container {container}");
        let response = self
            .send(&subject, Method::DELETE, container, None, |r| r)
            .await?;
        self.lock_containers().remove(container);
        check(response, &subject).await.map(drop)
    }

    /// The object's headers, or `None` when it does not exist.
    pub async fn head_object(
        &self,
        path: &ObjectPath<'_>,
    ) -> Result<Option<HeaderMap>, StoreError> {
        let subject = path.subject();
        let response = self
            .send(
                &subject,
                Method::HEAD,
                path.container,
                Some(path.object),
                |r| r,
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(check(response, &subject).await?.headers().clone()))
    }

    /// Makes sure `container` exists, creating it when `create_container_on_put` allows.
    pub async fn ensure_container(&self, container: &str) -> Result<(), StoreError> {
        if self.lock_containers().contains(container) {
            return Ok(());
        }
        let subject = format!("container {container}");
        let response = self
            .send(&subject, Method::HEAD, container, None, |r| r)
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            if !self.create_container_on_put {
                return Err(StoreError::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "{subject} does not exist; create it, or set option `create_container_on_put`"
                    ),
                ));
            }
            tracing::info!(container, "swift: creating the container");
            let created = self
                .send(&subject, Method::PUT, container, None, |r| {
                    r.header(CONTENT_LENGTH, 0)
                })
                .await?;
            check(created, &subject).await?;
        } else {
            check(response, &subject).await?;
        }
        self.lock_containers().insert(container.to_owned());
        Ok(())
    }

    /// Uploads an object from a streamed `body`, with a `Content-Length` when `length` is known
    /// (else chunked). With `exclusive`, an existing object is left alone and the upload fails
    /// with `AlreadyExists`. Returns the object's ETag.
    ///
    /// The body cannot be replayed, so a 401 is not retried here; the session is dropped so that
    /// the next request authenticates again.
    pub async fn put_object(
        &self,
        path: &ObjectPath<'_>,
        body: Body,
        length: Option<u64>,
        exclusive: bool,
    ) -> Result<Option<String>, StoreError> {
        let subject = path.subject();
        let session = self.auth.session().await?;
        let mut request = self
            .http
            .put(object_url(&session, path.container, Some(path.object))?)
            .header("X-Auth-Token", &session.token)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body);
        if let Some(length) = length {
            request = request.header(CONTENT_LENGTH, length);
        }
        if exclusive {
            request = request.header(IF_NONE_MATCH, "*");
        }
        let response = request
            .send()
            .await
            .map_err(|err| transport_error(err, &subject))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.auth.invalidate(&session);
        }
        if exclusive && response.status() == StatusCode::PRECONDITION_FAILED {
            return Err(already_exists(path));
        }
        let response = check(response, &subject).await?;
        Ok(etag(response.headers()))
    }

    /// Writes a Static Large Object manifest (`?multipart-manifest=put`) listing `manifest`'s
    /// segments, unless an object already exists there.
    pub async fn put_manifest(
        &self,
        path: &ObjectPath<'_>,
        manifest: Vec<u8>,
    ) -> Result<(), StoreError> {
        let subject = format!("manifest of {}", path.subject());
        let response = self
            .send(
                &subject,
                Method::PUT,
                path.container,
                Some(path.object),
                |r| {
                    r.query(&[("multipart-manifest", "put")])
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header(IF_NONE_MATCH, "*")
                        .body(manifest.clone())
                },
            )
            .await?;
        if response.status() == StatusCode::PRECONDITION_FAILED {
            return Err(already_exists(path));
        }
        check(response, &subject).await.map(drop)
    }

    /// Starts a download of the object, or of `range` (a `Range` header value) of it.
    pub async fn get_object(
        &self,
        path: &ObjectPath<'_>,
        range: Option<&str>,
    ) -> Result<Response, StoreError> {
        let subject = path.subject();
        let response = self
            .send(
                &subject,
                Method::GET,
                path.container,
                Some(path.object),
                |r| match range {
                    Some(range) => r.header(RANGE, range),
                    None => r,
                },
            )
            .await?;
        check(response, &subject).await
    }

    /// Deletes one object; a missing one is `NotFound`.
    pub async fn delete_object(&self, path: &ObjectPath<'_>) -> Result<(), StoreError> {
        let subject = path.subject();
        let response = self
            .send(
                &subject,
                Method::DELETE,
                path.container,
                Some(path.object),
                |r| r,
            )
            .await?;
        check(response, &subject).await.map(drop)
    }

    /// Deletes a Static Large Object's manifest and every segment it lists
    /// (`?multipart-manifest=delete`).
    pub async fn delete_large_object(&self, path: &ObjectPath<'_>) -> Result<(), StoreError> {
        let subject = path.subject();
        let response = self
            .send(
                &subject,
                Method::DELETE,
                path.container,
                Some(path.object),
                |r| {
                    r.query(&[("multipart-manifest", "delete")])
                        .header(reqwest::header::ACCEPT, "application/json")
                },
            )
            .await?;
        let response = check(response, &subject).await?;
        // The status of a bulk delete is in its body: the reply itself is 200 once it started.
        let report: BulkDeleteReport = response
            .json()
            .await
            .map_err(|err| transport_error(err, &subject))?;
        if report.response_status.starts_with("200") && report.errors.is_empty() {
            if report.deleted == 0 && report.not_found > 0 {
                // Deleted by someone else since it was found.
                return Err(StoreError::new(
                    ErrorKind::NotFound,
                    format!("{subject} does not exist"),
                ));
            }
            return Ok(());
        }
        let status = report
            .response_status
            .split_whitespace()
            .next()
            .and_then(|code| code.parse().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = format!("{} {:?}", report.response_status, report.errors);
        Err(status_error(status, &subject, &detail))
    }

    /// The names of the objects in `container` that start with `prefix`, in order.
    pub async fn list(&self, container: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .list_entries(container, prefix)
            .await?
            .into_iter()
            .map(|entry| entry.name)
            .collect())
    }

    /// The objects in `container` that start with `prefix`, in order, with what the listing
    /// tells of each.
    pub async fn list_entries(
        &self,
        container: &str,
        prefix: &str,
    ) -> Result<Vec<Listed>, StoreError> {
        self.listing(
            &format!("listing of container {container}"),
            container,
            prefix,
        )
        .await
    }

    /// The names of the account's containers that start with `prefix`, in order.
    pub async fn containers(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .listing("listing of the account", "", prefix)
            .await?
            .into_iter()
            .map(|entry| entry.name)
            .collect())
    }

    /// Every page of a JSON listing of `container` (the account when empty).
    async fn listing(
        &self,
        subject: &str,
        container: &str,
        prefix: &str,
    ) -> Result<Vec<Listed>, StoreError> {
        let mut entries: Vec<Listed> = Vec::new();
        loop {
            let marker = entries
                .last()
                .map(|entry| entry.name.clone())
                .unwrap_or_default();
            let response = self
                .send(subject, Method::GET, container, None, |r| {
                    r.query(&[
                        ("format", "json"),
                        ("prefix", prefix),
                        ("marker", marker.as_str()),
                        ("limit", &LISTING_LIMIT.to_string()),
                    ])
                })
                .await?;
            if response.status() == StatusCode::NO_CONTENT {
                // Nothing listed (older Swifts answer an empty listing so).
                return Ok(entries);
            }
            let page: Vec<Listed> = check(response, subject)
                .await?
                .json()
                .await
                .map_err(|err| transport_error(err, subject))?;
            let full = page.len() == LISTING_LIMIT;
            entries.extend(page);
            if !full {
                return Ok(entries);
            }
        }
    }

    /// Sends a request without a streamed body, authenticating again once if Swift answers 401.
    async fn send(
        &self,
        subject: &str,
        method: Method,
        container: &str,
        object: Option<&str>,
        configure: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, StoreError> {
        let mut retried = false;
        loop {
            let session = self.auth.session().await?;
            let request = self
                .http
                .request(method.clone(), object_url(&session, container, object)?)
                .header("X-Auth-Token", &session.token);
            let response = configure(request)
                .send()
                .await
                .map_err(|err| transport_error(err, subject))?;
            if response.status() != StatusCode::UNAUTHORIZED || retried || !self.auth.renews() {
                return Ok(response);
            }
            tracing::debug!(subject, "swift: token refused; authenticating again");
            self.auth.invalidate(&session);
            retried = true;
        }
    }

    fn lock_containers(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.containers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The URL of a container, or of an object in it, under the session's storage URL.
fn object_url(
    session: &Arc<Session>,
    container: &str,
    object: Option<&str>,
) -> Result<Url, StoreError> {
    let mut url = session.storage_url.clone();
    {
        let mut segments = url.path_segments_mut().map_err(|()| {
            unexpected(format!(
                "the storage URL {} cannot have a path",
                session.storage_url
            ))
        })?;
        segments.pop_if_empty();
        // No container: the account itself.
        if !container.is_empty() {
            segments.push(container);
        }
        if let Some(object) = object {
            segments.extend(object.split('/'));
        }
    }
    Ok(url)
}

/// `response` if its status is a success, else the error it stands for.
async fn check(response: Response, subject: &str) -> Result<Response, StoreError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    // Ignored failure: the status alone explains enough.
    let detail = response.text().await.unwrap_or_default();
    Err(status_error(status, subject, &detail))
}

fn already_exists(path: &ObjectPath<'_>) -> StoreError {
    StoreError::new(
        ErrorKind::AlreadyExists,
        format!("{} already exists", path.subject()),
    )
}

/// An ETag header without its quotes.
pub fn etag(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ETAG)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim_matches('"').to_owned())
}

#[derive(Deserialize)]
struct BulkDeleteReport {
    #[serde(rename = "Response Status")]
    response_status: String,
    #[serde(rename = "Number Deleted", default)]
    deleted: u64,
    #[serde(rename = "Number Not Found", default)]
    not_found: u64,
    #[serde(rename = "Errors", default)]
    errors: Vec<serde_json::Value>,
}

/// An entry of a container or account listing.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub name: String,
    /// The object's size as the listing shows it (a large object's manifest shows its own).
    #[serde(default)]
    pub bytes: Option<u64>,
    /// When the object was last written, in UTC (`2026-11-28T06:19:52.123450`); absent for
    /// containers.
    #[serde(default)]
    pub last_modified: Option<String>,
}
