//! `PUT /v2/images/{id}/file`, step by step:
//!
//! 1. find the image and the target store; check status, formats and size limits;
//! 2. claim the image: `queued → saving` (compare-and-set, so one upload wins);
//! 3. stream the body to the store, counting, hashing and inspecting its
//!    disk format on the way; data that is not the image's `disk_format`, or
//!    is unsafe, or does not match the image's signature
//!    ([`super::signature`]), fails the stream at its end, so the store keeps
//!    none of it;
//! 4. record size, virtual size, digests and location: `saving → active`;
//! 5. on any failure the store has removed its partial data and the image
//!    goes back to `queued`, ready for a retry.
//!
//! From before the claim to after the last status change the upload holds a
//! liveness lease ([`super::inflight`]); the body it streams is aborted when
//! it stalls or when the server's shutdown grace ends, which is step 5 again.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt};
use glint_sdk::{ErrorKind, PutOutcome, StoreError};
use uuid::Uuid;

use super::hashing::{Digests, HASH_ALGO, Hasher};
use super::images::{get_for, not_found_as};
use super::inflight::DataOp;
use super::notify::Notes;
use super::quota::{self, Resource};
use super::signature::{self, SignatureCheck, SignatureError};
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{Image, ImageStatus, Location};
use crate::format::ImageCheck;
use crate::store::StoreHandle;

/// Chunks handed to the store are coalesced to this size: few calls across
/// the plugin boundary and few write syscalls, one small copy. Every upload
/// holds a handful of them (the store's queue, the digests' queues), so the
/// size is also the server's memory per upload: 256 KiB writes already keep
/// the disk busy.
const CHUNK: usize = 256 << 10;

pub struct UploadRequest {
    pub image_id: Uuid,
    /// `X-Image-Meta-Store`; the default store when `None`.
    pub store: Option<String>,
    /// `x-openstack-image-size`, else `Content-Length`.
    pub expected_size: Option<u64>,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

pub async fn upload(
    app: &Arc<App>,
    ctx: &RequestContext,
    req: UploadRequest,
) -> ServiceResult<Image> {
    let id = req.image_id;
    let image = get_for(app, ctx, id, "upload_image").await?;
    let store_id = req
        .store
        .unwrap_or_else(|| app.stores.default_id().to_owned());
    if !app.config.stores.contains_key(&store_id) {
        return Err(ServiceError::UnknownStore(store_id));
    }
    let store = app
        .stores
        .get(&store_id)
        .ok_or_else(|| {
            StoreError::new(
                ErrorKind::Unavailable,
                format!("store '{store_id}' is not available"),
            )
            .temporary()
        })?
        .acting_for(ctx);
    if !store.capabilities().write {
        return Err(ServiceError::StoreReadOnly(store_id));
    }
    // The state machine first (409), then the formats data needs (400), as Glance checks them.
    let (saving, change) = image.moved_to(ImageStatus::Saving)?;
    let cap = app.config.api.image_size_cap;
    if req.expected_size.is_some_and(|s| s > cap) {
        return Err(too_large(cap));
    }

    quota::enforce(app, ctx, Resource::ImageSizeTotal, 0).await?;
    quota::enforce(app, ctx, Resource::ImageCountUploading, 1).await?;
    // The liveness lease comes first, so a `saving` image always has one:
    // crash recovery can then tell a dead writer from a live one.
    let Some(op) = DataOp::begin(app, id).await? else {
        return Err(ServiceError::AlreadyUploading(id));
    };
    let saving = match claim(app, &saving, change.from, &store_id).await {
        Ok(saving) => saving,
        Err(e) => {
            op.finish().await;
            return Err(e);
        }
    };
    let body = op.watch(req.body);
    let result = write_claimed(app, ctx, &store, &image, saving, body, req.expected_size).await;
    op.finish().await;
    result
}

/// Steps 3 to 5, for an image this request has claimed (`saving`).
async fn write_claimed(
    app: &Arc<App>,
    ctx: &RequestContext,
    store: &StoreHandle,
    image: &Image,
    saving: Image,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected_size: Option<u64>,
) -> ServiceResult<Image> {
    let id = image.id;
    let cap = app.config.api.image_size_cap;
    let store_id = store.id().to_owned();
    let check = ImageCheck::for_image(
        image.container_format.as_deref(),
        image.disk_format.as_deref(),
        &app.config.image_format,
    );
    // As Glance: a signed image's certificate is read once the image is
    // `saving`, so a refusal puts it back to `queued` like a failed write.
    let written = match signature::for_image(app, ctx, image).await {
        Ok(signed) => put_inspected(store, id, body, expected_size, cap, check, signed).await,
        Err(e) => Err(e),
    };
    let (outcome, digests, virtual_size) = match written {
        Ok(done) => done,
        Err(e) => {
            let reason = format!("Failed to upload image data for image {id}: {e}");
            restore_queued(
                app,
                &saving,
                super::notify::image_upload_failed(app, &reason),
            )
            .await;
            return Err(e);
        }
    };

    let (mut active, change) = saving.moved_to(ImageStatus::Active)?;
    active.size = Some(outcome.size as i64);
    if let Some(v) = virtual_size {
        active.virtual_size = Some(v);
    }
    active.checksum = Some(digests.md5);
    active.os_hash_algo = Some(HASH_ALGO.to_owned());
    active.os_hash_value = Some(digests.sha512);
    let mut metadata = outcome.metadata;
    metadata.insert("store".into(), store_id.clone().into());
    active.locations = vec![Location {
        url: outcome.location.clone(),
        metadata,
        status: "active".into(),
    }];

    let notes = |saved: &Image| {
        [
            super::notify::image_data(app, "image.upload", saved, None),
            super::notify::image(app, "image.activate", saved),
            super::notify::image(app, "image.update", saved),
        ]
        .concat()
    };
    match app
        .db
        .update_image_noting(&active, Some(change.from), notes)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(e @ (DbError::NotFound | DbError::Conflict)) => {
            // Deleted (or otherwise moved on) while we were writing: our bytes
            // belong to nobody, so they go.
            tracing::info!(image = %id, "image changed during upload ({e}); removing the uploaded data");
            let why = "the image was deleted during its upload";
            crate::service::pending::delete_upload(app, store, id, &outcome.location, why).await;
            Err(ServiceError::GoneDuringUpload(id))
        }
        Err(DbError::CommitUnknown(e)) => {
            // The commit's answer was lost: the image may be active on this data. Read it back
            // before removing anything; while the database cannot say, a task waits for it.
            tracing::warn!(image = %id, error = %e, "the upload's commit went unanswered; reading the image back");
            let unknown = ServiceError::from(DbError::CommitUnknown(e));
            let store = store.clone();
            match settle_activation(app, &store, &saving, &outcome.location).await {
                Some(Settled::Committed(saved)) => Ok(saved),
                Some(Settled::Undone) => Err(unknown),
                None => {
                    let app = Arc::clone(app);
                    let location = outcome.location.clone();
                    tokio::spawn(async move {
                        settle_activation_when_back(&app, &store, &saving, &location).await
                    });
                    Err(unknown)
                }
            }
        }
        Err(e) => {
            let why = "the upload's record could not be written";
            crate::service::pending::delete_upload(app, store, id, &outcome.location, why).await;
            restore_queued(app, &saving, Vec::new()).await;
            Err(e.into())
        }
    }
}

