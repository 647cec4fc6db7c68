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

    /// Waits `interval`, renewing the lease (if held) every third of its
    /// lifetime, so an idle holder keeps it and a dead one loses it after
    /// one lifetime, whatever the job's interval.
    pub async fn keep_while_waiting(&self, interval: Duration, status: &str) {
        let step = (self.ttl / 3).max(Duration::from_millis(100));
        let deadline = tokio::time::Instant::now() + interval;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.min(now + step)).await;
            if tokio::time::Instant::now() < deadline {
                self.renew(status).await;
            }
        }
    }

    /// Renews the lease if this holder has it; never takes it.
    async fn renew(&self, status: &str) {
        let held = self.db.leases().await.map(|leases| {
            leases
                .iter()
                .any(|l| l.name == self.job && l.holder == self.holder)
        });
        if let Ok(true) = held
            && let Err(e) = self.hold(status).await
        {
            tracing::warn!(job = self.job, error = %e, "could not renew the lease");
        }
    }

    /// Gives the lease back so another node may take it at once.
    pub async fn release(&self) {
        if let Err(e) = self.db.release_lease(self.job, &self.holder).await {
            tracing::warn!(job = self.job, error = %e, "could not release the lease");
        }
    }
}
