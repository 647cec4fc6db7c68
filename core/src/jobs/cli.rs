//! The one-shot command-line forms of the jobs, for cron and for operators:
//! `glint scrub`, `glint scrub restore <id>`, `glint jobs list`,
//! `glint jobs run recovery|updater`,
//! `glint db purge` and `glint db purge-images-table`. Each prints plain
//! lines, or one JSON document with `--json`; on a terminal, a spinner on
//! standard error shows the running counts meanwhile ([`super::progress`]).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use super::lease::Lease;
use super::progress::Progress;
use super::reaper::{self, Reaper};
use super::{node_name, purge, recovery, replicate, updater};
use crate::app::App;
use crate::config::Config;
use crate::db::{Database, DbError, Purged, WorkKind};
use crate::domain::ImageStatus;
use crate::store::StoreRegistry;

/// `glint scrub`: runs the reaper until nothing is due, under its lease.
/// Fails without doing anything when a server holds the lease.
pub async fn scrub(config: &Config, db: &Database, as_json: bool) -> anyhow::Result<ExitCode> {
    let stores = StoreRegistry::open(config);
    let lease = Lease::new(
        db.clone(),
        reaper::NAME,
        format!("cli:{}", node_name(config)),
        Duration::from_secs(config.jobs.lease_secs.max(1)),
    );
    if !lease.hold("glint scrub").await? {
        let holder = db
            .leases()
            .await?
            .into_iter()
            .find(|l| l.name == reaper::NAME);
        let message = match holder {
            Some(l) => format!(
                "the reaper is running on {} (lease until {}); try again later",
                l.holder, l.expires_at
            ),
            None => "the reaper lease is held elsewhere; try again later".into(),
        };
        return refuse(as_json, &message);
    }
    let reaper = Reaper::new(config, db.clone(), stores, None);
    let report = reaper.report();
    let progress = Progress::start("glint scrub", as_json);
    let mut result = Ok(());
    loop {
        match reaper.pass().await {
            Ok(0) => break,
            Ok(_) => {
                progress.set(report.line());
                if !lease.hold(&report.line()).await? {
                    break;
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    lease.release().await;
    drop(progress);
    result?;
    let pending = db.list_work().await?.len();
    if as_json {
        let mut out = serde_json::to_value(&*report)?;
        out["pending_work"] = json!(pending);
        println!("{out}");
    } else {
        println!("{}; {pending} pending work rows left", report.line());
    }
    Ok(ExitCode::SUCCESS)
}

/// `glint scrub restore <id>`: brings an image waiting in `pending_delete` back to `active`.
pub async fn restore(db: &Database, id: Uuid, as_json: bool) -> anyhow::Result<ExitCode> {
    let Some(image) = db.pending_delete_image(id).await? else {
        let message = match db.image_status_any(id).await? {
            None => format!("no image {id}"),
            Some(status) => {
                format!("image {id} is {status}, not pending_delete: nothing to restore")
            }
        };
        return refuse(as_json, &message);
    };
    let (_, change) = image.moved_to(ImageStatus::Active)?;
    match db.end_pending_delete(id, change, &[]).await {
        Ok(()) => {}
        Err(DbError::Conflict) => {
            return refuse(
                as_json,
                &format!("image {id} left pending_delete meanwhile"),
            );
        }
        Err(e) => return Err(e.into()),
    }
    if as_json {
        println!("{}", json!({"id": id, "status": "active"}));
    } else {
        println!("image {id} restored: active");
    }
    Ok(ExitCode::SUCCESS)
}

/// `glint jobs list`: the jobs, who runs them, and the pending work.
pub async fn list(config: &Config, db: &Database, as_json: bool) -> anyhow::Result<ExitCode> {
    let leases = db.leases().await?;
    let now = Utc::now();
    let jobs = &config.jobs;
    let configured = [
        (reaper::NAME, jobs.reaper.enabled, jobs.reaper.interval_secs),
        (purge::NAME, jobs.purge.enabled, jobs.purge.interval_secs),
        (
            recovery::NAME,
            jobs.recovery.enabled,
            jobs.recovery.interval_secs,
        ),
        (
            updater::NAME,
            jobs.updater.enabled,
            jobs.updater.interval_secs,
        ),
        (
            replicate::NAME,
            jobs.replicate.enabled,
            jobs.replicate.interval_secs,
        ),
    ];
    let workers: Vec<Value> = configured
        .iter()
        .map(|(name, enabled, interval)| {
            let lease = leases.iter().find(|l| l.name == *name);
            json!({
                "name": name,
                "enabled": enabled,
                "interval_secs": interval,
                "holder": lease.filter(|l| l.expires_at > now).map(|l| &l.holder),
                "lease": lease,
            })
        })
        .collect();
    let work = db.list_work().await?;
    // Uploads and stages in progress, each with the node that writes it.
    let writing = db.data_leases().await?;
    if as_json {
        println!(
            "{}",
            json!({"workers": workers, "pending_work": work, "in_flight": writing})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("JOB      ENABLED  INTERVAL  HOLDER / LAST STATUS");
    for (name, enabled, interval) in configured {
        let lease = leases.iter().find(|l| l.name == name);
        let holder = match lease {
            Some(l) if l.expires_at > now => format!("{} ({})", l.holder, l.status),
            Some(l) => format!("none (last: {}, {})", l.holder, l.status),
            None => "none".into(),
        };
        println!(
            "{name:<8} {enabled:<8} {:<9} {holder}",
            format!("{interval}s")
        );
    }
    println!();
    for l in &writing {
        let state = if l.expires_at > now {
            "live"
        } else {
            "writer gone, awaiting recovery"
        };
        println!(
            "{} written by {} since {} ({state}, lease until {})",
            l.name, l.holder, l.taken_at, l.expires_at
        );
    }
    if work.is_empty() {
        println!("no pending work");
    }
    for w in &work {
        let store = w.store.as_deref().unwrap_or("?");
        // A copy names where it goes; the other kinds act on the object at `url`.
        let what = match w.kind {
            WorkKind::CopyImage => format!("into store {store} (from {})", w.url),
            _ => format!("at {} (store {store})", w.url),
        };
        println!(
            "#{} {} image {} {what}: pending since {}, because: {}; {} attempts{}; next at {}",
            w.id,
            w.kind.as_str(),
            w.image_id,
            w.created_at,
            w.reason,
            w.attempts,
            w.last_error
                .as_deref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default(),
            w.next_attempt_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `glint jobs run recovery|updater`: one job, once, until nothing is due.
/// The updater runs under its lease and refuses while a server holds it;
/// recovery needs none (each image's own lease makes it exclusive).
pub async fn run_job(app: Arc<App>, job: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let out = match job {
        recovery::NAME => {
            let progress = Progress::start("glint jobs run recovery", as_json);
            let mut recovery = recovery::Recovery::new(app);
            let mut freed = 0;
            loop {
                match recovery.pass().await? {
                    0 => break,
                    n => freed += n,
                }
                progress.set(format!("{freed} freed"));
            }
            json!({"job": job, "freed": freed})
        }
        updater::NAME => {
            let lease = Lease::new(
                app.db.clone(),
                updater::NAME,
                format!("cli:{}", node_name(&app.config)),
                Duration::from_secs(app.config.jobs.lease_secs.max(1)),
            );
            if !lease.hold("glint jobs run updater").await? {
                return refuse(
                    as_json,
                    "the updater is running on another node; try again later",
                );
            }
            let mut updater = updater::Updater::new(Arc::clone(&app), lease.clone());
            let progress = Progress::start("glint jobs run updater", as_json);
            let result = async {
                while updater.pass().await? > 0 {
                    let (done, failed) = updater.counts();
                    progress.set(format!("{done} done, {failed} failed"));
                }
                Ok::<_, super::JobError>(())
            }
            .await;
            drop(progress);
            lease.release().await;
            result?;
            let (done, failed) = updater.counts();
            json!({"job": job, "done": done, "failed": failed, "pending_work": app.db.list_work().await?.len()})
        }
        other => {
            return refuse(
                as_json,
                &format!("no job '{other}' runs from the command line: recovery or updater"),
            );
        }
    };
    if as_json {
        println!("{out}");
    } else {
        let line = out
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "job")
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("{job}: {line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `glint db purge` (`images_table`: `glint db purge-images-table`), with
/// `glance-manage`'s checks of the arguments: a non-negative age, and at
/// least one row or -1 for all.
pub async fn db_purge(
    db: &Database,
    age_in_days: i64,
    max_rows: i64,
    images_table: bool,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let age = u32::try_from(age_in_days)
        .ok()
        .context("Must supply a non-negative value for age.")?;
    let max = match max_rows {
        -1 => None,
        n if n >= 1 => Some(n as u64),
        _ => anyhow::bail!("Minimal rows limit is -1."),
    };
    let progress = Progress::start("glint db purge", as_json);
    progress.set(format!("rows deleted over {age} days ago"));
    let purged: Purged = if images_table {
        purge::purge_images_table(db, age, max).await?
    } else {
        purge::purge(db, age, max).await?
    };
    drop(progress);
    if as_json {
        let tables: Vec<Value> = purged
            .iter()
            .map(|(table, rows)| json!({"table": table, "rows": rows}))
            .collect();
        println!(
            "{}",
            json!({"age_in_days": age, "max_rows": max_rows, "purged": tables})
        );
    } else {
        for (table, rows) in &purged {
            println!("{table}: {rows} rows purged");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refuse(as_json: bool, message: &str) -> anyhow::Result<ExitCode> {
    if as_json {
        println!("{}", json!({"error": message}));
    } else {
        eprintln!("{message}");
    }
    Ok(ExitCode::FAILURE)
}
