//! The image cache: copies of image data on this API node's disk, served to
//! later downloads instead of reading the stores (Glance's image cache with
//! its `centralized_db` driver).
//!
//! # Layout
//!
//! Under the cache directory (`[cache] dir`, `<data_dir>/cache` by default):
//!
//! - `<image id>`: a complete, verified copy. Only files that passed the
//!   checks below are ever given this name, so a reader never sees a partial
//!   file.
//! - `incomplete/<image id>.<random>`: a copy being written. When the data
//!   ends, its size must be the image's `size` and its md5 the image's
//!   `checksum`; then it is renamed into place, else removed.
//! - `queue/<image id>`: an empty file per image queued for caching
//!   (`PUT /v2/cache/{image_id}`), listed oldest first, as Glance's queue.
//!
//! # Index
//!
//! Hits, last access and last fill of each cached image are rows of the
//! `cached_images` table, keyed by this node's name (`[cache] node_url`), as
//! Glance's `centralized_db` driver keeps them. Several API nodes sharing one
//! database therefore keep separate caches and separate statistics, and
//! `GET /v2/cache/nodes/{image_id}` can say which nodes hold an image.
//! The files stay the truth for serving: a download is served from a cached
//! file only when its size is the image's; the cleaner drops rows without a
//! file and files without a row.
//!
//! # Filling, pruning, cleaning
//!
//! - A download of an active image that is not cached copies the bytes to
//!   the cache while they stream to the client ([`ImageCache::tee`]); the
//!   copy is written on a blocking thread fed through a short bounded
//!   channel, so memory stays bounded. The download never waits for the
//!   copy: when the channel is full, the copy leaves the download and reads
//!   the rest from the store in the background. A client that disconnects
//!   leaves no file behind.
//! - Downloads from stores of the `uncached_drivers` (the file store) are
//!   not copied: their data is on a local disk already.
//! - Queued images are fetched by a background worker ([`worker`]) with
//!   `prefetch_workers` fetches at a time, woken as soon as an image is queued.
//! - When the cache holds more than `max_size` bytes, the least recently
//!   used images are evicted: after each fill and every `prune_interval_secs`.
//! - Unfinished files are removed at start and, once older than
//!   `stall_time_secs`, periodically; so are cached copies of images that
//!   are no longer active (deleted elsewhere, deactivated).
//! - Deleting or deactivating an image through this node removes its copy
//!   at once ([`ImageCache::forget`]).
//!
//! # Layering
//!
//! The cache sits beside the stores, below the services: it speaks the
//! stores' vocabulary (a [`ReadRange`] in, a [`GetOutcome`] out, data as a
//! [`DataStream`]) and never calls a service. The checks of `/v2/cache`
//! (image visibility, policy) live in `service::cache`; the prefetch worker
//! is handed the stores it reads from ([`worker::start`]).

mod fill;
mod reader;
pub mod worker;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use glint_sdk::{DataStream, ErrorKind, GetOutcome, ReadRange, StoreError};
use uuid::Uuid;

use crate::config::Config;
use crate::context::RequestContext;
use crate::db::{CachedImage, Database};
use crate::domain::{Image, ImageStatus};
#[cfg(test)]
use reader::READ_CHUNK;
use reader::read_stream;

/// Where the data of a download comes from, for the cache's copy of it.
pub struct Origin {
    /// The driver of the store being read.
    pub driver: String,
    /// Whether `reread` honours a range.
    pub ranged: bool,
    /// Reads the image from that store again (a range of it when `ranged`):
    /// a copy that falls behind its download reads the rest itself.
    pub reread: Reread,
}

/// One more read of an image from its store.
pub type Reread =
    Box<dyn FnOnce(Option<ReadRange>) -> BoxFuture<'static, Result<GetOutcome, StoreError>> + Send>;

/// What `DELETE /v2/cache` empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearTarget {
    Both,
    Cache,
    Queue,
}

/// The cache of this node. Cloning is cheap: clones share one cache.
#[derive(Clone)]
pub struct ImageCache {
    inner: Arc<Inner>,
}

