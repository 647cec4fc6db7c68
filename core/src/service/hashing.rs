//! md5 and sha512 of an upload, computed while the bytes pass, and the
//! digest an image signature is verified against.
//!
//! Each digest runs on its own blocking thread fed through a short bounded
//! channel: the hashes proceed in parallel with each other and with the
//! store's write, and a slow hash slows the client down instead of buffering.

use bytes::Bytes;
use openssl::hash::{Hasher as Digest, MessageDigest};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight per digest; with an upload's 256 KiB chunks this bounds
/// the memory a lagging hash can hold.
const QUEUE: usize = 4;

pub const HASH_ALGO: &str = "sha512";

/// The digests of a finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Hex-encoded.
    pub md5: String,
    /// Hex-encoded.
    pub sha512: String,
    /// The raw digest of the algorithm asked for with
    /// [`Hasher::with_signature_digest`], if any.
    pub signed: Option<Vec<u8>>,
}

pub struct Hasher {
    md5: Digester,
    sha512: Digester,
    signed: Signed,
}

/// Where the signature's digest comes from.
enum Signed {
    None,
    /// SHA-512 is already computed for `os_hash_value`.
    Sha512,
    Other(Digester),
}

/// One digest computed on its own thread.
pub struct Digester {
    tx: mpsc::Sender<Bytes>,
    done: JoinHandle<Vec<u8>>,
}

impl Digester {
    pub fn start(algorithm: MessageDigest) -> Self {
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            // OpenSSL fails only on allocation failure or an unknown algorithm; neither is
            // recoverable here, and every algorithm asked for is built in.
            let mut digest = Digest::new(algorithm).expect("OpenSSL digest context");
            while let Some(chunk) = rx.blocking_recv() {
                digest.update(&chunk).expect("OpenSSL digest update");
            }
            digest.finish().expect("OpenSSL digest finish").to_vec()
        });
        Self { tx, done }
    }

    /// Feed a chunk; waits while the digest is behind.
    pub async fn update(&self, chunk: &Bytes) {
        // A send fails only if the worker died, which `finish` reports.
        let _ = self.tx.send(chunk.clone()).await;
    }

    /// The raw digest of everything fed.
    pub async fn finish(self) -> Vec<u8> {
        drop(self.tx);
        self.done.await.expect("a digest worker never panics")
    }
}

impl Hasher {
    pub fn new() -> Self {
        Self::with_signature_digest(None)
    }

    /// Also compute `signed`'s digest of the data, for a signature check.
    pub fn with_signature_digest(signed: Option<MessageDigest>) -> Self {
        let signed = match signed {
            None => Signed::None,
            Some(md) if md.type_() == MessageDigest::sha512().type_() => Signed::Sha512,
            Some(md) => Signed::Other(Digester::start(md)),
        };
        Self {
            md5: Digester::start(MessageDigest::md5()),
            sha512: Digester::start(MessageDigest::sha512()),
            signed,
        }
    }

    /// Feed a chunk; waits while a digest is behind.
    pub async fn update(&self, chunk: &Bytes) {
        self.md5.update(chunk).await;
        self.sha512.update(chunk).await;
        if let Signed::Other(digester) = &self.signed {
            digester.update(chunk).await;
        }
    }

    pub async fn finish(self) -> Digests {
        let Self {
            md5,
            sha512,
            signed,
        } = self;
        let md5 = md5.finish().await;
        let sha512 = sha512.finish().await;
        let signed = match signed {
            Signed::None => None,
            Signed::Sha512 => Some(sha512.clone()),
            Signed::Other(digester) => Some(digester.finish().await),
        };
        Digests {
            md5: hex::encode(md5),
            sha512: hex::encode(sha512),
            signed,
        }
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
        assert_eq!(d.signed, None);
    }

    #[tokio::test]
    async fn the_signature_digest_is_computed_in_the_same_pass() {
        use sha2::Sha256;
        let data = b"signed image data".repeat(1000);
        for (md, want) in [
            (MessageDigest::sha256(), Sha256::digest(&data).to_vec()),
            (MessageDigest::sha512(), Sha512::digest(&data).to_vec()),
        ] {
            let hasher = Hasher::with_signature_digest(Some(md));
            for chunk in data.chunks(4096) {
                hasher.update(&Bytes::copy_from_slice(chunk)).await;
            }
            let d = hasher.finish().await;
            assert_eq!(d.signed.as_deref(), Some(&want[..]));
            assert_eq!(d.sha512, hex::encode(Sha512::digest(&data)));
        }
    }
}
