//! The reaper (Glance's scrubber): deletes store data nobody needs any more.
//!
//! Each unit of work, under the `reaper` lease:
//! 1. pending-work rows that are due: delete the object; done rows go, failed
//!    ones are tried again later, the wait doubling from `interval_secs` up to
//!    `retry_max_secs` (at once the longest when the store says the error is
//!    not temporary);
//! 2. images in `pending_delete` for longer than `scrub_time`: delete the
//!    data of every location (`scrub_pool_size` images at a time), then move
//!    the image to `deleted`; data a store refused becomes pending work in
//!    that same transaction;
//! 3. at most once per `interval_secs`, the orphans of file stores
//!    ([`super::orphans`]);
//! 4. tasks past their `expires_at` (`[task] task_time_to_live` hours after
//!    they ended) are removed, as Glance removes expired tasks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use tracing::Instrument;

use super::lease::Lease;
use super::orphans::{self, FileStoreDir, file_store_dirs};
use super::{JobError, Worker, WorkerState};
use crate::config::Config;
use crate::config::ReaperConfig;
use crate::db::{Database, DbError, Work, WorkKind};
use crate::domain::{Image, ImageStatus};
use crate::service::pending::{delete_data, delete_locations};
use crate::store::StoreRegistry;

pub const NAME: &str = "reaper";

/// What the reaper did, since it started.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Objects deleted from stores (pending work and scrubbed locations).
    pub deleted: AtomicU64,
    /// Store deletes that failed and wait for another attempt.
    pub failed: AtomicU64,
    /// Images moved from `pending_delete` to `deleted`.
    pub scrubbed: AtomicU64,
    /// Orphaned files removed from file stores.
    pub orphans: AtomicU64,
    /// Expired tasks removed.
    pub tasks: AtomicU64,
}

impl Report {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn line(&self) -> String {
        format!(
            "{} objects deleted, {} deletes failed (retried later), {} images scrubbed, {} orphans removed, {} expired tasks removed",
            self.deleted.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.scrubbed.load(Ordering::Relaxed),
            self.orphans.load(Ordering::Relaxed),
            self.tasks.load(Ordering::Relaxed)
        )
    }
}

pub struct Reaper {
    db: Database,
    stores: StoreRegistry,
    config: ReaperConfig,
    scrub_time: Duration,
    pool: usize,
    lease: Option<Lease>,
    report: Arc<Report>,
    file_stores: Vec<FileStoreDir>,
    last_sweep: Mutex<Option<Instant>>,
    /// The last failed unit of work, for the status the lease row carries to
    /// `glint jobs list` on every node.
    last_error: Option<String>,
}

impl Reaper {
    /// A reaper over `db` and `stores`, holding `lease` before each unit of
    /// work (none: it runs unconditionally).
    pub fn new(
        config: &Config,
        db: Database,
        stores: StoreRegistry,
        lease: Option<Lease>,
    ) -> Reaper {
        Reaper {
            db,
            stores,
            config: config.jobs.reaper.clone(),
            scrub_time: Duration::from_secs(config.scrub_time),
            pool: config.scrub_pool_size.max(1),
            lease,
            report: Arc::default(),
            file_stores: file_store_dirs(config),
            last_sweep: Mutex::new(None),
            last_error: None,
        }
    }

    pub fn report(&self) -> Arc<Report> {
        Arc::clone(&self.report)
    }

    /// One pass over what is due; the number of objects and images handled.
    pub async fn pass(&self) -> Result<usize, JobError> {
        let batch = self.config.batch_size.max(1);
        let work = self.db.due_work(WorkKind::DeleteData, batch).await?;
        let mut handled = work.len();
        futures::stream::iter(work)
            .map(|row| {
                let span = tracing::info_span!("pending_work", id = row.id, image = %row.image_id);
                self.drain(row).instrument(span)
            })
            .buffer_unordered(self.pool)
            .collect::<Vec<Result<(), DbError>>>()
            .await
            .into_iter()
            .collect::<Result<(), DbError>>()?;

        let cutoff = Utc::now()
            - chrono::Duration::from_std(self.scrub_time).unwrap_or(chrono::Duration::MAX);
        let images = self.db.pending_deletes(cutoff, batch).await?;
        handled += images.len();
        futures::stream::iter(images)
            .map(|image| {
                let span = tracing::info_span!("scrub", image = %image.id);
                self.scrub(image).instrument(span)
            })
            .buffer_unordered(self.pool)
            .collect::<Vec<Result<(), JobError>>>()
            .await
            .into_iter()
            .collect::<Result<(), JobError>>()?;

        if self.sweep_due() {
            let grace = Duration::from_secs(self.config.orphan_grace_secs);
            let removed = orphans::sweep(&self.db, &self.file_stores, grace).await?;
            Report::add(&self.report.orphans, removed);
            handled += removed as usize;
        }

        let expired = self.db.expire_tasks(Utc::now()).await?;
        if expired > 0 {
            tracing::info!(tasks = expired, "removed expired tasks");
            Report::add(&self.report.tasks, expired);
        }
        Ok(handled)
    }

