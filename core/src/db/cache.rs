//! The image cache index: which images each API node holds in its cache,
//! with their size, hits and last access (the rows of Glance's
//! `centralized_db` cache driver). Every query names the node: nodes sharing
//! one database keep separate caches.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::codec::{id_text, micros, parse_id, timestamp};
use super::sql::Sql;
use super::{Database, DbError};

/// One image in one node's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedImage {
    /// The row's id, as Glance lists it.
    pub id: i64,
    pub image_id: Uuid,
    pub size: u64,
    /// md5 of the cached data, hex.
    pub checksum: Option<String>,
    pub hits: u64,
    pub last_accessed: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

const COLUMNS: &str = "id, image_id, size, checksum, hits, last_accessed, last_modified";

impl Database {
    /// Records that `node` holds `image_id` since `at`, replacing any older row.
    /// The caller says when, so that the order of entries never depends on
    /// two reads of the clock.
    pub async fn cache_insert(
        &self,
        node: &str,
        image_id: Uuid,
        size: u64,
        checksum: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        retrying!(self, "cache_insert", async {
            let at = micros(at);
            let mut tx = self.begin_write().await?;
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM cached_images WHERE node = ")
                .bind(node.to_owned())
                .push(" AND image_id = ")
                .bind(id_text(image_id));
            sql.build()?.execute(&mut *tx).await?;
            let mut sql = Sql::new(self.backend);
            sql.push(
                "INSERT INTO cached_images \
                 (node, image_id, size, checksum, hits, last_accessed, last_modified) VALUES (",
            )
            .bind(node.to_owned())
            .push(", ")
            .bind(id_text(image_id))
            .push(", ")
            .bind(size as i64)
            .push(", ")
            .bind(checksum.map(str::to_owned))
            .push(", 0, ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
            sql.build()?.execute(&mut *tx).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Counts one read of a cached image, made at `at`, which becomes its last access.
    pub async fn cache_hit(
        &self,
        node: &str,
        image_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        retrying!(self, "cache_hit", async {
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE cached_images SET hits = hits + 1, last_accessed = ")
                .bind(micros(at))
                .push(" WHERE node = ")
                .bind(node.to_owned())
                .push(" AND image_id = ")
                .bind(id_text(image_id));
            let mut tx = self.begin_write().await?;
            sql.build()?.execute(&mut *tx).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// The images `node` caches, by image id.
    pub async fn cache_list(&self, node: &str) -> Result<Vec<CachedImage>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(COLUMNS)
            .push(" FROM cached_images WHERE node = ")
            .bind(node.to_owned())
            .push(" ORDER BY image_id");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(cached_from_row).collect()
    }

    /// The images `node` caches, least recently used first.
    pub async fn cache_least_recently_used(&self, node: &str) -> Result<Vec<CachedImage>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(COLUMNS)
            .push(" FROM cached_images WHERE node = ")
            .bind(node.to_owned())
            .push(" ORDER BY last_accessed, id");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(cached_from_row).collect()
    }

    /// Forgets one image of `node`'s cache; `true` when there was a row.
    pub async fn cache_delete(&self, node: &str, image_id: Uuid) -> Result<bool, DbError> {
        retrying!(self, "cache_delete", async {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM cached_images WHERE node = ")
                .bind(node.to_owned())
                .push(" AND image_id = ")
                .bind(id_text(image_id));
            let mut tx = self.begin_write().await?;
            let n = sql.build()?.execute(&mut *tx).await?.rows_affected();
            self.commit(tx).await?;
            Ok::<_, DbError>(n > 0)
        })
    }

    /// Forgets every image of `node`'s cache; the number of rows removed.
    pub async fn cache_delete_all(&self, node: &str) -> Result<u64, DbError> {
        retrying!(self, "cache_delete_all", async {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM cached_images WHERE node = ")
                .bind(node.to_owned());
            let mut tx = self.begin_write().await?;
            let n = sql.build()?.execute(&mut *tx).await?.rows_affected();
            self.commit(tx).await?;
            Ok::<_, DbError>(n)
        })
    }

    /// The nodes that cache `image_id`, by name.
    pub async fn cache_nodes(&self, image_id: Uuid) -> Result<Vec<String>, DbError> {
        retrying!(self, "cache_nodes", async {
            let mut sql = Sql::new(self.backend);
            sql.push("SELECT node FROM cached_images WHERE image_id = ")
                .bind(id_text(image_id))
                .push(" ORDER BY node");
            let rows = sql.build()?.fetch_all(&self.reader).await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>("node").map_err(DbError::from))
                .collect()
        })
    }
}

fn cached_from_row(row: &AnyRow) -> Result<CachedImage, DbError> {
    let image_id: String = row.try_get("image_id")?;
    Ok(CachedImage {
        id: row.try_get("id")?,
        image_id: parse_id("cached_images.image_id", &image_id)?,
        size: row.try_get::<i64, _>("size")?.max(0) as u64,
        checksum: row.try_get("checksum")?,
        hits: row.try_get::<i64, _>("hits")?.max(0) as u64,
        last_accessed: timestamp(row, "last_accessed")?,
        last_modified: timestamp(row, "last_modified")?,
    })
}
