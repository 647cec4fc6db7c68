//! Test data: deterministic pseudo-random bytes, split into awkwardly sized chunks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::{DataStream, StoreError};
use sha2::{Digest, Sha256};

/// `len` pseudo-random bytes from `seed` (xorshift64*), the same on every run.
pub fn random_bytes(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    data.truncate(len);
    data.into()
}

/// `data` as a stream of chunks of odd, varying sizes (1 byte up to about 1 MiB).
pub fn odd_chunks(data: &Bytes) -> DataStream {
    stream::iter(odd_slices(data).into_iter().map(Ok)).boxed()
}

fn odd_slices(data: &Bytes) -> Vec<Bytes> {
    const SIZES: [usize; 6] = [1, 4093, 65_537, 1_000_003, 17, 262_147];
    let mut chunks = Vec::new();
    let mut offset = 0;
    for size in SIZES.iter().cycle() {
        if offset == data.len() {
            break;
        }
        let end = (offset + size).min(data.len());
        chunks.push(data.slice(offset..end));
        offset = end;
    }
    chunks
}

/// `data` as [`odd_chunks`] does, each chunk its own buffer that counts itself in `released`
/// when the consumer drops it: whoever reads the stream is done with that many chunks (it wrote
/// or copied them). Also returns the number of chunks.
pub(crate) fn counted_chunks(data: &Bytes, released: &Arc<AtomicUsize>) -> (DataStream, usize) {
    struct Counted(Bytes, Arc<AtomicUsize>);
    impl AsRef<[u8]> for Counted {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let chunks: Vec<Result<Bytes, StoreError>> = odd_slices(data)
        .into_iter()
        .map(|chunk| Ok(Bytes::from_owner(Counted(chunk, Arc::clone(released)))))
        .collect();
    let count = chunks.len();
    (stream::iter(chunks).boxed(), count)
}

/// Reads a whole data stream, failing the test on an error item.
pub async fn collect(mut data: DataStream) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = data.next().await {
        all.extend_from_slice(&chunk.unwrap_or_else(|err| panic!("reading failed: {err}")));
    }
    all
}

/// The SHA-256 digest of `data`, for comparing large payloads with a short failure message.
pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An error as a stream item, for streams that fail midway.
pub(crate) fn failing_item(message: &str) -> Result<Bytes, StoreError> {
    Err(StoreError::new(glint_sdk::ErrorKind::Unavailable, message).temporary())
}
