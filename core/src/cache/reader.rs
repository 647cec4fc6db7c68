//! Serving a cached file: chunks read ahead of the client on a blocking
//! thread, as the file store reads.

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{DataStream, StoreError};
use tokio::sync::mpsc;

use super::cache_error;

/// Bytes per chunk when serving a cached file.
pub(super) const READ_CHUNK: usize = 1 << 20;
/// Chunks read ahead of the client when serving a cached file: as the
/// file store, two keep the socket busy.
const READ_AHEAD: usize = 2;

/// `length` bytes of `file` from `offset`, in chunks read ahead on a
/// blocking thread (as the file store reads); dropping the stream stops the
/// thread at its next chunk.
pub(super) fn read_stream(file: std::fs::File, offset: u64, length: u64) -> DataStream {
    let (tx, mut rx) = mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = read_chunks(file, offset, length, &tx) {
            // Ignored failure: the client is gone, nobody is left to tell.
            let _ = tx.blocking_send(Err(cache_error("reading a cached image", e)));
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

fn read_chunks(
    mut file: std::fs::File,
    offset: u64,
    length: u64,
    tx: &mpsc::Sender<Result<Bytes, StoreError>>,
) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    file.seek(std::io::SeekFrom::Start(offset))?;
    let mut remaining = length;
    while remaining > 0 {
        let want = remaining.min(READ_CHUNK as u64);
        let mut chunk = Vec::with_capacity(want as usize);
        // `read_to_end` fills the spare capacity without zeroing it first.
        (&mut file).take(want).read_to_end(&mut chunk)?;
        if chunk.len() as u64 != want {
            return Err(std::io::Error::other("the file ended early"));
        }
        remaining -= want;
        if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
            break;
        }
    }
    Ok(())
}
