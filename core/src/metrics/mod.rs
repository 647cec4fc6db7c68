//! Prometheus metrics of this process, served by `glint serve` on the
//! `[metrics] bind` listener.
//!
//! One process-wide registry: the layers that count (the API middleware,
//! the store layer, the cache, the jobs runner) record through the functions
//! below without carrying a handle, and the gauges that are cheaper to read
//! than to track (database pool, cache size, pending work) are set just
//! before each scrape. Labels are bounded sets: operationIds, status classes,
//! store ids, job names; never image ids or paths.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The media type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The operationId of the route, or `unmatched`.
    operation: &'static str,
    /// `2xx`, `4xx`, ...
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    /// `in` (request bodies) or `out` (response bodies).
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: String,
    operation: &'static str,
    /// `ok` or the error kind.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    /// `hit` or `miss`.
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    /// `busy`, `idle`, `throttled`, `done` or `error`.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuditLabels {
    /// `presence`, `content` or `orphan`.
    kind: &'static str,
    store: String,
    /// `ok`, or what was wrong (`missing`, `size_mismatch`, `checksum_mismatch`, …).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RetryLabels {
    /// The repository method that ran again.
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `reader` or `writer` (one pool for both on PostgreSQL and MySQL).
    pool: &'static str,
    /// `idle` or `in_use`.
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 4.0, 9))
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RequestLabels>,
    http_bytes: Family<DirectionLabels, Counter>,
    store_operations: Family<StoreLabels, Counter>,
    store_seconds: Histograms<StoreLabels>,
    cache_lookups: Family<CacheLabels, Counter>,
    cache_size: Gauge,
    job_runs: Family<JobLabels, Counter>,
    pending_work: Gauge,
    db_connections: Family<PoolLabels, Gauge>,
    audit_checks: Family<AuditLabels, Counter>,
    audit_bytes: Counter,
    db_retries: Family<RetryLabels, Counter>,
    db_wal_flushes: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("glint");
    let m = Metrics {
        registry: Registry::default(),
        requests: Family::default(),
        request_seconds: Family::new_with_constructor(latency),
        http_bytes: Family::default(),
        store_operations: Family::default(),
        store_seconds: Family::new_with_constructor(latency),
        cache_lookups: Family::default(),
        cache_size: Gauge::default(),
        job_runs: Family::default(),
        pending_work: Gauge::default(),
        db_connections: Family::default(),
        audit_checks: Family::default(),
        audit_bytes: Counter::default(),
        db_retries: Family::default(),
        db_wal_flushes: Counter::default(),
    };
    registry.register(
        "http_requests",
        "API requests answered, by operationId and status class",
        m.requests.clone(),
    );
    registry.register_with_unit(
        "http_request_duration",
        "Time from a request's arrival to its response's headers",
        Unit::Seconds,
        m.request_seconds.clone(),
    );
    registry.register_with_unit(
        "http_body",
        "Bytes of request (in) and response (out) bodies of known length",
        Unit::Bytes,
        m.http_bytes.clone(),
    );
    registry.register(
        "store_operations",
        "Store driver calls, by store, operation and outcome",
        m.store_operations.clone(),
    );
    registry.register_with_unit(
        "store_operation_duration",
        "Time a store driver call took to answer (a read: until its data starts)",
        Unit::Seconds,
        m.store_seconds.clone(),
    );
    registry.register(
        "cache_lookups",
        "Downloads the image cache could (hit) or could not (miss) serve",
        m.cache_lookups.clone(),
    );
    registry.register_with_unit(
        "cache_size",
        "Bytes held by complete files in this node's image cache",
        Unit::Bytes,
        m.cache_size.clone(),
    );
    registry.register(
        "job_runs",
        "Units of work run by background jobs, by job and outcome",
        m.job_runs.clone(),
    );
    registry.register(
        "pending_work",
        "Rows of store work waiting for the reaper",
        m.pending_work.clone(),
    );
    registry.register(
        "db_pool_connections",
        "Database connections, by pool and state",
        m.db_connections.clone(),
    );
    registry.register(
        "audit_checks",
        "Locations checked by the auditor, by check, store and outcome",
        m.audit_checks.clone(),
    );
    registry.register_with_unit(
        "audit_read",
        "Bytes the content audit read back from stores",
        Unit::Bytes,
        m.audit_bytes.clone(),
    );
    registry.register(
        "db_retries",
        "Database transactions and reads run again after a conflict or a lost server",
        m.db_retries.clone(),
    );
    registry.register(
        "db_wal_flushes",
        "Flushes of SQLite's write-ahead log, each making every commit before it durable",
        m.db_wal_flushes.clone(),
    );
    Metrics { registry, ..m }
});

