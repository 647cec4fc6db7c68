//! Reading an image: one blocking task per read streams `chunk_size` buffers over a bounded
//! channel; when the host drops the stream, the task stops at its next buffer.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use glint_sdk::bytes::Bytes;
use glint_sdk::futures::{self, StreamExt};
use glint_sdk::{ErrorKind, GetOutcome, ReadRange, StoreError, runtime};
use tokio::sync::mpsc;

use crate::error::parse_error;

/// Buffers read ahead of the consumer.
const QUEUE: usize = 4;

/// Opens the file at `path` and streams the requested range of it.
pub async fn open(
    path: PathBuf,
    range: Option<ReadRange>,
    chunk_size: usize,
) -> Result<GetOutcome, StoreError> {
    let (file, total_size) = runtime::spawn_blocking(move || open_regular(path)).await??;
    let (offset, length) = ReadRange::resolve(range, total_size)?;
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    runtime::handle().spawn_blocking(move || {
        if let Err(err) = stream_range(file, offset, length, chunk_size, &sender) {
            // Ignored failure: the consumer is gone, nobody is left to tell.
            let _ = sender.blocking_send(Err(err));
        }
    });
    Ok(GetOutcome {
        total_size,
        data: futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed(),
    })
}

/// Opens a regular file (a directory or device at an object's path is not an image).
pub fn open_regular(path: PathBuf) -> Result<(File, u64), StoreError> {
    let file = File::open(&path).map_err(|err| parse_error(err, path.display()))?;
    let metadata = file
        .metadata()
        .map_err(|err| parse_error(err, path.display()))?;
    if !metadata.is_file() {
        return Err(StoreError::new(
            ErrorKind::PermissionDenied,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((file, metadata.len()))
}

/// Sends `length` bytes from `offset` in buffers of `chunk_size`; stops early if the consumer left.
fn stream_range(
    mut file: File,
    offset: u64,
    length: u64,
    chunk_size: usize,
    sender: &mpsc::Sender<Result<Bytes, StoreError>>,
) -> Result<(), StoreError> {
    let io_error = |err| parse_error(err, "image file");
    file.seek(SeekFrom::Start(offset)).map_err(io_error)?;
    let mut remaining = length;
    while remaining > 0 {
        let want = remaining.min(chunk_size as u64);
        let mut buffer = Vec::with_capacity(want as usize);
        (&mut file)
            .take(want)
            .read_to_end(&mut buffer)
            .map_err(io_error)?;
        if buffer.len() as u64 != want {
            return Err(StoreError::new(
                ErrorKind::Unexpected,
                "the image file shrank while it was being read",
            ));
        }
        remaining -= want;
        if sender.blocking_send(Ok(Bytes::from(buffer))).is_err() {
            break;
        }
    }
    Ok(())
}
