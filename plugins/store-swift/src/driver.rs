//! The swift store: images as objects (or Static Large Objects) in one account.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use glint_sdk::{
    Capabilities, DataStream, ErrorKind, GetOutcome, OpenContext, PutOutcome, ReadRange,
    StoreDriver, StoreError, runtime,
};

use crate::client::{ObjectPath, SwiftClient};
use crate::config::SwiftConfig;
use crate::error::unexpected;
use crate::location::Location;
use crate::reader::{self, range_header};
use crate::writer::{self, IdLocks, Leftovers, PutJob};

/// One configured Swift store.
pub struct SwiftDriver {
    inner: Arc<Inner>,
}

struct Inner {
    store_id: String,
    config: SwiftConfig,
    client: Arc<SwiftClient>,
    locks: Arc<IdLocks>,
}

impl StoreDriver for SwiftDriver {
    const DRIVER: &'static str = "swift";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = SwiftConfig::parse(config)?;
        let client = Arc::new(SwiftClient::new(&config)?);
        // Authentication waits for the first request: a Swift that is down now only makes
        // requests fail (temporarily) until it is back, instead of leaving the store out.
        tracing::info!(store = %ctx.store_id, ?config, "swift store opened");
        Ok(SwiftDriver {
            inner: Arc::new(Inner {
                store_id: ctx.store_id,
                config,
                client,
                locks: Arc::default(),
            }),
        })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read: true,
            write: true,
            delete: true,
            size: true,
            ranged_read: true,
        }
    }

    async fn put(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        check_image_id(image_id)?;
        let inner = self.inner.clone();
        let image_id = image_id.to_owned();
        // The whole put runs on the plugin's runtime; dropping this future aborts it there, and
        // its `Leftovers` then remove what it wrote.
        Spawned(runtime::handle().spawn(async move {
            let container = inner.config.container_for(&image_id);
            let lock = inner.locks.lock(&image_id).await;
            let mut leftovers = Leftovers::new(
                inner.client.clone(),
                container.clone(),
                image_id.clone(),
                inner.locks.clone(),
                lock,
            );
            let job = PutJob {
                container,
                object: image_id,
                size_hint,
                large_object_size: inner.config.large_object_size,
                chunk_size: inner.config.large_object_chunk_size,
            };
            let size = writer::put(&inner.client, &job, data, &mut leftovers).await?;
            Ok(PutOutcome {
                location: Location::format(&inner.store_id, &job.container, &job.object),
                size,
                metadata: serde_json::Map::new(),
            })
        }))
        .await
    }

    async fn get(
        &self,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let location = Location::parse(&self.inner.store_id, location)?;
        let client = self.inner.client.clone();
        Spawned(runtime::handle().spawn(async move {
            let path = location.path();
            let header = range.map(range_header);
            let response = client.get_object(&path, header.as_deref()).await?;
            let (total_size, data) = reader::stream(response, range, path.subject())?;
            Ok(GetOutcome { total_size, data })
        }))
        .await
    }

    async fn delete(&self, location: &str) -> Result<(), StoreError> {
        let location = Location::parse(&self.inner.store_id, location)?;
        let client = self.inner.client.clone();
        Spawned(runtime::handle().spawn(async move { delete(&client, &location).await })).await
    }

    async fn size(&self, location: &str) -> Result<u64, StoreError> {
        let location = Location::parse(&self.inner.store_id, location)?;
        let client = self.inner.client.clone();
        Spawned(runtime::handle().spawn(async move {
            let path = location.path();
            let headers = client
                .head_object(&path)
                .await?
                .ok_or_else(|| not_found(&path))?;
            reader::content_length(&headers, &path.subject())
        }))
        .await
    }
}

/// Deletes an object with everything it is made of: a Static Large Object with its segments; a
/// Dynamic Large Object (as Glance writes them) with the segments its prefix names.
async fn delete(client: &SwiftClient, location: &Location) -> Result<(), StoreError> {
    let path = location.path();
    let headers = client
        .head_object(&path)
        .await?
        .ok_or_else(|| not_found(&path))?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    if header("x-static-large-object").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return client.delete_large_object(&path).await;
    }
    if let Some(manifest) = header("x-object-manifest")
        && let Some((container, prefix)) = manifest.split_once('/')
    {
        for name in client.list(container, prefix).await? {
            let segment = ObjectPath {
                container,
                object: &name,
            };
            match client.delete_object(&segment).await {
                Err(err) if err.kind != ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
    }
    client.delete_object(&path).await
}

fn not_found(path: &ObjectPath<'_>) -> StoreError {
    StoreError::new(
        ErrorKind::NotFound,
        format!("{} does not exist", path.subject()),
    )
}

/// Image ids become object names: they must be usable as one.
fn check_image_id(image_id: &str) -> Result<(), StoreError> {
    if image_id.is_empty() || image_id.len() > 512 || image_id.contains('/') {
        return Err(unexpected(format!(
            "image id {image_id:?} cannot name a Swift object"
        )));
    }
    Ok(())
}

/// A task on the plugin's runtime, aborted when this future is dropped.
struct Spawned<T>(tokio::task::JoinHandle<Result<T, StoreError>>);

impl<T> Future for Spawned<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|err| Err(unexpected(format!("swift task failed: {err}"))))
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
