//! Interoperable image import: `PUT /stage` and `POST /import` with the
//! glance-direct, web-download, copy-image and glance-download methods.
//!
//! `start` runs Glance's checks in Glance's order, records an
//! `api_image_import` task, takes the image's import lock
//! (`os_glance_import_task`) together with the status change, and returns;
//! the task then runs in the background, step by step:
//!
//! 1. get the data: the staged file (glance-direct), a fetch of the URI into
//!    staging (web-download), an existing copy (copy-image), or, with the
//!    caller's token, the metadata and data of an image of another region's
//!    image service (glance-download: the endpoint comes from the caller's
//!    Keystone catalog; the formats and the `[glance_download]
//!    extra_properties` are copied onto the image);
//! 2. write it to each target store in turn, hashing as it passes; each
//!    stored copy becomes a location, and the store moves from
//!    `os_glance_importing_to_stores` to the image's `stores`, or to
//!    `os_glance_failed_import`;
//! 3. with `all_stores_must_succeed`, one failure undoes the copies this
//!    import wrote and puts the image back to `queued` (copy-image leaves the
//!    image as it was);
//! 4. clear staging, release the lock, and record the task's outcome.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access::enforce_image;
use super::hashing::HASH_ALGO;
use super::images::{self, not_found_as};
use super::quota::{self, Resource};
use super::upload::put_inspected;
use super::{ServiceError, ServiceResult, locations, staging, stores};
use crate::app::App;
use crate::auth::UserToken;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::rules::{KeyClass, classify};
use crate::domain::{Image, ImageStatus, Location, Task, TaskStatus};
use crate::format::ImageCheck;

/// The image property holding the id of the task that owns the image.
pub const LOCK: &str = "os_glance_import_task";
pub const IMPORTING: &str = "os_glance_importing_to_stores";
pub const FAILED: &str = "os_glance_failed_import";

/// How long a finished task stays listed (Glance's `task_time_to_live`).
const TASK_TTL_HOURS: i64 = 48;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    GlanceDirect,
    WebDownload { uri: String },
    CopyImage,
    GlanceDownload(RemoteImage),
}

/// The image a glance-download import reads, as the body names it; checked
/// by `start` (Glance checks it after the image's status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteImage {
    pub image_id: Option<String>,
    pub region: Option<String>,
    /// `public` unless the body says otherwise.
    pub interface: String,
}

impl RemoteImage {
    fn check(&self) -> ServiceResult<(Uuid, &str)> {
        let bad = |m: String| Err(ServiceError::Invalid(m));
        let Some(region) = self.region.as_deref() else {
            return bad("'glance_region' needs to be set for glance-download import method".into());
        };
        let Some(image_id) = self.image_id.as_deref() else {
            return bad(
                "'glance_image_id' needs to be set for glance-download import method".into(),
            );
        };
        match Uuid::parse_str(image_id) {
            Ok(id) => Ok((id, region)),
            Err(_) => bad(format!(
                "Remote image id does not look like a UUID: {image_id}"
            )),
        }
    }
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GlanceDirect => "glance-direct",
            Self::WebDownload { .. } => "web-download",
            Self::CopyImage => "copy-image",
            Self::GlanceDownload(_) => "glance-download",
        }
    }
}

/// A checked `POST /import` body.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub method: Method,
    pub stores: Option<Vec<String>>,
    pub all_stores: bool,
    pub all_stores_must_succeed: bool,
    /// `X-Image-Meta-Store`.
    pub header_store: Option<String>,
    /// The body as sent, kept in the task's input.
    pub body: Value,
}

