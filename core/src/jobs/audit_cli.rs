//! `glint audit [--content] [--orphans] [--image ID] [--store S]`, `glint
//! audit report` and `glint audit repair <image id>`: the auditor once, its
//! findings, and a repair, for operators and cron. Plain lines, or one JSON
//! document with `--json`; a spinner on a terminal meanwhile.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Auditor, Scope};
use super::lease::Lease;
use super::node_name;
use super::progress::Progress;
use crate::app::App;
use crate::db::Database;
use crate::service::audit::repair;

/// Exit status when the audit found damaged data (0: none, 1: the audit could not run).
const DAMAGE_FOUND: u8 = 2;

/// `glint audit`: one walk of `scope`, under the `audit` lease. Exits 2 when
/// it found damaged data.
pub async fn run(app: Arc<App>, scope: Scope, as_json: bool) -> anyhow::Result<ExitCode> {
    let lease = Lease::new(
        app.db.clone(),
        audit::NAME,
        format!("cli:{}", node_name(&app.config)),
        Duration::from_secs(app.config.jobs.lease_secs.max(1)),
    );
    if !lease.hold("glint audit").await? {
        return refuse(
            as_json,
            "the auditor is running on another node; try again later",
        );
    }
    if let Some(store) = &scope.store
        && app.stores.get(store).is_none()
    {
        lease.release().await;
        return refuse(
            as_json,
            &format!("store '{store}' is not configured or not open"),
        );
    }
    let mut auditor = Auditor::new(Arc::clone(&app), scope, None);
    let progress = Progress::start("glint audit", as_json);
    let result = async {
        loop {
            let status = auditor.counts().line();
            if lease.renewing(&status, auditor.step()).await? {
                break;
            }
            progress.set(auditor.counts().line());
            if !lease.hold(&auditor.counts().line()).await? {
                anyhow::bail!("the audit lease was taken over; stopped");
            }
        }
        anyhow::Ok(())
    }
    .await;
    drop(progress);
    lease.release().await;
    result?;
    let counts = auditor.counts();
    if as_json {
        let mut out = serde_json::to_value(counts)?;
        out["content_mb_per_sec"] = json!(counts.content_rate_mb_per_sec());
        println!("{out}");
    } else {
        println!("{}", counts.line());
    }
    Ok(if counts.damaged() > 0 {
        ExitCode::from(DAMAGE_FOUND)
    } else {
        ExitCode::SUCCESS
    })
}

/// `glint audit report`: the failures on record (every row with `all`).
pub async fn report(db: &Database, all: bool, as_json: bool) -> anyhow::Result<ExitCode> {
    let rows = db.audit_results(all, None).await?;
    if as_json {
        println!("{}", json!({ "results": rows }));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no audit findings");
    }
    for r in rows {
        let since = r
            .first_failed_at
            .map(|t| format!("  failing since {}", t.to_rfc3339()))
            .unwrap_or_default();
        println!(
            "{}  {} {}  image {}  store {}  {}\n    expected {}\n    found    {}{since}",
            r.checked_at.to_rfc3339(),
            r.kind.as_str(),
            r.outcome,
            r.image_id,
            r.store,
            crate::fetch::redact(&r.url),
            r.expected,
            r.found,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `glint audit repair <id>`: re-copies the image's damaged copies from a
/// healthy one. Fails (exit 1) when a damaged copy could not be repaired.
pub async fn repair(app: Arc<App>, id: Uuid, as_json: bool) -> anyhow::Result<ExitCode> {
    let lease = Lease::new(
        app.db.clone(),
        audit::NAME,
        format!("cli:{}", node_name(&app.config)),
        Duration::from_secs(app.config.jobs.lease_secs.max(1)),
    );
    if !lease.hold("glint audit repair").await? {
        return refuse(
            as_json,
            "the auditor is running on another node; try again later",
        );
    }
    let result = repair::repair(&app, id).await;
    lease.release().await;
    let report = match result {
        Ok(report) => report,
        Err(e) => return refuse(as_json, &e.to_string()),
    };
    if as_json {
        println!("{}", serde_json::to_value(&report)?);
    } else {
        if report.repaired.is_empty() && report.failed.is_empty() {
            println!("image {id}: no damaged copy on record");
        }
        for (from, to) in &report.repaired {
            println!(
                "repaired {} (now {})",
                crate::fetch::redact(from),
                crate::fetch::redact(to)
            );
        }
        for (url, why) in &report.failed {
            println!("not repaired {}: {why}", crate::fetch::redact(url));
        }
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn refuse(as_json: bool, message: &str) -> anyhow::Result<ExitCode> {
    if as_json {
        println!("{}", json!({ "error": message }));
    } else {
        eprintln!("{message}");
    }
    Ok(ExitCode::FAILURE)
}
