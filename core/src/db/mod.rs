//! Metadata database: images, their tags, properties, locations and members,
//! the metadata definitions (metadefs), and the rows background jobs work
//! from (leases, pending store work, the notification outbox).
//!
//! One code path serves SQLite, PostgreSQL and MySQL/MariaDB through sqlx's
//! `Any` driver. What differs per backend is kept small and explicit:
//! placeholders (`?` or `$N`, see [`sql::Query`]), a few statement spellings
//! ([`Backend`]), and the migrations, one directory per backend. Values are
//! stored in the shapes `Any` can carry on all three: UUIDs as text,
//! timestamps as microseconds since the epoch, booleans as 0/1 integers.
//!
//! SQLite gets a single writer connection next to a pool of readers: writes
//! queue in-process instead of failing with `SQLITE_BUSY`, and readers never
//! wait for them (WAL).

/// Runs `$body`, an `async` block holding one whole write transaction (or a
/// read), again while it fails before its commit in a way a new attempt may
/// cure ([`error::is_retryable`]): on a Galera cluster two nodes' concurrent
/// writes to one row end in a certification failure for one of them, which
/// is the server's request to run it again, not an error for the caller;
/// and a database node that stops takes its connections with it, while a
/// new connection reaches another node. The block is evaluated anew for
/// each attempt.
macro_rules! retrying {
    ($db:expr, $what:expr, $body:expr) => {{
        let mut tries = 1u32;
        loop {
            match $body.await {
                Err($crate::db::DbError::Backend(e)) if $db.should_retry(&e, tries) => {
                    $db.pause_before_retry($what, tries, &e).await;
                    tries += 1;
                }
                other => break other,
            }
        }
    }};
}

mod audit;
mod cache;
mod codec;
mod error;
mod images;
mod inflight;
mod jobs;
mod list;
mod locations;
mod members;
mod metadefs;
mod notifications;
mod schema;
mod sql;
mod tasks;
mod usage;
mod wal_sync;
mod work;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::{PoolConnection, PoolConnectionMetadata};
use sqlx::{Any, AnyPool, Connection as _, Executor, Transaction};

use sql::Batch;

pub use crate::domain::{Member, MemberStatus};
pub use audit::{AuditKind, AuditResult, DAMAGED, NewAuditResult, OUTCOME_OK};
pub use cache::CachedImage;
pub use error::DbError;
pub use inflight::DATA_LEASE_PREFIX;
pub use jobs::Lease;
pub use metadefs::{
    DEFAULT_OWNER, DocumentError, LoadMode, Loaded, MetadefContent, MetadefItem, parse_document,
};
pub use notifications::{NewNotification, Notification};
pub use schema::SchemaStatus;
pub use tasks::TaskQuery;
pub use usage::Usage;
pub use work::{NewWork, Purged, Work, WorkKind};

/// The database server behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    /// The backend a connection URL names, by its scheme.
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }
}

/// Handle to the metadata database. Cloning is cheap: clones share the pools.
#[derive(Debug, Clone)]
pub struct Database {
    backend: Backend,
    /// Runs every write transaction. On SQLite it holds one connection.
    writer: AnyPool,
    /// Runs reads outside transactions; the same pool as `writer` except on
    /// file-backed SQLite.
    reader: AnyPool,
    /// File-backed SQLite: the flushes that make commits durable.
    wal: Option<Arc<wal_sync::WalSync>>,
    /// Writes committed through this handle and its clones.
    writes: Arc<AtomicU64>,
}

/// How long a SQLite connection waits for a lock held by another process
/// before giving up. In-process writers never contend: they share one connection.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
const SQLITE_READERS: u32 = 4;
const SERVER_CONNECTIONS: u32 = 10;
/// Refreshes SQLite's planner statistics where a table grew or shrank tenfold
/// since they were made, or has none (all tables, a bounded sample of each).
const SQLITE_OPTIMIZE: &str = "PRAGMA optimize = 0x10002";
/// SQLite's planner statistics are first refreshed after this many writes.
const STATISTICS_FIRST_AT: u64 = 1024;
/// A server connection idle this long is pinged before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);
/// Writers queue for the single SQLite connection; under a burst of uploads
/// the queue can be long, and waiting is better than failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a request waits for a connection to a database server unless the
/// configuration says otherwise (`database.acquire_timeout_secs`). Short: while the
/// server is down, sqlx retries a refused connection until this deadline, and the
/// request is better answered 503 at once than held.
pub const SERVER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts at an operation that keeps failing before its commit (see `retrying!`).
const WRITE_ATTEMPTS: u32 = 10;
/// How long the first connection to a database server may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// `host:port` of a database URL, without the user and password.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned()
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");