impl ImportRequest {
    /// Glance's body checks (400s), against the enabled methods.
    pub fn parse(app: &App, mut body: Value, header_store: Option<String>) -> ServiceResult<Self> {
        let bad = |m: &str| ServiceError::Invalid(m.to_owned());
        let Some(method) = body.get("method") else {
            return Err(bad("Import request requires a 'method' field."));
        };
        let Some(name) = method.get("name") else {
            return Err(bad("Import request requires a 'name' field."));
        };
        let name = name.as_str().unwrap_or_default();
        if !app.config.import.methods.iter().any(|m| m == name) {
            return Err(ServiceError::Invalid(format!(
                "Unknown import method name '{name}'."
            )));
        }
        let flag = |key: &str, default: bool| match body.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ServiceError::Invalid(format!(
                "'{key}' must be boolean value only"
            ))),
        };
        let all_stores_must_succeed = flag("all_stores_must_succeed", true)?;
        let all_stores = flag("all_stores", false)?;
        let method = match name {
            "glance-direct" => Method::GlanceDirect,
            "copy-image" => Method::CopyImage,
            "web-download" => Method::WebDownload {
                uri: method
                    .get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
            "glance-download" => {
                let text = |key: &str| {
                    method.get(key).map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                };
                let interface = text("glance_service_interface").unwrap_or_else(|| "public".into());
                let remote = RemoteImage {
                    image_id: text("glance_image_id"),
                    region: text("glance_region"),
                    interface: interface.clone(),
                };
                // The task's input records the interface used, as Glance's does.
                if let Some(Value::Object(m)) = body.get_mut("method") {
                    m.entry("glance_service_interface")
                        .or_insert_with(|| Value::String(interface));
                }
                Method::GlanceDownload(remote)
            }
            other => {
                return Err(ServiceError::Invalid(format!(
                    "Unknown import method name '{other}'."
                )));
            }
        };
        let stores = match body.get("stores") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|s| s.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("'stores' must be a list of store identifiers."))?,
            ),
            Some(_) => return Err(bad("'stores' must be a list of store identifiers.")),
        };
        Ok(Self {
            method,
            stores,
            all_stores,
            all_stores_must_succeed,
            header_store,
            body,
        })
    }
}

/// `PUT /v2/images/{id}/stage`: keep the data for a later glance-direct import.
pub async fn stage(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected: Option<u64>,
) -> ServiceResult<Image> {
    if !app
        .config
        .import
        .methods
        .iter()
        .any(|m| m == "glance-direct")
    {
        return Err(ServiceError::NotFound(
            "'glance-direct' method is not available at this site.".into(),
        ));
    }
    let cap = app.config.api.image_size_cap;
    if expected.is_some_and(|s| s > cap) {
        return Err(ServiceError::OverLimit(format!(
            "Image exceeds the storage quota: the size limit is {cap} bytes."
        )));
    }
    quota::enforce(
        app,
        ctx,
        Resource::ImageStageTotal,
        expected.unwrap_or(0) >> 20,
    )
    .await?;
    let image = images::get_for_update(app, ctx, id).await?;
    quota::enforce(app, ctx, Resource::ImageCountUploading, 1).await?;
    if image.status != ImageStatus::Queued {
        return Err(ServiceError::Conflict(format!(
            "Image status transition from {} to uploading is not allowed",
            image.status
        )));
    }
    let mut uploading = image.clone();
    uploading.status = ImageStatus::Uploading;
    let uploading = match app
        .db
        .update_image(&uploading, Some(ImageStatus::Queued))
        .await
    {
        Ok(saved) => saved,
        Err(DbError::Conflict) => {
            return Err(ServiceError::Conflict(format!(
                "Image status transition from {} to uploading is not allowed",
                ImageStatus::Uploading
            )));
        }
        Err(e) => return Err(not_found_as(e, id)),
    };
    let size = match staging::write(app, id, body, cap).await {
        Ok(size) => size,
        Err(e) => {
            // Nothing staged: the image is queued again, as Glance leaves it.
            let mut queued = uploading.clone();
            queued.status = ImageStatus::Queued;
            let _ = app
                .db
                .update_image(&queued, Some(ImageStatus::Uploading))
                .await;
            return Err(e);
        }
    };
    if expected.is_some_and(|e| e != size) {
        staging::remove(app, id).await;
        let mut queued = uploading.clone();
        queued.status = ImageStatus::Queued;
        let _ = app
            .db
            .update_image(&queued, Some(ImageStatus::Uploading))
            .await;
        return Err(ServiceError::Invalid(format!(
            "Image size mismatch: the request declared {} bytes but {size} were sent.",
            expected.unwrap_or_default()
        )));
    }
    let mut staged = uploading.clone();
    staged.size = Some(size as i64);
    match app
        .db
        .update_image(&staged, Some(ImageStatus::Uploading))
        .await
    {
        Ok(saved) => Ok(saved),
        Err(e) => {
            // Deleted (or moved on) while staging: the data belongs to nobody.
            staging::remove(app, id).await;
            Err(not_found_as(e, id))
        }
    }
}

