//! Repair: each copy of an image the auditor found damaged is written again
//! from a healthy copy. Steps, per damaged location:
//! 1. pick the source: an active copy with no damage recorded, whose content
//!    audit passes now (so a repair never spreads bad bytes);
//! 2. delete the damaged object (a missing one is fine) and copy the source
//!    into the damaged copy's store;
//! 3. check the new copy's size; record it as audited; if the store put it
//!    at another URL, the location is replaced.

use uuid::Uuid;

use super::content::{self, Pace};
use super::{DAMAGED, presence, record};
use crate::app::App;
use crate::db::{AuditKind, DbError};
use crate::domain::{Image, ImageStatus, Location};
use crate::service::stores::copy_image_data;
use crate::service::{ServiceError, ServiceResult};

/// What a repair did, location by location.
#[derive(Debug, Default, serde::Serialize)]
pub struct RepairReport {
    pub image_id: Option<Uuid>,
    /// The damaged URLs written again, with the URL of their new copy.
    pub repaired: Vec<(String, String)>,
    /// The damaged URLs that could not be repaired, with why.
    pub failed: Vec<(String, String)>,
}

/// Repairs every damaged copy of image `id`.
pub async fn repair(app: &App, id: Uuid) -> ServiceResult<RepairReport> {
    let image = app
        .db
        .get_image(id)
        .await?
        .filter(|i| i.status == ImageStatus::Active)
        .ok_or(ServiceError::ImageNotFound(id))?;
    let damaged: Vec<String> = app
        .db
        .audit_results(false, Some(id))
        .await?
        .into_iter()
        .filter(|r| r.kind != AuditKind::Orphan && DAMAGED.contains(&r.outcome.as_str()))
        .map(|r| r.url)
        .collect();
    let mut report = RepairReport {
        image_id: Some(id),
        ..RepairReport::default()
    };
    let (broken, candidates): (Vec<Location>, Vec<Location>) = image
        .locations
        .iter()
        .filter(|l| l.status == "active")
        .cloned()
        .partition(|l| damaged.contains(&l.url));
    if broken.is_empty() {
        return Ok(report);
    }
    let Some(source) = healthy_source(app, &image, &candidates).await? else {
        for location in broken {
            report
                .failed
                .push((location.url, "no healthy copy to repair from".into()));
        }
        return Ok(report);
    };
    for location in broken {
        match repair_one(app, &image, &source, &location).await {
            Ok(url) => {
                tracing::info!(image = %id, from = %source.url, to = %url, "audit: damaged copy repaired");
                report.repaired.push((location.url, url));
            }
            Err(e) => {
                tracing::warn!(image = %id, url = %location.url, error = %e, "audit: repair failed");
                report.failed.push((location.url, e.to_string()));
            }
        }
    }
    Ok(report)
}

/// The first candidate whose content audit passes now (recorded as such).
async fn healthy_source(
    app: &App,
    image: &Image,
    candidates: &[Location],
) -> Result<Option<Location>, DbError> {
    for location in candidates {
        let Some(store) = location.store().and_then(|s| app.stores.get(s)) else {
            continue;
        };
        let audit = content::check(store, image, location, Pace::mb_per_sec(0)).await;
        record(&app.db, &audit.result).await?;
        if audit.result.is_ok() {
            return Ok(Some(location.clone()));
        }
    }
    Ok(None)
}

/// Writes `broken` again from `source`; the URL of the new copy.
async fn repair_one(
    app: &App,
    image: &Image,
    source: &Location,
    broken: &Location,
) -> ServiceResult<String> {
    let store_id = broken
        .store()
        .ok_or(ServiceError::LocationWithoutStore(image.id))?;
    let store = crate::service::stores::open_store(app, store_id)?;
    match store.delete(&broken.url).await {
        Ok(()) => {}
        Err(e) if e.kind == glint_sdk::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    // The data was verified when it was first written; a repair copies the same bytes.
    let copy = copy_image_data(app, None, image, source, store_id, None).await?;
    let check = presence(store, image, &copy).await;
    record(&app.db, &check).await?;
    if !check.is_ok() {
        let why = format!(
            "the new copy failed its check: {} expected, {} found",
            check.expected, check.found
        );
        return Err(glint_sdk::StoreError::new(glint_sdk::ErrorKind::Unexpected, why).into());
    }
    if copy.url != broken.url {
        app.db
            .remove_location(image.id, &broken.url, &[ImageStatus::Active])
            .await?;
        crate::service::locations::add(app, image.id, store_id, &copy.url, copy.metadata.clone())
            .await?;
    }
    app.db.clear_audit(AuditKind::Content, &broken.url).await?;
    if copy.url != broken.url {
        app.db.clear_audit(AuditKind::Presence, &broken.url).await?;
    }
    Ok(copy.url)
}