struct Inner {
    enabled: bool,
    dir: PathBuf,
    incomplete: PathBuf,
    invalid: PathBuf,
    queue: PathBuf,
    node: String,
    max_size: u64,
    stall_time: Duration,
    prefetch_workers: usize,
    uncached_drivers: Vec<String>,
    prune_interval: Duration,
    db: Database,
    /// Images with a fill in progress in this process.
    filling: Mutex<HashSet<Uuid>>,
    /// Images the worker is fetching.
    prefetching: Mutex<HashSet<Uuid>>,
    /// Who queued each image queued by this process, so that the worker reads it as them from
    /// stores that act with the caller's token (Swift's multi-tenant mode). Held in memory
    /// only: tokens are never written down, and after a restart the worker reads as itself.
    queued_by: Mutex<HashMap<Uuid, RequestContext>>,
    /// Wakes the prefetch worker; shared with it, since the worker holds the
    /// cache only weakly while it waits.
    wake: Arc<tokio::sync::Notify>,
    /// One prune at a time.
    pruning: tokio::sync::Mutex<()>,
}

impl Drop for Inner {
    /// The prefetch worker waits for a wake-up: this last one lets it see
    /// that the cache is gone and end.
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl std::fmt::Debug for ImageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageCache")
            .field("enabled", &self.inner.enabled)
            .field("dir", &self.inner.dir)
            .field("node", &self.inner.node)
            .finish()
    }
}

/// `GET /v2/cache`: what this node caches and what it has queued.
#[derive(Debug, Clone)]
pub struct CacheState {
    pub cached: Vec<CachedImage>,
    pub queued: Vec<Uuid>,
}

/// A failure of the cache's own disk or index.
fn cache_error(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorKind::Unexpected, format!("image cache: {what}: {e}"))
}