/// `POST /v2/images/{id}/import`: check, record the task, take the lock and
/// start the work. Returns once the task runs.
pub async fn start(
    app: &Arc<App>,
    ctx: &RequestContext,
    id: Uuid,
    req: ImportRequest,
) -> ServiceResult<()> {
    quota::enforce(app, ctx, Resource::ImageSizeTotal, 0).await?;
    let image = images::get(app, ctx, id).await?;
    let method = req.method.name();
    let conflict = |m: String| Err(ServiceError::Conflict(m));
    match (&req.method, image.status) {
        (Method::CopyImage, ImageStatus::Active) => {}
        (_, ImageStatus::Active) => {
            return conflict("Image with status active cannot be target for import".into());
        }
        (Method::CopyImage, _) => {
            return conflict("Only images with status active can be targeted for copying".into());
        }
        (Method::WebDownload { .. } | Method::GlanceDownload(_), status)
            if status != ImageStatus::Queued =>
        {
            return conflict(format!(
                "Image needs to be in 'queued' state to use '{method}' method"
            ));
        }
        (Method::GlanceDirect, status) if status != ImageStatus::Uploading => {
            return conflict(
                "Image needs to be staged before 'glance-direct' method can be used".into(),
            );
        }
        _ => {}
    }
    if image.container_format.is_none() {
        return conflict("'container_format' needs to be set before import".into());
    }
    if image.disk_format.is_none() {
        return conflict("'disk_format' needs to be set before import".into());
    }
    if let Method::GlanceDownload(remote) = &req.method {
        remote.check()?;
    }
    let rule = match req.method {
        Method::CopyImage => "copy_image",
        _ => "modify_image",
    };
    enforce_image(app, ctx, rule, &image, || {
        format!("You are not authorized to complete {rule} action.")
    })?;
    if let Some(task_id) = image.properties.get(LOCK)
        && lock_is_held(app, task_id).await?
    {
        return conflict(format!(
            "New operation on image '{id}' is not permitted as prior operation is still in progress"
        ));
    }

    let mut targets = target_stores(app, &req)?;
    if matches!(req.method, Method::CopyImage) {
        let held: BTreeSet<&str> = image.locations.iter().filter_map(|l| l.store()).collect();
        if req.all_stores {
            targets.retain(|s| !held.contains(s.as_str()));
            if targets.is_empty() {
                return Ok(());
            }
        } else if let Some(present) = targets.iter().find(|s| held.contains(s.as_str())) {
            return Err(ServiceError::Invalid(format!(
                "Image is already present at store '{present}'"
            )));
        }
    }
    let pinned = match &req.method {
        Method::WebDownload { uri } => Some(check_uri(app, uri).await?),
        _ => None,
    };

    let mut input = Map::new();
    input.insert("image_id".into(), json!(id));
    input.insert("import_req".into(), req.body.clone());
    input.insert("backend".into(), json!(targets));
    let mut task = Task::new("api_image_import", input, Utc::now());
    task.owner = ctx.project_id.clone();
    task.image_id = Some(id);
    task.user_id = ctx.user_id.clone();
    task.request_id = Some(ctx.request_id.clone());
    app.db.create_task(&task).await?;

    // Lock, status and progress properties change together, or not at all.
    let mut next = image.clone();
    next.properties.insert(LOCK.into(), task.id.to_string());
    next.properties.insert(IMPORTING.into(), targets.join(","));
    let failed: Vec<String> = split(next.properties.get(FAILED))
        .into_iter()
        .filter(|s| !targets.contains(s))
        .collect();
    next.properties.insert(FAILED.into(), failed.join(","));
    if !matches!(req.method, Method::CopyImage) {
        next.status = ImageStatus::Importing;
    }
    next.properties.remove("os_glance_stage_host");
    if let Err(e) = app.db.update_image(&next, Some(image.status)).await {
        fail_task(
            app,
            &mut task,
            "The image changed before the import could start.",
        )
        .await;
        return match e {
            DbError::Conflict => conflict(format!(
                "New operation on image '{id}' is not permitted as prior operation is still in progress"
            )),
            other => Err(not_found_as(other, id)),
        };
    }

    let job = Job {
        app: Arc::clone(app),
        image_id: id,
        method: req.method,
        stores: targets,
        all_must_succeed: req.all_stores_must_succeed,
        pinned,
        token: ctx.auth_token.clone(),
        caller: Some(ctx.clone()),
        restore: None,
        task,
    };
    tokio::spawn(job.run());
    Ok(())
}

