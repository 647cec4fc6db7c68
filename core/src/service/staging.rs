//! The staging area: image data that has arrived (`PUT /stage`, or fetched
//! by web-download) and waits to be imported into the stores. One file per
//! image under `<data_dir>/staging`, written under a temporary name and
//! renamed into place once complete, so a crash never leaves a partial file
//! that looks staged.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::app::App;

/// The property naming the node whose staging area holds an image's data
/// (its `worker_self_reference_url`), as Glance records it.
pub const STAGE_HOST: &str = "os_glance_stage_host";

pub fn dir(app: &App) -> PathBuf {
    app.config.data_dir.join("staging")
}

pub fn path(app: &App, id: Uuid) -> PathBuf {
    dir(app).join(id.to_string())
}

/// Whether data is staged for `id`.
pub async fn exists(app: &App, id: Uuid) -> bool {
    tokio::fs::try_exists(path(app, id)).await.unwrap_or(false)
}

/// Write `body` as the staged data of `id` and return its size. Refuses data
/// beyond `cap` bytes; on any failure nothing stays staged.
pub async fn write(
    app: &App,
    id: Uuid,
    mut body: BoxStream<'static, std::io::Result<Bytes>>,
    cap: u64,
) -> ServiceResult<u64> {
    let dir = dir(app);
    tokio::fs::create_dir_all(&dir).await.map_err(io_error)?;
    let target = path(app, id);
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        return Err(ServiceError::AlreadyStaged(id));
    }
    let partial = dir.join(format!(".{id}.{}.partial", Uuid::new_v4().simple()));
    let result = async {
        let mut file = tokio::fs::File::create(&partial).await.map_err(io_error)?;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ServiceError::UploadInterrupted(e.to_string()))?;
            size += chunk.len() as u64;
            if size > cap {
                return Err(ServiceError::OverLimit(format!(
                    "Image exceeds the storage quota: the size limit is {cap} bytes."
                )));
            }
            file.write_all(&chunk).await.map_err(io_error)?;
        }
        file.sync_all().await.map_err(io_error)?;
        Ok(size)
    }
    .await;
    match result {
        Ok(size) => {
            tokio::fs::rename(&partial, &target)
                .await
                .map_err(io_error)?;
            Ok(size)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(e)
        }
    }
}

/// The staged data of `id`, as a stream, with its size.
pub async fn read(
    app: &App,
    id: Uuid,
) -> ServiceResult<(BoxStream<'static, std::io::Result<Bytes>>, u64)> {
    let file = tokio::fs::File::open(path(app, id)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ServiceError::NothingStaged(id)
        } else {
            io_error(e)
        }
    })?;
    let size = file.metadata().await.map_err(io_error)?.len();
    Ok((file_stream(file), size))
}

/// A file's bytes as a stream of chunks of up to 1 MiB.
fn file_stream(file: tokio::fs::File) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = bytes::BytesMut::with_capacity(1 << 20);
        match file.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), Some(file))),
            Err(e) => Some((Err(e), None)),
        }
    })
    .boxed()
}

/// Remove whatever is staged for `id`; nothing staged is fine.
pub async fn remove(app: &App, id: Uuid) {
    remove_path(&path(app, id)).await;
}

/// Remove the partial files of stages of `id` that never finished (their
/// process died mid-write).
pub async fn remove_partials(app: &App, id: Uuid) {
    let prefix = format!(".{id}.");
    let Ok(mut entries) = tokio::fs::read_dir(dir(app)).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".partial") {
            remove_path(&entry.path()).await;
        }
    }
}

async fn remove_path(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not remove staged data")
        }
    }
}

fn io_error(e: std::io::Error) -> ServiceError {
    ServiceError::Store(glint_sdk::StoreError::new(
        glint_sdk::ErrorKind::Unavailable,
        format!("staging area: {e}"),
    ))
}
