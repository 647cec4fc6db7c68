//! The vSphere API session: SOAP login, the session cookie, calls that log in again when the
//! session has expired, and the few inventory and file-manager operations the store needs.
//!
//! Every method sends requests with reqwest, so it must run on the plugin's runtime
//! ([`glint_sdk::runtime::spawn`]).

use std::fmt;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use glint_sdk::{ErrorKind, StoreError};
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderValue, SET_COOKIE};
use reqwest::{Certificate, Url};

use crate::config::{VmwareConfig, invalid};
use crate::error::{fault_error, retryable_status, status_error, transport_error};
use crate::soap::{self, Element, Fault, Moref, ObjectContent};

/// The cookie vCenter and ESXi name their SOAP session with.
const SESSION_COOKIE: &str = "vmware_soap_session";
/// The API namespace version sent with every call; vSphere 6.5 and later accept it.
const SOAP_ACTION: &str = "\"urn:vim25/6.5\"";
/// First pause before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A value kept out of logs and `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// The managed objects of the service instance the driver uses.
#[derive(Debug, Clone)]
struct ServiceContent {
    property_collector: Moref,
    session_manager: Moref,
    search_index: Moref,
    file_manager: Moref,
}

/// A logged-in API session with one vCenter or ESXi server.
pub struct Vim {
    http: reqwest::Client,
    sdk_url: Url,
    /// `https://host[:port]`, for messages.
    server: String,
    username: String,
    password: Secret,
    retries: u32,
    poll_interval: Duration,
    task_timeout: Duration,
    content: ServiceContent,
    /// `vmware_soap_session=<id>`, as sent in the `Cookie` header.
    cookie: RwLock<Option<Secret>>,
    /// Serialises logins, so a burst of calls on an expired session logs in once.
    login_lock: tokio::sync::Mutex<()>,
    /// Successful logins so far: a new one means a new session, perhaps on a restarted server
    /// whose inventory references changed.
    logins: AtomicU64,
}

impl fmt::Debug for Vim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vim")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("cookie", &"<hidden>")
            .finish_non_exhaustive()
    }
}

/// Whether a request may be sent again after the server may have seen it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Idempotent {
    Yes,
    No,
}

impl Vim {
    /// Builds the HTTP client, reads the service content and logs in.
    pub async fn connect(config: &VmwareConfig) -> Result<Self, StoreError> {
        let http = http_client(config)?;
        let server = format!("https://{}", config.authority());
        let sdk_url = Url::parse(&format!("{server}/sdk"))
            .map_err(|err| invalid(format!("option `host`: {err}")))?;
        let mut vim = Vim {
            http,
            sdk_url,
            server,
            username: config.username.clone(),
            password: Secret(config.password.clone()),
            retries: config.api_retry_count,
            poll_interval: config.task_poll_interval,
            task_timeout: config.timeout * 5,
            content: ServiceContent {
                property_collector: Moref::new("PropertyCollector", "propertyCollector"),
                session_manager: Moref::new("SessionManager", "SessionManager"),
                search_index: Moref::new("SearchIndex", "SearchIndex"),
                file_manager: Moref::new("FileManager", "FileManager"),
            },
            cookie: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            logins: AtomicU64::new(0),
        };
        let reply = vim
            .post(
                soap::retrieve_service_content(),
                None,
                Idempotent::Yes,
                "RetrieveServiceContent",
            )
            .await?;
        let content = reply.0.map_err(|fault| {
            fault_error(&fault, &format!("{} RetrieveServiceContent", vim.server))
        })?;
        vim.content = service_content(&content, &vim.server)?;
        vim.login().await?;
        Ok(vim)
    }

    /// The HTTP client, shared with the datastore file transfers.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `https://host[:port]`.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The current session cookie, for requests to the datastore file service.
    pub fn cookie(&self) -> Option<Secret> {
        self.cookie.read().expect("cookie lock").clone()
    }

    /// How many times this session logged in (1 after `connect`).
    pub fn logins(&self) -> u64 {
        self.logins.load(Ordering::Acquire)
    }

    /// Logs in again, unless another caller already did since `stale` was read.
    pub async fn relogin(&self, stale: Option<&Secret>) -> Result<(), StoreError> {
        let _one_at_a_time = self.login_lock.lock().await;
        if self.cookie().as_ref() != stale {
            return Ok(());
        }
        tracing::info!(server = %self.server, "the vSphere session expired; logging in again");
        self.login_locked().await
    }

