//! The purge: removes rows of images deleted long ago (members, properties,
//! tags, locations) and expired tasks, at most `max_rows` per table and run,
//! as `glance-manage db purge` does. Image rows stay (their ids stay taken);
//! `glint db purge-images-table` removes those on request.

use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;

use super::lease::Lease;
use super::{JobError, Worker, WorkerState};
use crate::config::PurgeConfig;
use crate::db::{Database, DbError, Purged};

pub const NAME: &str = "purge";

/// Removes soft-deleted rows older than `age_in_days`, at most `max_rows`
/// per table (`None`: all).
pub async fn purge(
    db: &Database,
    age_in_days: u32,
    max_rows: Option<u64>,
) -> Result<Purged, DbError> {
    db.purge_deleted(cutoff(age_in_days), max_rows).await
}

/// Removes the rows of images deleted more than `age_in_days` ago that
/// nothing else refers to any more.
pub async fn purge_images_table(
    db: &Database,
    age_in_days: u32,
    max_rows: Option<u64>,
) -> Result<Purged, DbError> {
    db.purge_images_table(cutoff(age_in_days), max_rows).await
}

fn cutoff(age_in_days: u32) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(i64::from(age_in_days))
}

pub struct PurgeWorker {
    db: Database,
    config: PurgeConfig,
    lease: Lease,
    last: String,
}

impl PurgeWorker {
    pub fn new(db: Database, config: PurgeConfig, lease: Lease) -> PurgeWorker {
        PurgeWorker {
            db,
            config,
            lease,
            last: "not run yet".into(),
        }
    }
}

impl Worker for PurgeWorker {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        self.last.clone()
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            if !self.lease.hold(&self.last).await? {
                return Ok(WorkerState::Idle);
            }
            let purged = purge(
                &self.db,
                self.config.age_in_days,
                Some(u64::from(self.config.max_rows)),
            )
            .await?;
            self.last = describe(&purged);
            tracing::info!(purged = %self.last, "purged deleted rows");
            // Purging more at once is what `max_rows` forbids: wait for the next run.
            Ok(WorkerState::Idle)
        }
        .boxed()
    }

    fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
        let interval = Duration::from_secs(self.config.interval_secs.max(1));
        async move { self.lease.keep_while_waiting(interval, &self.last).await }.boxed()
    }

    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        self.lease.release().boxed()
    }
}

/// `table: count, …`
pub fn describe(purged: &Purged) -> String {
    purged
        .iter()
        .map(|(table, n)| format!("{table}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
