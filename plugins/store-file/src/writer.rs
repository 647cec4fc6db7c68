//! Writing an image: a temporary file, fsync, then an atomic no-replace publish.
//!
//! One blocking task per put writes the buffers it receives over a bounded channel, so the host's
//! threads never block on the disk and back-pressure reaches the uploader. The put future keeps the
//! channel's sender until the task finishes; if the future is dropped, the sender goes with it and
//! the task abandons the write.
//!
//! The temporary file is locked (`flock`) while it is written. A write whose process died leaves
//! it unlocked: the store lists it then, so the host's orphan audit finds it and the reaper
//! deletes it.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, ErrorKind, StoreError, runtime};
use tokio::sync::mpsc;

use crate::error::parse_error;

/// Buffers queued between the put future and the writing thread. A few are enough to keep
/// the disk busy; every one more is memory held per upload while the disk is the bottleneck
/// (8 uploads of the host's 256 KiB chunks hold 8 × QUEUE × 256 KiB).
const QUEUE: usize = 4;

/// The kernel is asked to start writing data back once this much is dirty, so the disk works
/// while the upload streams in and the final fsync has little left to flush.
const WRITEBACK_EVERY: u64 = 8 << 20;

/// Where and how to write one image.
pub struct Job {
    pub root: PathBuf,
    pub target: PathBuf,
    pub size_hint: Option<u64>,
    pub fsync: bool,
}

/// Writes `data` to `job.target` and returns the byte count.
pub async fn write(job: Job, mut data: DataStream) -> Result<u64, StoreError> {
    // `Some(bytes)` is data, `None` marks the end; a closed channel means "abandon".
    let (sender, receiver) = mpsc::channel::<Option<Bytes>>(QUEUE);
    let written = runtime::spawn_blocking(move || write_blocking(&job, receiver));
    while let Some(chunk) = data.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                // Closing the channel abandons the write; waiting for the writer means its
                // temporary file is gone before the error is returned.
                drop(sender);
                let _ = written.await;
                return Err(e);
            }
        };
        if sender.send(Some(chunk)).await.is_err() {
            // The writer stopped early; its result says why.
            break;
        }
    }
    // Ignored failure: the writer already stopped, and its result says why.
    let _ = sender.send(None).await;
    let result = written.await?;
    drop(sender);
    result
}

fn write_blocking(
    job: &Job,
    mut receiver: mpsc::Receiver<Option<Bytes>>,
) -> Result<u64, StoreError> {
    if fs::symlink_metadata(&job.target).is_ok() {
        return Err(already_exists(&job.target));
    }
    let mut temp = TempFile::create(&job.root, &job.target)?;
    let mut size = 0u64;
    loop {
        match receiver.blocking_recv() {
            Some(Some(chunk)) => {
                size += chunk.len() as u64;
                if job.size_hint.is_some_and(|hint| size > hint) {
                    return Err(size_mismatch(job, size, "at least "));
                }
                temp.write(&chunk)?;
            }
            Some(None) => break,
            None => {
                return Err(StoreError::new(
                    ErrorKind::Unexpected,
                    format!("write of {} abandoned", job.target.display()),
                ));
            }
        }
    }
    if job.size_hint.is_some_and(|hint| size != hint) {
        return Err(size_mismatch(job, size, ""));
    }
    temp.flush(job.fsync)?;
    if receiver.is_closed() {
        // The put future was dropped while the data was being flushed: do not publish.
        return Err(StoreError::new(
            ErrorKind::Unexpected,
            format!("write of {} abandoned", job.target.display()),
        ));
    }
    temp.publish(&job.target)?;
    if job.fsync {
        sync_dir(&job.root)?;
    }
    Ok(size)
}

fn already_exists(target: &Path) -> StoreError {
    StoreError::new(
        ErrorKind::AlreadyExists,
        format!("{} already exists", target.display()),
    )
}

