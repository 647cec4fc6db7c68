//! The replication job (`[jobs.replicate]`): `glint replicate livecopy` on a
//! timer, under its lease, one image per unit of work, so the lease is
//! renewed between images and a node that stops hands the rest of the pass
//! to another. Each pass lists the source again; an image already the same
//! on the target costs one read of its metadata (and members, if shared).

use std::collections::VecDeque;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::lease::Lease;
use super::{JobError, Worker, WorkerState};
use crate::config::ReplicateJobConfig;
use crate::remote::{Auth, Images};
use crate::service::replicate::sync::{Source, sync_image};
use crate::service::replicate::{Action, Options};

pub const NAME: &str = "replicate";

pub struct Replicator {
    source: Images,
    target: Images,
    options: Options,
    interval: Duration,
    lease: Lease,
    /// The images of the pass under way, still to do.
    queue: VecDeque<Map<String, Value>>,
    /// Counts of the pass under way, by action.
    counts: [usize; 6],
    last: String,
}

impl Replicator {
    pub fn new(config: &ReplicateJobConfig, lease: Lease) -> Result<Self, JobError> {
        let endpoint =
            |url: &str, auth| Images::new(url, auth).map_err(|e| JobError::Other(e.to_string()));
        Ok(Self {
            source: endpoint(
                &config.source,
                Auth::from_config(config.source_auth.as_ref()),
            )?,
            target: endpoint(
                &config.target,
                Auth::from_config(config.target_auth.as_ref()),
            )?,
            options: Options {
                dont_replicate: config.dont_replicate.clone(),
                metadata_only: config.metadata_only,
                dry_run: false,
                owner_map: config.owner_map.clone(),
            },
            interval: Duration::from_secs(config.interval_secs.max(1)),
            lease,
            queue: VecDeque::new(),
            counts: [0; 6],
            last: "not run yet".into(),
        })
    }

    fn summary(&self) -> String {
        let names = [
            "created",
            "resumed",
            "updated",
            "unchanged",
            "skipped",
            "failed",
        ];
        names
            .iter()
            .zip(self.counts)
            .map(|(name, n)| format!("{n} {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn slot(action: Action) -> usize {
    match action {
        Action::Created => 0,
        Action::Resumed => 1,
        Action::Updated => 2,
        Action::Unchanged => 3,
        Action::Skipped => 4,
        Action::Failed => 5,
    }
}

impl Worker for Replicator {
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
            if self.queue.is_empty() {
                let images = Source::Service(&self.source)
                    .active_images()
                    .await
                    .map_err(JobError::Other)?;
                self.queue = images.into();
                self.counts = [0; 6];
            }
            let Some(image) = self.queue.pop_front() else {
                self.last = "the source has no active image".into();
                return Ok(WorkerState::Idle);
            };
            let source = Source::Service(&self.source);
            let copy = sync_image(&source, &self.target, &image, &self.options);
            let outcome = self.lease.renewing(&self.last, copy).await;
            self.counts[slot(outcome.action)] += 1;
            match outcome.action {
                Action::Failed => {
                    tracing::warn!(image = %outcome.id, details = ?outcome.details, "replication failed");
                }
                Action::Unchanged => {}
                action => {
                    tracing::info!(image = %outcome.id, ?action, details = ?outcome.details, "replicated");
                }
            }
            if !self.queue.is_empty() {
                self.last = format!("{} to go; {}", self.queue.len(), self.summary());
                return Ok(WorkerState::Busy);
            }
            self.last = format!("last pass: {}", self.summary());
            tracing::info!(target = %self.target.url(), result = %self.last, "replication pass done");
            Ok(WorkerState::Idle)
        }
        .boxed()
    }

    fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
        async move {
            self.lease
                .keep_while_waiting(self.interval, &self.last)
                .await
        }
        .boxed()
    }

    fn stopping(&mut self) -> BoxFuture<'_, ()> {
        self.lease.release().boxed()
    }
}
