//! Job leases: one row per job that must run on one node at a time.
//!
//! Taking a lease is two statements, each atomic on every backend: an
//! `UPDATE` that succeeds only for the current holder or over an expired
//! lease, then, when no row exists yet, an `INSERT` that does nothing if
//! another node inserted first. Expiry is judged by the clock of the node
//! that asks: nodes sharing a database are expected to run NTP, and leases
//! last far longer than any skew between them.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{micros, now, timestamp};
use super::sql::Sql;
use super::{Backend, Database, DbError};

/// Who holds a job's lease, until when, and what the holder last reported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub taken_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The holder's last status line (free text).
    pub status: String,
}

impl Database {
    /// Takes or renews the lease `name` for `holder` until `ttl` from now,
    /// recording `status`. `true` when `holder` has the lease afterwards;
    /// `false` when another holder's lease has not expired yet.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        status: &str,
    ) -> Result<bool, DbError> {
        retrying!(self, "take_lease", async {
            let now = now();
            let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
            let mut sql = Sql::new(self.backend);
            // A renewal keeps `taken_at`; a take-over starts it again.
            sql.push("UPDATE job_leases SET taken_at = CASE WHEN holder = ")
                .bind(holder)
                .push(" THEN taken_at ELSE ")
                .bind(micros(now))
                .push(" END, holder = ")
                .bind(holder)
                .push(", expires_at = ")
                .bind(micros(until))
                .push(", status = ")
                .bind(status)
                .push(" WHERE name = ")
                .bind(name)
                .push(" AND (holder = ")
                .bind(holder)
                .push(" OR expires_at < ")
                .bind(micros(now))
                .push(")");
            if sql.build()?.execute(&self.writer).await?.rows_affected() > 0 {
                return Ok(true);
            }
            let mut sql = Sql::new(self.backend);
            sql.push(match self.backend {
                Backend::MySql => "INSERT IGNORE INTO job_leases",
                Backend::Sqlite | Backend::Postgres => "INSERT INTO job_leases",
            });
            sql.push(" (name, holder, expires_at, taken_at, status) VALUES (")
                .bind(name)
                .push(", ")
                .bind(holder)
                .push(", ")
                .bind(micros(until))
                .push(", ")
                .bind(micros(now))
                .push(", ")
                .bind(status)
                .push(")");
            if self.backend != Backend::MySql {
                sql.push(" ON CONFLICT DO NOTHING");
            }
            Ok::<_, DbError>(sql.build()?.execute(&self.writer).await?.rows_affected() > 0)
        })
    }

    /// Gives up `holder`'s lease on `name` so another node may take it at
    /// once; nothing when `holder` does not hold it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), DbError> {
        retrying!(self, "release_lease", async {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM job_leases WHERE name = ")
                .bind(name)
                .push(" AND holder = ")
                .bind(holder);
            sql.build()?.execute(&self.writer).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Every lease, expired or not, by job name.
    pub async fn leases(&self) -> Result<Vec<Lease>, DbError> {
        let sql = {
            let mut sql = Sql::new(self.backend);
            sql.push(
                "SELECT name, holder, taken_at, expires_at, status FROM job_leases ORDER BY name",
            );
            sql
        };
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(Lease {
                    name: row.try_get("name")?,
                    holder: row.try_get("holder")?,
                    taken_at: timestamp(row, "taken_at")?,
                    expires_at: timestamp(row, "expires_at")?,
                    status: row.try_get("status")?,
                })
            })
            .collect()
    }
}
