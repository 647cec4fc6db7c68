//! The auditor job (`[jobs.audit]`, one node at a time under the `audit`
//! lease): walks the active images in id order, a batch per unit of work,
//! and checks each location ([`crate::service::audit`]): presence always,
//! content when asked and due (not audited since `reaudit_days`, or last found
//! damaged). At the end of a walk, with `orphans`, each store that can list
//! is searched for orphans. `glint audit` drives the same [`Auditor`] once.
//!
//! A restart loses only the walk's position: the content audits already done
//! are rows, so the next walk skips them and the audit resumes where it
//! stopped (at worst re-reading the one location it was reading).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use uuid::Uuid;

use super::lease::Lease;
use super::{JobError, Worker, WorkerState};
use crate::app::App;
use crate::config::AuditConfig;
use crate::db::{AuditKind, AuditResult};
use crate::domain::Image;
use crate::service::audit::content::{self, Pace};
use crate::service::audit::{is_damaged, orphans, presence, record, repair};

pub const NAME: &str = "audit";

/// What one walk covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Audit content as well as presence.
    pub content: bool,
    /// Search listable stores for orphans at the end of the walk.
    pub orphans: bool,
    /// Only this image (its content is audited whether due or not).
    pub image: Option<Uuid>,
    /// Only locations in this store.
    pub store: Option<String>,
}

/// What the auditor found, since it started.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub images: u64,
    pub presence_checked: u64,
    pub presence_failed: u64,
    pub content_checked: u64,
    pub content_failed: u64,
    pub content_bytes: u64,
    pub content_seconds: f64,
    pub orphans_listed: u64,
    pub orphans_found: u64,
    pub orphans_handed_over: u64,
    pub repaired: u64,
    pub repair_failed: u64,
    /// Locations in a store that is not open on this node.
    pub skipped: u64,
}

impl Counts {
    pub fn line(&self) -> String {
        format!(
            "{} images: presence {} checked, {} failed; content {} checked, {} failed ({} MB at {:.1} MB/s); orphans {} listed, {} waiting, {} handed to the reaper; {} repaired, {} repairs failed; {} skipped",
            self.images,
            self.presence_checked,
            self.presence_failed,
            self.content_checked,
            self.content_failed,
            self.content_bytes / 1_000_000,
            self.content_rate_mb_per_sec(),
            self.orphans_listed,
            self.orphans_found,
            self.orphans_handed_over,
            self.repaired,
            self.repair_failed,
            self.skipped,
        )
    }

    /// The content audit's read rate, in MB (10^6 bytes) per second.
    pub fn content_rate_mb_per_sec(&self) -> f64 {
        if self.content_seconds > 0.0 {
            self.content_bytes as f64 / 1e6 / self.content_seconds
        } else {
            0.0
        }
    }

    /// Damage found (presence or content).
    pub fn damaged(&self) -> u64 {
        self.presence_failed + self.content_failed
    }
}

pub struct Auditor {
    app: Arc<App>,
    config: AuditConfig,
    scope: Scope,
    /// The last image of the walk so far; `None` before a walk starts.
    cursor: Option<Uuid>,
    counts: Counts,
    lease: Option<Lease>,
    last_error: Option<String>,
}

impl Auditor {
    /// The auditor of `scope`, holding `lease` before each unit of work (none: the caller holds it).
    pub fn new(app: Arc<App>, scope: Scope, lease: Option<Lease>) -> Auditor {
        let config = app.config.jobs.audit.clone();
        Auditor {
            app,
            config,
            scope,
            cursor: None,
            counts: Counts::default(),
            lease,
            last_error: None,
        }
    }

    /// The job as `[jobs.audit]` configures it.
    pub fn job(app: Arc<App>, lease: Lease) -> Auditor {
        let scope = Scope {
            content: app.config.jobs.audit.content,
            orphans: app.config.jobs.audit.orphans,
            ..Scope::default()
        };
        Auditor::new(app, scope, Some(lease))
    }

    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// One unit of work: the next batch of the walk. `true` when the walk is over.
    pub async fn step(&mut self) -> Result<bool, JobError> {
        if let Some(id) = self.scope.image {
            if let Some(image) = self.app.db.get_image(id).await? {
                self.audit_image(&image).await?;
            }
            return Ok(true);
        }
        if self.cursor.is_none() {
            self.app.db.prune_audit().await?;
        }
        let batch = self.config.batch_size.max(1);
        let images = self.app.db.active_images_after(self.cursor, batch).await?;
        for image in &images {
            self.audit_image(image).await?;
        }
        self.cursor = images.last().map(|i| i.id).or(self.cursor);
        if images.len() < batch as usize {
            if self.scope.orphans {
                self.audit_orphans().await?;
            }
            self.cursor = None;
            return Ok(true);
        }
        Ok(false)
    }

