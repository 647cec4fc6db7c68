//! Writing an image: a temporary RBD image, written in chunk-size writes, flushed, snapshotted,
//! then renamed to the image id (librbd refuses to rename onto an existing name).
//!
//! One blocking task per put does the cluster calls, fed over a bounded channel, so the host's
//! threads never block on the cluster and back-pressure reaches the uploader. The put future
//! keeps the channel's sender until the task finishes; if the future is dropped, the sender goes
//! with it and the task abandons the write. A failed or abandoned write removes its temporary
//! image; since that name is unique, a retry of the same id never waits for that clean-up.
//! A write whose process dies leaves its temporary image: the store lists it once no client
//! has it open (`shared::list_page`), so the host's orphan audit finds it and the reaper
//! deletes it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, ErrorKind, StoreError, runtime};
use tokio::sync::mpsc;

use crate::ceph::{AioWrite, CephError, Image, IoCtx, errno};
use crate::error::parse_error;
use crate::shared::{SNAPSHOT, Shared};

/// Buffers queued between the put future and the writing thread.
const QUEUE: usize = 64;

/// Chunk writes in flight at once per put: overlaps the network round trips of one upload.
const IN_FLIGHT: usize = 4;

/// An unknown-size image grows by at least this much, doubling each time up to 8 GiB.
const MAX_GROWTH: u64 = 8 << 30;

/// One image to write.
pub struct Job {
    pub shared: Arc<Shared>,
    pub image: String,
    pub size_hint: Option<u64>,
}

/// What a successful write stored.
pub struct Written {
    pub size: u64,
    /// The cluster's fsid, for the location.
    pub fsid: String,
}

