//! A job's lease as its worker holds it: taken or renewed before each unit
//! of work, given back when the worker stops.

use std::time::Duration;

use crate::db::{Database, DbError};

/// The lease of one job, for one holder.
#[derive(Debug, Clone)]
pub struct Lease {
    db: Database,
    job: &'static str,
    holder: String,
    ttl: Duration,
}

impl Lease {
    pub fn new(db: Database, job: &'static str, holder: String, ttl: Duration) -> Lease {
        Lease {
            db,
            job,
            holder,
            ttl,
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes or renews the lease, recording `status`; `false` when another
    /// node holds it.
    pub async fn hold(&self, status: &str) -> Result<bool, DbError> {
        let held = self
            .db
            .take_lease(self.job, &self.holder, self.ttl, status)
            .await?;
        if !held {
            tracing::debug!(job = self.job, "lease held by another node");
        }
        Ok(held)
    }

    /// Gives the lease back so another node may take it at once.
    pub async fn release(&self) {
        if let Err(e) = self.db.release_lease(self.job, &self.holder).await {
            tracing::warn!(job = self.job, error = %e, "could not release the lease");
        }
    }
}