/// A legacy `import` task (`POST /v2/tasks`): the image was just created
/// from the task's input; lock it, mark it importing, and fetch its data
/// from `uri` into the default store in the background, written as `ctx`.
pub(crate) async fn start_task_import(
    app: &Arc<App>,
    ctx: &RequestContext,
    image: Image,
    uri: String,
    pinned: (String, SocketAddr),
    mut task: Task,
) -> ServiceResult<()> {
    let id = image.id;
    let store = app.stores.default_id().to_owned();
    let mut next = image.clone();
    next.properties.insert(LOCK.into(), task.id.to_string());
    next.properties.insert(IMPORTING.into(), store.clone());
    next.status = ImageStatus::Importing;
    if let Err(e) = app.db.update_image(&next, Some(image.status)).await {
        fail_task(
            app,
            &mut task,
            "The image changed before the import could start.",
        )
        .await;
        return Err(not_found_as(e, id));
    }
    let job = Job {
        app: Arc::clone(app),
        image_id: id,
        method: Method::WebDownload { uri },
        stores: vec![store],
        all_must_succeed: true,
        pinned: Some(pinned),
        token: None,
        caller: Some(ctx.clone()),
        restore: None,
        task,
    };
    tokio::spawn(job.run());
    Ok(())
}

/// How often a running import writes its progress into its task (Glance's interval).
const PROGRESS_INTERVAL: Duration = Duration::from_secs(60);

/// Glance's progress message.
fn copied_message(bytes: u64) -> String {
    format!("Copied {} MiB", bytes >> 20)
}

/// A spawned task, aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether the task named by an image's lock is still at work.
async fn lock_is_held(app: &App, task_id: &str) -> ServiceResult<bool> {
    let Ok(task_id) = Uuid::parse_str(task_id) else {
        return Ok(false);
    };
    Ok(app
        .db
        .get_task(task_id)
        .await?
        .is_some_and(|t| !t.status.is_final()))
}

/// The stores an import writes to: every writable store (`all_stores`), the
/// body's `stores`, `X-Image-Meta-Store`, or the default store.
fn target_stores(app: &App, req: &ImportRequest) -> ServiceResult<Vec<String>> {
    let stores = if req.all_stores {
        if req.stores.is_some() || req.header_store.is_some() {
            return Err(ServiceError::Invalid(
                "All_stores parameter can't be used with x-image-meta-store header or stores parameter".into(),
            ));
        }
        app.stores
            .infos()
            .filter(|info| {
                !info.id.starts_with("os_glance_")
                    && app
                        .stores
                        .get(&info.id)
                        .is_some_and(|s| s.capabilities().write)
            })
            .map(|info| info.id.clone())
            .collect()
    } else {
        match (&req.stores, &req.header_store) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::Invalid(
                    "Stores parameter and x-image-meta-store header can't be both specified".into(),
                ));
            }
            (Some(stores), None) => stores.clone(),
            (None, Some(store)) => vec![store.clone()],
            (None, None) => vec![app.stores.default_id().to_owned()],
        }
    };
    for store in &stores {
        if !app.config.stores.contains_key(store) {
            return Err(ServiceError::Conflict(format!(
                "Store for identifier {store} not found"
            )));
        }
    }
    Ok(stores)
}

/// Glance's URI filter for web-download, then the address the fetch must
/// use: the host is resolved once, here, and loopback or link-local
/// addresses are refused unless the host is explicitly allowed.
pub(crate) async fn check_uri(app: &App, uri: &str) -> ServiceResult<(String, SocketAddr)> {
    check_uri_for(app, uri, "web-download").await
}

/// [`check_uri`], naming `purpose` (`web-download`, `legacy import task`) when refusing.
pub(crate) async fn check_uri_for(
    app: &App,
    uri: &str,
    purpose: &str,
) -> ServiceResult<(String, SocketAddr)> {
    let refused = || {
        // No URI at all reads as Glance's `None`.
        let shown = match uri {
            "" => "None".to_owned(),
            uri => locations::redact(uri),
        };
        ServiceError::Invalid(format!(
            "URI for {purpose} does not pass filtering: {shown}"
        ))
    };
    if !locations::uri_allowed(&app.config.import_filtering, uri).await {
        return Err(refused());
    }
    let url = reqwest::Url::parse(uri).map_err(|_| refused())?;
    let host = url.host_str().ok_or_else(refused)?.to_owned();
    let port = url.port_or_known_default().ok_or_else(refused)?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addr = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|_| refused())?
        .next()
        .ok_or_else(refused)?;
    let explicitly_allowed = app
        .config
        .import_filtering
        .allowed_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&bare) || h.parse::<IpAddr>().ok() == Some(addr.ip()));
    if is_internal(addr.ip()) && !explicitly_allowed {
        return Err(refused());
    }
    Ok((host, addr))
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

