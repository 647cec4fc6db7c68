//! The image cache against the real binary: queueing and the prefetch
//! worker, downloads served from and filling the cache, clearing, deleting,
//! pruning to `max_size`, cleaning at start, and the API's errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use glint_blackbox::keystone::{keystone, project_scope, start_glint, token};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern};
use serde_json::Value;

const MIB: usize = 1 << 20;

fn id_of(image: &Value) -> String {
    image["id"].as_str().expect("image id").to_owned()
}

async fn cache_state(g: &Glint) -> Value {
    let r = g.get("/v2/cache").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn cached_entry<'a>(state: &'a Value, id: &str) -> Option<&'a Value> {
    state["cached_images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["image_id"] == id)
}

fn cached_ids(state: &Value) -> Vec<String> {
    let mut ids: Vec<String> = state["cached_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn queued_ids(state: &Value) -> Vec<String> {
    state["queued_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Polls `GET /v2/cache` until the image is listed as cached.
async fn wait_cached(g: &Glint, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = cache_state(g).await;
        if cached_entry(&state, id).is_some() {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "image {id} was not cached in time: {state}\n{}",
            g.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the server decides when a download is not copied into its cache.
const NOT_COPIED: &str = "not copying this download into the cache";
/// What the prefetch worker logs when it tried a queued image and failed.
const FETCH_FAILED: &str = "could not cache the queued image; it stays queued";

/// Lines of the server's log that mention `id` and contain `text`.
fn log_count(g: &Glint, id: &str, text: &str) -> usize {
    g.log()
        .lines()
        .filter(|l| l.contains(id) && l.contains(text))
        .count()
}

/// Waits until the server's log has at least `count` lines that mention
/// `id` and contain `text`: the event that proves the server considered
/// something, before a test checks that it did not happen.
async fn wait_log(g: &Glint, id: &str, text: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while log_count(g, id, text) < count {
        assert!(
            Instant::now() < deadline,
            "fewer than {count} log lines with {id} and {text:?}:\n{}",
            g.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Microseconds since the epoch of a time as the cache API shows it.
fn micros_of(seconds: &Value) -> i64 {
    (seconds.as_f64().expect("a time in seconds") * 1e6).round() as i64
}

/// Waits until this machine's clock, at the database's microsecond
/// precision, is past `seconds`: any time the server takes from then on is
/// later, so an order between two server times is no longer left to luck.
async fn wait_clock_past(seconds: &Value) {
    let t = micros_of(seconds);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        if now > t {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the clock stays before {seconds}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn cache_file(g: &Glint, id: &str) -> PathBuf {
    g.data_dir.path().join("cache").join(id)
}

fn store_file(g: &Glint, id: &str) -> PathBuf {
    g.data_dir.path().join("images").join(id)
}

async fn download(g: &Glint, id: &str) -> (StatusCode, Vec<u8>) {
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.bytes().await.unwrap().to_vec())
}

async fn queue(g: &Glint, id: &str) -> StatusCode {
    g.put(&format!("/v2/cache/{id}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn clear(g: &Glint, target: Option<&str>) -> StatusCode {
    let mut req = g.delete("/v2/cache");
    if let Some(t) = target {
        req = req.header("x-image-cache-clear-target", t);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn a_queued_image_is_cached_and_later_downloads_read_the_cache() {
    let g = Glint::start().await;
    let data = pattern(3 * MIB + 123, 1);
    let image = g.create_with_data("cached", &data).await;
    let id = id_of(&image);
    assert_eq!(
        cache_state(&g).await["cached_images"],
        serde_json::json!([])
    );

    assert_eq!(queue(&g, &id).await, StatusCode::ACCEPTED);
    let state = wait_cached(&g, &id).await;
    let entry = cached_entry(&state, &id).unwrap();
    assert_eq!(entry["size"], data.len());
    assert_eq!(entry["hits"], 0);
    assert_eq!(entry["checksum"], md5_hex(&data));
    assert!(entry["last_accessed"].is_f64() && entry["last_modified"].is_f64());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((entry["last_modified"].as_f64().unwrap() - now).abs() < 60.0);
    assert!(queued_ids(&state).is_empty(), "{state}");
    assert_eq!(std::fs::read(cache_file(&g, &id)).unwrap(), data);

    // Without the store's copy, only the cache can answer.
    std::fs::remove_file(store_file(&g, &id)).unwrap();
    wait_clock_past(&entry["last_modified"]).await;
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-md5"].to_str().unwrap(), md5_hex(&data));
    assert_eq!(
        r.headers()["content-length"].to_str().unwrap(),
        data.len().to_string()
    );
    assert!(r.bytes().await.unwrap() == data, "cached bytes differ");
    let state = cache_state(&g).await;
    let entry = cached_entry(&state, &id).unwrap();
    assert_eq!(entry["hits"], 1);
    assert!(entry["last_accessed"].as_f64() > entry["last_modified"].as_f64());

    // A range is served from the cache too.
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("range", "bytes=1048570-1048589")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes 1048570-1048589/{}", data.len())
    );
    assert_eq!(&r.bytes().await.unwrap()[..], &data[1048570..1048590]);
    assert_eq!(
        cached_entry(&cache_state(&g).await, &id).unwrap()["hits"],
        2
    );

    // Queueing a cached image again changes nothing.
    assert_eq!(queue(&g, &id).await, StatusCode::ACCEPTED);
    assert!(queued_ids(&cache_state(&g).await).is_empty());

    // Dropped from the cache, the image has no readable copy left.
    let r = g.delete(&format!("/v2/cache/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!cache_file(&g, &id).exists());
    assert!(cached_entry(&cache_state(&g).await, &id).is_none());
    let (status, _) = download(&g, &id).await;
    assert!(
        status == StatusCode::NO_CONTENT || status.is_server_error(),
        "{status}"
    );
}

/// Settings that copy downloads from the file store into the cache, which
/// by default they are not.
const COPY_FILE_STORE: (&str, &str) = ("GLINT_CACHE__UNCACHED_DRIVERS", "[]");

#[tokio::test]
async fn a_download_from_the_file_store_is_not_copied_unless_asked() {
    let g = Glint::start().await;
    let data = pattern(3 * MIB, 9);
    let id = id_of(&g.create_with_data("local", &data).await);
    let (status, body) = download(&g, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    wait_log(&g, &id, "its store keeps the data on a local disk", 1).await;
    assert!(cached_entry(&cache_state(&g).await, &id).is_none());
    assert!(!cache_file(&g, &id).exists());
    let incomplete = g.data_dir.path().join("cache/incomplete");
    assert_eq!(std::fs::read_dir(&incomplete).unwrap().count(), 0);

    // Queued, it is cached all the same.
    assert_eq!(queue(&g, &id).await, StatusCode::ACCEPTED);
    wait_cached(&g, &id).await;
    assert!(std::fs::read(cache_file(&g, &id)).unwrap() == data);
}

#[tokio::test]
async fn a_download_fills_the_cache_but_a_range_does_not() {
    let g = Glint::start_with(&[COPY_FILE_STORE]).await;
    let data = pattern(5 * MIB + 7, 2);
    let id = id_of(&g.create_with_data("filled", &data).await);

    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..], &data[..100]);
    // The server logs its decision before the first byte; once it is
    // logged, no copy was started.
    wait_log(&g, &id, NOT_COPIED, 1).await;
    assert!(
        cache_state(&g).await["cached_images"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let incomplete = g.data_dir.path().join("cache/incomplete");
    assert_eq!(std::fs::read_dir(&incomplete).unwrap().count(), 0);

    let (status, body) = download(&g, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    let state = wait_cached(&g, &id).await;
    assert_eq!(cached_entry(&state, &id).unwrap()["hits"], 0);
    let leftovers = std::fs::read_dir(g.data_dir.path().join("cache/incomplete"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0, "temporary files left behind");

    std::fs::remove_file(store_file(&g, &id)).unwrap();
    let (status, body) = download(&g, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data, "bytes served from the cache differ");
    assert_eq!(
        cached_entry(&cache_state(&g).await, &id).unwrap()["hits"],
        1
    );
}

#[tokio::test]
async fn an_abandoned_download_leaves_no_cache_file() {
    let g = Glint::start_with(&[COPY_FILE_STORE]).await;
    let data = pattern(64 * MIB, 3);
    let id = id_of(&g.create_with_data("abandoned", &data).await);
    {
        let mut r = g
            .get(&format!("/v2/images/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // Read a little, then hang up.
        let first = r.chunk().await.unwrap().unwrap();
        assert!(!first.is_empty());
        // The copy is started before the first byte is sent.
        let started = std::fs::read_dir(g.data_dir.path().join("cache/incomplete"))
            .unwrap()
            .count();
        assert_eq!(started, 1, "no copy was started");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let incomplete = g.data_dir.path().join("cache/incomplete");
    while std::fs::read_dir(&incomplete).unwrap().count() > 0 {
        assert!(Instant::now() < deadline, "the unfinished file stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!cache_file(&g, &id).exists());
    assert!(cached_entry(&cache_state(&g).await, &id).is_none());
}

#[tokio::test]
async fn clearing_empties_the_cache_the_queue_or_both() {
    let g = Glint::start().await;
    let cached = id_of(&g.create_with_data("cached", &pattern(MIB, 4)).await);
    let stuck = id_of(&g.create_with_data("stuck", &pattern(MIB, 5)).await);
    // Without its data in the store the queued image cannot be fetched: it stays queued.
    std::fs::remove_file(store_file(&g, &stuck)).unwrap();

    let setup = async || {
        let tried = log_count(&g, &stuck, FETCH_FAILED);
        assert_eq!(queue(&g, &cached).await, StatusCode::ACCEPTED);
        assert_eq!(queue(&g, &stuck).await, StatusCode::ACCEPTED);
        wait_cached(&g, &cached).await;
        // The worker tried the stuck image and failed: it must stay queued.
        wait_log(&g, &stuck, FETCH_FAILED, tried + 1).await;
        let state = cache_state(&g).await;
        assert_eq!(queued_ids(&state), std::slice::from_ref(&stuck), "{state}");
    };

    setup().await;
    let r = g
        .delete("/v2/cache")
        .header("x-image-cache-clear-target", "invalid")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'x-image-cache-clear-target' must be 'cache', 'queue' or empty string"),
        "{body}"
    );

    assert_eq!(clear(&g, Some("cache")).await, StatusCode::NO_CONTENT);
    let state = cache_state(&g).await;
    assert!(cached_ids(&state).is_empty(), "{state}");
    assert_eq!(queued_ids(&state), std::slice::from_ref(&stuck));
    assert!(!cache_file(&g, &cached).exists());

    assert_eq!(clear(&g, Some("QUEUE")).await, StatusCode::NO_CONTENT);
    let state = cache_state(&g).await;
    assert!(queued_ids(&state).is_empty(), "{state}");

    setup().await;
    assert_eq!(clear(&g, Some("queue")).await, StatusCode::NO_CONTENT);
    let state = cache_state(&g).await;
    assert_eq!(cached_ids(&state), std::slice::from_ref(&cached));
    assert!(queued_ids(&state).is_empty());

    assert_eq!(queue(&g, &stuck).await, StatusCode::ACCEPTED);
    assert_eq!(clear(&g, None).await, StatusCode::NO_CONTENT);
    let state = cache_state(&g).await;
    assert!(
        cached_ids(&state).is_empty() && queued_ids(&state).is_empty(),
        "{state}"
    );

    // One entry, from the queue.
    assert_eq!(queue(&g, &stuck).await, StatusCode::ACCEPTED);
    let r = g
        .delete(&format!("/v2/cache/{stuck}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(queued_ids(&cache_state(&g).await).is_empty());
}

#[tokio::test]
async fn queueing_needs_an_active_image_that_exists() {
    let g = Glint::start().await;
    let queued = g
        .create(serde_json::json!({"name": "no data", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let r = g
        .put(&format!("/v2/cache/{}", id_of(&queued)))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Only images with status active can be targeted for queueing"),
        "{body}"
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "non-existing-image-id"] {
        let r = g
            .put(&format!("/v2/cache/{id}"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{id}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Image {id} not found.")),
            "{body}"
        );
        let r = g.delete(&format!("/v2/cache/{id}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let state = cache_state(&g).await;
    assert!(cached_ids(&state).is_empty() && queued_ids(&state).is_empty());

    // Methods the resources do not have.
    let r = g.post("/v2/cache").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("DELETE"), "{allow}");
}

#[tokio::test]
async fn deleting_or_deactivating_an_image_removes_its_cached_copy() {
    let g = Glint::start().await;
    let data = pattern(2 * MIB, 6);
    let deleted = id_of(&g.create_with_data("deleted", &data).await);
    let deactivated = id_of(&g.create_with_data("deactivated", &data).await);
    for id in [&deleted, &deactivated] {
        assert_eq!(queue(&g, id).await, StatusCode::ACCEPTED);
        wait_cached(&g, id).await;
        assert!(cache_file(&g, id).exists());
    }

    let r = g
        .delete(&format!("/v2/images/{deleted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!cache_file(&g, &deleted).exists());
    assert!(cached_entry(&cache_state(&g).await, &deleted).is_none());
    // The cache entry of a deleted image is gone: 404.
    let r = g
        .delete(&format!("/v2/cache/{deleted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = g
        .post(&format!("/v2/images/{deactivated}/actions/deactivate"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!cache_file(&g, &deactivated).exists());
    assert!(cached_entry(&cache_state(&g).await, &deactivated).is_none());
    // A deactivated image cannot be queued either.
    assert_eq!(queue(&g, &deactivated).await, StatusCode::BAD_REQUEST);
    // An administrator still reads it, from the store, without caching it.
    let (status, body) = download(&g, &deactivated).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    wait_log(&g, &deactivated, NOT_COPIED, 1).await;
    assert!(!cache_file(&g, &deactivated).exists());
    assert_eq!(
        std::fs::read_dir(g.data_dir.path().join("cache/incomplete"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn pruning_evicts_the_least_recently_used_images() {
    // Room for two images of 1 MiB, not three.
    let g = Glint::start_with(&[("GLINT_CACHE__MAX_SIZE", &(5 * MIB / 2).to_string())]).await;
    let data: Vec<Vec<u8>> = (0..3).map(|n| pattern(MIB, 10 + n)).collect();
    let mut ids = Vec::new();
    for (n, d) in data.iter().enumerate() {
        ids.push(id_of(&g.create_with_data(&format!("img{n}"), d).await));
    }
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    for id in [a, b] {
        assert_eq!(queue(&g, id).await, StatusCode::ACCEPTED);
        wait_cached(&g, id).await;
    }
    // `a` read again: `b` is now the least recently used.
    let state = cache_state(&g).await;
    let b_used = cached_entry(&state, b).unwrap()["last_accessed"].clone();
    wait_clock_past(&b_used).await;
    let (status, body) = download(&g, a).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data[0]);
    let state = cache_state(&g).await;
    assert!(
        micros_of(&cached_entry(&state, a).unwrap()["last_accessed"]) > micros_of(&b_used),
        "{state}"
    );

    assert_eq!(queue(&g, c).await, StatusCode::ACCEPTED);
    wait_cached(&g, c).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = cache_state(&g).await;
        let mut expected = vec![a.clone(), c.clone()];
        expected.sort();
        if cached_ids(&state) == expected {
            break;
        }
        assert!(Instant::now() < deadline, "b was not evicted: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!cache_file(&g, b).exists());
    assert!(cache_file(&g, a).exists() && cache_file(&g, c).exists());

    // Within the limit, an explicit prune evicts nothing.
    let r = g.post("/v2/cache/prune").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let pruned: Value = r.json().await.unwrap();
    assert_eq!(
        pruned,
        serde_json::json!({"total_files_pruned": 0, "total_bytes_pruned": 0})
    );

    // The nodes listing names this node for a cached image, none for an evicted one.
    let nodes: Value = g
        .get(&format!("/v2/cache/nodes/{a}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes.as_array().unwrap().len(), 1, "{nodes}");
    assert!(nodes[0].as_str().unwrap().starts_with("http://"));
    let nodes: Value = g
        .get(&format!("/v2/cache/nodes/{b}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes, serde_json::json!([]));
}

#[tokio::test]
async fn leftovers_are_cleaned_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(cache.join("incomplete")).unwrap();
    let stray = uuid::Uuid::new_v4().to_string();
    let part = cache.join("incomplete").join(format!("{stray}.1234"));
    std::fs::write(&part, b"half an image").unwrap();
    // A complete-looking file the index does not know is not trusted.
    std::fs::write(cache.join(&stray), b"unknown").unwrap();
    let g = Glint::start_in(dir).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while part.exists() || cache.join(&stray).exists() {
        assert!(Instant::now() < deadline, "leftovers stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = g.post("/v2/cache/clean").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_cache_is_neither_offered_nor_filled() {
    let off = Glint::start_with(&[("GLINT_CACHE__ENABLED", "false")]).await;
    let data = pattern(1000, 8);
    let id = id_of(&off.create_with_data("uncached", &data).await);
    let r = off.get("/v2/cache").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(queue(&off, &id).await, StatusCode::NOT_FOUND);
    let (status, body) = download(&off, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    // Whether a download is copied is decided, and a copy's file created,
    // before its first byte is sent; the cache directory is only ever made
    // at start-up. So with the download read, neither can still come.
    assert!(!off.data_dir.path().join("cache").exists());
    let log = off.log();
    assert!(
        !log.lines()
            .any(|l| l.contains(&id) && l.contains("glint_core::cache")),
        "{log}"
    );
}

async fn project_token(user: &str, password: &str, project: &str) -> String {
    token(user, password, project_scope(project)).await
}

#[tokio::test]
async fn only_administrators_manage_the_cache() {
    let g = start_glint(&[COPY_FILE_STORE]).await;
    let admin = project_token("admin", &keystone().admin_password, "admin").await;
    let member = project_token("demo", "demo-secret", "demo").await;

    // The member's own image, which the member may download.
    let data = pattern(1000, 9);
    let r = g
        .post("/v2/images")
        .header("x-auth-token", &member)
        .json(
            &serde_json::json!({"name": "mine", "disk_format": "raw", "container_format": "bare"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = id_of(&r.json().await.unwrap());
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &member)
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let calls = [
        ("GET", "/v2/cache".to_owned()),
        ("PUT", format!("/v2/cache/{id}")),
        ("DELETE", format!("/v2/cache/{id}")),
        ("DELETE", "/v2/cache".to_owned()),
        ("GET", format!("/v2/cache/nodes/{id}")),
        ("POST", "/v2/cache/prune".to_owned()),
        ("POST", "/v2/cache/clean".to_owned()),
    ];
    for (method, path) in &calls {
        let r = g
            .client
            .request(method.parse().unwrap(), g.url(path))
            .header("x-auth-token", &member)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "member: {method} {path}");
    }
    // The member's download fills the cache all the same.
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &member)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap() == data);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = g
            .get("/v2/cache")
            .header("x-auth-token", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let state: Value = r.json().await.unwrap();
        if cached_entry(&state, &id).is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "not cached: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (method, path) in &calls[1..] {
        let r = g
            .client
            .request(method.parse().unwrap(), g.url(path))
            .header("x-auth-token", &admin)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "admin: {method} {path}: {}",
            r.status()
        );
    }
    let r = g
        .delete(&format!("/v2/images/{id}"))
        .header("x-auth-token", &member)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