    /// Whether the orphans are to be swept now; if so, the sweep counts as started.
    fn sweep_due(&self) -> bool {
        if !self.config.sweep_orphans || self.file_stores.is_empty() {
            return false;
        }
        let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
        let every = Duration::from_secs(self.config.interval_secs.max(1));
        if last.is_some_and(|at| at.elapsed() < every) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Tries one pending-work row.
    async fn drain(&self, row: Work) -> Result<(), DbError> {
        let store = row.store.as_deref().and_then(|s| self.stores.get(s));
        let result = match store {
            Some(store) => delete_data(store, &row.url).await,
            None => Err(glint_sdk::StoreError::new(
                glint_sdk::ErrorKind::Unavailable,
                format!(
                    "store '{}' is not open on this node",
                    row.store.as_deref().unwrap_or("(none)")
                ),
            )
            .temporary()),
        };
        match result {
            Ok(()) => {
                self.db.finish_work(row.id).await?;
                Report::add(&self.report.deleted, 1);
                tracing::info!(url = %row.url, attempts = row.attempts + 1, "pending delete done");
            }
            Err(e) => {
                let wait = self.retry_wait(row.attempts, e.temporary);
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                self.db.retry_work(row.id, &e.to_string(), next).await?;
                Report::add(&self.report.failed, 1);
                tracing::warn!(url = %row.url, error = %e, retry_in = ?wait, "pending delete failed");
            }
        }
        Ok(())
    }

    /// The wait before attempt `attempts + 2` of a delete.
    fn retry_wait(&self, attempts: i64, temporary: bool) -> Duration {
        let max = Duration::from_secs(self.config.retry_max_secs.max(1));
        if !temporary {
            return max;
        }
        let doublings = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
        Duration::from_secs(self.config.interval_secs.max(1))
            .saturating_mul(1 << doublings)
            .min(max)
    }

    /// Deletes the data of an image waiting in `pending_delete`, then marks it `deleted`.
    async fn scrub(&self, image: Image) -> Result<(), JobError> {
        let (_, change) = image
            .moved_to(ImageStatus::Deleted)
            .map_err(|e| JobError::Other(e.to_string()))?;
        let work = delete_locations(&self.stores, None, image.id, &image.locations, false)
            .await
            .map_err(|e| JobError::Other(e.to_string()))?;
        let deleted = image.locations.len() - work.len();
        match self.db.end_pending_delete(image.id, change, &work).await {
            Ok(()) => {
                Report::add(&self.report.deleted, deleted as u64);
                Report::add(&self.report.failed, work.len() as u64);
                Report::add(&self.report.scrubbed, 1);
                tracing::info!(image = %image.id, deleted, pending = work.len(), "scrubbed image");
                Ok(())
            }
            // Restored while its data was being deleted: a restore races a
            // scrub the operator started; what was deleted is gone.
            Err(DbError::Conflict) => {
                tracing::warn!(image = %image.id, "image left pending_delete during its scrub");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Worker for Reaper {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        match &self.last_error {
            Some(e) => format!("{}; last error: {e}", self.report.line()),
            None => self.report.line(),
        }
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            if let Some(lease) = &self.lease
                && !lease.hold(&self.status()).await?
            {
                return Ok(WorkerState::Idle);
            }
            let handled = match self.pass().await {
                Ok(handled) => handled,
                Err(e) => {
                    self.last_error = Some(format!("{} at {}", e, Utc::now().to_rfc3339()));
                    return Err(e);
                }
            };
            if handled == 0 {
                return Ok(WorkerState::Idle);
            }
            Ok(match self.config.max_deletes_per_sec {
                0 => WorkerState::Busy,
                rate => WorkerState::Throttled(Duration::from_secs_f64(
                    handled as f64 / f64::from(rate),
                )),
            })
        }
        .boxed()
    }

    fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
        let interval = Duration::from_secs(self.config.interval_secs.max(1));
        async move {
            match &self.lease {
                Some(lease) => lease.keep_while_waiting(interval, &self.status()).await,
                None => tokio::time::sleep(interval).await,
            }
        }
        .boxed()
    }

    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        async move {
            if let Some(lease) = &self.lease {
                lease.release().await;
            }
        }
        .boxed()
    }
}
