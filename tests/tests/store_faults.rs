//! Stores that fail: a Swift that goes down in the middle of an upload (the request answers 503,
//! the image is left `queued` as Glance leaves it, nothing stays in Swift, and a retry succeeds
//! once Swift is back), and stores whose credentials or options are wrong (they are left out
//! with a log line naming the option, and the other stores keep serving).
//!
//! The Swift stopped here is one of this file's own (its own state directory and ports), so no
//! other test loses its Swift.

mod backends;

use std::time::{Duration, Instant};

use backends::{Swift, SwiftAccount};
use bytes::Bytes;
use glint_blackbox::{Glint, StatusCode, pattern};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::watch;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// This file's Swift: stopped and started again by the tests.
fn private_swift() -> Swift {
    backends::start_swift(&[
        ("SWIFT_STATE", "/tmp/glance-backends/swift-glint-faults"),
        ("SWIFT_PROXY_PORT", "8096"),
        ("SWIFT_BASE_PORT", "6240"),
        ("SWIFT_MEMCACHE_PORT", "11216"),
    ])
}

/// TOML for a JSON object of options.
fn inline_table(options: &Value) -> String {
    let fields: Vec<String> = options
        .as_object()
        .expect("options are an object")
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

/// A Glint whose stores are `file` (the default, in a temporary directory) and `stores`
/// (id, driver, options), in that order.
async fn glint_with(stores: &[(&str, &str, Value)]) -> (Glint, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = format!(
        "default_store = \"file\"\n\n[cache]\nenabled = false\n\n[stores.file]\ndriver = \"file\"\noptions = {}\n",
        inline_table(&json!({ "datadir": dir.path().join("file-store") }))
    );
    for (id, driver, options) in stores {
        config.push_str(&format!(
            "\n[stores.{id}]\ndriver = \"{driver}\"\noptions = {}\n",
            inline_table(options)
        ));
    }
    let file = dir.path().join("glint.toml");
    std::fs::write(&file, config).unwrap();
    let glint = Glint::start_with(&[
        ("GLINT_CONFIG", file.to_str().unwrap()),
        (
            "GLINT_PLUGINS__PATHS",
            &backends::plugin_paths(&[
                "glint-store-swift",
                "glint-store-rbd",
                "glint-store-vmware",
            ]),
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

/// Uploads `data` to `store`; a refusal must close the connection (the server may not have read
/// the whole body), so the client's next request goes on a new one.
async fn upload(glint: &Glint, id: &str, store: &str, data: &[u8]) -> (StatusCode, String) {
    let r = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", store)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    if !status.is_success() {
        assert_eq!(
            r.headers().get("connection").map(|v| v.to_str().unwrap()),
            Some("close"),
            "{status}"
        );
    }
    (status, r.text().await.unwrap())
}

async fn download(glint: &Glint, id: &str) -> (StatusCode, Bytes) {
    let r = glint
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap())
}

/// `data` as a request body of 64 KiB chunks that stops after `gate` bytes until `go` turns
/// true, then sends the rest 10 ms apart: an upload still running when the test acts.
fn held_body(data: Vec<u8>, gate: usize, go: watch::Receiver<bool>) -> reqwest::Body {
    let data = Bytes::from(data);
    let stream = futures::stream::unfold((0usize, go), move |(sent, mut go)| {
        let data = data.clone();
        async move {
            if sent >= data.len() {
                return None;
            }
            if sent >= gate {
                // Ignored failure: a dropped sender means the test is over anyway.
                let _ = go.wait_for(|go| *go).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let end = (sent + 64 * KIB).min(data.len());
            Some((Ok::<_, std::io::Error>(data.slice(sent..end)), (end, go)))
        }
    });
    reqwest::Body::wrap_stream(stream)
}

/// Waits up to 30 s for `container` to hold at least `count` objects.
async fn wait_for_count(account: &SwiftAccount, container: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let objects = account.objects(container).await;
        if objects.len() >= count || Instant::now() > deadline {
            return objects;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn segments(id: &str, count: usize) -> Vec<String> {
    let mut names = vec![id.to_owned()];
    names.extend((1..=count).map(|n| format!("{id}-{n:05}")));
    names
}

#[tokio::test]
async fn swift_going_down_mid_upload_answers_503_leaves_the_image_queued_and_a_retry_succeeds() {
    let swift = private_swift();
    let container = backends::container_name("down-mid-upload");
    let mut options = swift.options(&container);
    // Segments of 768 KiB: when the upload stops at 2 MiB (the server hands the store 1 MiB
    // pieces), two segments are written and the third is being sent.
    options["large_object_chunk_size"] = json!(768 * KIB);
    let (glint, _dir) = glint_with(&[("swift", "swift", options)]).await;
    let account = swift.account().await;

    // An image already in Swift, to read while Swift is down.
    let stored = pattern(300 * KIB, 80);
    let before = create(&glint).await;
    assert_eq!(
        upload(&glint, &before, "swift", &stored).await.0,
        StatusCode::NO_CONTENT
    );

    // The upload (chunked, size unknown: Static Large Object segments) stops after 2.5 MiB.
    let data = pattern(4 * MIB + 4321, 81);
    let id = create(&glint).await;
    let (go, held) = watch::channel(false);
    let request = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "swift")
        .body(held_body(data.clone(), 5 * MIB / 2, held))
        .send();
    let running = tokio::spawn(request);
    let written = wait_for_count(&account, &container, 3).await;
    let mut expected = vec![before.clone(), format!("{id}-00001"), format!("{id}-00002")];
    expected.sort();
    assert_eq!(written, expected, "two segments before Swift goes down");
    assert_eq!(glint.show(&id).await["status"], "saving");

    swift.stop();
    go.send(true).unwrap();
    let r = running
        .await
        .unwrap()
        .expect("an answer to the interrupted upload");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = r.text().await.unwrap();
    assert!(body.contains("503"), "{body}");
    // As Glance leaves it: queued, without data, ready for another upload.
    let img = glint.show(&id).await;
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(img["checksum"], Value::Null);
    assert!(img.get("stores").is_none(), "{img}");

    // While Swift is down: uploads to it and reads from it answer 503; the file store works.
    let other = create(&glint).await;
    let (status, text) = upload(&glint, &other, "swift", &stored).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert_eq!(glint.show(&other).await["status"], "queued");
    assert_eq!(
        download(&glint, &before).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        upload(&glint, &other, "file", &stored).await.0,
        StatusCode::NO_CONTENT
    );

    // Swift is back: the interrupted upload left nothing there.
    swift.start();
    let account = swift.account().await;
    assert_eq!(
        account
            .wait_for_objects(&container, std::slice::from_ref(&before))
            .await,
        std::slice::from_ref(&before),
        "segments of the interrupted upload are left"
    );
    let (status, got) = download(&glint, &before).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == stored);

    // The retry succeeds.
    let r = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "swift")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(
            data.chunks(64 * KIB)
                .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = glint.show(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "swift");
    assert_eq!(img["size"], data.len());
    let (status, got) = download(&glint, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);
    let mut expected = segments(&id, (data.len()).div_ceil(768 * KIB));
    expected.push(before.clone());
    expected.sort();
    assert_eq!(account.objects(&container).await, expected);
    account.purge(&container).await;
}

/// `text` without ANSI colour sequences (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('\u{1b}') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = rest.find('m').map_or("", |end| &rest[end + 1..]);
    }
    out.push_str(rest);
    out
}

/// A cephx key for `client.<user>` that the cluster never issued (type 1, AES, 16 bytes).
fn unknown_ceph_key() -> String {
    let mut raw = vec![1u8, 0];
    raw.extend_from_slice(&[0; 8]); // created: the epoch
    raw.extend_from_slice(&16u16.to_le_bytes());
    raw.extend_from_slice(&pattern(16, 82));
    base64(&raw)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn stores_with_wrong_credentials_or_options_are_left_out_and_the_others_serve() {
    let swift = backends::shared_swift();
    let ceph = backends::ceph();
    let vcsim = backends::vcsim();
    let scratch = tempfile::tempdir().unwrap();

    let container = backends::container_name("faults-good");
    let mut bad_version = swift.options(&backends::container_name("faults-version"));
    bad_version["auth_version"] = json!("2");
    let mut bad_key = swift.options(&backends::container_name("faults-key"));
    bad_key["key"] = json!("not-the-swift-key");
    let keyring = scratch.path().join("wrong.keyring");
    let wrong_key = unknown_ceph_key();
    std::fs::write(
        &keyring,
        format!("[client.{}]\n\tkey = {wrong_key}\n", ceph.user),
    )
    .unwrap();
    let mut bad_keyring = ceph.options();
    bad_keyring["keyring"] = json!(keyring);
    bad_keyring["connect_timeout"] = json!(10);
    let mut bad_pool = ceph.options();
    bad_pool["pool"] = json!("no-such-pool");
    let mut bad_password = vcsim.options(&backends::vmware_dir("faults"));
    bad_password["password"] = json!("not-the-vcsim-password");

    let (glint, _dir) = glint_with(&[
        ("swift", "swift", swift.options(&container)),
        ("swift_version", "swift", bad_version),
        ("swift_key", "swift", bad_key),
        ("rbd_keyring", "rbd", bad_keyring),
        ("rbd_pool", "rbd", bad_pool),
        ("vmware_password", "vmware", bad_password),
    ])
    .await;
    let log = without_colours(&glint.log());

    // Each broken store is left out, with one line naming the store and the option to check.
    let refused = |store: &str| -> String {
        log.lines()
            .find(|line| {
                line.contains("store not opened") && line.contains(&format!("store={store}"))
            })
            .unwrap_or_else(|| panic!("no refusal logged for {store}:\n{log}"))
            .to_owned()
    };
    let cases = [
        ("swift_version", vec!["`auth_version`"]),
        ("swift_key", vec!["`user`", "`key`"]),
        ("rbd_keyring", vec!["`rados_user`", "`keyring`"]),
        ("rbd_pool", vec!["`pool`"]),
        ("vmware_password", vec!["`username`", "`password`"]),
    ];
    for (store, options) in &cases {
        let line = refused(store);
        for option in options {
            assert!(line.contains(option), "{store}: {line}");
        }
    }
    // (The test backends' own secrets, "testing" and "pass", are too common words to look for.)
    for secret in [
        "not-the-vcsim-password",
        "not-the-swift-key",
        wrong_key.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} reached the log:\n{log}");
    }

    // Discovery lists the stores that opened; credentials Swift refuses keep the store out.
    let r = glint.get("/v2/info/stores").send().await.unwrap();
    let listed: Value = r.json().await.unwrap();
    let ids: Vec<&str> = listed["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["file", "swift"], "{listed}");

    // The good stores take and serve images.
    let data = pattern(600 * KIB, 83);
    for store in ["file", "swift"] {
        let id = create(&glint).await;
        let (status, text) = upload(&glint, &id, store, &data).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{store}: {text}");
        let img = glint.show(&id).await;
        assert_eq!(img["stores"], store);
        let (status, got) = download(&glint, &id).await;
        assert_eq!(status, StatusCode::OK);
        assert!(got == data, "{store}");
    }

    // A broken store answers 503 (the image stays queued).
    for store in [
        "swift_version",
        "rbd_keyring",
        "rbd_pool",
        "vmware_password",
        "swift_key",
    ] {
        let id = create(&glint).await;
        let (status, text) = upload(&glint, &id, store, &data).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{store}: {text}");
        assert_eq!(glint.show(&id).await["status"], "queued", "{store}");
        assert!(!text.contains("not-the-swift-key"), "{text}");
    }
    swift.account().await.purge(&container).await;
}
