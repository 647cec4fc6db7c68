//! Pending work: store operations the API could not finish, kept as rows so
//! that nothing an image ever wrote to a store becomes unreachable. A row is
//! written in the transaction of the status change that caused it and
//! removed when the reaper has done the work.
//!
//! Also here: the status changes of deletion that write such rows (delete,
//! delayed delete, scrub, restore) and the purge of soft-deleted rows.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::codec::{
    id_text, image_with_children, micros, now, parse_id, push_image_select, timestamp,
};
use super::images::{Lock, fetch_image, update_in};
use super::notifications::insert_notifications;
use super::sql::Sql;
use super::{Database, DbError, NewNotification};
use crate::domain::{Image, ImageStatus, StatusChange};

/// What a pending-work row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    /// Delete the object at `url` from `store`.
    DeleteData,
    /// Compute the image's digests from the data at `url` (its hash could
    /// not be computed when the location was added).
    ComputeHash,
    /// Copy the image's data into `store`, where an import could not write
    /// it: from the copy at `url` if it is still readable, else from any.
    CopyImage,
}

impl WorkKind {
    pub const ALL: [WorkKind; 3] = [
        WorkKind::DeleteData,
        WorkKind::ComputeHash,
        WorkKind::CopyImage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkKind::DeleteData => "delete_data",
            WorkKind::ComputeHash => "compute_hash",
            WorkKind::CopyImage => "copy_image",
        }
    }

    fn parse(s: &str) -> Option<WorkKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A row to add: what, on which object, and why it is pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWork {
    pub kind: WorkKind,
    pub image_id: Uuid,
    /// The store id, when the location names one.
    pub store: Option<String>,
    pub url: String,
    /// Why the API could not do it (the store's error, or the situation).
    pub reason: String,
}

/// A pending-work row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Work {
    pub id: i64,
    pub kind: WorkKind,
    pub image_id: Uuid,
    pub store: Option<String>,
    pub url: String,
    pub reason: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
}

