//! Writing one image into the cache: bytes go to a file under `incomplete/`
//! on a blocking thread; when they end, size and md5 are checked against the
//! image and the file is renamed into place and indexed.
//!
//! A fill fed by a download ([`Fill::tee`]) never makes the download wait:
//! it takes a chunk only when its writer has room for it. When the writer
//! falls behind (the disk or the md5 is slower than the client), the fill
//! leaves the download and reads the rest of the image from the store itself,
//! in the background, from the first byte it does not have.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, ReadRange, StoreError};
use openssl::hash::{Hasher, MessageDigest};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{ImageCache, Origin, lock, remove_file};
use crate::domain::{Image, ImageStatus};

/// Chunks in flight to the writer: with 1 MiB chunks, at most a few MiB
/// wait for the disk; beyond that the reader waits.
const QUEUE: usize = 4;

enum Msg {
    Chunk(Bytes),
    /// All the data was sent.
    Done,
}

/// What the writer thread made of the data: `None` when it was abandoned.
type Written = std::io::Result<Option<(u64, String)>>;

/// A fill in progress. Dropping it before [`Fill::finish`] abandons it: the
/// writer removes its file.
pub(super) struct Fill {
    cache: ImageCache,
    id: Uuid,
    size: Option<u64>,
    /// Bytes passed to the writer so far.
    fed: u64,
    checksum: Option<String>,
    part: PathBuf,
    tx: mpsc::Sender<Msg>,
    writer: JoinHandle<Written>,
    _guard: FillGuard,
}

/// Marks an image as being filled in this process, until dropped.
struct FillGuard {
    cache: ImageCache,
    id: Uuid,
}

impl Drop for FillGuard {
    fn drop(&mut self) {
        lock(&self.cache.inner.filling).remove(&self.id);
        // A queued image whose fill by a download was abandoned: the worker
        // skipped it while that fill ran, so it takes it up now.
        if self.cache.is_queued(self.id) {
            self.cache.inner.wake.notify_one();
        }
    }
}

