//! Where the API hands over store work it could not finish: the steps of an
//! image's deletion, and a store delete after a failed upload. A delete that
//! fails becomes a `pending_work` row, written in the transaction of the
//! status change, for the reaper to retry.

use glint_sdk::{ErrorKind, StoreError};
use uuid::Uuid;

use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, NewWork, WorkKind};
use crate::domain::{Image, ImageStatus, Location};
use crate::service::{ServiceError, ServiceResult};
use crate::store::{StoreHandle, StoreRegistry};

/// Attempts at deleting an image that another request changes meanwhile.
const DELETE_ATTEMPTS: usize = 3;

/// Deletes `image` (already checked as deletable by the caller): its data
/// and then its record, or, with `delayed_delete`, only its record, to
/// `pending_delete`, for the reaper to delete the data after `scrub_time`.
///
/// A store that refuses because the data is in use answers 409 and the image
/// stays as it was. Data a store cannot delete now is recorded as pending
/// work with the status change; the record goes regardless.
pub async fn delete_image(app: &App, ctx: &RequestContext, image: &Image) -> ServiceResult<()> {
    let mut image = image.clone();
    for attempt in 1..=DELETE_ATTEMPTS {
        let delayed = app.config.delayed_delete && !image.locations.is_empty();
        let target = if delayed {
            ImageStatus::PendingDelete
        } else {
            ImageStatus::Deleted
        };
        let (_, change) = image.moved_to(target)?;
        let work = if delayed {
            Vec::new()
        } else {
            delete_locations(&app.stores, Some(ctx), image.id, &image.locations, true).await?
        };
        // The image as this attempt deletes it, in the status the delete leaves it in.
        let notes = super::notify::image_deleted(app, &image, target);
        match app
            .db
            .delete_image_leaving(image.id, change, &work, &notes)
            .await
        {
            Ok(()) => {
                if !work.is_empty() {
                    tracing::warn!(image = %image.id, pending = work.len(), "image data left as pending work for the reaper");
                }
                return Ok(());
            }
            Err(DbError::NotFound) => return Err(ServiceError::ImageNotFound(image.id)),
            // Moved on meanwhile (an upload finished): read it again and
            // delete what it is now.
            Err(DbError::Conflict) if attempt < DELETE_ATTEMPTS => {
                image = app
                    .db
                    .get_image(image.id)
                    .await?
                    .ok_or(ServiceError::ImageNotFound(image.id))?;
                if image.protected {
                    return Err(ServiceError::Protected(image.id));
                }
            }
            Err(DbError::Conflict) => {
                return Err(ServiceError::ChangedConcurrently(image.id));
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the last attempt returns")
}

/// Deletes each location's data; what could not be deleted comes back as
/// pending work. With `in_use_stops`, a store that says the data is in use
/// stops it all with 409 (the API's answer); else that too is pending work.
/// `ctx` is the caller the stores act for; `None` is the service itself.
pub(crate) async fn delete_locations(
    stores: &StoreRegistry,
    ctx: Option<&RequestContext>,
    id: Uuid,
    locations: &[Location],
    in_use_stops: bool,
) -> ServiceResult<Vec<NewWork>> {
    let mut work = Vec::new();
    for location in locations {
        let store = location.store().and_then(|s| stores.get(s));
        let result = match store {
            Some(store) => {
                let store = match ctx {
                    Some(ctx) => store.acting_for(ctx),
                    None => store.clone(),
                };
                delete_data(&store, &location.url).await
            }
            None => Err(StoreError::new(
                ErrorKind::Unavailable,
                format!(
                    "store '{}' is not open on this node",
                    location.store().unwrap_or("(none)")
                ),
            )),
        };
        match result {
            Ok(()) => {}
            Err(e) if in_use_stops && e.kind == ErrorKind::InUse => {
                return Err(ServiceError::ImageInUse {
                    id,
                    reason: e.message,
                });
            }
            Err(e) => {
                tracing::warn!(image = %id, url = %location.url, error = %e, "could not delete image data; recorded as pending work");
                work.push(NewWork {
                    kind: WorkKind::DeleteData,
                    image_id: id,
                    store: location.store().map(str::to_owned),
                    url: location.url.clone(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(work)
}

/// Deletes one object; data already gone, or not ours to remove (a
/// read-only store such as http only points at it), counts as deleted.
pub(crate) async fn delete_data(store: &StoreHandle, url: &str) -> Result<(), StoreError> {
    match store.delete(url).await {
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Unsupported) => Ok(()),
        other => other,
    }
}

/// Deletes data an upload wrote for an image that no longer wants it (the
/// image was deleted meanwhile, or its record could not be written); if the
/// store refuses, the data is recorded as pending work instead of being lost.
pub async fn delete_upload(app: &App, store: &StoreHandle, id: Uuid, url: &str, why: &str) {
    let Err(e) = delete_data(store, url).await else {
        return;
    };
    tracing::warn!(image = %id, url, error = %e, "could not delete the uploaded data; recorded as pending work");
    let work = NewWork {
        kind: WorkKind::DeleteData,
        image_id: id,
        store: Some(store.id().to_owned()),
        url: url.to_owned(),
        reason: format!("{why}: {e}"),
    };
    if let Err(db) = app.db.add_work(&[work]).await {
        tracing::error!(image = %id, url, error = %db, "could not record pending work: the data at this URL is orphaned");
    }
}