impl Database {
    /// Connects and brings the schema up to date.
    ///
    /// Accepts `sqlite://path?mode=rwc`, `sqlite::memory:`, `postgres://…`,
    /// `postgresql://…`, `mysql://…` and `mariadb://…`.
    pub async fn connect(url: &str) -> Result<Database, DbError> {
        Self::connect_waiting(url, SERVER_ACQUIRE_TIMEOUT).await
    }

    /// [`Database::connect`], with requests to a database server waiting at most
    /// `acquire_timeout` for a connection.
    pub async fn connect_waiting(
        url: &str,
        acquire_timeout: Duration,
    ) -> Result<Database, DbError> {
        let db = Self::open_waiting(url, acquire_timeout).await?;
        db.upgrade().await?;
        Ok(db)
    }

    /// Connects without touching the schema (`glint db check`).
    pub async fn open(url: &str) -> Result<Database, DbError> {
        Self::open_waiting(url, SERVER_ACQUIRE_TIMEOUT).await
    }

    async fn open_waiting(url: &str, acquire_timeout: Duration) -> Result<Database, DbError> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            DbError::UnsupportedUrl(scheme.to_owned())
        })?;
        sqlx::any::install_default_drivers();

        let (writer, reader, wal) = match backend {
            Backend::Sqlite => {
                let mut writer = local_pool()
                    .max_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, meta| Box::pin(sqlite_writer_setup(conn, meta)));
                if is_sqlite_memory(url) {
                    // The database goes with its one connection: never retire it.
                    writer = writer
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None);
                }
                let writer = writer.connect(url).await?;
                // Every connection to `:memory:` opens a database of its own,
                // so an in-memory database is read through its writer.
                if is_sqlite_memory(url) {
                    (writer.clone(), writer, None)
                } else {
                    let reader = local_pool()
                        .max_connections(SQLITE_READERS)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .after_connect(|conn, meta| Box::pin(sqlite_reader_setup(conn, meta)))
                        .connect(url)
                        .await?;
                    let file: String = sqlx::query_scalar(
                        "SELECT file FROM pragma_database_list WHERE name = 'main'",
                    )
                    .fetch_one(&writer)
                    .await?;
                    let wal = Arc::new(wal_sync::WalSync::new(file));
                    (writer, reader, Some(wal))
                }
            }
            Backend::Postgres | Backend::MySql => {
                // One attempt first: the pool would retry an unreachable host for
                // ACQUIRE_TIMEOUT before saying anything.
                let probe = tokio::time::timeout(PROBE_TIMEOUT, AnyConnection::connect(url))
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)
                    .and_then(|r| r);
                match probe {
                    Ok(conn) => {
                        let _ = conn.close().await;
                    }
                    Err(source) => {
                        return Err(DbError::Unreachable {
                            host: url_host(url),
                            source,
                        });
                    }
                }
                let mut options = server_pool()
                    .max_connections(SERVER_CONNECTIONS)
                    .acquire_timeout(acquire_timeout);
                if backend == Backend::MySql {
                    options = options.after_connect(|conn, meta| Box::pin(mysql_setup(conn, meta)));
                }
                let pool = options.connect(url).await?;
                (pool.clone(), pool, None)
            }
        };

        Ok(Database {
            backend,
            writer,
            reader,
            wal,
            writes: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; waits for the ones in use to come back.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Refreshes the query planner's statistics. PostgreSQL and MySQL keep
    /// them current by themselves as tables grow; SQLite refreshes them only
    /// when the database is opened, so a long-running SQLite deployment
    /// should call this now and then, and anyone after a bulk import.
    pub async fn analyze(&self) -> Result<(), DbError> {
        const TABLES: &str =
            "images, image_properties, image_tags, image_locations, image_members, tasks";
        let statement = match self.backend {
            Backend::Sqlite => "ANALYZE".to_owned(),
            Backend::Postgres => format!("ANALYZE {TABLES}"),
            Backend::MySql => format!("ANALYZE TABLE {TABLES}"),
        };
        self.writer.execute(sqlx::AssertSqlSafe(statement)).await?;
        Ok(())
    }

    /// Whether an operation that failed with `e` on its `tries`-th attempt
    /// should run again ([`error::is_retryable`]).
    fn should_retry(&self, e: &sqlx::Error, tries: u32) -> bool {
        tries < WRITE_ATTEMPTS && error::is_retryable(e)
    }

    /// Logs and counts a retry, then waits a little longer (with jitter)
    /// after each failed attempt, so that the writers that collided do not
    /// collide again.
    async fn pause_before_retry(&self, what: &'static str, tries: u32, e: &sqlx::Error) {
        tracing::info!(
            operation = what,
            attempt = tries,
            error = %e,
            "a database operation failed before its commit; running it again"
        );
        crate::metrics::db_retried(what);
        let base = 10u64 << tries.min(6);
        let jitter = u64::from(uuid::Uuid::new_v4().as_fields().1) % base;
        tokio::time::sleep(Duration::from_millis(base + jitter)).await;
    }

    /// Starts a write transaction.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, DbError> {
        let tx = match self.backend {
            // Take the write lock up front: a deferred transaction that
            // upgrades from read to write can fail with SQLITE_BUSY when
            // another process writes, without waiting for the busy timeout.
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres | Backend::MySql => self.writer.begin().await?,
        };
        Ok(tx)
    }
}