impl Fill {
    /// Start filling `image`; `None` when a fill of it is already running
    /// here or the file cannot be created.
    pub(super) fn start(cache: &ImageCache, image: &Image) -> Option<Fill> {
        if !lock(&cache.inner.filling).insert(image.id) {
            return None;
        }
        let guard = FillGuard {
            cache: cache.clone(),
            id: image.id,
        };
        let part = cache.inner.incomplete.join(format!(
            "{}.{}",
            image.id.hyphenated(),
            Uuid::new_v4().simple()
        ));
        let file = match std::fs::File::create(&part) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(image = %image.id, error = %e, "cannot create a cache file");
                return None;
            }
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let path = part.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let written = write(file, rx);
            if !matches!(written, Ok(Some(_))) {
                let _ = remove_file(&path);
            }
            written
        });
        Some(Fill {
            cache: cache.clone(),
            id: image.id,
            size: image.size.and_then(|s| u64::try_from(s).ok()),
            fed: 0,
            checksum: image.checksum.clone(),
            part,
            tx,
            writer,
            _guard: guard,
        })
    }

    /// Pass one chunk to the writer, waiting for room; `false` when the
    /// writer gave up.
    pub(super) async fn feed(&mut self, chunk: Bytes) -> bool {
        self.fed += chunk.len() as u64;
        self.tx.send(Msg::Chunk(chunk)).await.is_ok()
    }

    /// Pass one chunk to the writer only if it has room for it now.
    fn offer(&mut self, chunk: Bytes) -> Offer {
        let len = chunk.len() as u64;
        match self.tx.try_send(Msg::Chunk(chunk)) {
            Ok(()) => {
                self.fed += len;
                Offer::Taken
            }
            Err(TrySendError::Full(_)) => Offer::Behind,
            Err(TrySendError::Closed(_)) => Offer::Gone,
        }
    }

    /// Whether the writer has every byte of the image.
    fn fed_all(&self) -> bool {
        self.size.is_some_and(|s| self.fed >= s)
    }

    /// The rest of the image, from the first byte not fed, read from its
    /// store; then [`Fill::finish`]. `Ok(false)` when the download it left
    /// was abandoned meanwhile (the copy is abandoned too) or the copy was
    /// refused.
    async fn catch_up(
        mut self,
        origin: Origin,
        abandoned: &AtomicBool,
    ) -> Result<bool, StoreError> {
        let from = self.fed;
        // A store without ranged reads sends the image from its start: the
        // bytes the writer has are skipped here.
        let (range, mut skip) = if origin.ranged {
            let rest = ReadRange {
                offset: from,
                length: None,
            };
            (Some(rest), 0)
        } else {
            (None, from)
        };
        let mut data = (origin.reread)(range).await?.data;
        while let Some(chunk) = data.next().await {
            let mut chunk = chunk?;
            if abandoned.load(Ordering::Relaxed) {
                return Ok(false);
            }
            if skip > 0 {
                let n = skip.min(chunk.len() as u64);
                skip -= n;
                chunk = chunk.slice(n as usize..);
                if chunk.is_empty() {
                    continue;
                }
            }
            if !self.feed(chunk).await {
                return Ok(false);
            }
        }
        self.finish().await
    }

    /// The data ended: check it, and make it the image's cached copy.
    /// `Ok(false)` when the copy was refused (wrong size or md5).
    pub(super) async fn finish(self) -> Result<bool, StoreError> {
        let Fill {
            cache,
            id,
            size,
            fed: _,
            checksum,
            part,
            tx,
            writer,
            _guard,
        } = self;
        let _ = tx.send(Msg::Done).await;
        drop(tx);
        let written = writer
            .await
            .map_err(|e| super::cache_error("writing a cached image", e))?
            .map_err(|e| super::cache_error("writing a cached image", e))?;
        let Some((len, md5)) = written else {
            return Ok(false);
        };
        let size_ok = size.is_none_or(|s| s == len);
        let md5_ok = checksum
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(&md5));
        if !size_ok || !md5_ok {
            tracing::warn!(image = %id, bytes = len, expected = ?size, md5, checksum = ?checksum, "data read for the cache does not match the image; discarded");
            let _ = remove_file(&part);
            return Ok(false);
        }
        let target = cache.path(id);
        if let Err(e) = std::fs::rename(&part, &target) {
            let _ = remove_file(&part);
            return Err(super::cache_error("storing a cached image", e));
        }
        let inner = &cache.inner;
        if let Err(e) = inner
            .db
            .cache_insert(&inner.node, id, len, Some(&md5), chrono::Utc::now())
            .await
        {
            let _ = remove_file(&target);
            return Err(super::cache_error("indexing a cached image", e));
        }
        // The image may have been deleted or deactivated while its data was
        // read; whoever changed it removed any copy that existed then.
        let still_active = matches!(
            inner.db.get_image(id).await,
            Ok(Some(image)) if image.status == ImageStatus::Active
        );
        if !still_active {
            cache.delete_cached(id).await?;
            return Ok(false);
        }
        let _ = cache.delete_queued(id);
        tracing::info!(image = %id, bytes = len, "image cached");
        drop(_guard);
        if cache.size() > inner.max_size {
            let cache = cache.clone();
            tokio::spawn(async move {
                if let Err(e) = cache.prune().await {
                    tracing::warn!(error = %e, "pruning the image cache failed");
                }
            });
        }
        Ok(true)
    }

    /// `data` as it was, with each chunk also passed to this fill while its
    /// writer keeps up; once it falls behind, the fill reads the rest from
    /// `origin` in the background. The fill finishes once it has all the
    /// data; an error in the data or a client that stops reading before the
    /// end abandons it.
    pub(super) fn tee(self, data: DataStream, origin: Origin) -> DataStream {
        let download = Download {
            size: self.size,
            sent: 0,
            abandoned: Arc::new(AtomicBool::new(false)),
        };
        futures::stream::unfold(
            (data, Some((self, origin)), download),
            |(mut data, mut fill, mut download)| async move {
                match data.next().await {
                    Some(Ok(chunk)) => {
                        download.sent += chunk.len() as u64;
                        if let Some((f, _)) = &mut fill {
                            match f.offer(chunk.clone()) {
                                // The HTTP layer stops reading once it has
                                // sent Content-Length bytes, so the end of
                                // the data may never be polled: finish now.
                                Offer::Taken if f.fed_all() => {
                                    finish_in_background(fill.take().map(|(f, _)| f));
                                }
                                Offer::Taken => {}
                                Offer::Behind => {
                                    if let Some((f, origin)) = fill.take() {
                                        catch_up_in_background(f, origin, &download.abandoned);
                                    }
                                }
                                Offer::Gone => fill = None,
                            }
                        }
                        Some((Ok(chunk), (data, fill, download)))
                    }
                    Some(Err(e)) => Some((Err(e), (data, None, download))),
                    None => {
                        download.ended();
                        finish_in_background(fill.map(|(f, _)| f));
                        None
                    }
                }
            },
        )
        .boxed()
    }
}

