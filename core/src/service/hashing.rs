//! md5 and sha512 of an upload, computed while the bytes pass.
//!
//! Each digest runs on its own blocking thread fed through a short bounded
//! channel: the two hashes proceed in parallel with each other and with the
//! store's write, and a slow hash slows the client down instead of buffering.

use bytes::Bytes;
use openssl::hash::{Hasher as Digest, MessageDigest};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight per digest; with 1 MiB chunks this bounds the memory a
/// lagging hash can hold.
const QUEUE: usize = 4;

pub const HASH_ALGO: &str = "sha512";

/// The digests of a finished upload, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub md5: String,
    pub sha512: String,
}

pub struct Hasher {
    md5: Worker,
    sha512: Worker,
}

struct Worker {
    tx: mpsc::Sender<Bytes>,
    done: JoinHandle<String>,
}

impl Worker {
    fn start(algorithm: MessageDigest) -> Self {
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            // OpenSSL fails only on allocation failure or an unknown algorithm; neither is
            // recoverable here, and both md5 and sha512 are always built in.
            let mut digest = Digest::new(algorithm).expect("OpenSSL digest context");
            while let Some(chunk) = rx.blocking_recv() {
                digest.update(&chunk).expect("OpenSSL digest update");
            }
            hex::encode(digest.finish().expect("OpenSSL digest finish"))
        });
        Self { tx, done }
    }
}

impl Hasher {
    pub fn new() -> Self {
        Self {
            md5: Worker::start(MessageDigest::md5()),
            sha512: Worker::start(MessageDigest::sha512()),
        }
    }

    /// Feed a chunk; waits while a digest is behind.
    pub async fn update(&self, chunk: &Bytes) {
        // A send fails only if a worker died, which `finish` reports.
        let _ = self.md5.tx.send(chunk.clone()).await;
        let _ = self.sha512.tx.send(chunk.clone()).await;
    }

    pub async fn finish(self) -> Digests {
        let Self { md5, sha512 } = self;
        drop((md5.tx, sha512.tx));
        let md5 = md5.done.await.expect("md5 worker never panics");
        let sha512 = sha512.done.await.expect("sha512 worker never panics");
        Digests { md5, sha512 }
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use md5::Md5;
    use sha2::{Digest as _, Sha512};

    use super::*;

    #[tokio::test]
    async fn digests_match_one_shot_hashing() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let hasher = Hasher::new();
        for chunk in data.chunks(65_537) {
            hasher.update(&Bytes::copy_from_slice(chunk)).await;
        }
        let d = hasher.finish().await;
        assert_eq!(d.md5, hex::encode(Md5::digest(&data)));
        assert_eq!(d.sha512, hex::encode(Sha512::digest(&data)));
    }

    #[tokio::test]
    async fn empty_input_has_the_empty_digests() {
        let d = Hasher::new().finish().await;
        assert_eq!(d.md5, "d41d8cd98f00b204e9800998ecf8427e");
        assert!(d.sha512.starts_with("cf83e1357eefb8bdf1542850d66d8007"));
    }
}
