//! Crash recovery: uploads and stages whose node is gone.
//!
//! Every data operation holds the lease row `data:<image id>`
//! ([`crate::service::inflight`]). A row whose lease expired belongs to a
//! node that stopped renewing it: this job takes it over (atomic, so one node
//! recovers each image once) and frees the image. At start-up a node also
//! takes over, expired or not, the rows its own previous process left: same
//! node URL, another process id, so that writer is provably gone.
//!
//! Runs on every node without a job lease: the per-operation lease already
//! makes each recovery exclusive.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;

use super::{JobError, Worker, WorkerState};
use crate::app::App;
use crate::db::Lease;
use crate::service::import;
use crate::service::inflight::{self, leased_image, node_name, node_prefix};

pub const NAME: &str = "recovery";

pub struct Recovery {
    app: Arc<App>,
    holder: String,
    recovered: u64,
    last_error: Option<String>,
}

impl Recovery {
    pub fn new(app: Arc<App>) -> Recovery {
        let holder = node_name(&app.config);
        Recovery {
            app,
            holder,
            recovered: 0,
            last_error: None,
        }
    }

    fn ttl(&self) -> Duration {
        Duration::from_secs(self.app.config.jobs.lease_secs.max(1))
    }

    /// Recovers every operation whose lease expired; how many images were freed.
    pub async fn pass(&mut self) -> Result<u64, JobError> {
        let now = Utc::now();
        let mut freed = 0;
        for lease in self.app.db.data_leases().await? {
            if lease.expires_at >= now {
                continue;
            }
            // Succeeds only while the lease is still expired (or already ours).
            if !self
                .app
                .db
                .take_lease(&lease.name, &self.holder, self.ttl(), "recovering")
                .await?
            {
                continue;
            }
            freed += u64::from(recover_leased(&self.app, &lease, &self.holder).await?);
        }
        self.recovered += freed;
        Ok(freed)
    }
}

/// At start-up: recovers the operations a previous process of this node
/// left, and gives back the job leases it held.
pub async fn at_startup(app: &App) -> Result<u64, JobError> {
    let holder = node_name(&app.config);
    let prefix = node_prefix(&app.config);
    let ttl = Duration::from_secs(app.config.jobs.lease_secs.max(1));
    let mut freed = 0;
    for lease in app.db.leases().await? {
        if !lease.holder.starts_with(&prefix) || lease.holder == holder {
            continue;
        }
        if leased_image(&lease.name).is_none() {
            // A job lease of the previous process: free it now rather than
            // make this node's own jobs wait for it to expire.
            app.db.release_lease(&lease.name, &lease.holder).await?;
            continue;
        }
        if !app
            .db
            .take_over_lease(&lease.name, &lease.holder, &holder, ttl)
            .await?
        {
            continue;
        }
        freed += u64::from(recover_leased(app, &lease, &holder).await?);
    }
    if freed > 0 {
        tracing::warn!(freed, "recovered uploads this node's previous process left");
    }
    Ok(freed)
}

/// Frees the image of `lease`, now held by `holder`.
async fn recover_leased(app: &App, lease: &Lease, holder: &str) -> Result<bool, JobError> {
    let Some(id) = leased_image(&lease.name) else {
        // Not an image's: not ours to judge; give it back.
        let _ = app.db.release_lease(&lease.name, holder).await;
        return Ok(false);
    };
    tracing::info!(image = %id, writer = %lease.holder, "recovering an upload whose writer is gone");
    let from = match import::recover::fail_abandoned(app, id).await {
        Ok(None) => inflight::requeue_abandoned(app, id).await,
        other => other,
    };
    inflight::release(app, id, holder).await;
    let from = from.map_err(|e| JobError::Other(format!("image {id}: {e}")))?;
    Ok(from.is_some())
}

impl Worker for Recovery {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        let line = format!("{} abandoned uploads recovered", self.recovered);
        match &self.last_error {
            Some(e) => format!("{line}; last error: {e}"),
            None => line,
        }
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            match self.pass().await {
                Ok(0) => Ok(WorkerState::Idle),
                Ok(_) => Ok(WorkerState::Busy),
                Err(e) => {
                    self.last_error = Some(format!("{e} at {}", Utc::now().to_rfc3339()));
                    Err(e)
                }
            }
        }
        .boxed()
    }

    fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
        let interval = Duration::from_secs(self.app.config.jobs.recovery.interval_secs.max(1));
        tokio::time::sleep(interval).boxed()
    }
}
