//! The updater: drains the pending work that is not a delete (the reaper
//! does those), under the `updater` lease. It is generic over work kinds:
//! each kind it knows has a handler ([`HANDLERS`]); a new kind of deferred
//! work (a notification to send, a copy to retry) is one more entry there.
//! Handlers are idempotent; a failed row is tried again after a wait that
//! doubles from `interval_secs` up to `retry_max_secs` (the longest at once
//! when the error is not temporary), and `glint jobs list` shows it with its
//! reason, attempts and last error meanwhile.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;
use glint_sdk::StoreError;
use tracing::Instrument;

use super::lease::Lease;
use super::{JobError, Worker, WorkerState};
use crate::app::App;
use crate::config::UpdaterConfig;
use crate::db::{Work, WorkKind};
use crate::service::deferred::{self, Outcome};

pub const NAME: &str = "updater";

/// Does the work one row asks for.
pub type Handler = for<'a> fn(&'a App, &'a Work) -> BoxFuture<'a, Result<Outcome, StoreError>>;

/// The kinds the updater drains, with their handlers.
pub const HANDLERS: &[(WorkKind, Handler)] = &[
    (WorkKind::ComputeHash, |app, work| {
        deferred::compute_hash(app, work).boxed()
    }),
    (WorkKind::CopyImage, |app, work| {
        deferred::copy_image(app, work).boxed()
    }),
];

/// How far a row the updater gave up on is pushed: it stays listed (with
/// why) for an operator, but is never due again.
const GIVEN_UP_FOR_DAYS: i64 = 100 * 365;

pub struct Updater {
    app: Arc<App>,
    config: UpdaterConfig,
    lease: Lease,
    done: u64,
    failed: u64,
    last_error: Option<String>,
}

impl Updater {
    /// Rows done and failed attempts so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.done, self.failed)
    }

    pub fn new(app: Arc<App>, lease: Lease) -> Updater {
        let config = app.config.jobs.updater.clone();
        Updater {
            app,
            config,
            lease,
            done: 0,
            failed: 0,
            last_error: None,
        }
    }

    /// One pass over the due rows of every kind; how many were tried.
    pub async fn pass(&mut self) -> Result<usize, JobError> {
        let mut tried = 0;
        for (kind, handler) in HANDLERS {
            let rows = self
                .app
                .db
                .due_work(*kind, self.config.batch_size.max(1))
                .await?;
            for row in rows {
                tried += 1;
                let span = tracing::info_span!("pending_work", id = row.id, kind = kind.as_str(), image = %row.image_id);
                let outcome = handler(&self.app, &row).instrument(span.clone()).await;
                match outcome {
                    Ok(Outcome::GaveUp(why)) => {
                        let never = Utc::now() + chrono::Duration::days(GIVEN_UP_FOR_DAYS);
                        self.app
                            .db
                            .retry_work(row.id, &format!("gave up: {why}"), never)
                            .await?;
                        self.failed += 1;
                        span.in_scope(|| tracing::warn!(reason = %why, "deferred work given up"));
                    }
                    Ok(Outcome::Done) => {
                        self.app.db.finish_work(row.id).await?;
                        self.done += 1;
                        span.in_scope(|| {
                            tracing::info!(attempts = row.attempts + 1, "deferred work done")
                        });
                    }
                    Err(e) => {
                        let wait = retry_wait(&self.config, row.attempts, e.temporary);
                        let next =
                            Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                        self.app.db.retry_work(row.id, &e.to_string(), next).await?;
                        self.failed += 1;
                        span.in_scope(
                            || tracing::warn!(error = %e, retry_in = ?wait, "deferred work failed"),
                        );
                    }
                }
            }
        }
        Ok(tried)
    }
}

/// The wait before attempt `attempts + 2` of a row.
fn retry_wait(config: &UpdaterConfig, attempts: i64, temporary: bool) -> Duration {
    let max = Duration::from_secs(config.retry_max_secs.max(1));
    if !temporary {
        return max;
    }
    let doublings = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    Duration::from_secs(config.interval_secs.max(1))
        .saturating_mul(1 << doublings)
        .min(max)
}

impl Worker for Updater {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        let line = format!(
            "{} deferred rows done, {} attempts failed (retried later)",
            self.done, self.failed
        );
        match &self.last_error {
            Some(e) => format!("{line}; last error: {e}"),
            None => line,
        }
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            if !self.lease.hold(&self.status()).await? {
                return Ok(WorkerState::Idle);
            }
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
        let interval = Duration::from_secs(self.config.interval_secs.max(1));
        async move {
            let status = self.status();
            self.lease.keep_while_waiting(interval, &status).await;
        }
        .boxed()
    }

    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        async move { self.lease.release().await }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_permanent_errors_wait_longest() {
        let config = UpdaterConfig {
            enabled: true,
            interval_secs: 2,
            batch_size: 1,
            retry_max_secs: 20,
        };
        assert_eq!(retry_wait(&config, 0, true), Duration::from_secs(2));
        assert_eq!(retry_wait(&config, 2, true), Duration::from_secs(8));
        assert_eq!(retry_wait(&config, 9, true), Duration::from_secs(20));
        assert_eq!(retry_wait(&config, 0, false), Duration::from_secs(20));
    }

    #[test]
    fn every_kind_but_deletes_has_a_handler() {
        for kind in WorkKind::ALL {
            let handled = HANDLERS.iter().any(|(k, _)| *k == kind);
            assert_eq!(handled, kind != WorkKind::DeleteData, "{kind:?}");
        }
    }
}