fn size_mismatch(job: &Job, size: u64, qualifier: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!(
            "image data for {} is {qualifier}{size} bytes, but {} were announced",
            job.target.display(),
            job.size_hint.unwrap_or_default()
        ),
    )
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| parse_error(err, dir.display()))
}

/// The name of the temporary file a write of `image` uses: `.<image>.tmp-<pid>-<n>-<ns>`
/// (hexadecimal), unique per write; hidden, as image ids never start with `.`.
pub fn temporary_name(image: &str, pid: u32, counter: u64, nanos: u32) -> String {
    format!(".{image}.tmp-{pid:x}-{counter:x}-{nanos:x}")
}

/// The image id whose write a temporary file name ([`temporary_name`]) belongs to.
pub fn temporary_image_of(name: &str) -> Option<&str> {
    let (image, suffix) = name.strip_prefix('.')?.split_once(".tmp-")?;
    let parts: Vec<&str> = suffix.split('-').collect();
    let hex = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_hexdigit());
    (glint_sdk::names::is_safe_name(image) && parts.len() == 3 && parts.iter().all(hex))
        .then_some(image)
}

/// Whether the temporary file at `path` belongs to a write whose process is gone: no process
/// holds the lock its writer takes at creation (the kernel drops it when the writer dies, on
/// any node that shares the directory over a filesystem with locks). `false` when the file
/// cannot be opened (gone since it was listed).
pub fn is_abandoned(path: &Path) -> bool {
    File::open(path).is_ok_and(|file| file.try_lock_shared().is_ok())
}

/// A hidden temporary file next to the target, removed when dropped: on success its data is
/// reachable under the target name, on failure or abandonment nothing is left.
struct TempFile {
    path: PathBuf,
    file: BufWriter<File>,
    /// Bytes handed to the file so far, and how many of them writeback was started for.
    written: u64,
    flushed_from: u64,
}

impl TempFile {
    fn create(root: &Path, target: &Path) -> Result<Self, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let path = root.join(temporary_name(
            &name,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos,
        ));
        // `create_new` refuses an existing file or symbolic link.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|err| parse_error(err, path.display()))?;
        // Held until the file is closed, by this process only: a listing tells a write in
        // progress from one whose process died by it ([`is_abandoned`]).
        file.lock()
            .map_err(|err| parse_error(err, path.display()))?;
        Ok(TempFile {
            path,
            file: BufWriter::with_capacity(256 * 1024, file),
            written: 0,
            flushed_from: 0,
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(data)
            .map_err(|err| parse_error(err, self.path.display()))?;
        self.written += data.len() as u64;
        if self.written - self.flushed_from >= WRITEBACK_EVERY {
            self.file
                .flush()
                .map_err(|err| parse_error(err, self.path.display()))?;
            let len = self.written - self.flushed_from;
            if let Err(err) =
                glint_sdk::fs::start_writeback(self.file.get_ref(), self.flushed_from, len)
            {
                // Only an optimisation: the final fsync still makes the data durable.
                tracing::debug!(path = %self.path.display(), %err, "early writeback not started");
            }
            self.flushed_from = self.written;
        }
        Ok(())
    }

    fn flush(&mut self, fsync: bool) -> Result<(), StoreError> {
        self.file
            .flush()
            .and_then(|()| {
                if fsync {
                    self.file.get_ref().sync_all()
                } else {
                    Ok(())
                }
            })
            .map_err(|err| parse_error(err, self.path.display()))
    }

    /// Links the data under `target`, failing if that name exists (unlike `rename`, which would
    /// silently replace it).
    fn publish(&self, target: &Path) -> Result<(), StoreError> {
        fs::hard_link(&self.path, target).map_err(|err| match err.kind() {
            std::io::ErrorKind::AlreadyExists => already_exists(target),
            _ => parse_error(err, target.display()),
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %err, "cannot remove temporary file");
        }
    }
}
