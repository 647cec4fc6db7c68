//! Reading an image: one blocking task per read streams chunk-size buffers over a bounded
//! channel; dropping the stream stops the task at its next buffer.

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{ErrorKind, GetOutcome, ReadRange, StoreError, runtime};
use tokio::sync::mpsc;

use crate::ceph::Image;
use crate::error::parse_error;

/// Buffers read ahead of the consumer.
const QUEUE: usize = 2;

/// Streams the requested range of `image`, whose size is `total_size`.
pub fn stream(
    image: Image,
    total_size: u64,
    range: Option<ReadRange>,
    chunk_size: usize,
) -> Result<GetOutcome, StoreError> {
    let (offset, length) = ReadRange::resolve(range, total_size)?;
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    runtime::handle().spawn_blocking(move || {
        if let Err(err) = read_range(&image, offset, length, chunk_size, &sender) {
            // Ignored failure: the consumer is gone, nobody is left to tell.
            let _ = sender.blocking_send(Err(err));
        }
    });
    Ok(GetOutcome {
        total_size,
        data: futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed(),
    })
}

/// Sends `length` bytes from `offset`; stops early if the consumer left.
fn read_range(
    image: &Image,
    offset: u64,
    length: u64,
    chunk_size: usize,
    sender: &mpsc::Sender<Result<Bytes, StoreError>>,
) -> Result<(), StoreError> {
    let mut position = offset;
    let end = offset + length;
    while position < end {
        let want = (end - position).min(chunk_size as u64) as usize;
        let mut buffer = Vec::new();
        let read = image
            .read_into(position, want, &mut buffer)
            .map_err(|err| parse_error(err, "image data"))?;
        if read != want {
            return Err(StoreError::new(
                ErrorKind::Unexpected,
                "the RBD image shrank while it was being read",
            ));
        }
        position += want as u64;
        if sender.blocking_send(Ok(Bytes::from(buffer))).is_err() {
            break;
        }
    }
    Ok(())
}