/// Writes `data` as the image `job.image`.
pub async fn write(job: Job, mut data: DataStream) -> Result<Written, StoreError> {
    // `Some(bytes)` is data, `None` marks the end; a closed channel means "abandon".
    let (sender, receiver) = mpsc::channel::<Option<Bytes>>(QUEUE);
    let written = runtime::spawn_blocking(move || write_blocking(&job, receiver));
    while let Some(chunk) = data.next().await {
        match chunk {
            Ok(chunk) => {
                if sender.send(Some(chunk)).await.is_err() {
                    // The writer stopped early; its result says why.
                    break;
                }
            }
            Err(err) => {
                // Closing the channel abandons the write; wait for its clean-up so that nothing
                // is left when the error is returned.
                drop(sender);
                let _ = written.await;
                return Err(err);
            }
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
) -> Result<Written, StoreError> {
    let shared = &job.shared;
    let cluster = shared.cluster()?;
    let ioctx = shared.ioctx(&cluster, None)?;
    let subject = |err: CephError| parse_error(err, format!("image {}", job.image));
    match ioctx.open_read_only(&job.image, None) {
        Ok(_) => return Err(already_exists(&job.image)),
        Err(err) if err.errno == errno::ENOENT => {}
        Err(err) => return Err(subject(err)),
    }
    let temporary = temporary_name(&job.image);
    let initial_size = job.size_hint.unwrap_or(0);
    ioctx
        .create_image(&temporary, initial_size, shared.config.order())
        .map_err(subject)?;
    // Declared before `image`, so it is dropped (and cleans up) after the image is closed.
    let mut partial = Partial {
        ioctx: Arc::clone(&ioctx),
        name: temporary.clone(),
        snapshot: false,
        published: false,
    };
    let image = ioctx.open(&temporary, None).map_err(subject)?;
    let mut chunks = Chunks::new(
        &image,
        &shared.zeroes,
        initial_size,
        job.size_hint.is_none(),
    );
    let mut size = 0u64;
    loop {
        match receiver.blocking_recv() {
            Some(Some(data)) => {
                size += data.len() as u64;
                if job.size_hint.is_some_and(|hint| size > hint) {
                    return Err(size_mismatch(job, size, "at least "));
                }
                chunks.push(&data).map_err(subject)?;
            }
            Some(None) => break,
            None => return Err(abandoned(&job.image)),
        }
    }
    chunks.finish().map_err(subject)?;
    if job.size_hint.is_some_and(|hint| size != hint) {
        return Err(size_mismatch(job, size, ""));
    }
    let trim = chunks.capacity != size;
    drop(chunks);
    if trim {
        // Trim what growing in steps added past the end.
        image.resize(size).map_err(subject)?;
    }
    image.flush().map_err(subject)?;
    if receiver.is_closed() {
        // The put future was dropped while the data was being flushed: do not publish.
        return Err(abandoned(&job.image));
    }
    image.snap_create(SNAPSHOT).map_err(subject)?;
    partial.snapshot = true;
    image.snap_protect(SNAPSHOT).map_err(subject)?;
    drop(image);
    ioctx
        .rename_image(&temporary, &job.image)
        .map_err(|err| match err.errno {
            errno::EEXIST => already_exists(&job.image),
            _ => subject(err),
        })?;
    partial.published = true;
    Ok(Written {
        size,
        fsid: cluster.fsid().to_owned(),
    })
}

/// Gathers the incoming buffers into chunk-size writes at increasing offsets, up to
/// [`IN_FLIGHT`] of them at once; chunks of zeroes are not written (the image reads zeroes
/// wherever nothing was written).
struct Chunks<'a> {
    image: &'a Image,
    zeroes: &'a [u8],
    buffer: Vec<u8>,
    /// Writes in flight, oldest first, and buffers ready for reuse.
    in_flight: VecDeque<AioWrite<'a>>,
    spare: Vec<Vec<u8>>,
    /// Bytes of the image handled so far (written, being written or skipped).
    written: u64,
    /// The image's current size.
    capacity: u64,
    growth: u64,
    /// The size is unknown: grow the image as data arrives.
    resizable: bool,
}

impl<'a> Chunks<'a> {
    fn new(image: &'a Image, zeroes: &'a [u8], size: u64, resizable: bool) -> Self {
        Chunks {
            image,
            zeroes,
            buffer: Vec::with_capacity(zeroes.len()),
            in_flight: VecDeque::with_capacity(IN_FLIGHT),
            spare: Vec::new(),
            written: 0,
            capacity: size,
            growth: zeroes.len() as u64,
            resizable,
        }
    }

    fn push(&mut self, mut data: &[u8]) -> Result<(), CephError> {
        while !data.is_empty() {
            let take = (self.zeroes.len() - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == self.zeroes.len() {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered and waits for every write in flight.
    fn finish(&mut self) -> Result<(), CephError> {
        if !self.buffer.is_empty() {
            self.flush_chunk()?;
        }
        self.drain(0)
    }

    /// Waits for the oldest writes until at most `keep` are in flight.
    fn drain(&mut self, keep: usize) -> Result<(), CephError> {
        while self.in_flight.len() > keep {
            let write = self.in_flight.pop_front().expect("a write in flight");
            let mut buffer = write.wait()?;
            buffer.clear();
            self.spare.push(buffer);
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> Result<(), CephError> {
        let len = self.buffer.len() as u64;
        // A slice comparison is a `memcmp`: fast even in unoptimised builds.
        if self.buffer[..] != self.zeroes[..self.buffer.len()] {
            let end = self.written + len;
            if self.resizable && end > self.capacity {
                // Resize only with no write in flight.
                self.drain(0)?;
                self.growth = (self.growth * 2).min(MAX_GROWTH);
                self.capacity = end.max(self.capacity + self.growth);
                self.image.resize(self.capacity)?;
            }
            self.drain(IN_FLIGHT - 1)?;
            let next = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(self.zeroes.len()));
            let data = std::mem::replace(&mut self.buffer, next);
            self.in_flight
                .push_back(self.image.aio_write(self.written, data)?);
        } else {
            self.buffer.clear();
        }
        self.written += len;
        Ok(())
    }
}

/// A temporary image not yet published: removed (snapshot first) when dropped unpublished.
struct Partial {
    ioctx: Arc<IoCtx>,
    name: String,
    snapshot: bool,
    published: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if self.published {
            return;
        }
        let result = (|| {
            if self.snapshot {
                let image = self.ioctx.open(&self.name, None)?;
                match image.snap_unprotect(SNAPSHOT) {
                    Ok(())
                    | Err(CephError {
                        errno: errno::EINVAL,
                        ..
                    }) => {}
                    Err(err) => return Err(err),
                }
                image.snap_remove(SNAPSHOT)?;
            }
            self.ioctx.remove_image(&self.name)
        })();
        if let Err(err) = result {
            tracing::warn!(image = %self.name, %err, "cannot remove a partly written image");
        }
    }
}

/// A unique name for the image being written ([`crate::shared::temporary_name`]).
fn temporary_name(image: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    crate::shared::temporary_name(
        image,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos,
    )
}

fn already_exists(image: &str) -> StoreError {
    StoreError::new(
        ErrorKind::AlreadyExists,
        format!("RBD image {image} already exists"),
    )
}

fn abandoned(image: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!("write of RBD image {image} abandoned"),
    )
}

fn size_mismatch(job: &Job, size: u64, qualifier: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!(
            "image data for {} is {qualifier}{size} bytes, but {} were announced",
            job.image,
            job.size_hint.unwrap_or_default()
        ),
    )
}
