//! Group commit for file-backed SQLite.
//!
//! The writer connection commits with `synchronous = NORMAL`: a commit
//! appends its frames to the write-ahead log without waiting for the disk.
//! Before a write is answered, [`WalSync::sync`] makes it durable with an
//! `fdatasync` of the log, and one such call covers every commit that
//! returned before it started. Concurrent writers therefore share one disk
//! flush instead of queueing for one each behind the single writer
//! connection, and every write that is answered has reached the disk, as
//! with `synchronous = FULL`. A checkpoint syncs the log before copying it
//! into the database file and the database file before reusing the log, so
//! a log that was checkpointed away needs no flush of its own.
//!
//! A writer that finds no other write in progress gains nothing from
//! sharing: it commits with `synchronous = FULL` instead, and SQLite syncs
//! the log within the commit ([`WalSync::synced_through`]).
//!
//! What a commit shows before its flush: a concurrent reader may see a row
//! whose writer has not been answered yet. Should the machine lose power in
//! that moment, the row is gone, and so is any write made after it: a later
//! write is answered only after a flush that covers the earlier one.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shared flushes of one SQLite database's write-ahead log.
#[derive(Debug)]
pub(crate) struct WalSync {
    /// The `-wal` file beside the database.
    wal: PathBuf,
    /// Commits that returned so far.
    committed: AtomicU64,
    /// The number of commits a finished flush covers.
    durable: AtomicU64,
    /// Flushes made.
    flushes: AtomicU64,
    /// One flush at a time; the writers that queue behind it are covered
    /// by the next.
    flushing: tokio::sync::Mutex<()>,
    /// Scripted writes (`Database::write_batch`) in progress, from wanting
    /// the writer to being durable; writes in open transactions are not
    /// counted, and a script that thinks itself alone beside one only syncs
    /// the log sooner than needed.
    writers: AtomicUsize,
}

/// One write in progress ([`WalSync::writing`]).
pub(crate) struct Writing<'w> {
    writers: &'w AtomicUsize,
    alone: bool,
}

impl Writing<'_> {
    /// Whether no other write was in progress when this one started.
    pub(crate) fn alone(&self) -> bool {
        self.alone
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.writers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WalSync {
    /// For the database file at `database`.
    pub(crate) fn new(database: impl Into<PathBuf>) -> WalSync {
        let mut wal = database.into().into_os_string();
        wal.push("-wal");
        WalSync {
            wal: wal.into(),
            committed: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            flushing: tokio::sync::Mutex::new(()),
            writers: AtomicUsize::new(0),
        }
    }

    /// Counts a write in progress until the returned guard drops.
    pub(crate) fn writing(&self) -> Writing<'_> {
        let others = self.writers.fetch_add(1, Ordering::AcqRel);
        Writing {
            writers: &self.writers,
            alone: others == 0,
        }
    }

    /// The commits counted so far ([`WalSync::sync`] counts each).
    pub(crate) fn commits(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// A commit made with `synchronous = FULL` synced the log, and so made
    /// durable every commit made before it: the first `before` counted.
    pub(crate) fn synced_through(&self, before: u64) {
        self.durable.fetch_max(before, Ordering::AcqRel);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        crate::metrics::db_wal_flush();
    }

    /// Returns once the commit that has just returned is on the disk.
    pub(crate) async fn sync(&self) -> io::Result<()> {
        let mine = self.committed.fetch_add(1, Ordering::AcqRel) + 1;
        if self.durable.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let _flushing = self.flushing.lock().await;
        if self.durable.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        // Every commit counted so far returned before this flush starts.
        let covered = self.committed.load(Ordering::Acquire);
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || flush(&wal))
            .await
            .map_err(io::Error::other)??;
        self.durable.fetch_max(covered, Ordering::AcqRel);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        crate::metrics::db_wal_flush();
        Ok(())
    }
}

/// `fdatasync` of the log. A log that is not there was checkpointed into the
/// database file, which the checkpoint synced.
fn flush(wal: &std::path::Path) -> io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// On one thread: every task counts its commit before the first flush ends.
    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_commits_share_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("glint.db");
        std::fs::write(dir.path().join("glint.db-wal"), b"frames").unwrap();
        let sync = Arc::new(WalSync::new(&database));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let sync = sync.clone();
                tokio::spawn(async move { sync.sync().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(sync.durable.load(Ordering::Acquire), 64);
        // The first writer flushes alone; the 63 that queued behind it
        // share the second flush.
        assert_eq!(sync.flushes.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_commit_that_synced_the_log_covers_the_commits_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let sync = WalSync::new(dir.path().join("glint.db"));
        let first = sync.writing();
        assert!(first.alone());
        assert!(
            !sync.writing().alone(),
            "a second write while the first runs"
        );
        drop(first);
        assert!(sync.writing().alone(), "each guard counts until it drops");

        sync.sync().await.unwrap();
        sync.sync().await.unwrap();
        assert_eq!(sync.flushes.load(Ordering::Relaxed), 2);
        // A commit made with FULL once two were counted covers those two ...
        let before = sync.commits();
        sync.synced_through(before);
        // ... and no later one.
        let after = sync.committed.fetch_add(1, Ordering::AcqRel) + 1;
        assert_eq!(sync.durable.load(Ordering::Acquire), 2);
        assert!(after > sync.durable.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn a_missing_log_needs_no_flush_but_a_broken_path_fails() {
        let dir = tempfile::tempdir().unwrap();
        WalSync::new(dir.path().join("glint.db"))
            .sync()
            .await
            .unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        // A path under a regular file cannot be opened: the error is reported.
        assert!(WalSync::new(file.join("glint.db")).sync().await.is_err());
    }
}
