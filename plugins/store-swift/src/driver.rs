//! The swift store: images as objects (or Static Large Objects) in one account, or in
//! multi-tenant mode in each caller's own account, with the caller's token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use glint_sdk::{
    Acl, Capabilities, ContextCapabilities, DataStream, DriverDescription, ErrorKind, GetOutcome,
    ListPage, OpenContext, PutOutcome, ReadRange, RequestContext, StoreDriver, StoreError, runtime,
};
use reqwest::Url;

use crate::auth::{Session, catalog_storage_url, fetch_catalog};
use crate::client::{ObjectPath, SwiftClient};
use crate::config::SwiftConfig;
use crate::error::unexpected;
use crate::location::Location;
use crate::reader::{self, range_header};
use crate::writer::{self, IdLocks, Leftovers, PutJob};

/// One configured Swift store.
pub struct SwiftDriver {
    inner: Arc<Inner>,
}

struct Inner {
    store_id: String,
    config: SwiftConfig,
    client: Arc<SwiftClient>,
    locks: Arc<IdLocks>,
    /// Multi-tenant mode: storage URLs found in Keystone's catalog, by project.
    storage_urls: Mutex<HashMap<String, Url>>,
}

impl StoreDriver for SwiftDriver {
    const DRIVER: &'static str = "swift";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = SwiftConfig::parse(config)?;
        let client = Arc::new(SwiftClient::new(&config)?);
        if config.auth_url.is_some() && config.credentials.is_some() {
            check_credentials(&ctx.store_id, &client)?;
        }
        tracing::info!(store = %ctx.store_id, ?config, "swift store opened");
        crate::sweep::start(ctx.store_id.clone(), &config, &client);
        Ok(SwiftDriver {
            inner: Arc::new(Inner {
                store_id: ctx.store_id,
                config,
                client,
                locks: Arc::default(),
                storage_urls: Mutex::default(),
            }),
        })
    }

    fn context_capabilities(&self) -> ContextCapabilities {
        let multi_tenant = self.inner.config.multi_tenant;
        ContextCapabilities {
            per_request_context: multi_tenant,
            acls: multi_tenant,
        }
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(
            Self::DRIVER,
            &["swift", "swift+http", "swift+https", "swift+config"],
        )
        .with_option_defaults(SwiftConfig::defaults())
        .with_secret_options(&["key"])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: !self.inner.config.multi_tenant,
            ..Capabilities::full()
        }
    }

    async fn put(
        &self,
        caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        check_image_id(image_id)?;
        match (self.inner.config.multi_tenant, caller) {
            (false, _) => self.put_single_tenant(image_id, size_hint, data).await,
            (true, None) => Err(needs_caller("storing image data")),
            (true, Some(ctx)) => self.put_for(ctx, image_id, size_hint, data).await,
        }
    }

    async fn get(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let inner = self.inner.clone();
        let (ctx, location) = (caller.cloned(), location.to_owned());
        Spawned(runtime::handle().spawn(async move {
            let (client, location) = inner.client_for(ctx.as_ref(), &location).await?;
            let path = location.path();
            let header = range.map(range_header);
            let response = client.get_object(&path, header.as_deref()).await?;
            let (total_size, data) = reader::stream(response, range, path.subject())?;
            Ok(GetOutcome { total_size, data })
        }))
        .await
    }

    async fn delete(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        self.delete_for(caller, location).await
    }

    async fn size(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        self.size_for(caller, location).await
    }

    async fn list(&self, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let inner = self.inner.clone();
        let cursor = cursor.map(str::to_owned);
        Spawned(runtime::handle().spawn(async move {
            crate::listing::page(
                &inner.client,
                &inner.config,
                &inner.store_id,
                cursor.as_deref(),
            )
            .await
        }))
        .await
    }

    async fn set_acls(
        &self,
        ctx: &RequestContext,
        location: &str,
        acl: &Acl,
    ) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        let (ctx, location) = (ctx.clone(), location.to_owned());
        let read = read_acl(acl)?;
        Spawned(runtime::handle().spawn(async move {
            let (client, location) = inner.client_for(Some(&ctx), &location).await?;
            if location.account.is_none() {
                // A single-tenant object lives in the store's account: nothing to grant.
                return Ok(());
            }
            client
                .set_container_read(&location.container, &read)
                .await
                .map_err(|err| match err.kind {
                    ErrorKind::NotFound => StoreError::new(
                        ErrorKind::NotFound,
                        format!("{}: no image data there", location.path().subject()),
                    ),
                    _ => err,
                })
        }))
        .await
    }
}