/// Rows removed by a purge, per table, in the order the tables were purged.
pub type Purged = Vec<(&'static str, u64)>;

/// Child tables of `images` and the columns, after `image_id`, that key their rows.
const CHILD_TABLES: [(&str, &str); 4] = [
    ("image_members", "member"),
    ("image_properties", "name"),
    ("image_tags", "value"),
    ("image_locations", "id"),
];

/// Keys per `DELETE` when purging: far below every backend's limit on bound values.
const PURGE_CHUNK: usize = 500;

impl Database {
    /// Adds pending work on its own, when no status changes with it (the
    /// image was already gone when its data was found).
    pub async fn add_work(&self, work: &[NewWork]) -> Result<(), DbError> {
        retrying!(self, "add_work", async {
            let mut tx = self.begin_write().await?;
            insert_work(&mut tx, self, work).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Up to `limit` rows of `kind` whose next attempt is due, oldest first.
    pub async fn due_work(&self, kind: WorkKind, limit: u32) -> Result<Vec<Work>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(WORK_SELECT)
            .push(" WHERE kind = ")
            .bind(kind.as_str())
            .push(" AND next_attempt_at <= ")
            .bind(micros(now()))
            .push(" ORDER BY next_attempt_at, id LIMIT ")
            .bind(i64::from(limit));
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(work_from_row).collect()
    }

    /// Every pending row, oldest first.
    pub async fn list_work(&self) -> Result<Vec<Work>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(WORK_SELECT).push(" ORDER BY created_at, id");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(work_from_row).collect()
    }

    /// The work is done: the row goes.
    pub async fn finish_work(&self, id: i64) -> Result<(), DbError> {
        retrying!(self, "finish_work", async {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM pending_work WHERE id = ").bind(id);
            sql.build()?.execute(&self.writer).await?;
            Ok::<_, DbError>(())
        })
    }

    /// An attempt failed with `error`: count it and try again at `next`.
    pub async fn retry_work(
        &self,
        id: i64,
        error: &str,
        next: DateTime<Utc>,
    ) -> Result<(), DbError> {
        retrying!(self, "retry_work", async {
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE pending_work SET attempts = attempts + 1, last_error = ")
                .bind(error)
                .push(", next_attempt_at = ")
                .bind(micros(next))
                .push(" WHERE id = ")
                .bind(id);
            sql.build()?.execute(&self.writer).await?;
            Ok::<_, DbError>(())
        })
    }

    /// [`Database::update_image`] with pending `work` and the notifications
    /// `notes` makes from the image as saved added in the same transaction:
    /// both are recorded exactly when the change is.
    pub async fn update_image_leaving(
        &self,
        image: &Image,
        expect_status: Option<ImageStatus>,
        work: &[NewWork],
        mut notes: impl FnMut(&Image) -> Vec<NewNotification> + Send,
    ) -> Result<Image, DbError> {
        retrying!(self, "update_image_leaving", async {
            let mut tx = self.begin_write().await?;
            let saved = update_in(&mut tx, self.backend, image, expect_status).await?;
            insert_work(&mut tx, self, work).await?;
            insert_notifications(&mut tx, self.backend, &notes(&saved)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(saved)
        })
    }

    /// Deletes an image by the move `change` (to `deleted`, or to
    /// `pending_delete` when its data is to go later), with the store work
    /// left behind, in one transaction. The image disappears from reads and
    /// lists either way, and its id stays taken. `Conflict` when the stored
    /// status is no longer `change.from`; `NotFound` when it is gone. The
    /// notifications `notes` are written with the change.
    pub async fn delete_image_leaving(
        &self,
        id: Uuid,
        change: StatusChange,
        work: &[NewWork],
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "delete_image_leaving", async {
            let now = micros(now());
            let mut tx = self.begin_write().await?;
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE images SET status = ")
                .bind(change.to.as_str())
                .push(", deleted = 1, deleted_at = ")
                .bind(now)
                .push(", updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(id_text(id))
                .push(" AND deleted = 0 AND status = ")
                .bind(change.from.as_str());
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                let exists = fetch_image(&mut tx, self.backend, id, Lock::None)
                    .await?
                    .is_some();
                return Err(if exists {
                    DbError::Conflict
                } else {
                    DbError::NotFound
                });
            }
            set_location_status(&mut tx, self, id, change.to).await?;
            insert_work(&mut tx, self, work).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Up to `limit` images waiting in `pending_delete` since before `cutoff`,
    /// longest waiting first, with their locations.
    pub async fn pending_deletes(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Image>, DbError> {
        let mut sql = Sql::new(self.backend);
        push_image_select(&mut sql)
            .push(" FROM images i WHERE i.deleted = 1 AND i.status = ")
            .push_word("pending_delete")
            .push(" AND i.deleted_at <= ")
            .bind(micros(cutoff))
            .push(" ORDER BY i.deleted_at, i.id LIMIT ")
            .bind(i64::from(limit));
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        Ok(rows
            .iter()
            .map(image_with_children)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Image `id` if it waits in `pending_delete`, with its locations.
    pub async fn pending_delete_image(&self, id: Uuid) -> Result<Option<Image>, DbError> {
        let mut sql = Sql::new(self.backend);
        push_image_select(&mut sql)
            .push(" FROM images i WHERE i.id = ")
            .bind(id_text(id))
            .push(" AND i.deleted = 1 AND i.status = ")
            .push_word("pending_delete");
        self.one_image(sql).await
    }

    /// Image `id`, deleted or not, with its children; `None` when no such
    /// id was ever used (or its row was purged).
    pub async fn image_any(&self, id: Uuid) -> Result<Option<Image>, DbError> {
        let mut sql = Sql::new(self.backend);
        push_image_select(&mut sql)
            .push(" FROM images i WHERE i.id = ")
            .bind(id_text(id));
        self.one_image(sql).await
    }

    /// The image `sql` selects (with `push_image_select`), with its children.
    async fn one_image(&self, sql: Sql) -> Result<Option<Image>, DbError> {
        let row = sql.build()?.fetch_optional(&self.reader).await?;
        row.as_ref().map(image_with_children).transpose()
    }

    /// The status of image `id`, deleted or not; `None` when no such id was ever used.
    pub async fn image_status_any(&self, id: Uuid) -> Result<Option<ImageStatus>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT status FROM images WHERE id = ")
            .bind(id_text(id));
        let Some(row) = sql.build()?.fetch_optional(&self.reader).await? else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        ImageStatus::parse(&status)
            .map(Some)
            .ok_or_else(|| super::codec::invalid("images.status", status))
    }

    /// Ends a delayed deletion by `change` (`pending_delete → deleted` once
    /// the data is gone, `pending_delete → active` for a restore), with the
    /// store work left behind, in one transaction. A restored image is back
    /// in reads and lists. `Conflict` when the image is not pending deletion.
    pub async fn end_pending_delete(
        &self,
        id: Uuid,
        change: StatusChange,
        work: &[NewWork],
    ) -> Result<(), DbError> {
        retrying!(self, "end_pending_delete", async {
            let now = micros(now());
            let mut tx = self.begin_write().await?;
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE images SET status = ")
                .bind(change.to.as_str())
                .push(", updated_at = ")
                .bind(now);
            if change.to != ImageStatus::Deleted {
                sql.push(", deleted = 0, deleted_at = NULL");
            }
            sql.push(" WHERE id = ")
                .bind(id_text(id))
                .push(" AND deleted = 1 AND status = ")
                .bind(change.from.as_str());
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::Conflict);
            }
            set_location_status(&mut tx, self, id, change.to).await?;
            insert_work(&mut tx, self, work).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Removes the rows of images deleted (not pending deletion) before
    /// `cutoff` from the child tables, then expired and deleted tasks: at
    /// most `max_rows` per table (`None`: all). The image rows themselves
    /// stay, so their ids stay taken; see [`Database::purge_images_table`].
    pub async fn purge_deleted(
        &self,
        cutoff: DateTime<Utc>,
        max_rows: Option<u64>,
    ) -> Result<Purged, DbError> {
        let mut purged = Vec::new();
        for (table, key) in CHILD_TABLES {
            let mut sql = Sql::new(self.backend);
            sql.push("SELECT c.image_id, c.")
                .push(key)
                .push(" AS k FROM ")
                .push(table)
                .push(" c JOIN images i ON i.id = c.image_id WHERE ");
            purgeable_image(&mut sql, cutoff);
            limit(&mut sql, max_rows);
            let rows = sql.build()?.fetch_all(&self.reader).await?;
            let mut keys = Vec::with_capacity(rows.len());
            for row in &rows {
                let image: String = row.try_get("image_id")?;
                let k = if key == "id" {
                    row.try_get::<i64, _>("k")?.to_string()
                } else {
                    row.try_get::<String, _>("k")?
                };
                keys.push((image, k));
            }
            let mut count = 0;
            let mut tx = self.begin_write().await?;
            for chunk in keys.chunks(PURGE_CHUNK) {
                let mut sql = Sql::new(self.backend);
                sql.push("DELETE FROM ").push(table).push(" WHERE ");
                for (n, (image, k)) in chunk.iter().enumerate() {
                    if n > 0 {
                        sql.push(" OR ");
                    }
                    sql.push("(image_id = ")
                        .bind(image.as_str())
                        .push(" AND ")
                        .push(key)
                        .push(" = ");
                    if key == "id" {
                        sql.bind(k.parse::<i64>().unwrap_or(-1));
                    } else {
                        sql.bind(k.as_str());
                    }
                    sql.push(")");
                }
                count += sql.build()?.execute(&mut *tx).await?.rows_affected();
            }
            self.commit(tx).await?;
            purged.push((table, count));
        }

        // Tasks are never soft-deleted one by one: an expired task is what
        // Glance soft-deletes, so its expiry is its deletion time.
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT id FROM tasks WHERE (deleted = 1 AND updated_at < ")
            .bind(micros(cutoff))
            .push(") OR (expires_at IS NOT NULL AND expires_at < ")
            .bind(micros(cutoff))
            .push(") ORDER BY created_at");
        limit(&mut sql, max_rows);
        let ids = column_text(self, sql, "id").await?;
        purged.push(("tasks", self.delete_by_id("tasks", &ids).await?));
        Ok(purged)
    }

    /// Removes the rows of images deleted before `cutoff` that have no child
    /// rows left (purge those first), at most `max_rows` (`None`: all). Their
    /// ids become free for reuse: run this only when nothing refers to them.
    pub async fn purge_images_table(
        &self,
        cutoff: DateTime<Utc>,
        max_rows: Option<u64>,
    ) -> Result<Purged, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT i.id FROM images i WHERE ");
        purgeable_image(&mut sql, cutoff);
        for (table, _) in CHILD_TABLES {
            sql.push(" AND NOT EXISTS (SELECT 1 FROM ")
                .push(table)
                .push(" c WHERE c.image_id = i.id)");
        }
        sql.push(" AND NOT EXISTS (SELECT 1 FROM pending_work w WHERE w.image_id = i.id)");
        limit(&mut sql, max_rows);
        let ids = column_text(self, sql, "id").await?;
        Ok(vec![("images", self.delete_by_id("images", &ids).await?)])
    }

    async fn delete_by_id(&self, table: &str, ids: &[String]) -> Result<u64, DbError> {
        let mut count = 0;
        let mut tx = self.begin_write().await?;
        for chunk in ids.chunks(PURGE_CHUNK) {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM ")
                .push(table)
                .push(" WHERE ")
                .push_in("id", chunk.iter().map(String::as_str));
            count += sql.build()?.execute(&mut *tx).await?.rows_affected();
        }
        self.commit(tx).await?;
        Ok(count)
    }
}

const WORK_SELECT: &str = "SELECT id, kind, image_id, store, url, reason, attempts, last_error, \
     created_at, next_attempt_at FROM pending_work";

fn work_from_row(row: &sqlx::any::AnyRow) -> Result<Work, DbError> {
    let kind: String = row.try_get("kind")?;
    let image: String = row.try_get("image_id")?;
    Ok(Work {
        id: row.try_get("id")?,
        kind: WorkKind::parse(&kind)
            .ok_or_else(|| super::codec::invalid("pending_work.kind", kind))?,
        image_id: parse_id("pending_work.image_id", &image)?,
        store: row.try_get("store")?,
        url: row.try_get("url")?,
        reason: row.try_get("reason")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: timestamp(row, "created_at")?,
        next_attempt_at: timestamp(row, "next_attempt_at")?,
    })
}

pub(super) async fn insert_work(
    conn: &mut AnyConnection,
    db: &Database,
    work: &[NewWork],
) -> Result<(), DbError> {
    if work.is_empty() {
        return Ok(());
    }
    let now = micros(now());
    let mut sql = Sql::new(db.backend);
    sql.push(
        "INSERT INTO pending_work (kind, image_id, store, url, reason, created_at, next_attempt_at) VALUES ",
    )
    .push_rows(work, |row, w| {
        row.bind(w.kind.as_str())
            .bind(id_text(w.image_id))
            .bind(w.store.clone())
            .bind(w.url.as_str())
            .bind(w.reason.as_str())
            .bind(now)
            .bind(now);
    });
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}

/// Locations follow their image through deletion: `pending_delete` while
/// they wait for the reaper, `deleted` after, `active` again on restore.
async fn set_location_status(
    conn: &mut AnyConnection,
    db: &Database,
    id: Uuid,
    status: ImageStatus,
) -> Result<(), DbError> {
    let mut sql = Sql::new(db.backend);
    sql.push("UPDATE image_locations SET status = ")
        .bind(status.as_str())
        .push(" WHERE image_id = ")
        .bind(id_text(id));
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}

/// `i` is deleted for good (not waiting in `pending_delete`) since before `cutoff`.
fn purgeable_image(sql: &mut Sql, cutoff: DateTime<Utc>) {
    sql.push("i.deleted = 1 AND i.status = ")
        .push_word("deleted")
        .push(" AND i.deleted_at < ")
        .bind(micros(cutoff));
}

fn limit(sql: &mut Sql, max_rows: Option<u64>) {
    if let Some(max) = max_rows {
        sql.push(" LIMIT ")
            .bind(i64::try_from(max).unwrap_or(i64::MAX));
    }
}

async fn column_text(db: &Database, sql: Sql, column: &str) -> Result<Vec<String>, DbError> {
    let rows = sql.build()?.fetch_all(&db.reader).await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>(column)?))
        .collect()
}
