//! Image data checked while it flows: the stream counts and hashes what
//! passes, and when the source ends it compares size, `checksum` and
//! `os_hash_value` with what the source's metadata promised. A mismatch
//! ends the stream in an error instead of its end, so whoever consumes it
//! (an upload, a file being written) fails instead of keeping wrong data.

use std::sync::{Arc, OnceLock};

use futures::StreamExt;
use openssl::hash::{Hasher, MessageDigest};
use serde_json::{Map, Value};

use crate::remote::ByteStream;

/// What the data must be, from the source's metadata; each part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub size: Option<u64>,
    /// Hex MD5 (`checksum`).
    pub checksum: Option<String>,
    /// `os_hash_algo` and `os_hash_value`.
    pub hash: Option<(String, String)>,
}

impl Expected {
    /// The promise an image's metadata makes about its data.
    pub fn of(image: &Map<String, Value>) -> Self {
        let text = |k: &str| image.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            size: image.get("size").and_then(Value::as_u64),
            checksum: text("checksum"),
            hash: text("os_hash_algo").zip(text("os_hash_value")),
        }
    }
}

/// What the check found, readable after the stream was consumed (an
/// upload that failed reports why, not only that its body broke).
#[derive(Debug, Clone, Default)]
pub struct Verdict(Arc<OnceLock<String>>);

impl Verdict {
    /// The mismatch that ended the stream, if one did.
    pub fn mismatch(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

struct State {
    inner: ByteStream,
    verdict: Verdict,
    expected: Expected,
    read: u64,
    md5: Option<Hasher>,
    hash: Option<Hasher>,
    done: bool,
}

/// `data`, checked against `expected` as it passes, and the verdict.
pub fn verified(data: ByteStream, expected: Expected) -> Result<(ByteStream, Verdict), String> {
    let hasher = |digest: MessageDigest| Hasher::new(digest).map_err(|e| e.to_string());
    let md5 = match expected.checksum {
        Some(_) => Some(hasher(MessageDigest::md5())?),
        None => None,
    };
    let hash = match &expected.hash {
        Some((algo, _)) => {
            let digest = MessageDigest::from_name(algo)
                .ok_or_else(|| format!("unknown os_hash_algo {algo}"))?;
            Some(hasher(digest)?)
        }
        None => None,
    };
    let verdict = Verdict::default();
    let state = State {
        inner: data,
        verdict: verdict.clone(),
        expected,
        read: 0,
        md5,
        hash,
        done: false,
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        match s.inner.next().await {
            Some(Ok(chunk)) => {
                s.read += chunk.len() as u64;
                if let Some(size) = s.expected.size
                    && s.read > size
                {
                    let e = s.refuse(mismatch(format!("more than the {size} bytes expected")));
                    return Some((Err(e), s));
                }
                let hashed = [&mut s.md5, &mut s.hash]
                    .into_iter()
                    .flatten()
                    .try_for_each(|h| h.update(&chunk));
                match hashed {
                    Ok(()) => Some((Ok(chunk), s)),
                    Err(e) => {
                        s.done = true;
                        Some((Err(std::io::Error::other(e)), s))
                    }
                }
            }
            Some(Err(e)) => {
                s.done = true;
                Some((Err(e), s))
            }
            None => {
                s.done = true;
                let found = s.check()?;
                let e = s.refuse(found);
                Some((Err(e), s))
            }
        }
    });
    Ok((stream.boxed(), verdict))
}

impl State {
    /// At the end: what differs from the promise, if anything.
    fn check(&mut self) -> Option<String> {
        if let Some(size) = self.expected.size
            && self.read != size
        {
            return Some(mismatch(format!("{} bytes, not {size}", self.read)));
        }
        let finish =
            |h: &mut Option<Hasher>| h.as_mut().and_then(|h| h.finish().ok()).map(hex::encode);
        if let Some(want) = &self.expected.checksum
            && finish(&mut self.md5).as_ref() != Some(want)
        {
            return Some(mismatch(format!("checksum is not {want}")));
        }
        if let Some((algo, want)) = &self.expected.hash
            && finish(&mut self.hash).as_ref() != Some(want)
        {
            return Some(mismatch(format!("{algo} is not {want}")));
        }
        None
    }
}

fn mismatch(what: String) -> String {
    format!("the source's data is not what its metadata says: {what}")
}

impl State {
    /// Ends the stream with `message`, remembered in the verdict.
    fn refuse(&mut self, message: String) -> std::io::Error {
        self.done = true;
        let _ = self.verdict.0.set(message.clone());
        std::io::Error::new(std::io::ErrorKind::InvalidData, message)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::json;

    use super::*;

    fn stream(parts: &[&'static [u8]]) -> ByteStream {
        futures::stream::iter(
            parts
                .to_vec()
                .into_iter()
                .map(|p| Ok(Bytes::from_static(p))),
        )
        .boxed()
    }

    async fn run(data: ByteStream, expected: Expected) -> Result<Vec<u8>, String> {
        let (mut s, _) = verified(data, expected)?;
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    fn expected_for(data: &[u8]) -> Expected {
        let md5 = hex::encode(openssl::hash::hash(MessageDigest::md5(), data).unwrap());
        let sha = hex::encode(openssl::hash::hash(MessageDigest::sha512(), data).unwrap());
        Expected::of(
            json!({"size": data.len(), "checksum": md5, "os_hash_algo": "sha512", "os_hash_value": sha})
                .as_object()
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn the_promised_data_passes_unchanged() {
        let out = run(stream(&[b"hello ", b"world"]), expected_for(b"hello world")).await;
        assert_eq!(out.unwrap(), b"hello world");
    }

    #[tokio::test]
    async fn other_bytes_of_the_same_size_end_in_an_error() {
        let e = run(stream(&[b"hello ", b"World"]), expected_for(b"hello world")).await;
        assert!(e.unwrap_err().contains("checksum is not"));
        let mut only_sha = expected_for(b"hello world");
        only_sha.checksum = None;
        let e = run(stream(&[b"hello World"]), only_sha).await;
        assert!(e.unwrap_err().contains("sha512 is not"));
    }

    #[tokio::test]
    async fn short_or_long_data_ends_in_an_error() {
        let e = run(stream(&[b"hello"]), expected_for(b"hello world")).await;
        assert!(e.unwrap_err().contains("5 bytes, not 11"));
        let e = run(
            stream(&[b"hello world", b"!"]),
            expected_for(b"hello world"),
        )
        .await;
        assert!(e.unwrap_err().contains("more than the 11 bytes"));
    }

    #[tokio::test]
    async fn an_unknown_algorithm_is_refused_before_any_byte() {
        let mut e = expected_for(b"x");
        e.hash = Some(("whirlpool-9000".into(), "00".into()));
        assert!(verified(stream(&[b"x"]), e).is_err());
    }
}
