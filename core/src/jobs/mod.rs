//! Background jobs: periodic work beside the API, one file per job, one runner.
//!
//! Every job is a [`Worker`]: `work()` does one unit of work and says whether
//! more is waiting; `wait_for_work()` sleeps until there may be some. The
//! [`runner`] drives them all in `glint serve`, backs off on errors and stops
//! them at shutdown. Jobs that must run once cluster-wide hold a [`lease`].
//! Each job also has a one-shot form on the command line ([`cli`]), which
//! runs the same worker until it is idle.
//!
//! Work the API could not finish (a store delete that failed) is never an
//! in-memory queue: it is a `pending_work` row written with the status change
//! that caused it ([`crate::service::pending`]), drained by the [`reaper`].

pub mod audit;
pub mod audit_cli;
pub mod cli;
pub mod lease;
pub mod notify;
pub mod orphans;
pub mod progress;
pub mod purge;
pub mod reaper;
pub mod recovery;
pub mod replicate;
pub mod runner;
pub mod updater;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use self::audit::Auditor;
use self::lease::Lease;
use self::notify::NotifyWorker;
use self::purge::PurgeWorker;
use self::reaper::Reaper;
use self::recovery::Recovery;
use self::replicate::Replicator;
use self::runner::Runner;
use self::updater::Updater;
use crate::app::App;
use crate::db::DbError;

/// What a unit of work found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    /// Did something; more may be waiting: call `work()` again at once.
    Busy,
    /// Did something and must pause this long (a rate limit) before the next unit.
    Throttled(Duration),
    /// Nothing to do: wait for work.
    Idle,
    /// Finished for good: the runner stops calling this worker.
    Done,
}

/// Why a unit of work failed. The runner counts it and backs off.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Other(String),
}

/// One background job.
pub trait Worker: Send {
    /// The job's name, as in `[jobs.<name>]` and in `glint jobs list`.
    fn name(&self) -> &'static str;

    /// One line on what the worker is doing or last did.
    fn status(&self) -> String;

    /// Does one unit of work.
    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>>;

    /// Returns when there may be work again (usually after the job's interval).
    fn wait_for_work(&mut self) -> BoxFuture<'_, ()>;

    /// The runner stops this worker: give back what it holds (its lease).
    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Starts the jobs `app.config` enables, each under its lease.
pub fn start(app: &Arc<App>) -> Runner {
    let config = &app.config;
    let node = node_name(config);
    let ttl = Duration::from_secs(config.jobs.lease_secs.max(1));
    let lease = |job| Lease::new(app.db.clone(), job, node.clone(), ttl);
    let mut workers: Vec<Box<dyn Worker>> = Vec::new();
    if config.jobs.reaper.enabled {
        workers.push(Box::new(Reaper::new(
            config,
            app.db.clone(),
            app.stores.clone(),
            Some(lease(reaper::NAME)),
        )));
    }
    if config.jobs.purge.enabled {
        workers.push(Box::new(PurgeWorker::new(
            app.db.clone(),
            config.jobs.purge.clone(),
            lease(purge::NAME),
        )));
    }
    if config.jobs.updater.enabled {
        workers.push(Box::new(Updater::new(
            Arc::clone(app),
            lease(updater::NAME),
        )));
    }
    if config.jobs.audit.enabled {
        workers.push(Box::new(Auditor::job(Arc::clone(app), lease(audit::NAME))));
    }
    if config.jobs.recovery.enabled {
        workers.push(Box::new(Recovery::new(Arc::clone(app))));
    }
    if config.jobs.replicate.enabled {
        match Replicator::new(&config.jobs.replicate, lease(replicate::NAME)) {
            Ok(worker) => workers.push(Box::new(worker)),
            Err(e) => tracing::error!(error = %e, "the replicate job cannot start"),
        }
    }
    if config.notifications.enabled() {
        workers.push(Box::new(NotifyWorker::new(
            app.db.clone(),
            config.notifications.clone(),
            lease(notify::NAME),
        )));
    }
    tracing::info!(node = %node, jobs = ?workers.iter().map(|w| w.name()).collect::<Vec<_>>(), "background jobs started");
    Runner::start(workers)
}

/// The name this node holds leases under: its self-reference URL (as the
/// image cache names it) and its process id, so two processes never share one.
pub fn node_name(config: &crate::config::Config) -> String {
    crate::service::inflight::node_name(config)
}