/// What became of an upload whose activating commit went unanswered.
enum Settled {
    /// The commit took effect: the image is active on the uploaded data.
    Committed(Image),
    /// It did not: the data is removed (or recorded as pending work) and the image is on its
    /// way back to `queued`.
    Undone,
}

/// Reads the image back once to learn whether the activation committed, and undoes the upload
/// when it did not. `None` when the database cannot answer yet.
async fn settle_activation(
    app: &App,
    store: &StoreHandle,
    saving: &Image,
    location: &str,
) -> Option<Settled> {
    let stored = match app.db.get_image(saving.id).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::warn!(image = %saving.id, error = %e, "cannot read the image back yet");
            return None;
        }
    };
    if let Some(image) = stored.filter(|i| i.locations.iter().any(|l| l.url == location)) {
        tracing::info!(image = %saving.id, "the upload's commit had taken effect");
        return Some(Settled::Committed(image));
    }
    let why = "the upload's record could not be written";
    crate::service::pending::delete_upload(app, store, saving.id, location, why).await;
    // A no-op unless the image is still `saving` (compare-and-set on the status).
    restore_queued(app, saving, Vec::new()).await;
    Some(Settled::Undone)
}

/// [`settle_activation`] again every second until the database answers, for up to
/// [`REQUEUE_PATIENCE`]; past that, crash recovery puts the image back to `queued` and the
/// orphan audit finds the data.
async fn settle_activation_when_back(
    app: &App,
    store: &StoreHandle,
    saving: &Image,
    location: &str,
) {
    let deadline = tokio::time::Instant::now() + REQUEUE_PATIENCE;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if settle_activation(app, store, saving, location)
            .await
            .is_some()
        {
            return;
        }
    }
}

