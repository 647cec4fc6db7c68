//! The orphan audit of one store: every object its driver lists (store
//! plugin ABI 1.3) that no location of any image, in any status, and no
//! pending work names. An orphan is recorded when first seen; once it is
//! older than the grace period (by the store's modification time, or since
//! it was first seen when the store keeps none) it is handed to the reaper
//! as a `delete_data` row. Nothing here deletes data itself.
//!
//! A store may also list the temporary object of a write that died (`.<image id>.tmp-…`, as
//! the file and rbd stores name them; they list one only once no writer holds it). It is
//! reported as an orphan of its image, as the leftover of an unfinished write, and goes the same
//! way, except while the database says its image is being written or copied (a writer on
//! another node may have just replaced it).

use chrono::Utc;
use uuid::Uuid;

use crate::db::{AuditKind, Database, DbError, NewAuditResult, NewWork, WorkKind};
use crate::store::StoreHandle;

/// The outcome of an orphan still within its grace period.
pub const ORPHAN: &str = "orphan";
/// The outcome of an orphan handed to the reaper.
pub const HANDED_TO_REAPER: &str = "handed_to_reaper";

/// What one store's orphan audit found.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct OrphanCounts {
    /// Objects the store listed.
    pub listed: u64,
    /// Of those, named by no location or work, still within the grace period.
    pub orphans: u64,
    /// Orphans handed to the reaper.
    pub handed_over: u64,
}

/// Why an orphan audit of a store stopped.
#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error("listing store '{store}': {error}")]
    Store {
        store: String,
        error: glint_sdk::StoreError,
    },
    #[error("database: {0}")]
    Db(#[from] DbError),
}

/// Audits `store` for orphans, handing those older than `grace` to the reaper.
pub async fn audit_store(
    db: &Database,
    store: &StoreHandle,
    grace: std::time::Duration,
) -> Result<OrphanCounts, OrphanError> {
    let mut counts = OrphanCounts::default();
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list(cursor.as_deref())
            .await
            .map_err(|error| OrphanError::Store {
                store: store.id().to_owned(),
                error,
            })?;
        counts.listed += page.objects.len() as u64;
        let urls: Vec<String> = page.objects.iter().map(|o| o.location.clone()).collect();
        let named = db.named_urls(&urls).await?;
        let mut handed = Vec::new();
        for object in page.objects.iter().filter(|o| !named.contains(&o.location)) {
            let temporary = temporary_of(&object.location);
            if let Some(id) = temporary
                && being_written(db, id).await?
            {
                continue;
            }
            let mut row = orphan_row(store.id(), &object.location, object.size);
            let seen = super::record(db, &row).await?;
            let since = object
                .modified
                .and_then(|secs| chrono::DateTime::from_timestamp(secs as i64, 0))
                .or(seen.first_failed_at)
                .unwrap_or_else(Utc::now);
            if Utc::now() - since < grace {
                counts.orphans += 1;
                continue;
            }
            row.outcome = HANDED_TO_REAPER.to_owned();
            let work = NewWork {
                kind: WorkKind::DeleteData,
                image_id: row.image_id,
                store: Some(store.id().to_owned()),
                url: object.location.clone(),
                reason: format!(
                    "orphan: {} (auditor, older than {}s)",
                    if temporary.is_some() {
                        "temporary object of a write that died"
                    } else {
                        "no location names it"
                    },
                    grace.num_seconds()
                ),
            };
            handed.push((work, row));
        }
        counts.handed_over += handed.len() as u64;
        for (_, row) in &handed {
            tracing::warn!(store = %row.store, url = %crate::fetch::redact(&row.url), "audit: orphaned data handed to the reaper");
        }
        db.hand_over_orphans(&handed).await?;
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(counts),
        }
    }
}

fn orphan_row(store: &str, url: &str, size: u64) -> NewAuditResult {
    let temporary = temporary_of(url);
    NewAuditResult {
        kind: AuditKind::Orphan,
        image_id: temporary
            .or_else(|| image_id_in(url))
            .unwrap_or(Uuid::nil()),
        store: store.to_owned(),
        url: url.to_owned(),
        outcome: ORPHAN.to_owned(),
        expected: "a location naming it".to_owned(),
        found: match temporary {
            Some(_) => format!("{size} bytes of an unfinished write, named by no location"),
            None => format!("{size} bytes named by no location"),
        },
    }
}

/// Whether the image is being written or copied, as the database says: its temporary objects
/// may be a live writer's.
async fn being_written(db: &Database, id: Uuid) -> Result<bool, DbError> {
    let Some(image) = db.image_any(id).await? else {
        return Ok(false);
    };
    Ok(crate::service::import::is_being_written(&image))
}

/// The image id of a temporary object's URL: one whose path has a segment
/// `.<image id>.tmp-<suffix>` (`file:///…/.<id>.tmp-…`, `rbd://…/.<id>.tmp-…/snap`).
fn temporary_of(url: &str) -> Option<Uuid> {
    url.rsplit('/').find_map(|segment| {
        let (id, suffix) = segment.strip_prefix('.')?.split_once(".tmp-")?;
        let id = Uuid::parse_str(id).ok()?;
        (!suffix.is_empty()).then_some(id)
    })
}

/// The image id an object's URL names, if its path has a segment that is one
/// (`file:///…/<id>`, `swift://…/<container>/<id>`, `rbd://…/<id>/snap`).
fn image_id_in(url: &str) -> Option<Uuid> {
    url.rsplit('/')
        .filter_map(|segment| Uuid::parse_str(segment).ok())
        .find(|id| url.contains(&id.hyphenated().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_are_read_from_the_url_path() {
        let id = Uuid::new_v4();
        assert_eq!(image_id_in(&format!("file:///srv/images/{id}")), Some(id));
        assert_eq!(
            image_id_in(&format!("rbd://fsid/images/{id}/snap")),
            Some(id)
        );
        assert_eq!(image_id_in("file:///srv/images/notes.txt"), None);
    }

    #[test]
    fn temporary_objects_are_known_by_their_names() {
        let id = Uuid::new_v4();
        for url in [
            format!("file:///srv/images/.{id}.tmp-1f-0-3a"),
            format!("rbd://fsid/images/.{id}.tmp-1f-0-3a/snap"),
        ] {
            assert_eq!(temporary_of(&url), Some(id), "{url}");
            assert_eq!(orphan_row("s", &url, 7).image_id, id);
            assert!(orphan_row("s", &url, 7).found.contains("unfinished write"));
        }
        for url in [
            format!("file:///srv/images/{id}"),
            format!("rbd://fsid/images/{id}/snap"),
            format!("file:///srv/images/.{id}"),
            format!("file:///srv/images/.{id}.tmp-"),
            "file:///srv/images/.notes.tmp-1".to_owned(),
        ] {
            assert_eq!(temporary_of(&url), None, "{url}");
        }
    }
}