    async fn audit_image(&mut self, image: &Image) -> Result<(), JobError> {
        self.counts.images += 1;
        let recorded = self.app.db.audit_results(true, Some(image.id)).await?;
        let mut damaged = false;
        let locations = image.locations.iter().filter(|l| {
            l.status == "active"
                && self
                    .scope
                    .store
                    .as_deref()
                    .is_none_or(|s| l.store() == Some(s))
        });
        for location in locations {
            let Some(store) = location.store().and_then(|s| self.app.stores.get(s)) else {
                self.counts.skipped += 1;
                continue;
            };
            let checked = presence(store, image, location).await;
            record(&self.app.db, &checked).await?;
            self.counts.presence_checked += 1;
            if !checked.is_ok() {
                self.counts.presence_failed += 1;
                damaged |= is_damaged(&checked.outcome);
                continue;
            }
            if !self.scope.content || !self.content_due(&recorded, &location.url) {
                continue;
            }
            let pace = Pace::mb_per_sec(self.config.content_mb_per_sec);
            let audit = content::check(store, image, location, pace).await;
            record(&self.app.db, &audit.result).await?;
            self.counts.content_checked += 1;
            self.counts.content_bytes += audit.bytes;
            self.counts.content_seconds += audit.elapsed.as_secs_f64();
            if !audit.result.is_ok() {
                self.counts.content_failed += 1;
                damaged |= is_damaged(&audit.result.outcome);
            }
        }
        if damaged && self.config.auto_repair {
            match repair::repair(&self.app, image.id).await {
                Ok(report) => {
                    self.counts.repaired += report.repaired.len() as u64;
                    self.counts.repair_failed += report.failed.len() as u64;
                }
                Err(e) => {
                    self.counts.repair_failed += 1;
                    tracing::warn!(image = %image.id, error = %e, "audit: automatic repair failed");
                }
            }
        }
        Ok(())
    }

    /// Whether `url`'s content is to be read now: asked for one image, never
    /// audited, last found wrong, or audited longer than `reaudit_days` ago.
    fn content_due(&self, recorded: &[AuditResult], url: &str) -> bool {
        if self.scope.image.is_some() {
            return true;
        }
        let cutoff = Utc::now() - chrono::Duration::days(i64::from(self.config.reaudit_days));
        !recorded.iter().any(|r| {
            r.kind == AuditKind::Content && r.url == url && r.is_ok() && r.checked_at > cutoff
        })
    }

    async fn audit_orphans(&mut self) -> Result<(), JobError> {
        let grace = Duration::from_secs(self.config.orphan_grace_secs);
        let stores: Vec<_> = self
            .app
            .stores
            .infos()
            .map(|info| info.id.clone())
            .filter(|id| self.scope.store.as_deref().is_none_or(|s| s == id))
            .collect();
        for id in stores {
            let Some(store) = self.app.stores.get(&id) else {
                continue;
            };
            if !store.capabilities().list {
                continue;
            }
            match orphans::audit_store(&self.app.db, store, grace).await {
                Ok(found) => {
                    self.counts.orphans_listed += found.listed;
                    self.counts.orphans_found += found.orphans;
                    self.counts.orphans_handed_over += found.handed_over;
                }
                Err(orphans::OrphanError::Db(e)) => return Err(e.into()),
                // One store that cannot list now does not stop the others.
                Err(e) => tracing::warn!(store = %id, error = %e, "audit: orphan search failed"),
            }
        }
        Ok(())
    }

    /// Runs `step` while renewing the lease, so a long content read never lets it expire.
    async fn step_holding_lease(&mut self) -> Result<bool, JobError> {
        match self.lease.clone() {
            Some(lease) => {
                let status = self.status();
                lease.renewing(&status, self.step()).await
            }
            None => self.step().await,
        }
    }
}

impl Worker for Auditor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn status(&self) -> String {
        match &self.last_error {
            Some(e) => format!("{}; last error: {e}", self.counts.line()),
            None => self.counts.line(),
        }
    }

    fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
        async move {
            if let Some(lease) = &self.lease
                && !lease.hold(&self.status()).await?
            {
                return Ok(WorkerState::Idle);
            }
            match self.step_holding_lease().await {
                Ok(true) => Ok(WorkerState::Idle),
                Ok(false) => Ok(WorkerState::Busy),
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
            match &self.lease {
                Some(lease) => lease.keep_while_waiting(interval, &status).await,
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
