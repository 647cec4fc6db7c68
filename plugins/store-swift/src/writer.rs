//! Writing an image: one streamed object, or a Static Large Object of streamed segments.
//!
//! Nothing is buffered beyond a few of the host's chunks: each object or segment is a PUT whose
//! body is fed from the image stream while it is sent. Every name written (or possibly written) is
//! recorded in [`Leftovers`]: a failed put deletes them before it returns, a dropped put deletes
//! them from a task on the plugin's runtime. Puts of one image id are serialised by [`IdLocks`],
//! and that cleanup holds the id's lock until it is done, so a retry of the id never meets the
//! leftovers of an abandoned attempt. Objects that cannot be deleted then (Swift went down in the
//! middle of the put) are kept as the id's orphans: a background task deletes them once Swift
//! answers again, unless the next put of the id takes them over first (it overwrites those it
//! writes again and deletes the rest).

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, ErrorKind, StoreError, runtime};
use reqwest::Body;
use serde_json::json;
use tokio::sync::{OwnedMutexGuard, mpsc};

use crate::client::{ObjectPath, SwiftClient};

/// Chunks queued between the image stream and a request body.
const QUEUE: usize = 4;
/// Swift's default `max_manifest_segments`: the most segments one manifest may list.
pub const MAX_SEGMENTS: u64 = 1000;

/// What to write and how.
pub struct PutJob {
    pub container: String,
    pub object: String,
    pub size_hint: Option<u64>,
    pub large_object_size: u64,
    pub chunk_size: u64,
}

/// Writes `data` as `job.object` and returns the byte count. `leftovers` must be armed for this
/// object's container; on `Ok` it is disarmed.
pub async fn put(
    client: &Arc<SwiftClient>,
    job: &PutJob,
    data: DataStream,
    leftovers: &mut Leftovers,
) -> Result<u64, StoreError> {
    let path = ObjectPath {
        container: &job.container,
        object: &job.object,
    };
    if client.head_object(&path).await?.is_some() {
        return Err(StoreError::new(
            ErrorKind::AlreadyExists,
            format!("{} already exists", path.subject()),
        ));
    }
    client.ensure_container(&job.container).await?;
    let mut source = Source {
        data,
        pending: None,
        total: 0,
        hint: job.size_hint,
        subject: path.subject(),
    };
    let single = match job.size_hint {
        Some(size) => size <= job.large_object_size,
        // An unknown size goes in segments (as Glance does), unless there is no data at all.
        None => !source.has_more().await?,
    };
    let result = if single {
        put_single(client, &path, &mut source, leftovers).await
    } else {
        put_segmented(client, job, &path, &mut source, leftovers).await
    };
    match result {
        Ok(()) => {
            leftovers.disarm().await;
            Ok(source.total)
        }
        Err(err) => {
            leftovers.clean().await;
            Err(err)
        }
    }
}

async fn put_single(
    client: &SwiftClient,
    path: &ObjectPath<'_>,
    source: &mut Source,
    leftovers: &mut Leftovers,
) -> Result<(), StoreError> {
    leftovers.record(path.object);
    let (sender, body) = channel_body();
    let (sent, fed) = futures::join!(
        client.put_object(path, body, source.hint, true),
        feed(source, sender, u64::MAX),
    );
    // The stream's own error (or a size mismatch) explains a failed request best.
    fed?;
    sent.map(drop)
        .map_err(|err| leftovers.not_ours(path.object, err))
}

async fn put_segmented(
    client: &SwiftClient,
    job: &PutJob,
    path: &ObjectPath<'_>,
    source: &mut Source,
    leftovers: &mut Leftovers,
) -> Result<(), StoreError> {
    // A known size bigger than MAX_SEGMENTS chunks gets bigger segments, as Glance does.
    let segment_size = job.size_hint.map_or(job.chunk_size, |size| {
        job.chunk_size.max(size.div_ceil(MAX_SEGMENTS))
    });
    let mut segments = Vec::new();
    while source.has_more().await? {
        let number = segments.len() as u64 + 1;
        if number > MAX_SEGMENTS {
            return Err(StoreError::new(
                ErrorKind::StorageFull,
                format!(
                    "{}: the image needs more than {MAX_SEGMENTS} segments of {segment_size} bytes; \
                     raise option `large_object_chunk_size`",
                    path.subject()
                ),
            ));
        }
        let name = format!("{}-{number:05}", path.object);
        leftovers.record(&name);
        let segment = ObjectPath {
            container: path.container,
            object: &name,
        };
        let (sender, body) = channel_body();
        let (sent, fed) = futures::join!(
            client.put_object(&segment, body, None, false),
            feed(source, sender, segment_size),
        );
        let size = fed?;
        let etag = sent?;
        tracing::debug!(segment = %name, size, "swift: segment written");
        segments.push(json!({
            "path": format!("/{}/{name}", path.container),
            "etag": etag,
            "size_bytes": size,
        }));
    }
    leftovers.record(path.object);
    let manifest = serde_json::to_vec(&segments).expect("a JSON array serializes");
    client
        .put_manifest(path, manifest)
        .await
        .map_err(|err| leftovers.not_ours(path.object, err))
}

