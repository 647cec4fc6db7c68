//! What `/healthcheck` (detailed form) and `/metrics` read from the running
//! service: the database, the configured stores, the cache, pending work.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::app::App;
use crate::metrics::Snapshot;

/// Set once a shutdown was asked for and the node drains (`[health] drain_secs`).
static DRAINING: AtomicBool = AtomicBool::new(false);

/// From now on `/healthcheck` answers 503, while requests are still served.
pub fn start_draining() {
    DRAINING.store(true, Ordering::SeqCst);
}

/// Whether this node drains before a shutdown.
pub fn draining() -> bool {
    DRAINING.load(Ordering::SeqCst)
}

/// The detailed health report: every check with its outcome.
#[derive(Debug)]
pub struct Report {
    pub healthy: bool,
    pub body: Value,
}

/// Checks the database with a query and each configured store for being open.
pub async fn check(app: &App) -> Report {
    let database = app.db.ping().await.map_err(|e| e.to_string());
    let mut healthy = database.is_ok();
    let mut stores = serde_json::Map::new();
    for id in &app.config.store_order {
        let open = app.stores.get(id).is_some();
        healthy &= open;
        let mut entry = json!({ "ok": open });
        if !open {
            entry["reason"] = json!("not opened at start-up (see the log)");
        }
        stores.insert(id.clone(), entry);
    }
    let database = match database {
        Ok(()) => json!({ "ok": true }),
        Err(reason) => json!({ "ok": false, "reason": reason }),
    };
    Report {
        healthy,
        body: json!({
            "status": if healthy { "OK" } else { "FAILED" },
            "database": database,
            "stores": stores,
        }),
    }
}

/// The gauges `/metrics` reads at scrape time.
pub async fn snapshot(app: &App) -> Snapshot {
    let pending_work = match app.db.list_work().await {
        Ok(rows) => rows.len() as u64,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count pending work for the metrics");
            0
        }
    };
    Snapshot {
        cache_size: if app.cache.enabled() {
            app.cache.size()
        } else {
            0
        },
        pending_work,
        pools: app.db.pool_stats(),
    }
}
