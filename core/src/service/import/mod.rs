//! Interoperable image import: `PUT /stage` and `POST /import` with the
//! glance-direct, web-download, copy-image and glance-download methods, and
//! the legacy `import` task of `/v2/tasks`.
//!
//! `start` runs Glance's checks in Glance's order, records an
//! `api_image_import` task, takes the image's import lock
//! (`os_glance_import_task`) together with the status change, and returns;
//! the task then runs in the background ([`job`]), step by step:
//!
//! 1. get the data: the staged file (glance-direct, [`stage`]), a fetch of
//!    the URI into staging (web-download), an existing copy (copy-image), or,
//!    with the caller's token, the metadata and data of an image of another
//!    region's image service ([`glance_download`]);
//! 2. run the configured import plugins on the staged data ([`plugins`]),
//!    except for copy-image;
//! 3. write it to the target stores, `max_parallel_stores` at a time, hashing as it passes; each
//!    stored copy becomes a location, and the store moves from
//!    `os_glance_importing_to_stores` to the image's `stores`, or to
//!    `os_glance_failed_import`;
//! 4. with `all_stores_must_succeed`, one failure undoes the copies this
//!    import wrote and puts the image back to `queued` (copy-image leaves the
//!    image as it was);
//! 5. clear staging, release the lock, and record the task's outcome.

mod glance_download;
mod job;
pub mod legacy;
mod plugins;
mod properties;
pub mod recover;
mod request;
mod source;
pub mod stage;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, json};
use uuid::Uuid;

use self::job::Job;
use self::properties::{lock_is_held, split};
use self::source::pin;
use super::access::enforce_image;
use super::images::{self, not_found_as};
use super::quota::{self, Resource};
use super::{ServiceError, ServiceResult, tasks};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{ImageStatus, Task};
use crate::service::inflight::DataOp;

pub use self::properties::{FAILED, IMPORTING, LOCK, is_being_written};
pub use self::request::{ImportRequest, Method, RemoteImage};
pub use self::stage::stage;
pub use crate::remote::stage_host::FORWARDED_HEADER;

