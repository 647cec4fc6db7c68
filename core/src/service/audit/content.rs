//! The content audit of one location: read it all back, at most at the
//! configured rate, and compare its size, md5 and `os_hash_algo` digest with
//! what the image records. The digests run on a blocking thread fed through a
//! short bounded channel, so the read never holds more than a few chunks.

use std::time::{Duration, Instant};

use futures::StreamExt;
use glint_sdk::ErrorKind;
use openssl::hash::MessageDigest;

use super::{expected_size, result};
use crate::db::{AuditKind, NewAuditResult, OUTCOME_OK};
use crate::domain::{Image, Location};
use crate::service::hashing::{Digester, HASH_ALGO};
use crate::store::StoreHandle;

/// A read pace: at most `bytes_per_sec` on average since the start (none: no limit).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    bytes_per_sec: Option<u64>,
}

impl Pace {
    /// `mb_per_sec` megabytes (10^6 bytes) per second; 0 is no limit.
    pub fn mb_per_sec(mb_per_sec: u64) -> Self {
        Pace {
            bytes_per_sec: (mb_per_sec > 0).then(|| mb_per_sec.saturating_mul(1_000_000)),
        }
    }

    /// How long to wait, after reading `bytes` in `elapsed`, to keep the pace.
    fn wait(&self, bytes: u64, elapsed: Duration) -> Duration {
        let Some(rate) = self.bytes_per_sec else {
            return Duration::ZERO;
        };
        Duration::from_secs_f64(bytes as f64 / rate as f64).saturating_sub(elapsed)
    }
}

/// What one content audit found, besides the result row: bytes read and how long it took.
#[derive(Debug)]
pub struct ContentAudit {
    pub result: NewAuditResult,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Reads `location` of `image` from `store` and compares it with the image.
pub async fn check(
    store: &StoreHandle,
    image: &Image,
    location: &Location,
    pace: Pace,
) -> ContentAudit {
    let started = Instant::now();
    let algo = image.os_hash_algo.as_deref().unwrap_or(HASH_ALGO);
    let expected = format!(
        "{}, md5 {}, {algo} {}",
        expected_size(image),
        image.checksum.as_deref().unwrap_or("(none)"),
        image.os_hash_value.as_deref().unwrap_or("(none)"),
    );
    let read = read_digests(store, &location.url, algo, pace).await;
    let elapsed = started.elapsed();
    let (outcome, found, bytes) = match read {
        Ok(read) => {
            let found = format!(
                "{} bytes, md5 {}, {algo} {}",
                read.bytes, read.md5, read.hash
            );
            let outcome = if image.size.is_some_and(|s| s != read.bytes as i64) {
                "size_mismatch"
            } else if image.checksum.as_ref().is_some_and(|c| *c != read.md5) {
                "checksum_mismatch"
            } else if image
                .os_hash_value
                .as_ref()
                .is_some_and(|h| *h != read.hash)
            {
                "hash_mismatch"
            } else {
                OUTCOME_OK
            };
            (outcome, found, read.bytes)
        }
        Err(e) if e.kind == ErrorKind::NotFound => ("missing", format!("nothing: {e}"), 0),
        Err(e) => ("unreadable", e.to_string(), 0),
    };
    crate::metrics::audit_read(bytes);
    ContentAudit {
        result: result(
            AuditKind::Content,
            image,
            location,
            outcome,
            expected,
            found,
        ),
        bytes,
        elapsed,
    }
}

#[derive(Debug)]
struct Read {
    bytes: u64,
    md5: String,
    hash: String,
}

/// Reads the whole object, paced, and digests it as md5 and `algo`.
async fn read_digests(
    store: &StoreHandle,
    url: &str,
    algo: &str,
    pace: Pace,
) -> Result<Read, glint_sdk::StoreError> {
    let digest = match algo {
        "sha1" => MessageDigest::sha1(),
        "sha256" => MessageDigest::sha256(),
        "md5" => MessageDigest::md5(),
        _ => MessageDigest::sha512(),
    };
    let mut data = store.get(url, None).await?.data;
    // Each digest on its own thread, as an upload's: together they run at
    // the slower one's rate rather than at the sum of both.
    let md5 = Digester::start(MessageDigest::md5());
    let other = Digester::start(digest);
    let started = Instant::now();
    let mut bytes = 0u64;
    while let Some(chunk) = data.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        md5.update(&chunk).await;
        other.update(&chunk).await;
        let wait = pace.wait(bytes, started.elapsed());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
    let md5 = hex::encode(md5.finish().await);
    let hash = hex::encode(other.finish().await);
    Ok(Read { bytes, md5, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_waits_for_what_was_read_too_fast() {
        let pace = Pace::mb_per_sec(10);
        assert_eq!(
            pace.wait(10_000_000, Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert_eq!(
            pace.wait(10_000_000, Duration::from_secs(2)),
            Duration::ZERO
        );
        let unlimited = Pace::mb_per_sec(0);
        assert_eq!(unlimited.wait(u64::MAX, Duration::ZERO), Duration::ZERO);
    }
}