/// An item of a request body fed through a channel: `End` finishes the body; a channel closed
/// without it (the put failed or was dropped) fails the request, so Swift stores nothing.
enum Feed {
    Data(Bytes),
    End,
}

fn channel_body() -> (mpsc::Sender<Feed>, Body) {
    let (sender, receiver) = mpsc::channel(QUEUE);
    let stream = futures::stream::unfold(Some(receiver), |receiver| async move {
        let mut receiver = receiver?;
        match receiver.recv().await {
            Some(Feed::Data(chunk)) => Some((Ok(chunk), Some(receiver))),
            Some(Feed::End) => None,
            None => Some((Err(io::Error::other("the upload was abandoned")), None)),
        }
    });
    (sender, Body::wrap_stream(stream))
}

/// Sends up to `limit` bytes of `source` into a body, then ends it; returns the bytes sent.
/// On an error the body is abandoned, which fails its request.
async fn feed(
    source: &mut Source,
    sender: mpsc::Sender<Feed>,
    limit: u64,
) -> Result<u64, StoreError> {
    let mut sent = 0;
    while sent < limit {
        let Some(chunk) = source.next(limit - sent).await? else {
            break;
        };
        sent += chunk.len() as u64;
        if sender.send(Feed::Data(chunk)).await.is_err() {
            // The request ended early; its result says why.
            return Ok(sent);
        }
    }
    // Ignored failure: as above.
    let _ = sender.send(Feed::End).await;
    Ok(sent)
}

/// The image stream, counted and checked against the size hint.
struct Source {
    data: DataStream,
    /// Bytes read from `data` but not yet handed out.
    pending: Option<Bytes>,
    total: u64,
    hint: Option<u64>,
    subject: String,
}

impl Source {
    /// Whether any byte is left; reads ahead one chunk to know.
    async fn has_more(&mut self) -> Result<bool, StoreError> {
        if self.pending.is_none() {
            self.pending = self.read().await?;
        }
        Ok(self.pending.is_some())
    }

    /// The next bytes, at most `max` of them; `None` at the end.
    async fn next(&mut self, max: u64) -> Result<Option<Bytes>, StoreError> {
        let Some(mut chunk) = (match self.pending.take() {
            Some(chunk) => Some(chunk),
            None => self.read().await?,
        }) else {
            return Ok(None);
        };
        if chunk.len() as u64 > max {
            self.pending = Some(chunk.split_off(max as usize));
        }
        Ok(Some(chunk))
    }