/// Stream `body` into `store` as the data of image `id`, counted against
/// `expected` and `cap` and hashed as it passes, with the data's disk format
/// checked when `check` is given and its signature when `signed` is; also
/// yields the image's virtual size when it is known. On error nothing is
/// left in the store.
pub(crate) async fn put_inspected(
    store: &StoreHandle,
    id: Uuid,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected: Option<u64>,
    cap: u64,
    check: Option<ImageCheck>,
    signed: Option<SignatureCheck>,
) -> ServiceResult<(PutOutcome, Digests, Option<i64>)> {
    let end = Arc::new(Mutex::new(StreamEnd::default()));
    let data = counted(body, expected, cap, check, (id, signed), Arc::clone(&end));
    let put = store.put(&id.to_string(), expected, data).await;
    let (digests, ours, virtual_size) = {
        let mut end = end.lock().expect("no panics while held");
        (end.digests.take(), end.failure.take(), end.virtual_size)
    };
    match (put, digests) {
        (Ok(outcome), Some(digests)) => Ok((outcome, digests, virtual_size)),
        (Ok(outcome), None) => {
            // A driver that reports success before reading the whole body has
            // not stored this image.
            let _ = store.delete(&outcome.location).await;
            Err(StoreError::new(
                ErrorKind::Unexpected,
                format!("store '{}' finished before the upload did", store.id()),
            )
            .into())
        }
        // A failure we raised inside the stream explains the store's error.
        (Err(store_error), _) => Err(ours.unwrap_or(ServiceError::Store(store_error))),
    }
}

/// Move the image into `saving`, failing with 409 if another request got there first.
/// As in Glance, the move is an `image.update`, then the data's `image.prepare` for `store_id`.
async fn claim(
    app: &App,
    saving: &Image,
    from: ImageStatus,
    store_id: &str,
) -> ServiceResult<Image> {
    let notes = |saved: &Image| {
        [
            super::notify::image(app, "image.update", saved),
            super::notify::image_data(app, "image.prepare", saved, Some(store_id)),
        ]
        .concat()
    };
    match app.db.update_image_noting(saving, Some(from), notes).await {
        Ok(saved) => Ok(saved),
        Err(DbError::Conflict) => Err(ServiceError::AlreadyUploading(saving.id)),
        Err(e) => Err(not_found_as(e, saving.id)),
    }
}

/// Undo `claim` after a failed upload; `notes` says why, in the same transaction.
async fn restore_queued(app: &App, saving: &Image, notes: Notes) {
    let (mut queued, change) = match saving.moved_to(ImageStatus::Queued) {
        Ok(moved) => moved,
        Err(e) => {
            tracing::error!(image = %saving.id, error = %e, "could not put the image back to queued");
            return;
        }
    };
    queued.size = None;
    queued.virtual_size = None;
    match app
        .db
        .update_image_noting(&queued, Some(change.from), |_| notes.clone())
        .await
    {
        Ok(_) | Err(DbError::NotFound | DbError::Conflict) => {}
        Err(e) if e.is_unavailable() => {
            // The database is down: keep trying in the background, so the image is `queued`
            // again as soon as it is back, not only when crash recovery finds the lease expired.
            tracing::warn!(image = %saving.id, error = %e, "could not put the image back to queued yet; retrying until the database is back");
            tokio::spawn(requeue_when_back(
                app.db.clone(),
                queued,
                change.from,
                notes,
            ));
        }
        Err(e) => {
            tracing::error!(image = %saving.id, error = %e, "could not put the image back to queued")
        }
    }
}

/// Writes `queued` (from `from`) once the database answers again, for up to
/// [`REQUEUE_PATIENCE`]; crash recovery covers a longer outage.
async fn requeue_when_back(
    db: crate::db::Database,
    queued: Image,
    from: ImageStatus,
    notes: Notes,
) {
    let deadline = tokio::time::Instant::now() + REQUEUE_PATIENCE;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        match db
            .update_image_noting(&queued, Some(from), |_| notes.clone())
            .await
        {
            Ok(_) => {
                tracing::info!(image = %queued.id, "the image is queued again");
                return;
            }
            Err(DbError::NotFound | DbError::Conflict) => return,
            Err(e) if e.is_unavailable() => {}
            Err(e) => {
                tracing::error!(image = %queued.id, error = %e, "could not put the image back to queued");
                return;
            }
        }
    }
}

/// How long a failed upload keeps trying to put its image back to `queued` while the
/// database is unreachable.
const REQUEUE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

fn too_large(cap: u64) -> ServiceError {
    ServiceError::SizeCap(cap)
}