impl Database {
    /// Commits `tx` and returns once the commit is durable. A conflict the
    /// server reports here (Galera certifies a transaction at its commit)
    /// means the transaction was rolled back, and may run again; any other
    /// failure is [`DbError::CommitUnknown`]: the server may have committed
    /// before the answer was lost, so it is never retried. On file-backed
    /// SQLite, durability is the shared flush of [`wal_sync`]; a flush that
    /// fails leaves the commit visible but perhaps not on the disk, which is
    /// unknown too.
    pub(crate) async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), DbError> {
        tx.commit().await.map_err(|e| {
            if error::is_conflict(&e) {
                DbError::Backend(e)
            } else {
                DbError::CommitUnknown(e)
            }
        })?;
        self.durable().await?;
        self.wrote();
        Ok(())
    }

    /// Counts a committed write. On SQLite, each time the count doubles from
    /// 1,024, the planner's statistics are refreshed in the background
    /// (`PRAGMA optimize`, which re-reads only tables that grew or shrank
    /// tenfold, a bounded sample of each). SQLite gathers them only when
    /// asked, and Glint asks when it opens the database, which on an empty
    /// one gathers nothing: without them, a catalogue grown through the API
    /// had its default page sort every image (11 ms at 10,000 images, 1 ms
    /// with statistics).
    fn wrote(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= STATISTICS_FIRST_AT && n.is_power_of_two() {
            let writer = self.writer.clone();
            tokio::spawn(async move {
                if let Err(err) = sqlx::query(SQLITE_OPTIMIZE).execute(&writer).await {
                    tracing::warn!(%err, "could not refresh the database's planner statistics");
                }
            });
        }
    }

    /// Runs `batch` as a transaction of its own, and returns once it is
    /// durable. The first statement that fails is returned as
    /// [`DbError::Backend`], and then nothing is written.
    ///
    /// On file-backed SQLite the transaction is one script, `BEGIN
    /// IMMEDIATE; …; COMMIT`: one round trip to the writer's thread rather
    /// than three (begin, statements, commit). A writer that finds no other
    /// write in progress commits with `synchronous = FULL`, so that SQLite
    /// syncs the log within the commit, on its own thread, rather than in a
    /// flush of its own afterwards: alone, it would share that flush with no
    /// one. When SQLite's `COMMIT` fails, nothing was committed, so here no
    /// failure is of unknown outcome.
    pub(crate) async fn write_batch(&self, batch: Batch) -> Result<(), DbError> {
        // An in-memory database lives only as long as its connection, which
        // an abandoned script closes: it takes the other way.
        let Some(wal) = &self.wal else {
            let mut tx = self.begin_write().await?;
            batch.execute(&mut tx).await?;
            return self.commit(tx).await;
        };
        let writing = wal.writing();
        let script = if writing.alone() {
            batch.into_sqlite_script(
                "PRAGMA synchronous = FULL;\nBEGIN IMMEDIATE",
                "COMMIT;\nPRAGMA synchronous = NORMAL",
            )
        } else {
            batch.into_sqlite_script("BEGIN IMMEDIATE", "COMMIT")
        };
        let mut writer = Scripted {
            conn: self.writer.acquire().await?,
            settled: false,
        };
        // Every commit counted by now was made before this one, on the one
        // writer connection: a sync of the log within this commit covers it.
        let before = wal.commits();
        if let Err(e) = script.build()?.execute(&mut *writer.conn).await {
            // The script stopped inside its transaction, or before it began
            // (the write lock was not granted), or after SQLite rolled it
            // back. A connection that cannot roll back is closed, which does
            // (and a new one starts with `synchronous = NORMAL`).
            let rollback = sqlx::query("ROLLBACK; PRAGMA synchronous = NORMAL")
                .execute(&mut *writer.conn)
                .await;
            writer.settled = rollback.is_ok();
            return Err(e.into());
        }
        writer.settled = true;
        drop(writer);
        if writing.alone() {
            wal.synced_through(before);
        } else {
            self.durable().await?;
        }
        self.wrote();
        Ok(())
    }

    /// Returns once every commit that has returned is on the disk. On
    /// file-backed SQLite, that is the shared flush of [`wal_sync`]; a flush
    /// that fails leaves the commit visible but perhaps not on the disk,
    /// which is of unknown outcome. The servers are durable at their commit.
    async fn durable(&self) -> Result<(), DbError> {
        if let Some(wal) = &self.wal {
            wal.sync()
                .await
                .map_err(|e| DbError::CommitUnknown(sqlx::Error::Io(e)))?;
        }
        Ok(())
    }
}

