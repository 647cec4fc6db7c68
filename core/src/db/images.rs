//! Image rows and their child tables: create, read, update, tag, delete.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::Row;
use uuid::Uuid;

use super::codec::{
    IMAGE_COLUMNS, children_from_row, flag, id_text, image_from_row, image_with_children,
    metadata_to_text, micros, now, push_children_select, push_image_select, truncate,
};
use super::error::is_unique_violation;
use super::notifications::{insert_notifications, push_notifications};
use super::sql::{Batch, Sql, Value};
use super::{Backend, Database, DbError, NewNotification};
use crate::domain::{Image, ImageStatus};

impl Database {
    /// Stores a new image with its tags, properties and locations.
    /// Timestamps are kept to the microsecond.
    ///
    /// An id that was ever used, even by a deleted image, is a `Duplicate`.
    pub async fn create_image(&self, image: &Image) -> Result<(), DbError> {
        self.create_image_noting(image, &[]).await
    }

    /// [`Database::create_image`] with the notifications it causes written
    /// in the same transaction.
    pub async fn create_image_noting(
        &self,
        image: &Image,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_image", async {
            let mut batch = Batch::new(self.backend);
            let sql = batch.statement();
            sql.push("INSERT INTO images (id, created_at, updated_at, deleted");
            let base = base_values(image);
            for (column, _) in &base {
                sql.push(", ").push(column);
            }
            sql.push(") VALUES ").push_rows([base], |row, base| {
                row.bind(id_text(image.id))
                    .bind(micros(image.created_at))
                    .bind(micros(image.updated_at))
                    .bind(flag(false));
                for (_, value) in base {
                    row.bind_value(value);
                }
            });
            push_children(&mut batch, image);
            push_notifications(&mut batch, notes);

            // Only the image's own row can collide: its children are sets
            // keyed by the new id.
            match self.write_batch(batch).await {
                Err(DbError::Backend(err)) if is_unique_violation(&err) => Err(DbError::Duplicate),
                result => result,
            }
        })
    }

    /// The image with this id, unless it does not exist or is deleted.
    /// One statement reads the image and its children, so they are of one
    /// moment.
    pub async fn get_image(&self, id: Uuid) -> Result<Option<Image>, DbError> {
        retrying!(self, "get_image", async {
            let mut sql = Sql::new(self.backend);
            push_image_select(&mut sql)
                .push(" FROM images i WHERE i.id = ")
                .bind(id_text(id))
                .push(" AND i.deleted = 0");
            let row = sql.build()?.fetch_optional(&self.reader).await?;
            row.as_ref().map(image_with_children).transpose()
        })
    }

    /// Saves every field of `image` and replaces its tags, properties and
    /// locations; `updated_at` becomes now. Returns the image as saved.
    ///
    /// With `expect_status`, the write happens only if the stored status is
    /// still that one (compare-and-set in the `UPDATE` itself), else
    /// `Conflict` and nothing is written. A missing or deleted image is `NotFound`.
    pub async fn update_image(
        &self,
        image: &Image,
        expect_status: Option<ImageStatus>,
    ) -> Result<Image, DbError> {
        self.update_image_noting(image, expect_status, |_| Vec::new())
            .await
    }

    /// [`Database::update_image`] with the notifications it causes, made by
    /// `notes` from the image as saved, written in the same transaction.
    pub async fn update_image_noting(
        &self,
        image: &Image,
        expect_status: Option<ImageStatus>,
        mut notes: impl FnMut(&Image) -> Vec<NewNotification> + Send,
    ) -> Result<Image, DbError> {
        retrying!(self, "update_image", async {
            let mut tx = self.begin_write().await?;
            let saved = update_in(&mut tx, self.backend, image, expect_status).await?;
            insert_notifications(&mut tx, self.backend, &notes(&saved)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(saved)
        })
    }

    /// Adds a tag; adding one that is already there succeeds. Either way the
    /// image's `updated_at` moves, as in Glance.
    pub async fn add_tag(&self, id: Uuid, tag: &str) -> Result<(), DbError> {
        self.add_tag_noting(id, tag, |_| Vec::new()).await
    }

    /// [`Database::add_tag`] with the notifications it causes, made by
    /// `notes` from the new `updated_at`, written in the same transaction.
    pub async fn add_tag_noting(
        &self,
        id: Uuid,
        tag: &str,
        mut notes: impl FnMut(DateTime<Utc>) -> Vec<NewNotification> + Send,
    ) -> Result<(), DbError> {
        retrying!(self, "add_tag", async {
            let mut tx = self.begin_write().await?;
            let updated_at = touch(&mut tx, self.backend, id).await?;
            let mut sql = Sql::new(self.backend);
            sql.push("INSERT INTO image_tags (image_id, value) VALUES (")
                .bind(id_text(id))
                .push(", ")
                .bind(tag)
                .push(")");
            sql.push(match self.backend {
                Backend::Sqlite | Backend::Postgres => " ON CONFLICT DO NOTHING",
                Backend::MySql => " ON DUPLICATE KEY UPDATE value = value",
            });
            sql.build()?.execute(&mut *tx).await?;
            insert_notifications(&mut tx, self.backend, &notes(updated_at)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Removes a tag; `false` when the image did not have it (and then
    /// nothing changes).
    pub async fn remove_tag(&self, id: Uuid, tag: &str) -> Result<bool, DbError> {
        self.remove_tag_noting(id, tag, |_| Vec::new()).await
    }

    /// [`Database::remove_tag`] with the notifications it causes, made by
    /// `notes` from the new `updated_at`, written in the same transaction
    /// (none when the image did not have the tag).
    pub async fn remove_tag_noting(
        &self,
        id: Uuid,
        tag: &str,
        mut notes: impl FnMut(DateTime<Utc>) -> Vec<NewNotification> + Send,
    ) -> Result<bool, DbError> {
        retrying!(self, "remove_tag", async {
            let mut tx = self.begin_write().await?;
            let updated_at = touch(&mut tx, self.backend, id).await?;
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM image_tags WHERE image_id = ")
                .bind(id_text(id))
                .push(" AND value = ")
                .bind(tag);
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            insert_notifications(&mut tx, self.backend, &notes(updated_at)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(true)
        })
    }

    /// Soft-deletes an image: it disappears from reads and lists, and its id
    /// stays taken. Returns the image as it was, so the caller can remove its data.
    pub async fn delete_image(&self, id: Uuid) -> Result<Image, DbError> {
        retrying!(self, "delete_image", async {
            let mut tx = self.begin_write().await?;
            let mut image = fetch_image(&mut tx, self.backend, id, Lock::ForUpdate)
                .await?
                .ok_or(DbError::NotFound)?;
            load_children(&mut tx, self.backend, std::slice::from_mut(&mut image)).await?;

            let now = micros(now());
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE images SET status = ")
                .bind(ImageStatus::Deleted.as_str())
                .push(", deleted = 1, deleted_at = ")
                .bind(now)
                .push(", updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(id_text(id));
            sql.build()?.execute(&mut *tx).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(image)
        })
    }

    /// How many images (not deleted) `owner` has, for quotas.
    pub async fn count_images(&self, owner: &str) -> Result<u64, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT COUNT(*) AS n FROM images WHERE deleted = 0 AND owner = ")
            .bind(owner);
        let row = sql.build()?.fetch_one(&self.reader).await?;
        let count: i64 = row.try_get("n")?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}

/// The columns create and update write from an image, with their values.
fn base_values(image: &Image) -> [(&'static str, Value); 15] {
    let text = |v: &Option<String>| Value::Text(v.clone());
    let word = |v: &str| Value::Text(Some(v.to_owned()));
    [
        ("name", text(&image.name)),
        ("status", word(image.status.as_str())),
        ("visibility", word(image.visibility.as_str())),
        ("protected", Value::Int(Some(flag(image.protected)))),
        ("os_hidden", Value::Int(Some(flag(image.os_hidden)))),
        ("checksum", text(&image.checksum)),
        ("os_hash_algo", text(&image.os_hash_algo)),
        ("os_hash_value", text(&image.os_hash_value)),
        ("owner", text(&image.owner)),
        ("size", Value::Int(image.size)),
        ("virtual_size", Value::Int(image.virtual_size)),
        ("container_format", text(&image.container_format)),
        ("disk_format", text(&image.disk_format)),
        ("min_disk", Value::Int(Some(image.min_disk))),
        ("min_ram", Value::Int(Some(image.min_ram))),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    None,
    /// Lock the row until the transaction ends (SQLite's write transactions
    /// are exclusive already).
    ForUpdate,
}

/// The write of [`Database::update_image`], inside the caller's transaction.
pub(super) async fn update_in(
    conn: &mut AnyConnection,
    backend: Backend,
    image: &Image,
    expect_status: Option<ImageStatus>,
) -> Result<Image, DbError> {
    let mut saved = image.clone();
    saved.created_at = truncate(image.created_at);
    saved.updated_at = now();
    let id = id_text(saved.id);

    let mut sql = Sql::new(backend);
    sql.push("UPDATE images SET ");
    for (column, value) in base_values(&saved) {
        sql.push(column).push(" = ").bind_value(value).push(", ");
    }
    sql.push("created_at = ").bind(micros(saved.created_at));
    sql.push(", updated_at = ").bind(micros(saved.updated_at));
    sql.push(" WHERE id = ")
        .bind(id.as_str())
        .push(" AND deleted = 0");
    if let Some(expected) = expect_status {
        sql.push(" AND status = ").bind(expected.as_str());
    }

    if sql.build()?.execute(&mut *conn).await?.rows_affected() == 0 {
        let exists = fetch_image(conn, backend, saved.id, Lock::None)
            .await?
            .is_some();
        return Err(if exists && expect_status.is_some() {
            DbError::Conflict
        } else {
            DbError::NotFound
        });
    }
    let mut batch = Batch::new(backend);
    for table in ["image_tags", "image_properties", "image_locations"] {
        batch
            .statement()
            .push("DELETE FROM ")
            .push(table)
            .push(" WHERE image_id = ")
            .bind(id.as_str());
    }
    push_children(&mut batch, &saved);
    batch.execute(conn).await?;
    Ok(saved)
}

/// The base fields of a non-deleted image.
pub(crate) async fn fetch_image(
    conn: &mut AnyConnection,
    backend: Backend,
    id: Uuid,
    lock: Lock,
) -> Result<Option<Image>, DbError> {
    let mut sql = Sql::new(backend);
    sql.push("SELECT ")
        .push(IMAGE_COLUMNS)
        .push(" FROM images i WHERE i.id = ")
        .bind(id_text(id))
        .push(" AND i.deleted = 0");
    if lock == Lock::ForUpdate && backend != Backend::Sqlite {
        sql.push(" FOR UPDATE");
    }
    let row = sql.build()?.fetch_optional(&mut *conn).await?;
    row.as_ref().map(image_from_row).transpose()
}

/// Moves `updated_at` of a non-deleted image to now, taking its row lock;
/// `NotFound` if there is no such image.
async fn touch(
    conn: &mut AnyConnection,
    backend: Backend,
    id: Uuid,
) -> Result<DateTime<Utc>, DbError> {
    let updated_at = now();
    let mut sql = Sql::new(backend);
    sql.push("UPDATE images SET updated_at = ")
        .bind(micros(updated_at))
        .push(" WHERE id = ")
        .bind(id_text(id))
        .push(" AND deleted = 0");
    match sql.build()?.execute(&mut *conn).await?.rows_affected() {
        0 => Err(DbError::NotFound),
        _ => Ok(updated_at),
    }
}

/// Fills in the tags, properties and locations of `images`, read with one
/// statement (one row per image).
pub(crate) async fn load_children(
    conn: &mut AnyConnection,
    backend: Backend,
    images: &mut [Image],
) -> Result<(), DbError> {
    if images.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = images.iter().map(|image| id_text(image.id)).collect();
    let mut sql = Sql::new(backend);
    push_children_select(&mut sql)
        .push(" FROM images i WHERE ")
        .push_in("i.id", ids.iter().map(String::as_str));
    let rows = sql.build()?.fetch_all(&mut *conn).await?;
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (id.as_str(), n))
        .collect();
    for row in &rows {
        let id: String = row.try_get("id")?;
        let n = *position.get(id.as_str()).ok_or(DbError::InvalidRow {
            column: "images.id",
            value: id.clone(),
        })?;
        children_from_row(row, &mut images[n])?;
    }
    Ok(())
}

/// The inserts of an image's tags, properties and locations: one statement
/// per non-empty child table.
fn push_children(batch: &mut Batch, image: &Image) {
    let id = id_text(image.id);
    if !image.tags.is_empty() {
        batch
            .statement()
            .push("INSERT INTO image_tags (image_id, value) VALUES ")
            .push_rows(&image.tags, |row, tag| {
                row.bind(id.as_str()).bind(tag.as_str());
            });
    }
    if !image.properties.is_empty() {
        batch
            .statement()
            .push("INSERT INTO image_properties (image_id, name, value) VALUES ")
            .push_rows(&image.properties, |row, (name, value)| {
                row.bind(id.as_str())
                    .bind(name.as_str())
                    .bind(value.as_str());
            });
    }
    if !image.locations.is_empty() {
        batch
            .statement()
            .push("INSERT INTO image_locations (image_id, url, metadata, status, position) VALUES ")
            .push_rows(
                image.locations.iter().zip(0_i64..),
                |row, (location, position)| {
                    row.bind(id.as_str())
                        .bind(location.url.as_str())
                        .bind(metadata_to_text(&location.metadata))
                        .bind(location.status.as_str())
                        .bind(position);
                },
            );
    }
}