/// How the body stream ended, for the upload to read once the store returns:
/// the digests when every byte passed, or the reason we stopped it.
#[derive(Default)]
struct StreamEnd {
    digests: Option<Digests>,
    failure: Option<ServiceError>,
    virtual_size: Option<i64>,
}

struct Counting {
    body: BoxStream<'static, std::io::Result<Bytes>>,
    /// The chunk being filled; its capacity is `CHUNK`.
    buf: BytesMut,
    /// What is left of the last piece of the body, not yet in `buf`.
    rest: Bytes,
    seen: u64,
    /// Present until the stream ends or fails.
    hasher: Option<Hasher>,
    /// Sees every byte as it arrives; decides when the body ends.
    format: Option<ImageCheck>,
    /// The image, and the signature its data must match.
    signed: (Uuid, Option<SignatureCheck>),
    expected: Option<u64>,
    cap: u64,
    end: Arc<Mutex<StreamEnd>>,
    done: bool,
}

impl Counting {
    /// Record why the upload must stop and tell the store so.
    fn fail(&mut self, e: ServiceError) -> Result<Bytes, StoreError> {
        let message = e.to_string();
        self.end.lock().expect("no panics while held").failure = Some(e);
        self.done = true;
        self.hasher = None;
        Err(StoreError::new(ErrorKind::Unexpected, message))
    }

    /// Every byte has arrived: decide on the disk format before the last
    /// chunk goes to the store, so refused data is never kept.
    fn check_format(&mut self) -> ServiceResult<()> {
        let Some(format) = self.format.take() else {
            return Ok(());
        };
        match format.finish() {
            Ok(size) => {
                let size = size.and_then(|s| i64::try_from(s).ok());
                self.end.lock().expect("no panics while held").virtual_size = size;
                Ok(())
            }
            Err(refusal) => {
                tracing::warn!(reason = ?refusal, "image data refused by format inspection");
                Err(ServiceError::InvalidImageData(refusal.to_string()))
            }
        }
    }

