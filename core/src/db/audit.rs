//! The auditor's rows: what each check of a location found (`audit_results`),
//! and the reads the auditor makes of images and locations.
//!
//! One row per (kind, location URL): a new check replaces the row, keeping
//! when the location first failed while it keeps failing. Only the `audit`
//! job (one node at a time, under its lease) and the `glint audit` commands
//! (under the same lease) write them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::codec::{
    id_text, image_with_children, micros, now, parse_id, push_image_select, timestamp,
};
use super::sql::Sql;
use super::work::insert_work;
use super::{Database, DbError, NewWork};
use crate::domain::Image;

/// Which check a row reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// The object exists with the image's size.
    Presence,
    /// The object's bytes have the image's checksum and hash.
    Content,
    /// Data in a store that no location names.
    Orphan,
}

impl AuditKind {
    pub const ALL: [AuditKind; 3] = [AuditKind::Presence, AuditKind::Content, AuditKind::Orphan];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Presence => "presence",
            AuditKind::Content => "content",
            AuditKind::Orphan => "orphan",
        }
    }

    fn parse(s: &str) -> Option<AuditKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The outcome of a check that found nothing wrong.
pub const OUTCOME_OK: &str = "ok";

/// Outcomes that say a copy is damaged: the download path avoids such a
/// copy while another is healthy, and a repair replaces it. A store that
/// could not be asked (`unreadable`) proves nothing either way.
pub const DAMAGED: [&str; 4] = [
    "missing",
    "size_mismatch",
    "checksum_mismatch",
    "hash_mismatch",
];

/// A check's result, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditResult {
    pub kind: AuditKind,
    /// The image the location belongs to (the nil id for an orphan whose name is no image id).
    pub image_id: Uuid,
    pub store: String,
    pub url: String,
    /// [`OUTCOME_OK`], or a word for what was wrong (`missing`, `size_mismatch`, …).
    pub outcome: String,
    pub expected: String,
    pub found: String,
}

impl NewAuditResult {
    pub fn is_ok(&self) -> bool {
        self.outcome == OUTCOME_OK
    }
}

/// A recorded result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditResult {
    pub id: i64,
    pub kind: AuditKind,
    pub image_id: Uuid,
    pub store: String,
    pub url: String,
    pub outcome: String,
    pub expected: String,
    pub found: String,
    /// When the location first failed this check, while it keeps failing.
    pub first_failed_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
}

impl AuditResult {
    pub fn is_ok(&self) -> bool {
        self.outcome == OUTCOME_OK
    }
}

const AUDIT_SELECT: &str = "SELECT id, kind, image_id, store, url, outcome, expected, found, \
                            first_failed_at, checked_at FROM audit_results";

impl Database {
    /// Records `result`, replacing the row of the same kind and URL. Returns
    /// the row as stored (a failure keeps the time it first failed).
    pub async fn record_audit(&self, result: &NewAuditResult) -> Result<AuditResult, DbError> {
        let mut tx = self.begin_write().await?;
        let stored = record_in(&mut tx, self, result).await?;
        self.commit(tx).await?;
        Ok(stored)
    }

    /// Hands orphaned data over to the reaper: the `delete_data` rows and
    /// the orphan's audit row (`handed_to_reaper`) in one transaction.
    pub async fn hand_over_orphans(
        &self,
        orphans: &[(NewWork, NewAuditResult)],
    ) -> Result<(), DbError> {
        if orphans.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let work: Vec<NewWork> = orphans.iter().map(|(w, _)| w.clone()).collect();
        insert_work(&mut tx, self, &work).await?;
        for (_, result) in orphans {
            record_in(&mut tx, self, result).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// The recorded results, failures only unless `all`, of one image when
    /// `image` is given; newest check first.
    pub async fn audit_results(
        &self,
        all: bool,
        image: Option<Uuid>,
    ) -> Result<Vec<AuditResult>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(AUDIT_SELECT).push(" WHERE 1 = 1");
        if !all {
            sql.push(" AND outcome <> ").bind(OUTCOME_OK);
        }
        if let Some(id) = image {
            sql.push(" AND image_id = ").bind(id_text(id));
        }
        sql.push(" ORDER BY checked_at DESC, id DESC");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The URLs among `urls` of image `image` that the auditor found damaged
    /// (presence or content) when it last checked them.
    pub async fn damaged_locations(
        &self,
        image: Uuid,
        urls: &[&str],
    ) -> Result<HashSet<String>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT url FROM audit_results WHERE image_id = ")
            .bind(id_text(image))
            .push(" AND kind <> ")
            .bind(AuditKind::Orphan.as_str())
            .push(" AND ")
            .push_in("outcome", DAMAGED)
            .push(" AND ")
            .push_in("url", urls.iter().copied());
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>("url").map_err(DbError::from))
            .collect()
    }