fn metrics() -> &'static Metrics {
    &METRICS
}

/// `2xx` for 204 and so on: a bounded label.
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// One answered API request.
pub fn request(operation: &'static str, status: u16, seconds: f64) {
    let labels = RequestLabels {
        operation,
        status: status_class(status),
    };
    let m = metrics();
    m.requests.get_or_create(&labels).inc();
    m.request_seconds.get_or_create(&labels).observe(seconds);
}

/// Body bytes that went in (`incoming`) or out.
pub fn body_bytes(incoming: bool, bytes: u64) {
    let direction = if incoming { "in" } else { "out" };
    metrics()
        .http_bytes
        .get_or_create(&DirectionLabels { direction })
        .inc_by(bytes);
}

/// One store driver call and how it ended.
pub fn store_operation(store: &str, operation: &'static str, outcome: &'static str, seconds: f64) {
    let labels = StoreLabels {
        store: store.to_owned(),
        operation,
        outcome,
    };
    let m = metrics();
    m.store_operations.get_or_create(&labels).inc();
    m.store_seconds.get_or_create(&labels).observe(seconds);
}

/// A download the cache served (`hit`) or could not.
pub fn cache_lookup(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics()
        .cache_lookups
        .get_or_create(&CacheLabels { result })
        .inc();
}

/// One unit of work of a background job.
pub fn job_run(job: &'static str, outcome: &'static str) {
    metrics()
        .job_runs
        .get_or_create(&JobLabels { job, outcome })
        .inc();
}

/// One location checked by the auditor (`outcome` is `ok` or what was wrong: a short, fixed word).
pub fn audit_check(kind: &'static str, store: &str, outcome: &str) {
    let labels = AuditLabels {
        kind,
        store: store.to_owned(),
        outcome: outcome.to_owned(),
    };
    metrics().audit_checks.get_or_create(&labels).inc();
}

/// Bytes the content audit read.
pub fn audit_read(bytes: u64) {
    metrics().audit_bytes.inc_by(bytes);
}

/// A database transaction or read that failed before its commit (a
/// deadlock, a Galera certification failure, a lost server) and runs again.
pub fn db_retried(operation: &'static str) {
    metrics()
        .db_retries
        .get_or_create(&RetryLabels { operation })
        .inc();
}

/// A flush of SQLite's write-ahead log (group commit): the commits it covered
/// are on the disk.
pub fn db_wal_flush() {
    metrics().db_wal_flushes.inc();
}

/// The values read at scrape time.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub cache_size: u64,
    pub pending_work: u64,
    /// Pool name, connections open, of which idle.
    pub pools: Vec<(&'static str, u32, usize)>,
}

/// The text exposition of every metric, with `now` as the scrape-time gauges.
pub fn encode(now: &Snapshot) -> String {
    let m = metrics();
    m.cache_size
        .set(i64::try_from(now.cache_size).unwrap_or(i64::MAX));
    m.pending_work
        .set(i64::try_from(now.pending_work).unwrap_or(i64::MAX));
    for &(pool, size, idle) in &now.pools {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        m.db_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "idle",
            })
            .set(idle);
        m.db_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "in_use",
            })
            .set(i64::from(size) - idle);
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &m.registry)
        .expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_units_and_labels_follow_the_conventions() {
        request("listImages", 200, 0.002);
        body_bytes(false, 10);
        store_operation("fast", "put", "ok", 0.1);
        let text = encode(&Snapshot {
            cache_size: 5,
            pending_work: 2,
            pools: vec![("writer", 3, 1)],
        });
        for line in [
            "glint_http_requests_total{operation=\"listImages\",status=\"2xx\"}",
            "glint_http_request_duration_seconds_bucket{",
            "glint_http_body_bytes_total{direction=\"out\"}",
            "glint_store_operations_total{store=\"fast\",operation=\"put\",outcome=\"ok\"}",
            "glint_cache_size_bytes 5",
            "glint_pending_work 2",
            "glint_db_pool_connections{pool=\"writer\",state=\"in_use\"} 2",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
