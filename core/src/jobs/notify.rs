//! The notification delivery job: publishes the outbox rows
//! (`db::notifications`) to the message broker in the order they were
//! written and removes them once the broker has confirmed them.
//!
//! It runs on one node at a time under its lease, so notifications leave in
//! one order cluster-wide and no two nodes publish the same row. A node
//! that dies mid-batch leaves its rows in place; the next holder publishes
//! them again, so a listener may see a message twice (at least once, as
//! oslo.messaging itself promises), never zero times.
//!
//! A broker that cannot be reached is not an error of the job: the rows
//! stay, the job waits `interval_secs` and tries again, and the requests
//! that wrote the rows never knew.

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::lease::Lease;
use super::{JobError, Worker, WorkerState};
use crate::config::NotificationsConfig;
use crate::db::Database;
use crate::notify::{Outgoing, Publisher};

pub const NAME: &str = "notify";

pub struct NotifyWorker {
    db: Database,
    publisher: Publisher,
    lease: Lease,
    batch_size: u32,
    interval: Duration,
    /// Published since start.
    sent: u64,
    /// The broker's last failure, until a batch goes through again.
    failing: Option<String>,
}

impl NotifyWorker {
    pub fn new(db: Database, config: NotificationsConfig, lease: Lease) -> NotifyWorker {
        NotifyWorker {
            db,
            batch_size: config.batch_size.max(1),
            interval: Duration::from_secs(config.interval_secs.max(1)),
            publisher: Publisher::new(config),
            lease,
            sent: 0,
            failing: None,
        }
    }
}

impl Worker for NotifyWorker {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        match &self.failing {
            Some(error) => format!("{} sent; broker unavailable: {error}", self.sent),
            None => format!("{} sent", self.sent),
        }
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            // Reading first keeps an idle node from writing its lease every interval.
            let batch = self.db.next_notifications(self.batch_size).await?;
            if batch.is_empty() {
                return Ok(WorkerState::Idle);
            }
            if !self.lease.hold(&self.status()).await? {
                return Ok(WorkerState::Idle);
            }
            let outgoing: Vec<Outgoing<'_>> = batch
                .iter()
                .map(|n| Outgoing {
                    id: n.id,
                    priority: &n.priority,
                    message: &n.message,
                })
                .collect();
            match self.publisher.publish(&outgoing).await {
                Ok(()) => {
                    let ids: Vec<i64> = batch.iter().map(|n| n.id).collect();
                    self.db.remove_notifications(&ids).await?;
                    self.sent += ids.len() as u64;
                    if self.failing.take().is_some() {
                        tracing::info!("message broker reachable again; notifications flow");
                    }
                    Ok(WorkerState::Busy)
                }
                Err(e) => {
                    let error = e.to_string();
                    if self.failing.as_deref() != Some(error.as_str()) {
                        tracing::warn!(%error, waiting = batch.len(), "notifications not delivered; will try again");
                    }
                    self.failing = Some(error);
                    Ok(WorkerState::Throttled(self.interval))
                }
            }
        }
        .boxed()
    }

    fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
        let interval = self.interval;
        async move {
            let status = self.status();
            self.lease.keep_while_waiting(interval, &status).await
        }
        .boxed()
    }

    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        self.lease.release().boxed()
    }
}
