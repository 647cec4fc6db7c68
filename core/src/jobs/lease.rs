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
        self.renewing(status, tokio::time::sleep(interval)).await;
    }

    /// Runs `work`, renewing the lease (if held) every third of its lifetime
    /// meanwhile: one unit of work longer than the lease (a content read of
    /// a large image) never lets it lapse to another node.
    pub async fn renewing<F: Future>(&self, status: &str, work: F) -> F::Output {
        let step = (self.ttl / 3).max(Duration::from_millis(100));
        // Both make progress together: a renewal waiting for a connection
        // never holds up the work, which may be holding one.
        let renewals = async {
            loop {
                tokio::time::sleep(step).await;
                self.renew(status).await;
            }
        };
        tokio::select! {
            out = work => out,
            never = renewals => never,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_long_unit_of_work_keeps_the_lease_and_it_lapses_after() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let ttl = Duration::from_millis(300);
        let mine = Lease::new(db.clone(), "audit", "node-a".into(), ttl);
        let theirs = Lease::new(db.clone(), "audit", "node-b".into(), ttl);
        assert!(mine.hold("starting").await.unwrap());

        // Three lifetimes of work: the other node never gets the lease meanwhile.
        let work = async {
            for _ in 0..9 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert!(!theirs.hold("trying").await.unwrap());
            }
            "done"
        };
        assert_eq!(mine.renewing("reading", work).await, "done");

        // Not renewed any more: it lapses after one lifetime.
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        assert!(theirs.hold("taking over").await.unwrap());
    }
}
