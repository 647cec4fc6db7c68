//! Recovery of an import whose node is gone (see `service::inflight` for
//! how the recovery proves that): it ends as a failed import does.

use uuid::Uuid;

use super::properties::{FAILED, IMPORTING, LOCK, split};
use crate::app::App;
use crate::db::{DbError, NewWork, WorkKind};
use crate::domain::ImageStatus;
use crate::service::{ServiceResult, staging, tasks};

/// Fails the import of image `id` if one was in progress (`importing` or
/// locked), as a failed import ends: its target stores move to
/// `os_glance_failed_import`, its lock goes, its task fails, and an image that was `importing` is `queued` again with no data (the
/// copies it had written become pending work for the reaper). A copy-image
/// import leaves the image `active` with the copies it had finished.
/// The status it was recovered from, if any.
pub async fn fail_abandoned(app: &App, id: Uuid) -> ServiceResult<Option<ImageStatus>> {
    let Some(image) = app.db.get_image(id).await? else {
        return Ok(None);
    };
    if image.status != ImageStatus::Importing && !image.properties.contains_key(LOCK) {
        return Ok(None);
    }
    let from = image.status;
    let mut next = image.clone();
    let mut failed = split(next.properties.get(FAILED));
    for store in split(next.properties.get(IMPORTING)) {
        if !failed.contains(&store) {
            failed.push(store);
        }
    }
    next.properties.insert(FAILED.into(), failed.join(","));
    next.properties.insert(IMPORTING.into(), String::new());
    let task = next.properties.remove(LOCK);
    let mut dropped = Vec::new();
    if from == ImageStatus::Importing {
        next.move_to(ImageStatus::Queued)?;
        dropped = std::mem::take(&mut next.locations);
        next.size = None;
        next.virtual_size = None;
        next.checksum = None;
        next.os_hash_algo = None;
        next.os_hash_value = None;
        staging::remove(app, id).await;
    }
    match app.db.update_image(&next, Some(from)).await {
        Ok(_) => {}
        Err(DbError::NotFound | DbError::Conflict) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let work: Vec<NewWork> = dropped
        .iter()
        .map(|l| NewWork {
            kind: WorkKind::DeleteData,
            image_id: id,
            store: l.store().map(str::to_owned),
            url: l.url.clone(),
            reason: "written by an import whose node is gone".into(),
        })
        .collect();
    if !work.is_empty() {
        app.db.add_work(&work).await?;
    }
    if let Some(task_id) = task.and_then(|t| Uuid::parse_str(&t).ok())
        && let Some(mut task) = app.db.get_task(task_id).await?
        && !task.status.is_final()
    {
        tasks::fail(
            app,
            &mut task,
            "The import was interrupted: its node is gone.",
        )
        .await;
    }
    tracing::warn!(image = %id, from = %from, "recovered an abandoned import");
    Ok(Some(from))
}
