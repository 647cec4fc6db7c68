//! `[jobs]`: the background jobs `glint serve` runs, each under `[jobs.<name>]`.
//! Glance's delayed-delete options (`delayed_delete`, `scrub_time`,
//! `scrub_pool_size`) keep their names at the top level of the file. Every
//! default is in `config/defaults.toml`, as for the other sections.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// Seconds a node holds a job's lease without renewing it; a node that
    /// dies gives its jobs up to another node after this long.
    pub lease_secs: u64,
    /// Seconds `glint serve` gives running jobs to finish their unit of work
    /// at shutdown.
    pub shutdown_grace_secs: u64,
    /// The reaper: pending store work and delayed deletes.
    pub reaper: ReaperConfig,
    /// Removal of soft-deleted rows (`glint db purge`, run periodically).
    pub purge: PurgeConfig,
    /// Crash recovery of uploads and stages whose node is gone.
    pub recovery: RecoveryConfig,
    /// Deferred work other than deletes (a hash to compute, ...).
    pub updater: UpdaterConfig,
    /// Keeps another image service in sync with one (`glint replicate livecopy`).
    pub replicate: ReplicateJobConfig,
    /// The auditor: stored data checked against the catalogue.
    pub audit: AuditConfig,
}

/// `[jobs.replicate]`: `glint replicate livecopy SOURCE TARGET` on a timer,
/// on one node at a time: the target ends each pass holding the source's
/// active images (same ids, metadata, data, members). Off by default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicateJobConfig {
    pub enabled: bool,
    /// Seconds between passes.
    pub interval_secs: u64,
    /// The Images API v2 endpoint copied from (`http://glance.example:9292`).
    pub source: String,
    /// The Images API v2 endpoint copied to.
    pub target: String,
    /// Correct the metadata of images the target has; create none, copy no data.
    pub metadata_only: bool,
    /// Fields neither replicated nor compared.
    pub dont_replicate: Vec<String>,
    /// Source project id → target project id, for owners and members.
    pub owner_map: BTreeMap<String, String>,
    /// How the job authenticates to the source (none when unset).
    pub source_auth: Option<EndpointAuthConfig>,
    /// How the job authenticates to the target (none when unset).
    pub target_auth: Option<EndpointAuthConfig>,
}

/// A token, or Keystone v3 password credentials (all of `auth_url`,
/// `username`, `password`, `project_name`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointAuthConfig {
    pub token: Option<Secret>,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub project_name: Option<String>,
    /// Domain of the user and the project ("Default" when unset).
    pub domain: Option<String>,
}

/// `[jobs.audit]`: the auditor. Each pass checks that every location of
/// every active image exists with the image's size (presence); with
/// `content`, re-reads locations not audited for `reaudit_days` and checks
/// their checksum and hash, at most `content_mb_per_sec`; with `orphans`,
/// lists the stores that can list and hands data no location names, older
/// than `orphan_grace_secs`, to the reaper. Runs on one node at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    pub enabled: bool,
    /// Seconds between passes.
    pub interval_secs: u64,
    /// Images checked per unit of work.
    pub batch_size: u32,
    /// Re-read data and check its checksum and hash in the passes.
    pub content: bool,
    /// Most megabytes (10^6 bytes) per second the content audit reads; 0 is no limit.
    pub content_mb_per_sec: u64,
    /// Days after which a location's content is audited again.
    pub reaudit_days: u32,
    /// List stores and hand unnamed data to the reaper.
    pub orphans: bool,
    /// Seconds data must be old (by the store's modification time, or since
    /// the auditor first saw it when the store keeps none) before it counts
    /// as an orphan.
    pub orphan_grace_secs: u64,
    /// Re-copy a damaged location from a healthy one as soon as it is found.
    pub auto_repair: bool,
}

/// `[jobs.updater]`: retries the pending work that is not a delete (a
/// location whose hash could not be computed, ...), waiting twice as long
/// after each failure. Runs on one node at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdaterConfig {
    pub enabled: bool,
    /// Seconds between passes, and the first wait after a failure.
    pub interval_secs: u64,
    /// Rows taken per kind and unit of work.
    pub batch_size: u32,
    /// Longest wait, in seconds, before a failed row is tried again.
    pub retry_max_secs: u64,
}

/// `[jobs.recovery]`: frees images whose upload or stage lost its node (the
/// operation's lease expired). Every node runs it: each recovery takes the
/// operation's lease over first, so two nodes never recover one image twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    pub enabled: bool,
    /// Seconds between passes.
    pub interval_secs: u64,
}

/// `[jobs.reaper]`: drains the pending-work rows (store deletes the API could
/// not finish) and deletes the data of images in `pending_delete` once
/// `scrub_time` has passed. Runs on one node at a time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaperConfig {
    pub enabled: bool,
    /// Seconds between passes when there is nothing to do.
    pub interval_secs: u64,
    /// Rows (work rows, then images) taken per unit of work.
    pub batch_size: u32,
    /// Most store deletes per second; 0 is no limit.
    pub max_deletes_per_sec: u32,
    /// Longest wait, in seconds, before a failed store delete is tried again
    /// (waits double from `interval_secs`; a store error marked permanent
    /// waits this long at once).
    pub retry_max_secs: u64,
    /// Remove files of `file` stores that no image needs (see `jobs::orphans`),
    /// at most once per `interval_secs`.
    pub sweep_orphans: bool,
    /// Seconds a file must be old before it can count as an orphan: longer
    /// than any upload or copy takes.
    pub orphan_grace_secs: u64,
}

/// `[jobs.purge]`: `glint db purge` on a timer. Off by default, as Glance
/// leaves purging to the operator's cron.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeConfig {
    pub enabled: bool,
    pub interval_secs: u64,
    /// Rows of images deleted longer ago than this are removed.
    pub age_in_days: u32,
    /// Most rows removed per table and run.
    pub max_rows: u32,
}

impl EndpointAuthConfig {
    /// A token alone, or every one of the password settings.
    pub fn check(&self) -> Result<(), String> {
        let password = [
            self.auth_url.is_some(),
            self.username.is_some(),
            self.password.is_some(),
            self.project_name.is_some(),
        ];
        match (self.token.is_some(), password) {
            (true, [false, false, false, false]) => Ok(()),
            (false, [true, true, true, true]) => Ok(()),
            (true, _) => Err("a token, or Keystone credentials, not both".into()),
            (false, _) => Err(
                "Keystone credentials need auth_url, username, password and project_name".into(),
            ),
        }
    }
}
