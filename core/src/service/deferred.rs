//! Deferred work other than deletes, as `pending_work` rows the updater
//! ([`crate::jobs::updater`]) drains: each handler here is idempotent, so a
//! row run twice (a crash between the work and the row's removal) is harmless.

use glint_sdk::{ErrorKind, StoreError};

use super::hashing::HASH_ALGO;
use super::locations::digest_data;
use crate::app::App;
use crate::db::{DbError, Work};
use crate::domain::ImageStatus;

/// Computes and records the digests of an `active` image without a hash
/// from the data at the row's location. Done (nothing to do) when the image
/// is gone, has a hash by now, or no longer has that location.
pub async fn compute_hash(app: &App, work: &Work) -> Result<(), StoreError> {
    let db = |e: DbError| StoreError::new(ErrorKind::Unavailable, format!("database: {e}"));
    let Some(image) = app.db.get_image(work.image_id).await.map_err(db)? else {
        return Ok(());
    };
    let wanted = image.status == ImageStatus::Active
        && image.os_hash_value.is_none()
        && image.locations.iter().any(|l| l.url == work.url);
    if !wanted {
        return Ok(());
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
        Ok(()) | Err(DbError::NotFound) => Ok(()),
        Err(e) => Err(db(e)),
    }
}