    /// Every byte has passed: verify the signature, publish the digests and
    /// end the stream; a bad signature fails it instead, before the store
    /// commits anything.
    async fn finish(&mut self) -> Option<Result<Bytes, StoreError>> {
        if let Some(hasher) = self.hasher.take() {
            let digests = hasher.finish().await;
            let image = self.signed.0;
            if let Some(check) = self.signed.1.take() {
                let verdict = match digests.signed.as_deref() {
                    Some(digest) => check.verify(digest),
                    None => Err(SignatureError::Mismatch),
                };
                if let Err(error) = verdict {
                    return Some(self.fail(ServiceError::Signature { image, error }));
                }
                tracing::info!(image = %image, "Successfully verified signature for image");
            }
            self.end.lock().expect("no panics while held").digests = Some(digests);
        }
        None
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, StoreError>> {
        if self.done {
            return self.finish().await;
        }
        while self.buf.len() < CHUNK {
            if self.rest.is_empty() {
                match self.next_piece().await {
                    Ok(Some(bytes)) => self.rest = bytes,
                    Ok(None) => break,
                    Err(failed) => return Some(failed),
                }
            }
            if self.buf.is_empty() && self.rest.len() >= CHUNK {
                // Already a whole chunk: passed on as it came, without a copy.
                let chunk = std::mem::take(&mut self.rest);
                hash(&self.hasher, &chunk).await;
                return Some(Ok(chunk));
            }
            // Never more than the buffer holds: it is not regrown past `CHUNK`.
            let take = self.rest.len().min(CHUNK - self.buf.len());
            self.buf.extend_from_slice(&self.rest.split_to(take));
        }
        if self.buf.is_empty() {
            return self.finish().await;
        }
        let next = if self.done {
            BytesMut::new()
        } else {
            BytesMut::with_capacity(CHUNK)
        };
        let chunk = std::mem::replace(&mut self.buf, next).freeze();
        hash(&self.hasher, &chunk).await;
        Some(Ok(chunk))
    }

    /// The next piece of the body, counted, capped and fed to the format
    /// check; `Ok(None)` once the body has ended and passed the end checks.
    async fn next_piece(&mut self) -> Result<Option<Bytes>, Result<Bytes, StoreError>> {
        match self.body.next().await {
            Some(Ok(bytes)) => {
                self.seen += bytes.len() as u64;
                if self.seen > self.cap {
                    return Err(self.fail(too_large(self.cap)));
                }
                if self.expected.is_some_and(|e| self.seen > e) {
                    return Err(self.fail(size_mismatch(self.expected, self.seen)));
                }
                if let Some(format) = self.format.as_mut() {
                    format.feed(&bytes);
                }
                Ok(Some(bytes))
            }
            Some(Err(e)) => Err(self.fail(ServiceError::UploadInterrupted(e.to_string()))),
            None => {
                self.done = true;
                if self.expected.is_some_and(|e| e != self.seen) {
                    return Err(self.fail(size_mismatch(self.expected, self.seen)));
                }
                if let Err(e) = self.check_format() {
                    return Err(self.fail(e));
                }
                Ok(None)
            }
        }
    }
}

/// Feed a chunk to the digests (borrowing only the hasher keeps the future `Send`).
async fn hash(hasher: &Option<Hasher>, chunk: &Bytes) {
    if let Some(hasher) = hasher {
        hasher.update(chunk).await;
    }
}

fn size_mismatch(expected: Option<u64>, seen: u64) -> ServiceError {
    ServiceError::SizeMismatch {
        declared: expected.unwrap_or(0),
        seen,
    }
}

/// The body as the store sees it: coalesced, counted, capped and hashed.
fn counted(
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected: Option<u64>,
    cap: u64,
    format: Option<ImageCheck>,
    signed: (Uuid, Option<SignatureCheck>),
    end: Arc<Mutex<StreamEnd>>,
) -> BoxStream<'static, Result<Bytes, StoreError>> {
    let digest = signed.1.as_ref().map(SignatureCheck::digest);
    let state = Counting {
        body,
        buf: BytesMut::with_capacity(CHUNK),
        rest: Bytes::new(),
        seen: 0,
        hasher: Some(Hasher::with_signature_digest(digest)),
        format,
        signed,
        expected,
        cap,
        end,
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        st.next_chunk().await.map(|item| (item, st))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks the store receives for a body cut into `pieces`, and the digests.
    async fn chunks_for(pieces: &[usize]) -> (Vec<Bytes>, Vec<u8>, Digests) {
        let data: Vec<u8> = (0..pieces.iter().sum::<usize>())
            .map(|i| (i % 251) as u8)
            .collect();
        let mut at = 0;
        let body: Vec<std::io::Result<Bytes>> = pieces
            .iter()
            .map(|&n| {
                at += n;
                Ok(Bytes::copy_from_slice(&data[at - n..at]))
            })
            .collect();
        let end = Arc::new(Mutex::new(StreamEnd::default()));
        let size = data.len() as u64;
        let stream = counted(
            stream::iter(body).boxed(),
            Some(size),
            u64::MAX,
            None,
            (Uuid::new_v4(), None),
            Arc::clone(&end),
        );
        let chunks: Vec<Bytes> = stream.map(|c| c.expect("no failure")).collect().await;
        let digests = end.lock().unwrap().digests.take().expect("the body ended");
        (chunks, data, digests)
    }

    #[tokio::test]
    async fn small_pieces_are_coalesced_into_chunks_that_never_outgrow_their_buffer() {
        let (chunks, data, digests) =
            chunks_for(&[1, 7000, 100_000, 300_000, 5, CHUNK - 1, 3]).await;
        assert_eq!(chunks.concat(), data);
        let (last, whole) = chunks.split_last().unwrap();
        assert!(
            whole.iter().all(|c| c.len() == CHUNK),
            "{:?}",
            chunks.iter().map(Bytes::len).collect::<Vec<_>>()
        );
        assert!(!last.is_empty() && last.len() <= CHUNK);
        let (md5, sha512) = (
            openssl::hash::MessageDigest::md5(),
            openssl::hash::MessageDigest::sha512(),
        );
        assert_eq!(
            digests.md5,
            hex::encode(openssl::hash::hash(md5, &data).unwrap())
        );
        assert_eq!(
            digests.sha512,
            hex::encode(openssl::hash::hash(sha512, &data).unwrap())
        );
    }

    #[tokio::test]
    async fn a_piece_of_a_whole_chunk_or_more_passes_without_a_copy() {
        let (chunks, data, _) = chunks_for(&[3 * CHUNK + 10, 10]).await;
        assert_eq!(chunks.concat(), data);
        assert_eq!(
            chunks.iter().map(Bytes::len).collect::<Vec<_>>(),
            [3 * CHUNK + 10, 10]
        );
    }

    #[tokio::test]
    async fn an_empty_body_gives_no_chunk_and_the_empty_digests() {
        let (chunks, _, digests) = chunks_for(&[]).await;
        assert!(chunks.is_empty());
        assert_eq!(digests.md5, "d41d8cd98f00b204e9800998ecf8427e");
    }
}
