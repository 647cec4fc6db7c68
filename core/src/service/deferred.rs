//! Deferred work other than deletes, as `pending_work` rows the updater
//! ([`crate::jobs::updater`]) drains: each handler here is idempotent, so a
//! row run twice (a crash between the work and the row's removal) is harmless.

use glint_sdk::{ErrorKind, StoreError};

use super::hashing::HASH_ALGO;
use super::locations::{self, digest_data};
use super::{ServiceError, stores};
use crate::app::App;
use crate::db::{DbError, Work};
use crate::domain::ImageStatus;

/// How a row's work ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or nothing left to do: the row goes.
    Done,
    /// The work no longer makes sense (why): the row stays, with the reason
    /// as its last error, and is not tried again.
    GaveUp(String),
}

fn db_error(e: DbError) -> StoreError {
    StoreError::new(ErrorKind::Unavailable, format!("database: {e}")).temporary()
}

/// Computes and records the digests of an `active` image without a hash
/// from the data at the row's location. Done (nothing to do) when the image
/// is gone, has a hash by now, or no longer has that location.
pub async fn compute_hash(app: &App, work: &Work) -> Result<Outcome, StoreError> {
    let db = |e: DbError| StoreError::new(ErrorKind::Unavailable, format!("database: {e}"));
    let Some(image) = app.db.get_image(work.image_id).await.map_err(db)? else {
        return Ok(Outcome::Done);
    };
    let wanted = image.status == ImageStatus::Active
        && image.os_hash_value.is_none()
        && image.locations.iter().any(|l| l.url == work.url);
    if !wanted {
        return Ok(Outcome::Done);
    }
    let store = work
        .store
        .as_deref()
        .and_then(|s| app.stores.get(s))
        .ok_or_else(|| {
            StoreError::new(ErrorKind::Unavailable, "the location's store is not open").temporary()
        })?;
    let algo = image
        .os_hash_algo
        .as_deref()
        .unwrap_or(HASH_ALGO)
        .to_owned();
    let (md5, value) = digest_data(store, &work.url, &algo).await?;
    match app
        .db
        .set_image_digests(image.id, Some(&md5), Some(&algo), Some(&value))
        .await
    {
        Ok(()) | Err(DbError::NotFound) => Ok(Outcome::Done),
        Err(e) => Err(db(e)),
    }
}

/// Copies an `active` image's data into the row's store, where an import
/// could not write it: from the copy at the row's URL if it is still
/// readable, else from any readable copy. Done when the image already has a
/// copy in that store (a retry after a crash, or another copy-image); gives
/// up when the image is gone or no longer `active`.
pub async fn copy_image(app: &App, work: &Work) -> Result<Outcome, StoreError> {
    let target = work.store.as_deref().unwrap_or_default();
    let Some(image) = app.db.get_image(work.image_id).await.map_err(db_error)? else {
        return Ok(Outcome::GaveUp(format!("image {} is gone", work.image_id)));
    };
    if image.status != ImageStatus::Active {
        return Ok(Outcome::GaveUp(format!(
            "image {} is {}, no longer active",
            image.id, image.status
        )));
    }
    if image.locations.iter().any(|l| l.store() == Some(target)) {
        return Ok(Outcome::Done);
    }
    let readable = |url: Option<&str>| {
        image
            .locations
            .iter()
            .filter(|l| url.is_none_or(|u| l.url == u))
            .find(|l| {
                l.status == "active" && l.store().is_some_and(|s| app.stores.get(s).is_some())
            })
            .cloned()
    };
    let from = readable(Some(&work.url))
        .or_else(|| readable(None))
        .ok_or_else(|| service_error(ServiceError::NoReadableCopy(image.id)))?;
    let copy = stores::copy_image_data(app, None, &image, &from, target, None)
        .await
        .map_err(service_error)?;
    if let Err(e) = locations::add(app, image.id, target, &copy.url, copy.metadata.clone()).await {
        // The image changed meanwhile: the next attempt sees what it is now.
        if let Some(store) = app.stores.get(target) {
            let _ = super::pending::delete_data(store, &copy.url).await;
        }
        return Err(service_error(e));
    }
    Ok(Outcome::Done)
}

/// A store's own error as it is; anything else is worth another try later.
fn service_error(e: ServiceError) -> StoreError {
    match e {
        ServiceError::Store(e) => e,
        other => StoreError::new(ErrorKind::Unavailable, other.to_string()).temporary(),
    }
}
