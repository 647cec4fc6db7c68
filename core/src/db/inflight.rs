//! Liveness of in-flight data operations (an upload, a stage): each holds a
//! `job_leases` row named `data:<image id>` while its body streams, renewed
//! by the node that serves it. Recovery takes such a row over, which proves
//! the writer is gone: a live writer would have renewed it, and its next
//! renewal fails once the row names someone else.

use super::codec::{micros, now};
use super::sql::Sql;
use super::{Database, DbError, Lease};

/// The prefix of the lease rows of in-flight data operations.
pub const DATA_LEASE_PREFIX: &str = "data:";

impl Database {
    /// Every lease of an in-flight data operation, expired or not.
    pub async fn data_leases(&self) -> Result<Vec<Lease>, DbError> {
        Ok(self
            .leases()
            .await?
            .into_iter()
            .filter(|l| l.name.starts_with(DATA_LEASE_PREFIX))
            .collect())
    }

    /// Moves lease `name` from `from` to `to` until `ttl` from now, whether
    /// or not it has expired: for a node that knows `from` is a previous
    /// process of its own. `false` when `from` no longer holds it.
    pub async fn take_over_lease(
        &self,
        name: &str,
        from: &str,
        to: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, DbError> {
        retrying!(self, "take_over_lease", async {
            let now = now();
            let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE job_leases SET holder = ")
                .bind(to)
                .push(", taken_at = ")
                .bind(micros(now))
                .push(", expires_at = ")
                .bind(micros(until))
                .push(" WHERE name = ")
                .bind(name)
                .push(" AND holder = ")
                .bind(from);
            Ok::<_, DbError>(sql.build()?.execute(&self.writer).await?.rows_affected() > 0)
        })
    }
}