/// `POST /v2/images/{id}/import`: check, record the task, take the lock and
/// start the work. Returns once the task runs; when the stage host carried the
/// import out, with the request id it gave it (the task's, which the caller
/// gets instead of this node's, as from Glance).
pub async fn start(
    app: &Arc<App>,
    ctx: &RequestContext,
    id: Uuid,
    req: ImportRequest,
) -> ServiceResult<Option<String>> {
    quota::enforce(app, ctx, Resource::ImageSizeTotal, 0).await?;
    let image = images::get(app, ctx, id).await?;
    let method = req.method.name();
    let needs = |needed| Err(ServiceError::ImportNeedsStatus { method, needed });
    match (&req.method, image.status) {
        (Method::CopyImage, ImageStatus::Active) => {}
        (_, ImageStatus::Active) => return Err(ServiceError::ImportOfActiveImage),
        (Method::CopyImage, _) => return needs(ImageStatus::Active),
        (Method::WebDownload { .. } | Method::GlanceDownload(_), status)
            if status != ImageStatus::Queued =>
        {
            return needs(ImageStatus::Queued);
        }
        (Method::GlanceDirect, status) if status != ImageStatus::Uploading => {
            return needs(ImageStatus::Uploading);
        }
        _ => {}
    }
    if image.container_format.is_none() {
        return Err(ServiceError::ImportNeedsFormat("container_format"));
    }
    if image.disk_format.is_none() {
        return Err(ServiceError::ImportNeedsFormat("disk_format"));
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
        return Err(ServiceError::OperationInProgress(id));
    }

    let mut targets = target_stores(app, &req)?;
    if matches!(req.method, Method::CopyImage) {
        let held: BTreeSet<&str> = image.locations.iter().filter_map(|l| l.store()).collect();
        if req.all_stores {
            targets.retain(|s| !held.contains(s.as_str()));
            if targets.is_empty() {
                return Ok(None);
            }
        } else if let Some(present) = targets.iter().find(|s| held.contains(s.as_str())) {
            return Err(ServiceError::AlreadyInStore(present.clone()));
        }
    }
    // Staged on another node: that node carries the import out, where the
    // data is (Glance's `is_proxyable`; an unset own URL matches no host).
    // A node that was itself sent the import as the stage host, but does not take that URL
    // for its own, refuses rather than forwarding again.
    if matches!(req.method, Method::GlanceDirect)
        && let Some(host) = image.properties.get(super::staging::STAGE_HOST)
        && app.config.self_url().as_deref() != Some(host.as_str())
    {
        if let Some(sent_to) = &req.forwarded_to {
            return Err(ServiceError::StageHostLoop {
                id,
                stage_host: host.clone(),
                sent_to: sent_to.clone(),
                own: app.config.self_url(),
            });
        }
        return forward_to_stage_host(ctx, id, host, &req).await;
    }
    let pinned = match &req.method {
        Method::WebDownload { uri } => Some(pin(app, uri, "web-download").await?),
        _ => None,
    };

    // copy-image leaves the status alone; the others import (the formats
    // were checked above, in Glance's words).
    let (mut next, expected) = match req.method {
        Method::CopyImage => (image.clone(), image.status),
        _ => {
            let (next, change) = image.moved_to(ImageStatus::Importing)?;
            (next, change.from)
        }
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
    let notes = crate::service::notify::task(app, "task.create", &task);
    app.db.create_task_noting(&task, &notes).await?;

    // Lock, status and progress properties change together, or not at all.
    next.properties.insert(LOCK.into(), task.id.to_string());
    next.properties.insert(IMPORTING.into(), targets.join(","));
    let failed: Vec<String> = split(next.properties.get(FAILED))
        .into_iter()
        .filter(|s| !targets.contains(s))
        .collect();
    next.properties.insert(FAILED.into(), failed.join(","));
    next.properties.remove(super::staging::STAGE_HOST);
    // The liveness lease before the lock, as for an upload: a locked image
    // always has one, so crash recovery can tell a dead import from a live one.
    let Some(op) = DataOp::begin(app, id).await? else {
        tasks::fail(app, &mut task, "Another operation is writing this image.").await;
        return Err(ServiceError::OperationInProgress(id));
    };
    if let Err(e) = app.db.update_image(&next, Some(expected)).await {
        op.finish().await;
        tasks::fail(
            app,
            &mut task,
            "The image changed before the import could start.",
        )
        .await;
        return match e {
            DbError::Conflict => Err(ServiceError::OperationInProgress(id)),
            other => Err(not_found_as(other, id)),
        };
    }

    let job = Job {
        app: Arc::clone(app),
        image_id: id,
        plugins: !matches!(req.method, Method::CopyImage),
        method: req.method,
        stores: targets,
        all_must_succeed: req.all_stores_must_succeed,
        pinned,
        token: ctx.auth_token.clone(),
        caller: ctx.clone(),
        task,
        op: Some(op),
    };
    tokio::spawn(job.run());
    Ok(None)
}

/// Replays the import on the node whose staging area holds the data, with
/// the caller's token; its refusal becomes this answer, its request id the
/// answer's.
async fn forward_to_stage_host(
    ctx: &RequestContext,
    id: Uuid,
    host: &str,
    req: &ImportRequest,
) -> ServiceResult<Option<String>> {
    use crate::remote::stage_host::{self, StageHostError};
    tracing::info!(image = %id, stage_host = host, "forwarding the import to the node that staged the data");
    match stage_host::import(host, ctx, id, &req.body, req.header_store.as_deref()).await {
        Ok(remote_request) => {
            tracing::info!(image = %id, ?remote_request, "the stage host accepted the import");
            Ok(remote_request)
        }
        Err(e @ StageHostError::Unreachable { .. }) => {
            Err(ServiceError::StageHostUnreachable(e.to_string()))
        }
        Err(e @ StageHostError::Failed { .. }) => Err(ServiceError::StageHostFailed(e.to_string())),
        Err(StageHostError::Answered { status, .. }) => {
            Err(ServiceError::StageHostAnswered(status.as_u16()))
        }
    }
}

/// The stores an import writes to: every writable store (`all_stores`), the
/// body's `stores`, `X-Image-Meta-Store`, or the default store.
fn target_stores(app: &App, req: &ImportRequest) -> ServiceResult<Vec<String>> {
    let stores = if req.all_stores {
        if req.stores.is_some() || req.header_store.is_some() {
            return Err(ServiceError::AllStoresWithStores);
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
            (Some(_), Some(_)) => return Err(ServiceError::StoresWithHeaderStore),
            (Some(stores), None) => stores.clone(),
            (None, Some(store)) => vec![store.clone()],
            (None, None) => vec![app.stores.default_id().to_owned()],
        }
    };
    if let Some(unknown) = stores
        .iter()
        .find(|store| !app.config.stores.contains_key(*store))
    {
        return Err(ServiceError::ImportStoreNotFound(unknown.clone()));
    }
    Ok(stores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_glance_wording() {
        let needs = |method, needed| ServiceError::ImportNeedsStatus { method, needed }.to_string();
        assert_eq!(
            needs("web-download", ImageStatus::Queued),
            "Image needs to be in 'queued' state to use 'web-download' method"
        );
        assert_eq!(
            needs("glance-direct", ImageStatus::Uploading),
            "Image needs to be staged before 'glance-direct' method can be used"
        );
        assert_eq!(
            needs("copy-image", ImageStatus::Active),
            "Only images with status active can be targeted for copying"
        );
    }
}
