//! Reading an image: one blocking task per read keeps a few chunk-size aio reads in flight,
//! the way `rbd export` does, and streams the buffers in order over a bounded channel; dropping
//! the stream stops the task at its next buffer (after the reads in flight end).

use std::collections::VecDeque;

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::{ErrorKind, GetOutcome, ReadRange, StoreError, runtime};
use tokio::sync::mpsc;

use crate::ceph::{AioRead, Image};
use crate::error::parse_error;

/// Chunk reads in flight at once per get: one sequential read waits for one OSD round trip
/// at a time and left downloads at half of `rbd export`.
pub const READS_IN_FLIGHT: usize = 4;

/// Read buffers queued for the consumer.
const QUEUE: usize = 1;

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
    let mut reads = ReadAhead {
        image,
        next: offset,
        end: offset + length,
        chunk_size,
        in_flight: VecDeque::with_capacity(READS_IN_FLIGHT),
    };
    while let Some(buffer) = reads.next_chunk()? {
        if sender.blocking_send(Ok(Bytes::from(buffer))).is_err() {
            break;
        }
    }
    // Dropping `reads` waits for the reads still in flight before their buffers are freed.
    Ok(())
}

/// The reads of one range, queued ahead of the chunk being delivered.
struct ReadAhead<'a> {
    image: &'a Image,
    /// Where the next read to queue starts.
    next: u64,
    end: u64,
    chunk_size: usize,
    /// Each read with the length it asked for, oldest first.
    in_flight: VecDeque<(usize, AioRead<'a>)>,
}

impl ReadAhead<'_> {
    /// The next chunk in order, `None` after the last one.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        self.fill()?;
        let Some((want, read)) = self.in_flight.pop_front() else {
            return Ok(None);
        };
        let buffer = read.wait().map_err(|err| parse_error(err, "image data"))?;
        if buffer.len() != want {
            return Err(StoreError::new(
                ErrorKind::Unexpected,
                "the RBD image shrank while it was being read",
            ));
        }
        // Keep the cluster busy while this chunk travels to the consumer.
        self.fill()?;
        Ok(Some(buffer))
    }

    /// Queues reads until [`READS_IN_FLIGHT`] are in flight or the range is covered.
    fn fill(&mut self) -> Result<(), StoreError> {
        while self.in_flight.len() < READS_IN_FLIGHT && self.next < self.end {
            let want = (self.end - self.next).min(self.chunk_size as u64) as usize;
            let read = self
                .image
                .aio_read(self.next, want)
                .map_err(|err| parse_error(err, "image data"))?;
            self.in_flight.push_back((want, read));
            self.next += want as u64;
        }
        Ok(())
    }
}