    /// Forgets what was recorded of `url` for `kind` (the location was repaired or is gone).
    pub async fn clear_audit(&self, kind: AuditKind, url: &str) -> Result<(), DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("DELETE FROM audit_results WHERE kind = ")
            .bind(kind.as_str())
            .push(" AND url = ")
            .bind(url);
        sql.build()?.execute(&self.writer).await?;
        Ok(())
    }

    /// Removes the presence and content rows of locations no live image has
    /// any more (deleted images, removed or replaced locations); how many.
    pub async fn prune_audit(&self) -> Result<u64, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("DELETE FROM audit_results WHERE kind <> ")
            .bind(AuditKind::Orphan.as_str())
            .push(
                " AND NOT EXISTS (SELECT 1 FROM image_locations l JOIN images i ON i.id = l.image_id \
                 WHERE l.image_id = audit_results.image_id AND l.url = audit_results.url AND i.deleted = 0)",
            );
        Ok(sql.build()?.execute(&self.writer).await?.rows_affected())
    }

    /// Up to `limit` active images with an id after `after`, in id order,
    /// with their locations: the auditor's walk over the catalogue.
    pub async fn active_images_after(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Image>, DbError> {
        let mut sql = Sql::new(self.backend);
        push_image_select(&mut sql)
            .push(" FROM images i WHERE i.deleted = 0 AND i.status = ")
            .push_word("active");
        if let Some(after) = after {
            sql.push(" AND i.id > ").bind(id_text(after));
        }
        sql.push(" ORDER BY i.id LIMIT ").bind(i64::from(limit));
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        Ok(rows
            .iter()
            .map(image_with_children)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Which of `urls` some location (of any image, in any status) or some
    /// pending work names: data that is not an orphan.
    pub async fn named_urls(&self, urls: &[String]) -> Result<HashSet<String>, DbError> {
        let mut named = HashSet::new();
        for chunk in urls.chunks(200) {
            for table in ["image_locations", "pending_work"] {
                let mut sql = Sql::new(self.backend);
                sql.push("SELECT url FROM ")
                    .push(table)
                    .push(" WHERE ")
                    .push_in("url", chunk.iter().map(String::as_str));
                for row in sql.build()?.fetch_all(&self.reader).await? {
                    named.insert(row.try_get::<String, _>("url")?);
                }
            }
        }
        Ok(named)
    }
}

async fn record_in(
    conn: &mut AnyConnection,
    db: &Database,
    result: &NewAuditResult,
) -> Result<AuditResult, DbError> {
    let now = now();
    let mut sql = Sql::new(db.backend);
    sql.push(AUDIT_SELECT)
        .push(" WHERE kind = ")
        .bind(result.kind.as_str())
        .push(" AND url = ")
        .bind(result.url.as_str());
    let previous = sql
        .build()?
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(audit_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let first_failed_at = match previous.iter().find_map(|p| p.first_failed_at) {
        _ if result.is_ok() => None,
        Some(first) => Some(first),
        None => Some(now),
    };
    let mut sql = Sql::new(db.backend);
    sql.push("DELETE FROM audit_results WHERE kind = ")
        .bind(result.kind.as_str())
        .push(" AND url = ")
        .bind(result.url.as_str());
    sql.build()?.execute(&mut *conn).await?;
    let mut sql = Sql::new(db.backend);
    sql.push(
        "INSERT INTO audit_results (kind, image_id, store, url, outcome, expected, found, \
         first_failed_at, checked_at) VALUES ",
    )
    .push_rows([result], |row, r| {
        row.bind(r.kind.as_str())
            .bind(id_text(r.image_id))
            .bind(r.store.as_str())
            .bind(r.url.as_str())
            .bind(r.outcome.as_str())
            .bind(r.expected.as_str())
            .bind(r.found.as_str())
            .bind(first_failed_at.map(micros))
            .bind(micros(now));
    });
    sql.build()?.execute(&mut *conn).await?;
    Ok(AuditResult {
        id: previous.first().map_or(0, |p| p.id),
        kind: result.kind,
        image_id: result.image_id,
        store: result.store.clone(),
        url: result.url.clone(),
        outcome: result.outcome.clone(),
        expected: result.expected.clone(),
        found: result.found.clone(),
        first_failed_at,
        checked_at: super::codec::truncate(now),
    })
}

fn audit_from_row(row: &sqlx::any::AnyRow) -> Result<AuditResult, DbError> {
    let kind: String = row.try_get("kind")?;
    let image_id: String = row.try_get("image_id")?;
    let first: Option<i64> = row.try_get("first_failed_at")?;
    Ok(AuditResult {
        id: row.try_get("id")?,
        kind: AuditKind::parse(&kind)
            .ok_or_else(|| super::codec::invalid("audit_results.kind", &kind))?,
        image_id: parse_id("audit_results.image_id", &image_id)?,
        store: row.try_get("store")?,
        url: row.try_get("url")?,
        outcome: row.try_get("outcome")?,
        expected: row.try_get("expected")?,
        found: row.try_get("found")?,
        first_failed_at: first.and_then(DateTime::from_timestamp_micros),
        checked_at: timestamp(row, "checked_at")?,
    })
}
