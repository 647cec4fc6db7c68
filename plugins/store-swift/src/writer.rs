//! Writing an image: one streamed object, or a Static Large Object of streamed segments.
//!
//! Nothing is buffered beyond a few of the host's chunks: each object or segment is a PUT whose
//! body is fed from the image stream while it is sent. Every name written (or possibly written) is
//! recorded in [`Leftovers`]: a failed put deletes them before it returns, a dropped put deletes
//! them from a task on the plugin's runtime. Puts of one image id are serialised by [`IdLocks`],
//! and that cleanup holds the id's lock until it is done, so a retry of the id never meets the
//! leftovers of an abandoned attempt.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

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
            leftovers.disarm();
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
    names: Vec<String>,
    lock: Option<OwnedMutexGuard<()>>,
}

impl Leftovers {
    pub fn new(client: Arc<SwiftClient>, container: String, lock: OwnedMutexGuard<()>) -> Self {
        Leftovers {
            client,
            container,
            names: Vec::new(),
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

    fn disarm(&mut self) {
        self.names.clear();
    }

    /// Deletes what was recorded, now.
    async fn clean(&mut self) {
        let names = std::mem::take(&mut self.names);
        remove(&self.client, &self.container, names).await;
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        // The put was dropped midway: clean up on the plugin's runtime, holding the id's lock.
        let client = self.client.clone();
        let container = std::mem::take(&mut self.container);
        let names = std::mem::take(&mut self.names);
        let lock = self.lock.take();
        runtime::handle().spawn(async move {
            remove(&client, &container, names).await;
            drop(lock);
        });
    }
}

/// Deletes `names` (the manifest first, so no reader sees a broken object); missing ones are fine.
async fn remove(client: &SwiftClient, container: &str, mut names: Vec<String>) {
    names.reverse();
    for name in names {
        let path = ObjectPath {
            container,
            object: &name,
        };
        match client.delete_object(&path).await {
            Ok(()) => tracing::debug!(object = %name, "swift: removed what a failed put wrote"),
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                object = %name,
                error = %err,
                "swift: cannot remove what a failed put wrote"
            ),
        }
    }
}

/// One lock per image id being written, so puts of one id (and the cleanup of an abandoned one)
/// never overlap within this store.
#[derive(Default)]
pub struct IdLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl IdLocks {
    pub async fn lock(&self, image_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            // Forget ids nobody holds or waits for any more.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(image_id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
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