    async fn login(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.login_lock.lock().await;
        self.login_locked().await
    }

    /// `SessionManager.Login`; keeps the session cookie it sets. Sent without a cookie: a server
    /// refuses a login on a session that is still valid.
    async fn login_locked(&self) -> Result<(), StoreError> {
        let body = soap::login(
            &self.content.session_manager,
            &self.username,
            self.password.expose(),
        );
        let (reply, cookie) = self.post(body, None, Idempotent::Yes, "Login").await?;
        match reply {
            Ok(_) => {}
            Err(fault) if fault.kind == "InvalidLogin" => {
                return Err(StoreError::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "{} refused the login of user {:?}: check the `username` and `password` \
                         options ({}: {})",
                        self.server, self.username, fault.kind, fault.message
                    ),
                ));
            }
            Err(fault) => return Err(fault_error(&fault, &format!("{} Login", self.server))),
        }
        let cookie = cookie.ok_or_else(|| {
            StoreError::new(
                ErrorKind::Unexpected,
                format!(
                    "{}: the login answer set no {SESSION_COOKIE} cookie",
                    self.server
                ),
            )
        })?;
        *self.cookie.write().expect("cookie lock") = Some(cookie);
        self.logins.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// One API call, logging in again once if the session has expired.
    async fn call(
        &self,
        body: &str,
        idempotent: Idempotent,
        what: &str,
    ) -> Result<Element, StoreError> {
        let mut relogged = false;
        loop {
            let cookie = self.cookie();
            let (reply, _) = self
                .post(body.to_owned(), cookie.as_ref(), idempotent, what)
                .await?;
            match reply {
                Ok(response) => return Ok(response),
                Err(fault) if fault.kind == "NotAuthenticated" && !relogged => {
                    relogged = true;
                    self.relogin(cookie.as_ref()).await?;
                }
                Err(fault) => return Err(fault_error(&fault, &format!("{} {what}", self.server))),
            }
        }
    }

    /// Posts one envelope to `/sdk`, retrying failed connections (and, for idempotent calls,
    /// gateway errors) up to `api_retry_count` times. Returns the reply and any session cookie set.
    async fn post(
        &self,
        body: String,
        cookie: Option<&Secret>,
        idempotent: Idempotent,
        what: &str,
    ) -> Result<(Result<Element, Fault>, Option<Secret>), StoreError> {
        let subject = format!("{} {what}", self.server);
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .post(self.sdk_url.clone())
                .header(CONTENT_TYPE, "text/xml; charset=utf-8")
                .header("SOAPAction", SOAP_ACTION)
                .body(body.clone());
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie_header(cookie)?);
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let set_cookie = session_cookie(response.headers());
                    let text = response
                        .text()
                        .await
                        .map_err(|err| transport_error(err, &subject))?;
                    match soap::parse_reply(&text) {
                        Ok(reply) => return Ok((reply, set_cookie)),
                        Err(_) if !status.is_success() => {
                            if idempotent == Idempotent::Yes && retryable_status(status) {
                                status_error(status, &subject)
                            } else {
                                return Err(status_error(status, &subject));
                            }
                        }
                        Err(malformed) => {
                            return Err(StoreError::new(
                                ErrorKind::Unexpected,
                                format!("{subject}: {malformed}"),
                            ));
                        }
                    }
                }
                // A refused connection never reached the server: safe to resend any call.
                Err(err) if err.is_connect() || idempotent == Idempotent::Yes => {
                    transport_error(err, &subject)
                }
                Err(err) => return Err(transport_error(err, &subject)),
            };
            if attempt >= self.retries || !failure.temporary {
                return Err(failure);
            }
            attempt += 1;
            tracing::debug!(%subject, attempt, error = %failure, "retrying");
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// `RetrieveProperties` of `paths` on `objects`. Properties unreadable for want of a session
    /// count as an expired session (vCenter answers so instead of a fault).
    pub async fn retrieve(
        &self,
        kind: &str,
        paths: &[&str],
        objects: &[Moref],
    ) -> Result<Vec<ObjectContent>, StoreError> {
        let body =
            soap::retrieve_properties(&self.content.property_collector, kind, paths, objects);
        let what = format!("RetrieveProperties {kind}");
        let mut relogged = false;
        loop {
            let stale = self.cookie();
            let contents = soap::object_contents(&self.call(&body, Idempotent::Yes, &what).await?);
            let unauthenticated = contents.iter().any(|content| {
                content
                    .missing
                    .iter()
                    .any(|(_, fault)| fault == "NotAuthenticated")
            });
            if !unauthenticated {
                return Ok(contents);
            }
            if relogged {
                return Err(StoreError::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "{} {what}: not authenticated even after a new login",
                        self.server
                    ),
                ));
            }
            relogged = true;
            self.relogin(stale.as_ref()).await?;
        }
    }

    /// The datacenter at an inventory path (`DC0`, `folder/dc1`), if there is one.
    pub async fn find_datacenter(&self, path: &str) -> Result<Option<Moref>, StoreError> {
        let body = soap::find_by_inventory_path(&self.content.search_index, path);
        let response = self
            .call(&body, Idempotent::Yes, "FindByInventoryPath")
            .await?;
        Ok(response
            .child("returnval")
            .and_then(Moref::of)
            .filter(|found| found.kind == "Datacenter"))
    }

    /// The datastores of a datacenter, with their names.
    pub async fn datastores(&self, datacenter: &Moref) -> Result<Vec<(Moref, String)>, StoreError> {
        let contents = self
            .retrieve(
                "Datacenter",
                &["datastore"],
                std::slice::from_ref(datacenter),
            )
            .await?;
        let refs: Vec<Moref> = contents
            .iter()
            .filter_map(|content| content.prop("datastore"))
            .flat_map(|list| list.children.iter().filter_map(Moref::of))
            .collect();
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let names = self.retrieve("Datastore", &["name"], &refs).await?;
        Ok(names
            .into_iter()
            .filter_map(|content| Some((content.obj.clone()?, content.prop("name")?.text.clone())))
            .collect())
    }

    /// `summary.freeSpace` of each datastore, in bytes; a datastore whose summary cannot be read
    /// is left out.
    pub async fn free_space(&self, datastores: &[Moref]) -> Result<Vec<(Moref, i64)>, StoreError> {
        let contents = self
            .retrieve("Datastore", &["summary.freeSpace"], datastores)
            .await?;
        Ok(contents
            .into_iter()
            .filter_map(|content| {
                let free = content
                    .prop("summary.freeSpace")?
                    .text
                    .trim()
                    .parse()
                    .ok()?;
                Some((content.obj?, free))
            })
            .collect())
    }

    /// Creates a datastore directory (`[ds] dir`) with its parents; one that exists is fine.
    pub async fn make_directory(&self, path: &str, datacenter: &Moref) -> Result<(), StoreError> {
        let body = soap::make_directory(&self.content.file_manager, path, datacenter);
        match self
            .call(&body, Idempotent::Yes, &format!("MakeDirectory {path}"))
            .await
        {
            Err(err) if err.kind == ErrorKind::AlreadyExists => Ok(()),
            other => other.map(drop),
        }
    }

    /// Deletes a datastore file (`[ds] dir/name`) and waits for the task.
    pub async fn delete_file(&self, path: &str, datacenter: &Moref) -> Result<(), StoreError> {
        let body = soap::delete_datastore_file(&self.content.file_manager, path, datacenter);
        let what = format!("DeleteDatastoreFile {path}");
        let task = self.call(&body, Idempotent::No, &what).await?;
        self.wait_for_task(&task, &what).await
    }

    /// Renames a datastore file within a datacenter; fails with `AlreadyExists` rather than
    /// replace `destination`.
    pub async fn move_file(
        &self,
        source: &str,
        destination: &str,
        datacenter: &Moref,
    ) -> Result<(), StoreError> {
        let body =
            soap::move_datastore_file(&self.content.file_manager, source, destination, datacenter);
        let what = format!("MoveDatastoreFile {source} to {destination}");
        let task = self.call(&body, Idempotent::No, &what).await?;
        self.wait_for_task(&task, &what).await
    }

    /// Polls a task's `info.state` until it succeeds or fails; its fault becomes the error.
    async fn wait_for_task(&self, response: &Element, what: &str) -> Result<(), StoreError> {
        let task = response
            .child("returnval")
            .and_then(Moref::of)
            .ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Unexpected,
                    format!("{} {what}: the answer names no task", self.server),
                )
            })?;
        let started = tokio::time::Instant::now();
        loop {
            let contents = self
                .retrieve(
                    "Task",
                    &["info.state", "info.error"],
                    std::slice::from_ref(&task),
                )
                .await?;
            let content = contents.first();
            let state = content
                .and_then(|content| content.prop("info.state"))
                .map(|state| state.text.as_str());
            match state {
                Some("success") => return Ok(()),
                Some("error") => {
                    let fault = content
                        .and_then(|content| content.prop("info.error"))
                        .map(soap::localized_fault)
                        .unwrap_or(Fault {
                            kind: "UnknownFault".to_owned(),
                            message: String::new(),
                        });
                    return Err(fault_error(&fault, what));
                }
                Some("queued" | "running") => {}
                other => {
                    return Err(StoreError::new(
                        ErrorKind::Unexpected,
                        format!(
                            "{} {what}: task {} in state {other:?}",
                            self.server, task.value
                        ),
                    ));
                }
            }
            if started.elapsed() > self.task_timeout {
                return Err(StoreError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{} {what}: task {} still running after {:?}",
                        self.server, task.value, self.task_timeout
                    ),
                )
                .temporary());
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}