impl ImageCache {
    /// The cache the configuration describes. A directory that cannot be
    /// created disables the cache (logged), it does not stop the server.
    pub fn new(config: &Config, db: Database) -> Self {
        let dir = config.cache_dir();
        let mut enabled = config.cache.enabled;
        let (incomplete, invalid, queue) = (
            dir.join("incomplete"),
            dir.join("invalid"),
            dir.join("queue"),
        );
        if enabled {
            for d in [&dir, &incomplete, &invalid, &queue] {
                if let Err(e) = std::fs::create_dir_all(d) {
                    tracing::error!(dir = %d.display(), error = %e, "cannot create the image cache directory; the cache is disabled");
                    enabled = false;
                    break;
                }
            }
        }
        Self {
            inner: Arc::new(Inner {
                enabled,
                dir,
                incomplete,
                invalid,
                queue,
                node: config.cache_node_url(),
                max_size: config.cache.max_size,
                stall_time: Duration::from_secs(config.cache.stall_time_secs),
                prefetch_workers: config.cache.prefetch_workers,
                uncached_drivers: config.cache.uncached_drivers.clone(),
                prune_interval: Duration::from_secs(config.cache.prune_interval_secs),
                db,
                filling: Mutex::new(HashSet::new()),
                prefetching: Mutex::new(HashSet::new()),
                queued_by: Mutex::new(HashMap::new()),
                wake: Arc::new(tokio::sync::Notify::new()),
                pruning: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// This node's name in the cache index.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn path(&self, id: Uuid) -> PathBuf {
        self.inner.dir.join(id.hyphenated().to_string())
    }

    fn queue_path(&self, id: Uuid) -> PathBuf {
        self.inner.queue.join(id.hyphenated().to_string())
    }

    pub fn is_cached(&self, id: Uuid) -> bool {
        self.inner.enabled && self.path(id).is_file()
    }

    fn is_being_cached(&self, id: Uuid) -> bool {
        lock(&self.inner.filling).contains(&id)
    }

    pub fn is_queued(&self, id: Uuid) -> bool {
        self.queue_path(id).is_file()
    }

    /// Cached images (from the index) and queued ones (oldest first).
    pub async fn state(&self) -> Result<CacheState, StoreError> {
        let cached = self
            .inner
            .db
            .cache_list(&self.inner.node)
            .await
            .map_err(|e| cache_error("listing cached images", e))?;
        Ok(CacheState {
            cached,
            queued: self.queued(),
        })
    }

    /// Queued image ids, oldest first.
    pub fn queued(&self) -> Vec<Uuid> {
        let mut items: Vec<(SystemTime, Uuid)> = files_in(&self.inner.queue)
            .into_iter()
            .filter_map(|(path, meta)| {
                let id = uuid_name(&path)?;
                Some((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), id))
            })
            .collect();
        items.sort();
        items.into_iter().map(|(_, id)| id).collect()
    }

    /// Queue an image for caching, as `caller` when given, and wake the worker; `false` when
    /// it is cached, being cached or queued already.
    pub fn queue(&self, id: Uuid, caller: Option<&RequestContext>) -> Result<bool, StoreError> {
        if self.is_cached(id) || self.is_being_cached(id) || self.is_queued(id) {
            tracing::info!(image = %id, "not queueing: already cached, being cached or queued");
            return Ok(false);
        }
        std::fs::File::create(self.queue_path(id))
            .map_err(|e| cache_error("queueing an image", e))?;
        if let Some(caller) = caller {
            lock(&self.inner.queued_by).insert(id, caller.clone());
        }
        self.inner.wake.notify_one();
        Ok(true)
    }

    /// Who queued `id` in this process, if anyone did.
    pub(crate) fn queued_by(&self, id: Uuid) -> Option<RequestContext> {
        lock(&self.inner.queued_by).get(&id).cloned()
    }

    /// Remove an image's cached copy and its index row.
    pub async fn delete_cached(&self, id: Uuid) -> Result<(), StoreError> {
        remove_file(&self.path(id)).map_err(|e| cache_error("deleting a cached image", e))?;
        self.inner
            .db
            .cache_delete(&self.inner.node, id)
            .await
            .map_err(|e| cache_error("deleting a cached image", e))?;
        Ok(())
    }

    /// Take an image off the queue.
    pub fn delete_queued(&self, id: Uuid) -> Result<(), StoreError> {
        lock(&self.inner.queued_by).remove(&id);
        remove_file(&self.queue_path(id)).map_err(|e| cache_error("unqueueing an image", e))
    }

    /// Empty the cache, the queue or both; the number of entries removed.
    pub async fn clear(&self, target: ClearTarget) -> Result<u64, StoreError> {
        let mut removed = 0;
        if matches!(target, ClearTarget::Both | ClearTarget::Queue) {
            lock(&self.inner.queued_by).clear();
            for (path, _) in files_in(&self.inner.queue) {
                remove_file(&path).map_err(|e| cache_error("clearing the queue", e))?;
                removed += 1;
            }
        }
        if matches!(target, ClearTarget::Both | ClearTarget::Cache) {
            for (path, _) in files_in(&self.inner.dir) {
                if uuid_name(&path).is_some() {
                    remove_file(&path).map_err(|e| cache_error("clearing the cache", e))?;
                    removed += 1;
                }
            }
            self.inner
                .db
                .cache_delete_all(&self.inner.node)
                .await
                .map_err(|e| cache_error("clearing the cache", e))?;
        }
        Ok(removed)
    }

    /// Drop an image from the cache and the queue, logging what fails: the
    /// image was deleted or deactivated and its copy must not be served.
    pub async fn forget(&self, id: Uuid) {
        if !self.inner.enabled {
            return;
        }
        if let Err(e) = self.delete_cached(id).await {
            tracing::warn!(image = %id, error = %e, "could not remove the cached copy");
        }
        if let Err(e) = self.delete_queued(id) {
            tracing::warn!(image = %id, error = %e, "could not unqueue the image");
        }
    }

    /// The image (or `range` of it) read from the cache, as a store would
    /// answer the same read, when this node holds a complete copy of it;
    /// counts the hit.
    pub async fn serve(&self, image: &Image, range: Option<ReadRange>) -> Option<GetOutcome> {
        if !self.inner.enabled || image.status != ImageStatus::Active {
            return None;
        }
        let served = self.serve_cached(image, range).await;
        crate::metrics::cache_lookup(served.is_some());
        served
    }

    async fn serve_cached(&self, image: &Image, range: Option<ReadRange>) -> Option<GetOutcome> {
        let size = u64::try_from(image.size?).ok()?;
        let path = self.path(image.id);
        let (file, len) = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path)?;
            let len = file.metadata()?.len();
            std::io::Result::Ok((file, len))
        })
        .await
        .ok()?
        .ok()?;
        if len != size {
            tracing::warn!(image = %image.id, cached = len, size, "cached copy has the wrong size; removing it");
            let _ = self.delete_cached(image.id).await;
            return None;
        }
        let (first, length) = match range {
            Some(r) if r.offset >= size => return None,
            Some(r) => (
                r.offset,
                r.length.map_or(size - r.offset, |l| l.min(size - r.offset)),
            ),
            None => (0, size),
        };
        if let Err(e) = self
            .inner
            .db
            .cache_hit(&self.inner.node, image.id, chrono::Utc::now())
            .await
        {
            tracing::warn!(image = %image.id, error = %e, "could not count a cache hit");
        }
        tracing::debug!(image = %image.id, "serving image data from the cache");
        Some(GetOutcome {
            total_size: size,
            data: read_stream(file, first, length),
        })
    }

    /// `data`, read from a store for a download of `image` (`range` of it,
    /// if any), copied into the cache as it passes when it is the whole of
    /// an active image that is not cached or being cached yet (a range is
    /// never cached) and its store is not one of the `uncached_drivers`.
    /// The decision is made before this returns, so before the download's
    /// first byte. The copy never slows the download: see [`fill`].
    pub fn tee(
        &self,
        image: &Image,
        range: Option<ReadRange>,
        data: DataStream,
        origin: Origin,
    ) -> DataStream {
        if !self.inner.enabled {
            return data;
        }
        let declined = if range.is_some() {
            Some("a range is never cached")
        } else if self.inner.uncached_drivers.contains(&origin.driver) {
            Some("its store keeps the data on a local disk")
        } else if image.status != ImageStatus::Active {
            Some("the image is not active")
        } else if self.is_cached(image.id) {
            Some("the image is cached already")
        } else {
            None
        };
        if let Some(reason) = declined {
            // Logged so that a download left uncopied on purpose can be told
            // from one whose copy failed (tests wait for this line too).
            tracing::debug!(image = %image.id, reason, "not copying this download into the cache");
            return data;
        }
        match fill::Fill::start(self, image) {
            Some(fill) => fill.tee(data, origin),
            None => {
                tracing::debug!(image = %image.id, reason = "a fill of it is running or cannot start", "not copying this download into the cache");
                data
            }
        }
    }

    /// Evict least recently used images until the cache holds at most
    /// `max_size` bytes: the number of files and bytes evicted.
    pub async fn prune(&self) -> Result<(u64, u64), StoreError> {
        let _one = self.inner.pruning.lock().await;
        let mut current = self.size();
        if current <= self.inner.max_size {
            return Ok((0, 0));
        }
        let entries = self
            .inner
            .db
            .cache_least_recently_used(&self.inner.node)
            .await
            .map_err(|e| cache_error("pruning", e))?;
        let (mut files, mut bytes) = (0, 0);
        for entry in entries {
            if current <= self.inner.max_size {
                break;
            }
            let size = std::fs::metadata(self.path(entry.image_id)).map_or(0, |m| m.len());
            self.delete_cached(entry.image_id).await?;
            tracing::info!(image = %entry.image_id, size, "evicted from the image cache");
            current = current.saturating_sub(size);
            files += 1;
            bytes += size;
        }
        Ok((files, bytes))
    }

    /// Bytes held by complete cached files.
    pub fn size(&self) -> u64 {
        files_in(&self.inner.dir)
            .into_iter()
            .filter(|(path, _)| uuid_name(path).is_some())
            .map(|(_, meta)| meta.len())
            .sum()
    }

    /// Remove unfinished files that are no longer being written (all of
    /// them at start) or older than the stall time, invalid files, files
    /// without an index row and rows without a file, and the copies of
    /// images that are no longer active.
    pub async fn clean(&self) -> Result<(), StoreError> {
        let now = SystemTime::now();
        for (path, meta) in files_in(&self.inner.incomplete) {
            let id = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.get(..36))
                .and_then(|n| Uuid::parse_str(n).ok());
            let stalled = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= self.inner.stall_time);
            let writing = id.is_some_and(|id| self.is_being_cached(id));
            if stalled || !writing {
                tracing::info!(file = %path.display(), "removing an unfinished cache file");
                let _ = remove_file(&path);
            }
        }
        for (path, _) in files_in(&self.inner.invalid) {
            let _ = remove_file(&path);
        }
        let rows = self
            .inner
            .db
            .cache_list(&self.inner.node)
            .await
            .map_err(|e| cache_error("cleaning", e))?;
        let indexed: HashSet<Uuid> = rows.iter().map(|r| r.image_id).collect();
        for (path, _) in files_in(&self.inner.dir) {
            if let Some(id) = uuid_name(&path)
                && !indexed.contains(&id)
                && !self.is_being_cached(id)
            {
                tracing::info!(image = %id, "removing a cached file the index does not know");
                let _ = remove_file(&path);
            }
        }
        for row in rows {
            let id = row.image_id;
            if !self.path(id).is_file() {
                if !self.is_being_cached(id) {
                    let _ = self.inner.db.cache_delete(&self.inner.node, id).await;
                }
                continue;
            }
            match self.inner.db.get_image(id).await {
                Ok(Some(image)) if image.status == ImageStatus::Active => {}
                Ok(_) => {
                    tracing::info!(image = %id, "removing the cached copy of an image that is no longer active");
                    self.delete_cached(id).await?;
                }
                Err(e) => return Err(cache_error("cleaning", e)),
            }
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Regular files directly in `dir`, with their metadata.
fn files_in(dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file().then(|| (e.path(), meta))
        })
        .collect()
}

