//! Targeted changes to an image's locations and digests, for the operations
//! that add or remove one copy of the data while the image may be changed by
//! other requests: they touch only what they are about, never the whole row.

use uuid::Uuid;

use super::codec::{id_text, metadata_to_text, micros, now};
use super::images::{Lock, fetch_image, load_children};
use super::sql::Sql;
use super::{Database, DbError};
use crate::domain::{Image, ImageStatus, Location};

impl Database {
    /// Appends `location` to the image's locations, provided its status is
    /// one of `allowed` (else `Conflict`, and nothing changes). Returns the
    /// image as it is afterwards. A missing or deleted image is `NotFound`.
    pub async fn append_location(
        &self,
        id: Uuid,
        location: &Location,
        allowed: &[ImageStatus],
    ) -> Result<Image, DbError> {
        retrying!(self, "append_location", async {
            let mut tx = self.begin_write().await?;
            let image = fetch_image(&mut tx, self.backend, id, Lock::ForUpdate)
                .await?
                .ok_or(DbError::NotFound)?;
            if !allowed.contains(&image.status) {
                return Err(DbError::Conflict);
            }
            let id_text = id_text(id);
            let mut sql = Sql::new(self.backend);
            sql.push(
                "INSERT INTO image_locations (image_id, url, metadata, status, position) SELECT ",
            )
            .bind(id_text.as_str())
            .push(", ")
            .bind(location.url.as_str())
            .push(", ")
            .bind(metadata_to_text(&location.metadata))
            .push(", ")
            .bind(location.status.as_str())
            .push(", COALESCE(MAX(position), -1) + 1 FROM image_locations WHERE image_id = ")
            .bind(id_text.as_str());
            sql.build()?.execute(&mut *tx).await?;
            touch(&mut tx, self, id).await?;
            let mut image = fetch_image(&mut tx, self.backend, id, Lock::None)
                .await?
                .ok_or(DbError::NotFound)?;
            load_children(&mut tx, self.backend, std::slice::from_mut(&mut image)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(image)
        })
    }

    /// Removes the location with this URL from the image, provided its status
    /// is one of `allowed` (else `Conflict`). `false` when the image has no
    /// such location (and then nothing changes).
    pub async fn remove_location(
        &self,
        id: Uuid,
        url: &str,
        allowed: &[ImageStatus],
    ) -> Result<bool, DbError> {
        retrying!(self, "remove_location", async {
            let mut tx = self.begin_write().await?;
            let image = fetch_image(&mut tx, self.backend, id, Lock::ForUpdate)
                .await?
                .ok_or(DbError::NotFound)?;
            if !allowed.contains(&image.status) {
                return Err(DbError::Conflict);
            }
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM image_locations WHERE image_id = ")
                .bind(id_text(id))
                .push(" AND url = ")
                .bind(url);
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            touch(&mut tx, self, id).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(true)
        })
    }

    /// Records the digests of the image's data (`checksum`, `os_hash_algo`,
    /// `os_hash_value`) without touching anything else. A missing or deleted
    /// image is `NotFound`.
    pub async fn set_image_digests(
        &self,
        id: Uuid,
        checksum: Option<&str>,
        os_hash_algo: Option<&str>,
        os_hash_value: Option<&str>,
    ) -> Result<(), DbError> {
        retrying!(self, "set_image_digests", async {
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE images SET checksum = ")
                .bind(checksum)
                .push(", os_hash_algo = ")
                .bind(os_hash_algo)
                .push(", os_hash_value = ")
                .bind(os_hash_value)
                .push(", updated_at = ")
                .bind(micros(now()))
                .push(" WHERE id = ")
                .bind(id_text(id))
                .push(" AND deleted = 0");
            let mut tx = self.begin_write().await?;
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }
}

/// Moves `updated_at` of the image to now.
async fn touch(conn: &mut sqlx::AnyConnection, db: &Database, id: Uuid) -> Result<(), DbError> {
    let mut sql = Sql::new(db.backend);
    sql.push("UPDATE images SET updated_at = ")
        .bind(micros(now()))
        .push(" WHERE id = ")
        .bind(id_text(id));
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}