/// SQLite's writer connection while a transaction's script runs on it.
/// Unless the script settled (committed, or rolled back), the connection is
/// closed when this is dropped rather than going back to the pool: a request
/// dropped mid-script may leave its transaction open.
struct Scripted {
    conn: PoolConnection<Any>,
    settled: bool,
}

impl Drop for Scripted {
    fn drop(&mut self) {
        if !self.settled {
            self.conn.close_on_drop();
        }
    }
}

/// A pool of in-process SQLite connections. sqlx tests a pooled connection
/// with a ping before lending it; a SQLite connection cannot go stale, and
/// the ping is a round trip to the connection's thread on every acquire.
fn local_pool() -> AnyPoolOptions {
    AnyPoolOptions::new().test_before_acquire(false)
}

/// A pool of connections to a database server. A connection that has just
/// been used is lent without a ping (a round trip to the server on every
/// acquire); one that sat idle, which the server or a proxy may have closed
/// meanwhile, is pinged first. A connection lost in between fails its
/// statement with an I/O error, which is retried on another connection.
fn server_pool() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < PING_AFTER_IDLE {
                    return Ok(true);
                }
                conn.ping().await?;
                Ok(true)
            })
        })
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// On a MariaDB Galera node, a statement waits until the node has applied
/// every write the cluster committed before it started (`wsrep_sync_wait`:
/// reads, updates, deletes and inserts). Without it, an image created
/// through one API node and read at once through another, connected to
/// another Galera node, may not be there yet, and a compare-and-set update
/// may miss a row. A server without Galera ignores the setting (MariaDB,
/// with wsrep off) or does not know it (MySQL): either is fine.
async fn mysql_setup(
    conn: &mut AnyConnection,
    _: PoolConnectionMetadata,
) -> Result<(), sqlx::Error> {
    if let Err(e) = conn.execute("SET SESSION wsrep_sync_wait = 7").await {
        tracing::debug!(error = %e, "not a Galera node: no causal reads to ask for");
    }
    // MariaDB's JSON_ARRAYAGG and JSON_OBJECTAGG, which read an image's
    // children and list pages in one row (`codec`), are cut at
    // `group_concat_max_len` (1 MiB by default): lift it to the largest value
    // both servers accept.
    conn.execute("SET SESSION group_concat_max_len = 4294967295")
        .await?;
    Ok(())
}

async fn sqlite_writer_setup(
    conn: &mut AnyConnection,
    _: PoolConnectionMetadata,
) -> Result<(), sqlx::Error> {
    // WAL lets readers run while a write is in progress. A commit does not
    // wait for the disk (synchronous=NORMAL); `Database::commit` flushes the
    // log before the write is answered, once for every commit made meanwhile
    // (see `wal_sync`): an answered write survives a power cut.
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    sqlite_common_setup(conn).await?;
    // SQLite keeps no planner statistics by itself; without them it may pick
    // the visibility index over owner or created_at. This refreshes stale
    // ones, with a bounded amount of work, as SQLite recommends at open.
    conn.execute(SQLITE_OPTIMIZE).await?;
    Ok(())
}

