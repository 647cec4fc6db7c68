//! A client that stops reading a download must not make the server buffer the image: the data
//! is pulled from the store only as fast as the socket drains, so the server's resident memory
//! stays flat while a 256 MiB image waits to be sent. (The bound for many large transfers at
//! once is measured by `tests/bench/memory.py` and stated in the README.)

use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode};
use serde_json::json;

const MIB: usize = 1 << 20;
/// What a stalled download may add to the server's resident memory.
const STALL_BOUND: u64 = 8 * MIB as u64;

/// The server's resident set size in bytes (`VmRSS` of /proc/<pid>/status).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server runs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS in /proc/<pid>/status")
        * 1024
}

#[tokio::test]
async fn a_stalled_download_does_not_grow_the_server_memory() {
    let started = Instant::now();
    let glint = Glint::start_with(&[("GLINT_CACHE__ENABLED", "false")]).await;
    let img = glint
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    // 256 MiB sent as a stream of 1 MiB pieces, never held whole by this test.
    let size = 256 * MIB;
    let piece = bytes::Bytes::from(glint_blackbox::pattern(MIB, 120));
    let body =
        futures::stream::iter((0..size / MIB).map(move |_| Ok::<_, std::io::Error>(piece.clone())));
    let r = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("content-length", size.to_string())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Read the first few pieces, then stop reading while holding the connection open.
    let mut r = glint
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut read = 0;
    while read < 4 * MIB {
        read += r.chunk().await.unwrap().expect("more data").len();
    }
    // Let the server fill the socket buffers and reach its steady state.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss(glint.pid());
    let mut peak = before;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(rss(glint.pid()));
    }
    let growth = peak.saturating_sub(before);
    eprintln!(
        "stalled download of a 256 MiB image: server RSS {} MiB, grew {} KiB in 3 s; test {:.1?}",
        before / MIB as u64,
        growth / 1024,
        started.elapsed()
    );
    assert!(
        growth < STALL_BOUND,
        "the server's memory grew by {growth} bytes while its client did not read"
    );
    // The rest still arrives, complete.
    while let Some(chunk) = r.chunk().await.unwrap() {
        read += chunk.len();
    }
    assert_eq!(read, size);
    assert!(
        rss(glint.pid()) < before + 64 * MIB as u64,
        "the server kept the image in memory"
    );
}
