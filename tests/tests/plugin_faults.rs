//! A store plugin that panics, hangs or stalls (`tests/plugins/store-faulty`, told what to do
//! through a file), beside a healthy file store.
//!
//! Expected: a panic is answered 500 in Glance's shape (503 for a read, as every read that no
//! copy can serve) and the server lives on; a call that hangs,
//! a write that stops taking data and a read that stops yielding it are abandoned after the
//! store's `timeout_secs` (2 s here) with 503, or, for a read whose answer has begun, a cut body;
//! the image of a failed upload stays `queued`; the file store serves throughout; once the plugin
//! behaves, the same store works again. The file store then holds exactly its images' data.

mod backends;

use std::path::Path;
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, pattern};
use serde_json::{Value, json};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// The faulty store's `timeout_secs`.
const TIMEOUT: Duration = Duration::from_secs(2);

async fn start(fault_file: &Path) -> (Glint, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "default_store = \"file\"\n\n[cache]\nenabled = false\n\n\
         [stores.file]\ndriver = \"file\"\noptions = {{ datadir = {:?} }}\n\n\
         [stores.faulty]\ndriver = \"faulty\"\ntimeout_secs = {}\noptions = {{ fault_file = {:?} }}\n",
        dir.path().join("file-store"),
        TIMEOUT.as_secs(),
        fault_file,
    );
    let file = dir.path().join("glint.toml");
    std::fs::write(&file, config).unwrap();
    let glint = Glint::start_with(&[
        ("GLINT_CONFIG", file.to_str().unwrap()),
        (
            "GLINT_PLUGINS__PATHS",
            &backends::plugin_paths(&["glint-store-faulty"]),
        ),
    ])
    .await;
    (glint, dir)
}

async fn create(glint: &Glint) -> String {
    let img = glint
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    img["id"].as_str().unwrap().to_owned()
}

/// Uploads `data` to `store`: the status, Glance's JSON error body (if any) and the time taken.
async fn upload(
    glint: &Glint,
    id: &str,
    store: &str,
    data: &[u8],
) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let r = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("accept", "application/json")
        .header("x-image-meta-store", store)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

/// Downloads image `id`: the status, and the body or the error reading it, and the time taken.
async fn download(glint: &Glint, id: &str) -> (StatusCode, Result<Vec<u8>, String>, Duration) {
    let started = Instant::now();
    let r = glint
        .get(&format!("/v2/images/{id}/file"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| e.to_string());
    (status, body, started.elapsed())
}

/// An error in Glance's JSON shape, with this status.
#[track_caller]
fn glance_error(body: &Value, status: StatusCode) {
    assert_eq!(body["code"].as_str(), Some(&*status.to_string()), "{body}");
    assert!(body["message"].is_string(), "{body}");
}

/// The server still answers, and the file store still takes and serves data.
async fn file_store_serves(glint: &Glint, seed: u64) -> String {
    let data = pattern(100 * KIB, seed);
    let id = create(glint).await;
    let (status, body, _) = upload(glint, &id, "file", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, got, _) = download(glint, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got.unwrap() == data);
    id
}

#[tokio::test]
async fn a_plugin_that_panics_hangs_or_stalls_fails_its_requests_and_the_server_lives() {
    let started = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let fault_file = scratch.path().join("fault");
    let set = |fault: &str| std::fs::write(&fault_file, fault).unwrap();
    set("");
    let (glint, dir) = start(&fault_file).await;
    let mut file_images = Vec::new();

    // Healthy: an image in the faulty store, large enough to be read in several pieces.
    let data = pattern(2 * MIB, 100);
    let stored = create(&glint).await;
    let (status, body, _) = upload(&glint, &stored, "faulty", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let queued = create(&glint).await;

    // Panics: 500 in Glance's shape, nothing about the panic's text; the server lives.
    set("panic");
    let (status, body, _) = upload(&glint, &queued, "faulty", &data).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    glance_error(&body, status);
    assert!(!body.to_string().contains("told to panic"), "{body}");
    assert_eq!(glint.show(&queued).await["status"], "queued");
    // A read that fails in every copy's store is answered 503, whatever the store's error.
    let (status, _, _) = download(&glint, &stored).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    file_images.push(file_store_serves(&glint, 101).await);

    // Hangs: each call is abandoned after the store's timeout with 503.
    set("hang");
    let (status, body, took) = upload(&glint, &queued, "faulty", &data).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    glance_error(&body, status);
    assert!(
        took >= TIMEOUT && took < TIMEOUT * 3,
        "upload answered after {took:?}"
    );
    let hung_upload = took;
    assert_eq!(glint.show(&queued).await["status"], "queued");
    let (status, _, took) = download(&glint, &stored).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        took >= TIMEOUT && took < TIMEOUT * 3,
        "download answered after {took:?}"
    );
    let hung_download = took;
    file_images.push(file_store_serves(&glint, 102).await);

    // Stalls: a write that stops taking data is abandoned (503, the image queued); a read that
    // stops yielding data has its answer cut.
    set("stall");
    let (status, body, took) = upload(&glint, &queued, "faulty", &data).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(took < TIMEOUT * 3, "upload answered after {took:?}");
    assert_eq!(glint.show(&queued).await["status"], "queued");
    let (status, got, took) = download(&glint, &stored).await;
    assert_eq!(status, StatusCode::OK, "the read starts");
    assert!(
        got.is_err(),
        "a stalled read's body must not end as if complete"
    );
    assert!(took < TIMEOUT * 3, "download cut after {took:?}");
    let stalled_download = took;
    file_images.push(file_store_serves(&glint, 103).await);

    // Behaving again: the same store, without a restart.
    set("");
    let (status, body, _) = upload(&glint, &queued, "faulty", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for id in [&stored, &queued] {
        let (status, got, _) = download(&glint, id).await;
        assert_eq!(status, StatusCode::OK);
        assert!(got.unwrap() == data);
    }

    // Nothing left half-done: no image `saving`, the file store holds its images only.
    let r: Value = glint
        .get("/v2/images?status=saving")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["images"], json!([]));
    let mut stored_files: Vec<String> = std::fs::read_dir(dir.path().join("file-store"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    stored_files.sort();
    file_images.sort();
    assert_eq!(stored_files, file_images);
    assert!(
        glint.log().contains("told to panic"),
        "the panic is not logged"
    );
    eprintln!(
        "faulty plugin: hung upload answered after {hung_upload:.2?}, hung download after \
         {hung_download:.2?}, stalled download cut after {stalled_download:.2?}; test {:.1?}",
        started.elapsed()
    );
}
