//! Writing an image: a temporary file in `<root>/.incoming/`, flushed to disk, then linked into its
//! shard under the image id.
//!
//! The host polls the put future on its own threads, which must never block on the disk, so one
//! blocking task of the plugin's runtime does the file I/O and receives the buffers over a bounded
//! channel: back-pressure reaches the uploader. The future keeps the channel's sender until the task
//! ends; if the host drops the future, the sender goes with it and the task abandons the write.
//!
//! Publishing uses a hard link rather than a rename: `link` fails when the name exists, where
//! `rename` would silently replace an image already stored under that id.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use glint_sdk::bytes::Bytes;
use glint_sdk::futures::StreamExt;
use glint_sdk::{DataStream, ErrorKind, StoreError, runtime};
use tokio::sync::mpsc;

use crate::error::parse_error;
use crate::layout::Object;

/// Buffers queued between the put future and the writing task.
const QUEUE: usize = 16;

/// One image to write.
pub struct Job {
    pub object: Object,
    pub incoming: PathBuf,
    pub root: PathBuf,
    pub size_hint: Option<u64>,
    pub fsync: bool,
}

/// Writes `data` as `job.object` and returns the byte count.
pub async fn write(job: Job, mut data: DataStream) -> Result<u64, StoreError> {
    // `Some(bytes)` is data, `None` marks the end; a closed channel means "abandon".
    let (sender, receiver) = mpsc::channel::<Option<Bytes>>(QUEUE);
    let written = runtime::spawn_blocking(move || write_blocking(&job, receiver));
    while let Some(chunk) = data.next().await {
        // On a stream error `?` returns at once, dropping the sender: the task removes its file.
        if sender.send(Some(chunk?)).await.is_err() {
            // The task stopped early (a full disk, an id already stored): its result says why.
            break;
        }
    }
    // Ignored failure: the task already stopped, and its result says why.
    let _ = sender.send(None).await;
    let result = written.await?;
    drop(sender);
    result
}

fn write_blocking(
    job: &Job,
    mut receiver: mpsc::Receiver<Option<Bytes>>,
) -> Result<u64, StoreError> {
    let target = &job.object.path;
    if fs::symlink_metadata(target).is_ok() {
        return Err(already_exists(target));
    }
    let mut temp = TempFile::create(&job.incoming, job.fsync, &job.root)?;
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
            None => return Err(abandoned(target)),
        }
    }
    if job.size_hint.is_some_and(|hint| size != hint) {
        return Err(size_mismatch(job, size, ""));
    }
    temp.flush(job.fsync)?;
    if receiver.is_closed() {
        // The put future was dropped while the data was being flushed: do not publish.
        return Err(abandoned(target));
    }
    let new_shard = ensure_dir(&job.object.shard_dir)?;
    temp.publish(target)?;
    if job.fsync {
        sync_dir(&job.object.shard_dir)?;
        if new_shard {
            sync_dir(&job.root)?;
        }
    }
    Ok(size)
}

/// Creates `dir` if it is missing; says whether it did.
fn ensure_dir(dir: &Path) -> Result<bool, StoreError> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(true),
        // Another put may create the same shard at the same moment.
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(parse_error(err, dir.display())),
    }
}

/// Flushes a directory entry change (a create, link or unlink) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| parse_error(err, dir.display()))
}

fn already_exists(target: &Path) -> StoreError {
    StoreError::new(
        ErrorKind::AlreadyExists,
        format!("{} already exists", target.display()),
    )
}

fn abandoned(target: &Path) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!("the write of {} was abandoned", target.display()),
    )
}

fn size_mismatch(job: &Job, size: u64, qualifier: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!(
            "the data for {} is {qualifier}{size} bytes, but {} were announced",
            job.object.path.display(),
            job.size_hint.unwrap_or_default()
        ),
    )
}

/// A file in the incoming directory, removed when dropped: after a successful publish its data
/// stays reachable under the image's name; after a failure or abandonment nothing is left.
struct TempFile {
    path: PathBuf,
    file: BufWriter<File>,
}

impl TempFile {
    fn create(incoming: &Path, fsync: bool, root: &Path) -> Result<Self, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        if ensure_dir(incoming)? && fsync {
            sync_dir(root)?;
        }
        // Unique among the glint processes sharing this directory on one host.
        let path = incoming.join(format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // `create_new` refuses an existing file or symbolic link.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|err| parse_error(err, path.display()))?;
        Ok(TempFile {
            path,
            file: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(data)
            .map_err(|err| parse_error(err, self.path.display()))
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

    /// Links the data under `target`, failing if that name exists.
    fn publish(&self, target: &Path) -> Result<(), StoreError> {
        fs::hard_link(&self.path, target).map_err(|err| match err.kind() {
            io::ErrorKind::AlreadyExists => already_exists(target),
            _ => parse_error(err, target.display()),
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_file(&self.path) {
            glint_sdk::tracing::warn!(path = %self.path.display(), %err, "cannot remove a temporary file");
        }
    }
}