async fn sqlite_reader_setup(
    conn: &mut AnyConnection,
    _: PoolConnectionMetadata,
) -> Result<(), sqlx::Error> {
    // Readers must never write: all writes go through the single writer.
    conn.execute("PRAGMA query_only = ON").await?;
    sqlite_common_setup(conn).await
}

async fn sqlite_common_setup(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA foreign_keys = ON").await?;
    let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
    conn.execute(sqlx::AssertSqlSafe(busy)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    async fn file_database(dir: &tempfile::TempDir) -> Database {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        Database::connect(&url).await.unwrap()
    }

    /// A new image's id, as its child rows name it.
    async fn image(db: &Database) -> String {
        let image = crate::domain::Image::new(uuid::Uuid::new_v4(), None, chrono::Utc::now());
        db.create_image(&image).await.unwrap();
        codec::id_text(image.id)
    }

    fn insert_tag(batch: &mut Batch, image: &str, tag: &str) {
        batch
            .statement()
            .push("INSERT INTO image_tags (image_id, value) VALUES (")
            .bind(image.to_owned())
            .push(", ")
            .bind(tag.to_owned())
            .push(")");
    }

    const NORMAL: i64 = 1;

    /// The writer connection's `synchronous` setting.
    async fn synchronous(db: &Database) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&db.writer)
            .await
            .unwrap()
    }

    /// How many tags each image has.
    async fn tag_counts(db: &Database) -> HashMap<String, i64> {
        sqlx::query_as("SELECT image_id, COUNT(*) FROM image_tags GROUP BY image_id")
            .fetch_all(&db.reader)
            .await
            .unwrap()
            .into_iter()
            .collect()
    }

    /// A batch is one transaction: a statement that fails after others ran
    /// leaves nothing written, and the writer takes the next batch.
    #[tokio::test]
    async fn a_failed_batch_writes_nothing_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = file_database(&dir).await;
        let i = image(&db).await;
        let mut batch = Batch::new(db.backend);
        insert_tag(&mut batch, &i, "a");
        batch
            .statement()
            .push("INSERT INTO no_such_table VALUES (1)");
        let err = db.write_batch(batch).await.unwrap_err();
        assert!(matches!(err, DbError::Backend(_)), "{err:?}");
        assert!(tag_counts(&db).await.is_empty());
        assert_eq!(synchronous(&db).await, NORMAL);

        let mut batch = Batch::new(db.backend);
        insert_tag(&mut batch, &i, "b");
        insert_tag(&mut batch, &i, "c");
        db.write_batch(batch).await.unwrap();
        assert_eq!(tag_counts(&db).await, HashMap::from([(i, 2)]));
        // A lone writer commits with FULL, and leaves the writer at NORMAL.
        assert_eq!(synchronous(&db).await, NORMAL);
    }

    /// A catalogue grown from empty while the server runs gets planner
    /// statistics, without a restart.
    #[tokio::test]
    async fn statistics_are_gathered_as_the_catalogue_grows() {
        let dir = tempfile::tempdir().unwrap();
        let db = file_database(&dir).await;
        let stat_rows = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'images'")
                .fetch_one(&db.reader)
                .await
                .unwrap_or(0)
        };
        assert_eq!(stat_rows().await, 0);
        for _ in 0..STATISTICS_FIRST_AT {
            image(&db).await;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while stat_rows().await == 0 {
            assert!(std::time::Instant::now() < deadline, "no statistics");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A script abandoned while it runs (its request went away) commits
    /// whole or not at all, and does not leave the writer inside its
    /// transaction.
    #[tokio::test]
    async fn an_abandoned_batch_leaves_no_transaction_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = file_database(&dir).await;
        for _ in 0..50 {
            let i = image(&db).await;
            let mut batch = Batch::new(db.backend);
            for t in 0..200 {
                insert_tag(&mut batch, &i, &t.to_string());
            }
            // Polled once, far enough to send the script, then dropped.
            let _ = tokio::time::timeout(Duration::ZERO, db.write_batch(batch)).await;
        }
        let kept = image(&db).await;
        let mut batch = Batch::new(db.backend);
        insert_tag(&mut batch, &kept, "k");
        db.write_batch(batch).await.unwrap();
        let counts = tag_counts(&db).await;
        assert_eq!(counts.get(&kept), Some(&1));
        assert!(
            counts.iter().all(|(i, &n)| *i == kept || n == 200),
            "{counts:?}"
        );
    }
}