/// The image id a cache or queue file is named after.
fn uuid_name(path: &Path) -> Option<Uuid> {
    let name = path.file_name()?.to_str()?;
    (name.len() == 36)
        .then(|| Uuid::parse_str(name).ok())
        .flatten()
}

/// Remove a file; one that is already gone is fine.
fn remove_file(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::StreamExt;

    use super::*;

    #[test]
    fn only_image_ids_name_cached_files() {
        let id = Uuid::new_v4();
        assert_eq!(uuid_name(&PathBuf::from(format!("/c/{id}"))), Some(id));
        assert_eq!(uuid_name(Path::new("/c/incomplete")), None);
        assert_eq!(uuid_name(&PathBuf::from(format!("/c/{id}.part"))), None);
        assert_eq!(
            uuid_name(&PathBuf::from(format!("/c/{}", id.simple()))),
            None
        );
    }

    /// An enabled cache in a fresh directory, with its index in SQLite there.
    async fn cache_in(dir: &Path) -> ImageCache {
        let config = Config {
            data_dir: dir.to_owned(),
            ..Config::default()
        };
        let db = Database::connect(&config.database_url()).await.unwrap();
        let cache = ImageCache::new(&config, db);
        assert!(cache.enabled());
        cache
    }

    /// An active image of `data`, with a complete copy in `cache`.
    fn cached_image(cache: &ImageCache, data: &[u8]) -> Image {
        let mut image = Image::new(Uuid::new_v4(), None, chrono::Utc::now());
        image.status = ImageStatus::Active;
        image.size = Some(data.len() as i64);
        std::fs::write(cache.path(image.id), data).unwrap();
        image
    }

    async fn read_all(data: DataStream) -> Vec<u8> {
        let chunks: Vec<Bytes> = data.map(|c| c.unwrap()).collect().await;
        chunks.concat()
    }

    /// `data` in chunks of `chunk` bytes.
    fn chunked(data: &[u8], chunk: usize) -> DataStream {
        let chunks: Vec<_> = data
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures::stream::iter(chunks).boxed()
    }

    /// A store of `driver` holding `data` in memory, read in 1 MiB chunks,
    /// ranges honoured when `ranged`.
    fn origin(driver: &str, data: &[u8], ranged: bool) -> Origin {
        let data = data.to_vec();
        Origin {
            driver: driver.to_owned(),
            ranged,
            reread: Box::new(move |range: Option<ReadRange>| {
                let from = range.map_or(0, |r| r.offset as usize);
                let outcome = GetOutcome {
                    total_size: data.len() as u64,
                    data: chunked(&data[from..], READ_CHUNK),
                };
                Box::pin(futures::future::ready(Ok(outcome)))
            }),
        }
    }

    /// An active image of `data` in the cache's database, not cached.
    async fn stored_image(cache: &ImageCache, data: &[u8]) -> Image {
        let mut image = Image::new(Uuid::new_v4(), None, chrono::Utc::now());
        image.status = ImageStatus::Active;
        image.size = Some(data.len() as i64);
        image.checksum = Some(hex::encode(
            openssl::hash::hash(openssl::hash::MessageDigest::md5(), data).unwrap(),
        ));
        cache.inner.db.create_image(&image).await.unwrap();
        image
    }

    /// Waits until `id` is in the cache's index (its file is renamed into
    /// place just before).
    async fn wait_indexed(cache: &ImageCache, id: Uuid) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let rows = cache.inner.db.cache_list(cache.node()).await.unwrap();
            if rows.iter().any(|r| r.image_id == id) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{id} was not cached");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A runtime with a single blocking thread, which [`hold_the_disk`] can
    /// take.
    fn runtime_with_one_blocking_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Holds the runtime's only blocking thread until the returned sender is
    /// dropped: a cache writer started meanwhile cannot write a byte, as
    /// behind a disk that does not answer.
    fn hold_the_disk() -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        tokio::task::spawn_blocking(move || {
            let _ = held.recv();
        });
        release
    }

    #[tokio::test]
    async fn a_cached_copy_answers_a_read_as_a_store_does() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_in(dir.path()).await;
        let data: Vec<u8> = (0..100u8).collect();
        let image = cached_image(&cache, &data);
        let node = cache.node().to_owned();
        let db = &cache.inner.db;
        db.cache_insert(&node, image.id, 100, None, chrono::Utc::now())
            .await
            .unwrap();

        let whole = cache.serve(&image, None).await.unwrap();
        assert_eq!(whole.total_size, 100);
        assert_eq!(read_all(whole.data).await, data);

        let range = |offset, length| Some(ReadRange { offset, length });
        let part = cache.serve(&image, range(10, Some(5))).await.unwrap();
        assert_eq!(part.total_size, 100, "the whole size, whatever the range");
        assert_eq!(read_all(part.data).await, &data[10..15]);
        // A range past the end is cut at the end, as a store cuts it.
        let tail = cache.serve(&image, range(90, Some(50))).await.unwrap();
        assert_eq!(read_all(tail.data).await, &data[90..]);
        let open = cache.serve(&image, range(95, None)).await.unwrap();
        assert_eq!(read_all(open.data).await, &data[95..]);
        assert!(cache.serve(&image, range(100, None)).await.is_none());

        // Each read served counts as a hit; the refused one does not.
        assert_eq!(db.cache_list(&node).await.unwrap()[0].hits, 4);
    }

    #[tokio::test]
    async fn a_range_or_an_inactive_image_is_never_copied() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_in(dir.path()).await;
        let mut image = Image::new(Uuid::new_v4(), None, chrono::Utc::now());
        image.status = ImageStatus::Active;
        image.size = Some(3);
        let data = || futures::stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed();
        let swift = || origin("swift", b"abc", true);
        let incomplete = || files_in(&cache.inner.incomplete).len();

        let range = Some(ReadRange {
            offset: 0,
            length: Some(3),
        });
        let passed = cache.tee(&image, range, data(), swift());
        assert_eq!(incomplete(), 0, "a range started a copy");
        assert_eq!(read_all(passed).await, b"abc");

        image.status = ImageStatus::Deactivated;
        let passed = cache.tee(&image, None, data(), swift());
        assert_eq!(incomplete(), 0, "an inactive image started a copy");
        assert_eq!(read_all(passed).await, b"abc");

        // The whole of an active image is copied: the copy starts at once.
        image.status = ImageStatus::Active;
        let passed = cache.tee(&image, None, data(), swift());
        assert_eq!(incomplete(), 1);
        drop(passed);
    }

    #[tokio::test]
    async fn a_download_from_a_file_store_is_not_copied_unless_configured() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_in(dir.path()).await;
        let data = b"abc";
        let image = stored_image(&cache, data).await;
        let incomplete = || files_in(&cache.inner.incomplete).len();

        let passed = cache.tee(&image, None, chunked(data, 1), origin("file", data, true));
        assert_eq!(incomplete(), 0, "a file store's download started a copy");
        assert_eq!(read_all(passed).await, data);
        assert!(!cache.is_cached(image.id));

        // With no uncached drivers, the same download is copied.
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        config.cache.uncached_drivers.clear();
        let cache = ImageCache::new(&config, cache.inner.db.clone());
        let passed = cache.tee(&image, None, chunked(data, 1), origin("file", data, true));
        assert_eq!(read_all(passed).await, data);
        wait_indexed(&cache, image.id).await;
        assert_eq!(std::fs::read(cache.path(image.id)).unwrap(), data);
    }

    /// A download whose copy cannot write gets all its data at once; the
    /// copy reads the rest from the store and completes once it can write,
    /// whether the store reads ranges or not.
    #[test]
    fn a_download_never_waits_for_its_copy() {
        for ranged in [true, false] {
            runtime_with_one_blocking_thread().block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let cache = cache_in(dir.path()).await;
                let data: Vec<u8> = (0..(16 * READ_CHUNK + 3))
                    .map(|i| (i % 253) as u8)
                    .collect();
                let image = stored_image(&cache, &data).await;
                let release = hold_the_disk();

                let passed = cache.tee(
                    &image,
                    None,
                    chunked(&data, READ_CHUNK),
                    origin("swift", &data, ranged),
                );
                let got = tokio::time::timeout(Duration::from_secs(20), read_all(passed))
                    .await
                    .expect("the download waited for its copy");
                assert!(got == data);
                assert!(!cache.is_cached(image.id));
                assert_eq!(files_in(&cache.inner.incomplete).len(), 1);

                drop(release);
                wait_indexed(&cache, image.id).await;
                assert!(std::fs::read(cache.path(image.id)).unwrap() == data);
                assert_eq!(files_in(&cache.inner.incomplete).len(), 0);
            });
        }
    }

    /// A client that hangs up after its copy fell behind abandons the copy.
    #[test]
    fn a_copy_catching_up_gives_up_with_its_download() {
        runtime_with_one_blocking_thread().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let cache = cache_in(dir.path()).await;
            let data: Vec<u8> = (0..(16 * READ_CHUNK)).map(|i| (i % 251) as u8).collect();
            let image = stored_image(&cache, &data).await;
            let release = hold_the_disk();

            let mut passed = cache.tee(
                &image,
                None,
                chunked(&data, READ_CHUNK),
                origin("swift", &data, true),
            );
            // Past the few chunks the writer's queue holds, then hang up.
            for _ in 0..8 {
                passed.next().await.unwrap().unwrap();
            }
            drop(passed);

            drop(release);
            let incomplete = || files_in(&cache.inner.incomplete).len();
            wait_until("the unfinished copy stayed", || incomplete() == 0).await;
            assert!(!cache.is_cached(image.id));
            assert!(
                cache
                    .inner
                    .db
                    .cache_list(cache.node())
                    .await
                    .unwrap()
                    .is_empty()
            );
        });
    }

    #[tokio::test]
    async fn dropping_the_cache_wakes_its_prefetch_worker_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_in(dir.path()).await;
        // What the prefetch worker keeps while it waits.
        let (weak, wake) = (Arc::downgrade(&cache.inner), cache.inner.wake.clone());
        drop(cache);
        tokio::time::timeout(Duration::from_secs(5), wake.notified())
            .await
            .expect("no wake-up after the cache was dropped");
        assert!(weak.upgrade().is_none());
    }

    #[tokio::test]
    async fn a_cached_file_is_read_in_chunks_from_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(3 * READ_CHUNK + 5)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let file = std::fs::File::open(&path).unwrap();
        let chunks: Vec<Bytes> = read_stream(file, 7, 2 * READ_CHUNK as u64)
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks.concat(), &data[7..7 + 2 * READ_CHUNK]);

        // A file shorter than promised is an error, not a short answer.
        let file = std::fs::File::open(&path).unwrap();
        let results: Vec<_> = read_stream(file, 0, data.len() as u64 + 1).collect().await;
        assert!(results.last().unwrap().is_err());
    }
}