/// What [`Fill::offer`] did with a chunk.
enum Offer {
    Taken,
    /// The writer has no room: it is slower than the download.
    Behind,
    /// The writer gave up.
    Gone,
}

/// The download a fill was fed by, as its stream sees it. Dropped before all
/// of the image was sent (the client hung up, the data failed), it tells a
/// fill catching up in the background to give up too.
struct Download {
    size: Option<u64>,
    sent: u64,
    abandoned: Arc<AtomicBool>,
}

impl Download {
    /// The data ended: all of it was sent, whatever the size said.
    fn ended(&mut self) {
        self.size = Some(self.sent);
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.size.is_some_and(|s| self.sent >= s) {
            self.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

fn finish_in_background(fill: Option<Fill>) {
    if let Some(fill) = fill {
        let id = fill.id;
        tokio::spawn(async move {
            if let Err(e) = fill.finish().await {
                tracing::warn!(image = %id, error = %e, "caching a downloaded image failed");
            }
        });
    }
}

fn catch_up_in_background(fill: Fill, origin: Origin, abandoned: &Arc<AtomicBool>) {
    let (id, from) = (fill.id, fill.fed);
    // Logged so that tests can tell a fill that fell behind (they wait for this line).
    tracing::debug!(image = %id, from, "the cache copy fell behind the download; reading the rest from the store");
    let abandoned = abandoned.clone();
    tokio::spawn(async move {
        if let Err(e) = fill.catch_up(origin, &abandoned).await {
            tracing::warn!(image = %id, error = %e, "caching a downloaded image failed");
        }
    });
}

/// The writer thread: chunks to the file, and to the md5 on a thread of
/// its own so that hashing and writing overlap, until `Done`.
fn write(mut file: std::fs::File, mut rx: mpsc::Receiver<Msg>) -> Written {
    let (hash_tx, hash_rx) = std::sync::mpsc::sync_channel::<Bytes>(QUEUE);
    let hasher = std::thread::spawn(move || -> std::io::Result<String> {
        let mut md5 = Hasher::new(MessageDigest::md5()).map_err(std::io::Error::other)?;
        while let Ok(chunk) = hash_rx.recv() {
            md5.update(&chunk).map_err(std::io::Error::other)?;
        }
        Ok(hex::encode(md5.finish().map_err(std::io::Error::other)?))
    });
    let mut len = 0u64;
    let mut done = false;
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Chunk(chunk) => {
                if hash_tx.send(chunk.clone()).is_err() {
                    break;
                }
                file.write_all(&chunk)?;
                len += chunk.len() as u64;
            }
            Msg::Done => {
                file.sync_all()?;
                done = true;
                break;
            }
        }
    }
    drop(hash_tx);
    let md5 = hasher
        .join()
        .map_err(|_| std::io::Error::other("the md5 thread panicked"))??;
    Ok(done.then_some((len, md5)))
}