impl SwiftDriver {
    /// A put into the store's own account.
    async fn put_single_tenant(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let inner = self.inner.clone();
        let image_id = image_id.to_owned();
        // The whole put runs on the plugin's runtime; dropping this future aborts it there, and
        // its `Leftovers` then remove what it wrote.
        Spawned(runtime::handle().spawn(async move {
            let container = inner.config.container_for(&image_id);
            let lock = inner.locks.lock(&image_id).await;
            let mut leftovers = Leftovers::new(
                inner.client.clone(),
                container.clone(),
                image_id.clone(),
                inner.locks.clone(),
                lock,
            );
            let job = PutJob {
                container,
                object: image_id,
                size_hint,
                large_object_size: inner.config.large_object_size,
                chunk_size: inner.config.large_object_chunk_size,
            };
            let size = writer::put(&inner.client, &job, data, &mut leftovers).await?;
            Ok(PutOutcome {
                location: Location::format(&inner.store_id, &job.container, &job.object),
                size,
                metadata: serde_json::Map::new(),
            })
        }))
        .await
    }

    /// A multi-tenant put: into the caller's account, with the caller's token.
    async fn put_for(
        &self,
        ctx: &RequestContext,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let inner = self.inner.clone();
        let ctx = ctx.clone();
        let image_id = image_id.to_owned();
        Spawned(runtime::handle().spawn(async move {
            let account = inner.caller_storage_url(&ctx).await?;
            let client = Arc::new(
                inner
                    .client
                    .for_caller(Session::for_caller(&ctx.auth_token, account.clone())),
            );
            // Glance's multi-tenant rule: one container per image, `<container>_<image id>`.
            let container = format!("{}_{image_id}", inner.config.container);
            let lock = inner.locks.lock(&image_id).await;
            let mut leftovers = Leftovers::new(
                client.clone(),
                container.clone(),
                image_id.clone(),
                inner.locks.clone(),
                lock,
            );
            let job = PutJob {
                container,
                object: image_id,
                size_hint,
                large_object_size: inner.config.large_object_size,
                chunk_size: inner.config.large_object_chunk_size,
            };
            let size = writer::put(&client, &job, data, &mut leftovers).await?;
            Ok(PutOutcome {
                location: Location::format_account(&account, &job.container, &job.object),
                size,
                metadata: serde_json::Map::new(),
            })
        }))
        .await
    }

    async fn delete_for(
        &self,
        ctx: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        let (ctx, location) = (ctx.cloned(), location.to_owned());
        Spawned(runtime::handle().spawn(async move {
            let (client, location) = inner.client_for(ctx.as_ref(), &location).await?;
            delete(&client, &location).await?;
            if location.account.is_some() {
                // The image's own container goes with it, as in Glance; a container someone
                // filled meanwhile stays.
                match client.delete_container(&location.container).await {
                    Err(err)
                        if !matches!(err.kind, ErrorKind::NotFound | ErrorKind::AlreadyExists) =>
                    {
                        return Err(err);
                    }
                    _ => {}
                }
            }
            Ok(())
        }))
        .await
    }

    async fn size_for(
        &self,
        ctx: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        let inner = self.inner.clone();
        let (ctx, location) = (ctx.cloned(), location.to_owned());
        Spawned(runtime::handle().spawn(async move {
            let (client, location) = inner.client_for(ctx.as_ref(), &location).await?;
            let path = location.path();
            let headers = client
                .head_object(&path)
                .await?
                .ok_or_else(|| not_found(&path))?;
            reader::content_length(&headers, &path.subject())
        }))
        .await
    }
}

