//! Writing one image into the cache: bytes go to a file under `incomplete/`
//! on a blocking thread; when they end, size and md5 are checked against the
//! image and the file is renamed into place and indexed.

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, StoreError};
use openssl::hash::{Hasher, MessageDigest};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{ImageCache, lock, remove_file};
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

    /// Pass one chunk to the writer; `false` when the writer gave up.
    pub(super) async fn feed(&mut self, chunk: Bytes) -> bool {
        self.fed += chunk.len() as u64;
        self.tx.send(Msg::Chunk(chunk)).await.is_ok()
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

    /// `data` as it was, with each chunk also passed to this fill. The fill
    /// finishes in the background once the data ends; an error in the data
    /// or a client that stops reading abandons it.
    pub(super) fn tee(self, data: DataStream) -> DataStream {
        futures::stream::unfold((data, Some(self)), |(mut data, mut fill)| async move {
            match data.next().await {
                Some(Ok(chunk)) => {
                    if let Some(f) = &mut fill {
                        if !f.feed(chunk.clone()).await {
                            fill = None;
                        } else if f.size.is_some_and(|s| f.fed >= s) {
                            // The HTTP layer stops reading once it has
                            // sent Content-Length bytes, so the end of
                            // the data may never be polled: finish now.
                            finish_in_background(fill.take());
                        }
                    }
                    Some((Ok(chunk), (data, fill)))
                }
                Some(Err(e)) => Some((Err(e), (data, None))),
                None => {
                    finish_in_background(fill);
                    None
                }
            }
        })
        .boxed()
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