fn split(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One running import.
struct Job {
    app: Arc<App>,
    image_id: Uuid,
    method: Method,
    stores: Vec<String>,
    all_must_succeed: bool,
    pinned: Option<(String, SocketAddr)>,
    /// The caller's token (glance-download reads the remote image with it).
    token: Option<UserToken>,
    /// The caller, for stores that write with the caller's token (Swift's
    /// multi-tenant mode); `None` for legacy task imports.
    caller: Option<RequestContext>,
    /// What glance-download changed on the image, put back if the import fails.
    restore: Option<Restore>,
    task: Task,
}

/// The image's formats and properties before glance-download copied the
/// remote image's over them.
#[derive(Debug, Clone)]
struct Restore {
    disk_format: Option<String>,
    container_format: Option<String>,
    /// Each copied property with its earlier value, if it had one.
    properties: Vec<(String, Option<String>)>,
}

impl Job {
    async fn run(mut self) {
        let id = self.image_id;
        self.task.status = TaskStatus::Processing;
        self.task.updated_at = Utc::now();
        let _ = self.app.db.update_task(&self.task).await;
        let outcome = self.work().await;
        if !matches!(self.method, Method::CopyImage) {
            staging::remove(&self.app, id).await;
        }
        let released = self.release().await;
        match (outcome, released) {
            (Ok(()), Ok(())) => {
                self.task.status = TaskStatus::Success;
                self.task.result = Some(
                    json!({"image_id": id})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                );
                self.task.updated_at = Utc::now();
                self.task.expires_at = Some(Utc::now() + chrono::Duration::hours(TASK_TTL_HOURS));
                if let Err(e) = self.app.db.update_task(&self.task).await {
                    tracing::warn!(task = %self.task.id, error = %e, "could not record the task's success");
                }
                tracing::info!(image = %id, task = %self.task.id, method = self.method.name(), "import done");
            }
            (Err(e), _) | (Ok(()), Err(e)) => {
                tracing::warn!(image = %id, task = %self.task.id, method = self.method.name(), error = %e, "import failed");
                let message = e.to_string();
                fail_task(&self.app, &mut self.task, &message).await;
            }
        }
    }

    /// Steps 1 to 3.
    async fn work(&mut self) -> ServiceResult<()> {
        let app = Arc::clone(&self.app);
        let id = self.image_id;
        if let Method::WebDownload { uri } = &self.method {
            let (host, addr) = self
                .pinned
                .clone()
                .ok_or_else(|| ServiceError::Invalid("web-download URI was not checked".into()))?;
            if let Err(e) = fetch_to_staging(&app, id, uri, &host, addr, None).await {
                self.fail_every_store().await;
                self.revert(&[]).await;
                return Err(e);
            }
        }
        if let Method::GlanceDownload(remote) = &self.method {
            let remote = remote.clone();
            if let Err(e) = self.glance_download(&remote).await {
                staging::remove(&app, id).await;
                self.fail_every_store().await;
                self.revert(&[]).await;
                return Err(e);
            }
        }
        let mut written: Vec<Location> = Vec::new();
        let mut failures = 0usize;
        for store_id in self.stores.clone() {
            let copied = Arc::new(AtomicU64::new(0));
            let reporting = self.report_progress(Arc::clone(&copied));
            let copy = self.copy_into(&store_id, &copied).await;
            drop(reporting);
            match copy {
                Ok(location) => {
                    written.push(location);
                    // As Glance's import reports it; the task's end keeps the last one.
                    self.task.message = copied_message(copied.load(Ordering::Relaxed));
                    self.progress(&store_id, true).await?;
                }
                Err(e) => {
                    tracing::warn!(image = %id, store = %store_id, error = %e, "import into store failed");
                    failures += 1;
                    self.progress(&store_id, false).await?;
                    if self.all_must_succeed {
                        self.revert(&written).await;
                        return Err(e);
                    }
                }
            }
        }
        if failures == self.stores.len() {
            self.revert(&written).await;
            return Err(ServiceError::Conflict(format!(
                "Import of image {id} failed for every store."
            )));
        }
        Ok(())
    }

    /// glance-download step 1: find the remote image service in the caller's
    /// catalog, read the remote image's metadata, fetch its data into
    /// staging, then copy its formats and extra properties onto the image.
    async fn glance_download(&mut self, remote: &RemoteImage) -> ServiceResult<()> {
        let app = Arc::clone(&self.app);
        let id = self.image_id;
        let failed = |why: String| ServiceError::Invalid(format!("glance-download failed: {why}"));
        let (remote_id, region) = remote.check()?;
        let token = self
            .token
            .clone()
            .ok_or_else(|| failed("the request carried no Keystone token".into()))?;
        let catalog = app
            .auth
            .catalog(&token)
            .await
            .map_err(|e| failed(format!("could not read the service catalog: {e}")))?;
        let endpoint = catalog
            .iter()
            .find(|e| {
                e.service_type == "image"
                    && e.region.as_deref() == Some(region)
                    && e.interface == remote.interface
            })
            .map(|e| e.url.trim_end_matches('/').to_owned())
            .ok_or_else(|| {
                failed(format!(
                    "no {} image service endpoint for region '{region}' in the catalog",
                    remote.interface
                ))
            })?;
        let metadata_uri = format!("{endpoint}/v2/images/{remote_id}");
        let data_uri = format!("{metadata_uri}/file");
        let (host, addr) = check_uri(&app, &data_uri).await.map_err(|_| {
            failed(format!(
                "processed URI for glance-download does not pass filtering: {}",
                locations::redact(&data_uri)
            ))
        })?;

        let client = pinned_client(&host, addr).map_err(|e| failed(e.to_string()))?;
        let response = client
            .get(&metadata_uri)
            .header("x-auth-token", token.expose())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!(
                "the remote image service answered {} for image {remote_id}",
                response.status()
            )));
        }
        let data: Map<String, Value> = response.json().await.map_err(|e| {
            failed(format!(
                "unreadable remote image metadata: {}",
                e.without_url()
            ))
        })?;
        let status = data
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if status != "active" {
            return Err(failed(format!(
                "Source image status should be active instead of {status}"
            )));
        }
        let size = data.get("size").and_then(Value::as_u64).ok_or_else(|| {
            failed(format!(
                "the size of remote image {remote_id} could not be determined"
            ))
        })?;
        let disk_format = data
            .get("disk_format")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let container_format = data
            .get("container_format")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let prefixes = &app.config.glance_download.extra_properties;
        let copied: Vec<(String, String)> = data
            .iter()
            .filter(|(key, _)| {
                classify(key) == KeyClass::Extra
                    && prefixes.iter().any(|p| key.starts_with(p.as_str()))
            })
            .map(|(key, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key.clone(), value)
            })
            .collect();

        let written = fetch_to_staging(&app, id, &data_uri, &host, addr, Some(&token)).await?;
        if written != size {
            return Err(failed(format!(
                "downloaded data size {written} is different from expected {size}"
            )));
        }

        let mut restore = None;
        modify(&app, id, |img| {
            restore = Some(Restore {
                disk_format: img.disk_format.clone(),
                container_format: img.container_format.clone(),
                properties: copied
                    .iter()
                    .map(|(k, _)| (k.clone(), img.properties.get(k).cloned()))
                    .collect(),
            });
            if disk_format.is_some() {
                img.disk_format = disk_format.clone();
            }
            if container_format.is_some() {
                img.container_format = container_format.clone();
            }
            for (key, value) in &copied {
                img.properties.insert(key.clone(), value.clone());
            }
            Ok(())
        })
        .await?;
        self.restore = restore;
        Ok(())
    }

    /// Writes "Copied N MiB" into the task every minute while a copy runs (`copied` counts its
    /// bytes), as Glance's import reports progress; stops when the returned guard is dropped.
    fn report_progress(&self, copied: Arc<AtomicU64>) -> AbortOnDrop {
        let (app, task_id) = (Arc::clone(&self.app), self.task.id);
        AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(PROGRESS_INTERVAL);
            every.tick().await;
            loop {
                every.tick().await;
                let message = copied_message(copied.load(Ordering::Relaxed));
                if let Err(e) = app
                    .db
                    .set_task_progress(task_id, &message, Utc::now())
                    .await
                {
                    tracing::debug!(task = %task_id, error = %e, "could not record the import's progress");
                }
            }
        }))
    }

    /// Write the data to one store and record the new location; the first
    /// copy of an imported image also makes it active. `copied` counts the bytes written.
    async fn copy_into(&self, store_id: &str, copied: &Arc<AtomicU64>) -> ServiceResult<Location> {
        let app = &self.app;
        let id = self.image_id;
        let store = stores::open_store(app, store_id)?;
        let store = match &self.caller {
            Some(ctx) => store.acting_for(ctx),
            None => store.clone(),
        };
        if !store.capabilities().write {
            return Err(ServiceError::StoreReadOnly(store_id.to_owned()));
        }
        let image = app
            .db
            .get_image(id)
            .await?
            .ok_or(ServiceError::ImageNotFound(id))?;
        if matches!(self.method, Method::CopyImage) {
            let from = image
                .locations
                .iter()
                .find(|l| {
                    l.status == "active" && l.store().is_some_and(|s| app.stores.get(s).is_some())
                })
                .cloned()
                .ok_or_else(|| {
                    ServiceError::Conflict(format!("Image {id} has no readable copy."))
                })?;
            let location =
                stores::copy_image_data(app, self.caller.as_ref(), &image, &from, store_id).await?;
            if let Err(e) =
                locations::add(app, id, store_id, &location.url, location.metadata.clone()).await
            {
                let _ = store.delete(&location.url).await;
                return Err(e);
            }
            copied.store(image.size.unwrap_or(0).max(0) as u64, Ordering::Relaxed);
            return Ok(location);
        }

        let (body, size) = staging::read(app, id).await?;
        let counter = Arc::clone(copied);
        let body = body
            .inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            })
            .boxed();
        let cap = app.config.api.image_size_cap;
        let check = ImageCheck::for_image(
            image.container_format.as_deref(),
            image.disk_format.as_deref(),
            &app.config.image_format,
        );
        let (outcome, digests, virtual_size) =
            put_inspected(&store, id, body, Some(size), cap, check).await?;
        let mut metadata = outcome.metadata.clone();
        metadata.insert("store".into(), store_id.into());
        let location = Location {
            url: outcome.location.clone(),
            metadata,
            status: "active".into(),
        };
        let consistent = image.checksum.as_deref().is_none_or(|c| c == digests.md5);
        if !consistent {
            let _ = store.delete(&outcome.location).await;
            return Err(ServiceError::Conflict(format!(
                "The data of image {id} changed between two stores."
            )));
        }
        let saved = modify(app, id, |img| {
            img.size = Some(outcome.size as i64);
            img.virtual_size = virtual_size.or(img.virtual_size);
            img.checksum = Some(digests.md5.clone());
            img.os_hash_algo = Some(HASH_ALGO.to_owned());
            img.os_hash_value = Some(digests.sha512.clone());
            img.locations.push(location.clone());
            if img.status == ImageStatus::Importing {
                img.status = ImageStatus::Active;
            }
            Ok(())
        })
        .await;
        if let Err(e) = saved {
            let _ = store.delete(&outcome.location).await;
            return Err(e);
        }
        Ok(location)
    }

    /// Move `store` out of the importing list, into the failed list if it failed.
    async fn progress(&self, store: &str, ok: bool) -> ServiceResult<()> {
        modify(&self.app, self.image_id, |img| {
            let importing: Vec<String> = split(img.properties.get(IMPORTING))
                .into_iter()
                .filter(|s| s != store)
                .collect();
            img.properties.insert(IMPORTING.into(), importing.join(","));
            if !ok {
                let mut failed = split(img.properties.get(FAILED));
                if !failed.iter().any(|s| s == store) {
                    failed.push(store.to_owned());
                }
                img.properties.insert(FAILED.into(), failed.join(","));
            }
            Ok(())
        })
        .await
        .map(drop)
    }

    /// The data never arrived: every target store failed, as Glance records it.
    async fn fail_every_store(&self) {
        for store in &self.stores {
            if let Err(e) = self.progress(store, false).await {
                tracing::warn!(image = %self.image_id, error = %e, "could not record a failed import");
            }
        }
    }

    /// Undo a failed import: remove the copies it wrote; an imported image
    /// goes back to `queued` with no data, as Glance leaves it.
    async fn revert(&self, written: &[Location]) {
        let app = &self.app;
        for location in written {
            if let Some(store) = location.store().and_then(|s| app.stores.get(s))
                && let Err(e) = store.delete(&location.url).await
            {
                tracing::warn!(image = %self.image_id, error = %e, "could not remove a copy of a failed import");
            }
        }
        let copy = matches!(self.method, Method::CopyImage);
        let urls: BTreeSet<&str> = written.iter().map(|l| l.url.as_str()).collect();
        let reverted = modify(app, self.image_id, |img| {
            img.locations.retain(|l| !urls.contains(l.url.as_str()));
            img.properties.insert(IMPORTING.into(), String::new());
            if let Some(restore) = &self.restore {
                img.disk_format = restore.disk_format.clone();
                img.container_format = restore.container_format.clone();
                for (key, before) in &restore.properties {
                    match before {
                        Some(value) => img.properties.insert(key.clone(), value.clone()),
                        None => img.properties.remove(key),
                    };
                }
            }
            if !copy {
                img.status = ImageStatus::Queued;
                img.locations.clear();
                img.size = None;
                img.virtual_size = None;
                img.checksum = None;
                img.os_hash_algo = None;
                img.os_hash_value = None;
            }
            Ok(())
        })
        .await;
        if let Err(e) = reverted {
            tracing::warn!(image = %self.image_id, error = %e, "could not revert the image after a failed import");
        }
    }

    /// Step 4: drop the lock if it is still ours.
    async fn release(&self) -> ServiceResult<()> {
        let task_id = self.task.id.to_string();
        match modify(&self.app, self.image_id, |img| {
            if img.properties.get(LOCK) == Some(&task_id) {
                img.properties.remove(LOCK);
            }
            Ok(())
        })
        .await
        {
            Ok(_) | Err(ServiceError::ImageNotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Read-modify-write of an image that retries when another writer got there
/// between the read and the write.
async fn modify(
    app: &App,
    id: Uuid,
    mut change: impl FnMut(&mut Image) -> ServiceResult<()>,
) -> ServiceResult<Image> {
    for _ in 0..10 {
        let current = app
            .db
            .get_image(id)
            .await?
            .ok_or(ServiceError::ImageNotFound(id))?;
        let mut next = current.clone();
        change(&mut next)?;
        if next == current {
            return Ok(current);
        }
        match app.db.update_image(&next, Some(current.status)).await {
            Ok(saved) => return Ok(saved),
            Err(DbError::Conflict) => continue,
            Err(e) => return Err(not_found_as(e, id)),
        }
    }
    Err(ServiceError::Conflict(format!(
        "Image {id} keeps changing; the import could not record its progress."
    )))
}

pub(crate) async fn fail_task(app: &App, task: &mut Task, message: &str) {
    task.status = TaskStatus::Failure;
    task.message = message.to_owned();
    task.updated_at = Utc::now();
    task.expires_at = Some(Utc::now() + chrono::Duration::hours(TASK_TTL_HOURS));
    if let Err(e) = app.db.update_task(task).await {
        tracing::warn!(task = %task.id, error = %e, "could not record the task's failure");
    }
}

/// An HTTP client that reaches `host` only at `addr`, the address it was
/// checked at (no second DNS answer can redirect it), refusing redirects.
fn pinned_client(host: &str, addr: SocketAddr) -> reqwest::Result<reqwest::Client> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(30))
        .resolve(bare, addr)
        .build()
}

/// web-download (and glance-download) step 1: fetch `uri` into staging
/// through a pinned client, with the caller's token when one is given.
async fn fetch_to_staging(
    app: &App,
    id: Uuid,
    uri: &str,
    host: &str,
    addr: SocketAddr,
    token: Option<&UserToken>,
) -> ServiceResult<u64> {
    let failed = |why: String| {
        ServiceError::Invalid(format!(
            "Failed to download {}: {why}",
            locations::redact(uri)
        ))
    };
    let client = pinned_client(host, addr).map_err(|e| failed(e.to_string()))?;
    let mut request = client.get(uri);
    if let Some(token) = token {
        request = request.header("x-auth-token", token.expose());
    }
    let response = request
        .send()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let body = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other))
        .boxed();
    staging::remove(app, id).await;
    staging::write(app, id, body, app.config.api.image_size_cap).await
}

/// The tasks that worked on an image (`GET /v2/images/{id}/tasks`).
pub async fn image_tasks(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Vec<Task>> {
    images::get(app, ctx, id).await?;
    Ok(app.db.image_tasks(id).await?)
}