impl Inner {
    /// The client for `location` and the parsed location. A single-tenant location uses the
    /// store's session. A multi-tenant one uses the caller's token (or, without a caller, the
    /// store's own token) against the account it names, which must be on the Swift the caller's
    /// own account is on: a token is never sent to a host a location merely names.
    async fn client_for(
        &self,
        ctx: Option<&RequestContext>,
        location: &str,
    ) -> Result<(Arc<SwiftClient>, Location), StoreError> {
        if !self.config.multi_tenant || location.starts_with("swift+config:") {
            return Ok((
                self.client.clone(),
                Location::parse(&self.store_id, location)?,
            ));
        }
        let parsed = Location::parse_account(location)?;
        let account = parsed
            .account
            .clone()
            .ok_or_else(|| unexpected("no account".into()))?;
        let token = match ctx {
            Some(ctx) => {
                let home = self.caller_storage_url(ctx).await?;
                if home.origin() != account.origin() {
                    return Err(StoreError::new(
                        ErrorKind::PermissionDenied,
                        format!(
                            "location {location:?} is not on the caller's object store ({})",
                            home.origin().ascii_serialization()
                        ),
                    ));
                }
                ctx.auth_token.clone()
            }
            None => {
                let own = self.client.own_session().await?;
                if own.storage_url.origin() != account.origin() {
                    return Err(StoreError::new(
                        ErrorKind::PermissionDenied,
                        format!("location {location:?} is not on this store's object store"),
                    ));
                }
                own.token.clone()
            }
        };
        let client = self.client.for_caller(Session::for_caller(&token, account));
        Ok((Arc::new(client), parsed))
    }

    /// The storage URL of the caller's account: the `endpoint` template with the caller's
    /// project, else the object-store endpoint of the caller's service catalog (from the host, or
    /// asked of Keystone with the caller's token, then kept per project).
    async fn caller_storage_url(&self, ctx: &RequestContext) -> Result<Url, StoreError> {
        if ctx.auth_token.is_empty() {
            return Err(needs_caller("this operation"));
        }
        let project = ctx.project_id.as_deref().filter(|p| !p.is_empty());
        if let Some(template) = &self.config.endpoint_template {
            let project = match project {
                Some(project) => project,
                None if !template.contains("{project_id}") => "",
                None => return Err(needs_caller("finding the caller's account")),
            };
            if !project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(unexpected(format!(
                    "project id {project:?} cannot name an account"
                )));
            }
            let url = template.replace("{project_id}", project);
            return Url::parse(&url)
                .map_err(|err| unexpected(format!("storage URL {url:?}: {err}")));
        }
        let project = project.ok_or_else(|| needs_caller("finding the caller's account"))?;
        if let Some(url) = self.lock_storage_urls().get(project) {
            return Ok(url.clone());
        }
        let catalog = match &ctx.service_catalog_json {
            Some(catalog) => catalog.clone(),
            None => {
                let auth_url = self.config.auth_url.as_ref().ok_or_else(|| {
                    crate::config::invalid("option `auth_url` is required".into())
                })?;
                fetch_catalog(self.client.http(), auth_url, &ctx.auth_token).await?
            }
        };
        let filter = &self.config.catalog;
        let url = catalog_storage_url(&catalog, filter)?.ok_or_else(|| {
            StoreError::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "the caller's service catalog has no `{}` endpoint for interface {}{} \
                     (options `service_type`, `endpoint_type`, `region`)",
                    filter.service_type,
                    filter.interface.as_str(),
                    filter
                        .region
                        .as_deref()
                        .map(|region| format!(" in region {region}"))
                        .unwrap_or_default()
                ),
            )
        })?;
        self.lock_storage_urls()
            .insert(project.to_owned(), url.clone());
        Ok(url)
    }

    fn lock_storage_urls(&self) -> std::sync::MutexGuard<'_, HashMap<String, Url>> {
        self.storage_urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error for an operation a multi-tenant store can only make with a caller's token.