    /// The next non-empty chunk of the stream, counted; checks the size hint.
    async fn read(&mut self) -> Result<Option<Bytes>, StoreError> {
        loop {
            match self.data.next().await {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    self.total += chunk.len() as u64;
                    if let Some(hint) = self.hint.filter(|hint| self.total > *hint) {
                        return Err(self.mismatch(hint, "more than"));
                    }
                    return Ok(Some(chunk));
                }
                Some(Err(err)) => return Err(err),
                None => {
                    if let Some(hint) = self.hint.filter(|hint| self.total != *hint) {
                        return Err(self.mismatch(hint, "only"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn mismatch(&self, hint: u64, qualifier: &str) -> StoreError {
        StoreError::new(
            ErrorKind::Unexpected,
            format!(
                "{}: the image data is {qualifier} {} bytes, but {hint} were announced",
                self.subject, self.total
            ),
        )
    }
}

/// Objects a put has written, or may have written, in one container: deleted unless the put
/// succeeds. Holds the image id's lock until they are gone.
pub struct Leftovers {
    client: Arc<SwiftClient>,
    container: String,
    image_id: String,
    locks: Arc<IdLocks>,
    names: Vec<String>,
    /// Orphans of an earlier put of this id: deleted whatever happens, except those this put
    /// writes again and keeps.
    adopted: Vec<String>,
    lock: Option<OwnedMutexGuard<()>>,
}

impl Leftovers {
    /// Arms the cleanup of a put of `image_id` into `container`, holding the id's `lock`; takes
    /// over the orphans earlier puts of the id left in that container.
    pub fn new(
        client: Arc<SwiftClient>,
        container: String,
        image_id: String,
        locks: Arc<IdLocks>,
        lock: OwnedMutexGuard<()>,
    ) -> Self {
        let adopted = locks.take_orphans(&image_id, &container);
        Leftovers {
            client,
            container,
            image_id,
            locks,
            names: Vec::new(),
            adopted,
            lock: Some(lock),
        }
    }

    fn record(&mut self, name: &str) {
        self.names.push(name.to_owned());
    }

    /// After `err` from writing `name`: an `AlreadyExists` means the object there is another
    /// put's, so it must not be deleted.
    fn not_ours(&mut self, name: &str, err: StoreError) -> StoreError {
        if err.kind == ErrorKind::AlreadyExists {
            self.names.retain(|recorded| recorded != name);
        }
        err
    }

    /// The put succeeded: what it wrote stays; adopted orphans it did not write again go.
    async fn disarm(&mut self) {
        let written = std::mem::take(&mut self.names);
        let mut stale = std::mem::take(&mut self.adopted);
        stale.retain(|name| !written.contains(name));
        self.remove_or_keep(stale).await;
    }

    /// Deletes what was recorded, now.
    async fn clean(&mut self) {
        let names = self.all();
        self.remove_or_keep(names).await;
    }

    fn all(&mut self) -> Vec<String> {
        let mut names = std::mem::take(&mut self.adopted);
        for name in std::mem::take(&mut self.names) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    async fn remove_or_keep(&mut self, names: Vec<String>) {
        remove_or_keep(
            &self.client,
            &self.locks,
            &self.image_id,
            &self.container,
            names,
        )
        .await;
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let names = self.all();
        if names.is_empty() {
            return;
        }
        // The put was dropped midway: clean up on the plugin's runtime, holding the id's lock.
        let client = self.client.clone();
        let locks = self.locks.clone();
        let image_id = std::mem::take(&mut self.image_id);
        let container = std::mem::take(&mut self.container);
        let lock = self.lock.take();
        runtime::handle().spawn(async move {
            remove_or_keep(&client, &locks, &image_id, &container, names).await;
            drop(lock);
        });
    }
}

/// Deletes `names`; those Swift does not let go of now become orphans of `image_id`, retried
/// in the background.
async fn remove_or_keep(
    client: &Arc<SwiftClient>,
    locks: &Arc<IdLocks>,
    image_id: &str,
    container: &str,
    names: Vec<String>,
) {
    let failed = remove(client, container, names).await;
    if failed.is_empty() {
        return;
    }
    tracing::warn!(
        container,
        objects = failed.len(),
        "swift: cannot remove what a failed put wrote; retrying in the background"
    );
    locks.keep_orphans(image_id, container, failed);
    let (client, locks, image_id) = (client.clone(), locks.clone(), image_id.to_owned());
    runtime::handle().spawn(async move { retry_orphans(&client, &locks, &image_id).await });
}

/// The longest pause between two attempts at deleting orphans.
const ORPHAN_RETRY_MAX: Duration = Duration::from_secs(30);
/// How long orphans are retried before they are left for the next put of the id.
const ORPHAN_RETRY_FOR: Duration = Duration::from_secs(24 * 3600);

/// Deletes the orphans of `image_id` once Swift lets go of them; stops when a put of the id has
/// taken them over. Waits for no lock: while a put of the id runs, it only tries again later.
async fn retry_orphans(client: &Arc<SwiftClient>, locks: &IdLocks, image_id: &str) {
    let give_up = Instant::now() + ORPHAN_RETRY_FOR;
    let mut pause = Duration::from_millis(500);
    loop {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(ORPHAN_RETRY_MAX);
        let Some(_lock) = locks.try_lock(image_id) else {
            continue;
        };
        let Some((container, names)) = locks.take_all_orphans(image_id) else {
            return;
        };
        let count = names.len();
        let failed = remove(client, &container, names).await;
        if failed.is_empty() {
            tracing::info!(
                container = %container,
                objects = count,
                "swift: removed what a failed put had left"
            );
            return;
        }
        locks.keep_orphans(image_id, &container, failed);
        if Instant::now() > give_up {
            tracing::warn!(
                container = %container,
                "swift: giving up removing what a failed put left; the next put of the image removes it"
            );
            return;
        }
    }
}

/// Deletes `names` (the manifest first, so no reader sees a broken object); missing ones are
/// fine. Returns those that could not be deleted.
async fn remove(client: &SwiftClient, container: &str, mut names: Vec<String>) -> Vec<String> {
    names.reverse();
    let mut failed = Vec::new();
    for name in names {
        let path = ObjectPath {
            container,
            object: &name,
        };
        match client.delete_object(&path).await {
            Ok(()) => tracing::debug!(object = %name, "swift: removed what a failed put wrote"),
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => {
                tracing::debug!(object = %name, error = %err, "swift: cannot remove an object yet");
                failed.push(name);
            }
        }
    }
    // Back in write order, so the manifest is again deleted first next time.
    failed.reverse();
    failed
}

/// One lock per image id being written, so puts of one id (and the cleanup of an abandoned one)
/// never overlap within this store; and the objects failed puts of an id could not delete.
#[derive(Default)]
pub struct IdLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Image id → (container, object names).
    orphans: Mutex<HashMap<String, (String, Vec<String>)>>,
}

impl IdLocks {
    pub async fn lock(&self, image_id: &str) -> OwnedMutexGuard<()> {
        self.entry(image_id).lock_owned().await
    }

    fn try_lock(&self, image_id: &str) -> Option<OwnedMutexGuard<()>> {
        self.entry(image_id).try_lock_owned().ok()
    }

    fn entry(&self, image_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget ids nobody holds or waits for any more.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(image_id.to_owned()).or_default().clone()
    }

    fn keep_orphans(&self, image_id: &str, container: &str, names: Vec<String>) {
        let mut orphans = self.orphans.lock().unwrap_or_else(PoisonError::into_inner);
        let (kept_in, kept) = orphans
            .entry(image_id.to_owned())
            .or_insert_with(|| (container.to_owned(), Vec::new()));
        if kept_in != container {
            // Another container (the configuration changed): the newer ones win the slot.
            *kept_in = container.to_owned();
            kept.clear();
        }
        for name in names {
            if !kept.contains(&name) {
                kept.push(name);
            }
        }
    }

    fn take_all_orphans(&self, image_id: &str) -> Option<(String, Vec<String>)> {
        self.orphans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(image_id)
    }

    /// The orphans of `image_id` in `container`, now the caller's to delete.
    fn take_orphans(&self, image_id: &str, container: &str) -> Vec<String> {
        let mut orphans = self.orphans.lock().unwrap_or_else(PoisonError::into_inner);
        match orphans.get(image_id) {
            Some((kept_in, _)) if kept_in == container => orphans
                .remove(image_id)
                .map(|(_, names)| names)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn source(chunks: &[&'static [u8]], hint: Option<u64>) -> Source {
        let items: Vec<Result<Bytes, StoreError>> = chunks
            .iter()
            .map(|chunk| Ok(Bytes::from_static(chunk)))
            .collect();
        Source {
            data: stream::iter(items).boxed(),
            pending: None,
            total: 0,
            hint,
            subject: "object c/o".into(),
        }
    }

    #[tokio::test]
    async fn chunks_are_split_at_the_limit_and_empty_ones_skipped() {
        let mut source = source(&[b"abcde", b"", b"fg"], None);
        assert!(source.has_more().await.unwrap());
        assert_eq!(source.next(3).await.unwrap().unwrap(), "abc");
        assert_eq!(source.next(3).await.unwrap().unwrap(), "de");
        assert_eq!(source.next(3).await.unwrap().unwrap(), "fg");
        assert!(!source.has_more().await.unwrap());
        assert_eq!(source.next(3).await.unwrap(), None);
        assert_eq!(source.total, 7);
    }

    #[tokio::test]
    async fn the_size_hint_is_enforced_both_ways() {
        let mut long = source(&[b"abc", b"def"], Some(4));
        assert!(long.next(10).await.is_ok());
        let err = long.next(10).await.unwrap_err();
        assert!(err.message.contains("more than 6 bytes, but 4"), "{err}");
        let mut short = source(&[b"abc"], Some(4));
        assert!(short.next(10).await.is_ok());
        let err = short.next(10).await.unwrap_err();
        assert!(err.message.contains("only 3 bytes, but 4"), "{err}");
        let mut exact = source(&[b"abc", b"d"], Some(4));
        exact.next(10).await.unwrap();
        exact.next(10).await.unwrap();
        assert_eq!(exact.next(10).await.unwrap(), None);
    }
}