/// The pause before retry number `attempt` (1-based).
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(MAX_BACKOFF)
}

/// The `Cookie` header carrying the session; marked sensitive so it never shows in logs.
pub fn cookie_header(cookie: &Secret) -> Result<HeaderValue, StoreError> {
    let mut value = HeaderValue::from_str(cookie.expose()).map_err(|_| {
        StoreError::new(
            ErrorKind::Unexpected,
            "the server set a session cookie that is not a valid header value",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `vmware_soap_session=<value>` from the `Set-Cookie` headers, if set.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<Secret> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim())
        .find(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, value)| name.trim() == SESSION_COOKIE && !value.is_empty())
        })
        .map(|pair| Secret(pair.to_owned()))
}

fn service_content(response: &Element, server: &str) -> Result<ServiceContent, StoreError> {
    let content = response.child("returnval");
    let get = |name: &str| {
        content
            .and_then(|content| content.child(name))
            .and_then(Moref::of)
            .ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Unexpected,
                    format!(
                        "{server}: the service content names no {name}; is this a vSphere server?"
                    ),
                )
            })
    };
    Ok(ServiceContent {
        property_collector: get("propertyCollector")?,
        session_manager: get("sessionManager")?,
        search_index: get("searchIndex")?,
        file_manager: get("fileManager")?,
    })
}

