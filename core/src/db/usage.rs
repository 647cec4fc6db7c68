//! What a project uses, for quotas and `/v2/info/usage`.

use sqlx::Row;

use super::sql::Sql;
use super::{Backend, Database, DbError};

/// A project's usage of the four quota resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of image data stored (images that hold data).
    pub stored_bytes: u64,
    /// Bytes waiting in staging (images being staged or imported).
    pub staged_bytes: u64,
    /// Images that are not deleted.
    pub images: u64,
    /// Images in any state of upload: saving, uploading or importing.
    pub uploading: u64,
}

impl Database {
    /// `owner`'s usage, read in one statement.
    pub async fn usage(&self, owner: &str) -> Result<Usage, DbError> {
        retrying!(self, "usage", async {
            // SUM is NUMERIC on PostgreSQL and DECIMAL on MySQL: cast back to an integer.
            let int = match self.backend {
                Backend::MySql => "SIGNED",
                Backend::Sqlite | Backend::Postgres => "BIGINT",
            };
            let total = |expr: &str, name: &str| {
                format!("CAST(COALESCE(SUM({expr}), 0) AS {int}) AS {name}")
            };
            let statement = format!(
                "SELECT {}, {}, COUNT(*) AS images, {} FROM images WHERE deleted = 0 AND owner = ",
                total(
                    "CASE WHEN status IN ('active', 'deactivated') THEN size ELSE 0 END",
                    "stored"
                ),
                total(
                    "CASE WHEN status IN ('uploading', 'importing') THEN size ELSE 0 END",
                    "staged"
                ),
                total(
                    "CASE WHEN status IN ('saving', 'uploading', 'importing') THEN 1 ELSE 0 END",
                    "uploading"
                ),
            );
            let mut sql = Sql::new(self.backend);
            sql.push(&statement).bind(owner);
            let row = sql.build()?.fetch_one(&self.reader).await?;
            let get = |column: &str| -> Result<u64, DbError> {
                Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
            };
            Ok(Usage {
                stored_bytes: get("stored")?,
                staged_bytes: get("staged")?,
                images: get("images")?,
                uploading: get("uploading")?,
            })
        })
    }
}