fn needs_caller(what: &str) -> StoreError {
    StoreError::new(
        ErrorKind::PermissionDenied,
        format!("multi-tenant swift store: {what} needs the caller's project-scoped token"),
    )
}

/// `X-Container-Read` for `acl`, as Glance's `set_acls` writes it: `*:*` (any authenticated
/// user of any project) for a public image, else `<project>:*` for each project.
fn read_acl(acl: &Acl) -> Result<String, StoreError> {
    if acl.public {
        return Ok("*:*".to_owned());
    }
    if let Some(bad) = acl.read_projects.iter().find(|p| {
        p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }) {
        return Err(unexpected(format!(
            "project id {bad:?} cannot be named in a Swift ACL"
        )));
    }
    Ok(acl
        .read_projects
        .iter()
        .map(|project| format!("{project}:*"))
        .collect::<Vec<_>>()
        .join(","))
}

/// Deletes an object with everything it is made of: a Static Large Object with its segments; a
/// Dynamic Large Object (as Glance writes them) with the segments its prefix names.
async fn delete(client: &SwiftClient, location: &Location) -> Result<(), StoreError> {
    let path = location.path();
    let headers = client
        .head_object(&path)
        .await?
        .ok_or_else(|| not_found(&path))?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    if header("x-static-large-object").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return client.delete_large_object(&path).await;
    }
    if let Some(manifest) = header("x-object-manifest")
        && let Some((container, prefix)) = manifest.split_once('/')
    {
        for name in client.list(container, prefix).await? {
            let segment = ObjectPath {
                container,
                object: &name,
            };
            match client.delete_object(&segment).await {
                Err(err) if err.kind != ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
    }
    client.delete_object(&path).await
}

fn not_found(path: &ObjectPath<'_>) -> StoreError {
    StoreError::new(
        ErrorKind::NotFound,
        format!("{} does not exist", path.subject()),
    )
}

/// Image ids become object names: they must be usable as one.
fn check_image_id(image_id: &str) -> Result<(), StoreError> {
    if image_id.is_empty() || image_id.len() > 512 || image_id.contains('/') {
        return Err(unexpected(format!(
            "image id {image_id:?} cannot name a Swift object"
        )));
    }
    Ok(())
}

/// A task on the plugin's runtime, aborted when this future is dropped.
struct Spawned<T>(tokio::task::JoinHandle<Result<T, StoreError>>);

impl<T> Future for Spawned<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|err| Err(unexpected(format!("swift task failed: {err}"))))
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Authenticates once while the store opens: credentials the auth service refuses leave the
/// store out with a message naming the options. A Swift or Keystone that cannot be reached now
/// does not: the store opens and its requests fail (temporarily) until it is back.
fn check_credentials(store_id: &str, client: &Arc<SwiftClient>) -> Result<(), StoreError> {
    let client = Arc::clone(client);
    // `open` may run on a host runtime thread, where blocking on a runtime is not allowed.
    let outcome = std::thread::spawn(move || {
        glint_sdk::runtime::handle().block_on(async move { client.own_session().await.map(drop) })
    })
    .join()
    .unwrap_or_else(|_| {
        Err(StoreError::new(
            ErrorKind::Unexpected,
            "the credential check panicked",
        ))
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::PermissionDenied | ErrorKind::ConfigInvalid
            ) =>
        {
            Err(StoreError::new(ErrorKind::ConfigInvalid, e.message))
        }
        Err(e) => {
            tracing::warn!(store = %store_id, error = %e, "swift store opened without checking its credentials: the auth service did not answer");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_acls_follow_glance() {
        assert_eq!(read_acl(&Acl::new(true, vec!["a".into()])).unwrap(), "*:*");
        assert_eq!(
            read_acl(&Acl::new(false, vec!["a1".into(), "b2".into()])).unwrap(),
            "a1:*,b2:*"
        );
        assert_eq!(read_acl(&Acl::default()).unwrap(), "");
        for bad in ["a,b", "a:*", "", "x y"] {
            assert!(
                read_acl(&Acl::new(false, vec![bad.into()])).is_err(),
                "{bad}"
            );
        }
    }
}