/// The HTTP client; an unusable `ca_file` is `ConfigInvalid` naming the option.
fn http_client(config: &VmwareConfig) -> Result<reqwest::Client, StoreError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("glint-store-vmware/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.timeout)
        .read_timeout(config.timeout)
        // Glance never follows the datastore service's redirects to another host; neither do we.
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(config.insecure);
    if let Some(ca_file) = &config.ca_file {
        let unusable = |err: &dyn fmt::Display| {
            invalid(format!("option `ca_file` ({}): {err}", ca_file.display()))
        };
        let pem = std::fs::read(ca_file).map_err(|err| unusable(&err))?;
        let certificates = Certificate::from_pem_bundle(&pem).map_err(|err| unusable(&err))?;
        if certificates.is_empty() {
            return Err(unusable(&"no PEM certificate in the file"));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build()
        .map_err(|err| invalid(format!("cannot build the HTTP client: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn the_session_cookie_is_picked_and_hidden() {
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("other=1; Path=/"));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("vmware_soap_session=\"52b0-a1\"; Path=/; HttpOnly; Secure"),
        );
        let cookie = session_cookie(&headers).unwrap();
        assert_eq!(cookie.expose(), "vmware_soap_session=\"52b0-a1\"");
        assert_eq!(format!("{cookie:?}"), "<hidden>");
        assert!(cookie_header(&cookie).unwrap().is_sensitive());
        let mut empty = HeaderMap::new();
        empty.append(
            SET_COOKIE,
            HeaderValue::from_static("vmware_soap_session=; Max-Age=0"),
        );
        assert!(session_cookie(&empty).is_none());
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(5), Duration::from_millis(1600));
        assert_eq!(backoff(6), MAX_BACKOFF);
        assert_eq!(backoff(100), MAX_BACKOFF);
    }
}
