//! Copies of an image's data in named stores: remove one copy
//! (`DELETE /v2/stores/{store_id}/{image_id}`), or make one in another store
//! (the step copy-image imports are built on).

use std::sync::{Arc, Mutex};

use glint_sdk::{ErrorKind, StoreError};
use uuid::Uuid;

use super::images::get;
use super::signature::{self, SignatureCheck};
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::domain::{Image, ImageStatus, Location};
use crate::store::StoreHandle;

/// An open store by id: `UnknownStore` when it is not configured at all,
/// `Unavailable` (503) when it is configured but could not be opened.
pub fn open_store<'a>(app: &'a App, store_id: &str) -> ServiceResult<&'a StoreHandle> {
    if !app.config.stores.contains_key(store_id) {
        return Err(ServiceError::UnknownStore(store_id.to_owned()));
    }
    app.stores.get(store_id).ok_or_else(|| {
        StoreError::new(
            ErrorKind::Unavailable,
            format!("store '{store_id}' is not available"),
        )
        .temporary()
        .into()
    })
}

/// `DELETE /v2/stores/{store_id}/{image_id}`, as Glance does it:
///
/// 1. a store this node does not know → 409; the image must be visible (404);
/// 2. policy `delete_image_location` (admin by default) → 403;
/// 3. the image must be `active` (409) and keep another copy (403);
/// 4. the image must have a copy in that store (404);
/// 5. the data goes first (a store that still uses it → 409), then the location.
pub async fn delete_from_store(
    app: &App,
    ctx: &RequestContext,
    store_id: &str,
    image_id: Uuid,
) -> ServiceResult<()> {
    if !app.config.stores.contains_key(store_id) {
        return Err(ServiceError::StoreNotOnNode(store_id.to_owned()));
    }
    let image = get(app, ctx, image_id).await?;
    let target = super::locations::target(&image);
    app.policy.enforce("get_image_location", ctx, &target)?;
    app.policy.enforce("delete_image_location", ctx, &target)?;
    if image.status != ImageStatus::Active {
        return Err(ServiceError::RemoveFromInactive);
    }
    if image.locations.len() == 1 {
        return Err(ServiceError::LastCopy);
    }
    let Some(location) = image.locations.iter().find(|l| l.store() == Some(store_id)) else {
        return Err(ServiceError::NotInStore {
            image: image_id,
            store: store_id.to_owned(),
        });
    };
    let store = open_store(app, store_id)?.acting_for(ctx);
    match store.delete(&location.url).await {
        Ok(()) => {}
        // Already gone: only the record is left to remove.
        Err(e) if e.kind == ErrorKind::NotFound => {
            tracing::info!(image = %image_id, store = store_id, "data already missing from the store; removing the location");
        }
        Err(e) if e.kind == ErrorKind::InUse => {
            return Err(ServiceError::CopyInUse {
                image: image_id,
                reason: e.message,
            });
        }
        Err(e) => return Err(e.into()),
    }
    match app
        .db
        .remove_location(image_id, &location.url, &[ImageStatus::Active])
        .await
    {
        Ok(_) => Ok(()),
        Err(crate::db::DbError::NotFound) => Err(ServiceError::ImageNotFound(image_id)),
        Err(crate::db::DbError::Conflict) => Err(ServiceError::ChangedDuringRemoval(image_id)),
        Err(e) => Err(e.into()),
    }
}

/// Copies the data at `from` into the store `to_store_id` and returns the new
/// copy's location (with `store` in its metadata), without recording it: the
/// caller adds it with [`super::locations::add`] once its own checks pass.
///
/// The data streams from one store to the other; nothing is held in memory.
/// A copy whose size differs from the image's is removed again and refused.
///
/// With `caller`, both stores act for it (drivers that use the caller's
/// token, as Swift's multi-tenant mode, read and write with it).
pub async fn copy_image_data(
    app: &App,
    caller: Option<&RequestContext>,
    image: &Image,
    from: &Location,
    to_store_id: &str,
    signed: Option<SignatureCheck>,
) -> ServiceResult<Location> {
    let acting = |store: &StoreHandle| match caller {
        Some(ctx) => store.acting_for(ctx),
        None => store.clone(),
    };
    let target = acting(open_store(app, to_store_id)?);
    if !target.capabilities().write {
        return Err(ServiceError::StoreReadOnly(to_store_id.to_owned()));
    }
    let source_id = from
        .store()
        .ok_or_else(|| ServiceError::LocationWithoutStore(image.id))?;
    let source = acting(open_store(app, source_id)?);
    let got = source.get(&from.url, None).await?;
    let expected = image.size.map(|s| s as u64);
    if expected.is_some_and(|s| s != got.total_size) {
        return Err(ServiceError::CopySizeMismatch {
            image: image.id,
            store: source_id.to_owned(),
            found: got.total_size,
            expected: expected.unwrap_or_default(),
        });
    }
    let failure = Arc::new(Mutex::new(None));
    let data = match signed {
        Some(check) => signature::verified(image.id, got.data, check, Arc::clone(&failure)),
        None => got.data,
    };
    let put = match target
        .put(&image.id.to_string(), Some(got.total_size), data)
        .await
    {
        Ok(put) => put,
        Err(e) => {
            let ours = failure.lock().expect("no panics while held").take();
            return Err(ours.unwrap_or(e.into()));
        }
    };
    let mut metadata = put.metadata;
    metadata.insert("store".into(), to_store_id.into());
    Ok(Location {
        url: put.location,
        metadata,
        status: "active".into(),
    })
}
