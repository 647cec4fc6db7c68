//! Stores that fail: a Swift that goes down in the middle of an upload (the request answers 503,
//! the image is left `queued` as Glance leaves it, nothing stays in Swift, and a retry succeeds
//! once Swift is back), and stores whose credentials or options are wrong (they are left out
//! with a log line naming the option, and the other stores keep serving).
//!
//! The other drivers against their real servers, each stopped and started again: the file
//! store's directory full (a 2 MiB tmpfs: 413) and read-only (the tmpfs remounted: 503), nginx
//! behind the http store (reads 503, an image with a second copy served from it), the vSphere
//! simulator behind the vmware store (uploads and reads 503), a Ceph cluster whose OSDs are
//! paused behind the rbd store (librados waits: the store's `timeout_secs` answers 503). Every
//! store comes back without a restart of Glint (the vmware store logs in again to the restarted
//! simulator and finds its datastores again), and a failed upload leaves its image `queued`
//! with nothing stored. Each drill prints "fault→first 503: X s, recovery→first success: Y s".
//!
//! Every server stopped here is one of this file's own (its own state directory and ports), so
//! no other test loses it.

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
    glint_configured(stores, "", &[]).await
}

/// [`glint_with`], with `extra` (TOML tables) added to the configuration and `env` set.
async fn glint_configured(
    stores: &[(&str, &str, Value)],
    extra: &str,
    env: &[(&str, &str)],
) -> (Glint, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = format!(
        "default_store = \"file\"\n\n[cache]\nenabled = false\n\n{extra}\n\n[stores.file]\ndriver = \"file\"\noptions = {}\n",
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
    let plugins = backends::plugin_paths(&[
        "glint-store-http",
        "glint-store-swift",
        "glint-store-rbd",
        "glint-store-vmware",
    ]);
    let mut all = vec![
        ("GLINT_CONFIG", file.to_str().unwrap()),
        ("GLINT_PLUGINS__PATHS", plugins.as_str()),
    ];
    all.extend_from_slice(env);
    let glint = Glint::start_with(&all).await;
    (glint, dir)
}

/// Prints a drill's two timings in the one form every outage drill uses (the notes quote it):
/// from the fault to the first 503, and from the backend being back to the first success.
fn print_timings(drill: &str, to_503: Duration, to_success: Duration) {
    eprintln!(
        "{drill}: fault→first 503: {:.2} s, recovery→first success: {:.2} s",
        to_503.as_secs_f64(),
        to_success.as_secs_f64()
    );
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
    // Segments of 768 KiB: when the upload stops at 2 MiB (the server hands the store 256 KiB
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

    // The upload (chunked, size unknown: Static Large Object segments) stops after 2 MiB.
    let data = pattern(4 * MIB + 4321, 81);
    let id = create(&glint).await;
    let (go, held) = watch::channel(false);
    let request = glint
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "swift")
        .body(held_body(data.clone(), 2 * MIB, held))
        .send();
    let running = tokio::spawn(request);
    let written = wait_for_count(&account, &container, 3).await;
    let mut expected = vec![before.clone(), format!("{id}-00001"), format!("{id}-00002")];
    expected.sort();
    assert_eq!(written, expected, "two segments before Swift goes down");
    assert_eq!(glint.show(&id).await["status"], "saving");

    swift.stop();
    let fault = Instant::now();
    go.send(true).unwrap();
    let r = running
        .await
        .unwrap()
        .expect("an answer to the interrupted upload");
    let to_503 = fault.elapsed();
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
    let back = Instant::now();
    let (status, got) = download(&glint, &before).await;
    let to_success = back.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(got == stored);
    print_timings("swift store (Swift stopped)", to_503, to_success);
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

/// Asserts that no image is left `saving`.
async fn none_saving(glint: &Glint) {
    let r: Value = glint
        .get("/v2/images?status=saving")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["images"], json!([]), "images left saving");
}

/// Every file under `dir`, temporary ones included, as paths relative to it.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A tmpfs of its own size mounted on a temporary directory, unmounted when dropped: a disk
/// that fills up and that can turn read-only.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let disk = SmallDisk { dir };
        disk.mount_command(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]);
        disk
    }

    /// Remounts it read-only (`ro`) or writable (`rw`).
    fn remount(&self, mode: &str) {
        self.mount_command(&["-o", &format!("remount,{mode}")]);
    }

    fn mount_command(&self, args: &[&str]) {
        let out = std::process::Command::new("mount")
            .args(args)
            .arg(self.dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mount {args:?} (this test needs to mount a tmpfs, as root): {out:?}"
        );
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_or_read_only_file_store_refuses_uploads_cleanly_and_comes_back() {
    let started = Instant::now();
    let disk = SmallDisk::mount("2m");
    let datadir = disk.path().join("images");
    std::fs::create_dir(&datadir).unwrap();
    let (glint, _dir) = glint_with(&[("small", "file", json!({ "datadir": datadir }))]).await;

    let kept_data = pattern(256 * KIB, 90);
    let kept = create(&glint).await;
    assert_eq!(
        upload(&glint, &kept, "small", &kept_data).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(files_under(&datadir), std::slice::from_ref(&kept));

    // Full: more than the disk holds is refused with 413; the image stays queued, and the
    // partial data is gone, so the space is free again.
    let big = create(&glint).await;
    let (status, text) = upload(&glint, &big, "small", &pattern(3 * MIB, 91)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(text.contains("413"), "{text}");
    let img = glint.show(&big).await;
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(
        files_under(&datadir),
        std::slice::from_ref(&kept),
        "partial data left"
    );
    let fits = pattern(MIB, 92);
    assert_eq!(
        upload(&glint, &big, "small", &fits).await.0,
        StatusCode::NO_CONTENT
    );

    // Read-only: uploads answer 503 and leave the image queued; reads still work.
    disk.remount("ro");
    let third = create(&glint).await;
    let (status, text) = upload(&glint, &third, "small", &kept_data).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert_eq!(glint.show(&third).await["status"], "queued");
    let (status, got) = download(&glint, &kept).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == kept_data);

    // Writable again: the same store takes the upload, without a restart of Glint.
    disk.remount("rw");
    assert_eq!(
        upload(&glint, &third, "small", &kept_data).await.0,
        StatusCode::NO_CONTENT
    );
    let mut expected = vec![kept.clone(), big.clone(), third.clone()];
    expected.sort();
    assert_eq!(
        files_under(&datadir),
        expected,
        "the store holds other data"
    );
    for (id, data) in [(&kept, &kept_data), (&big, &fits), (&third, &kept_data)] {
        let (status, got) = download(&glint, id).await;
        assert_eq!(status, StatusCode::OK);
        assert!(got == *data);
    }
    none_saving(&glint).await;
    eprintln!("file store full and read-only: {:.1?}", started.elapsed());
}

/// This file's own nginx for the http store: stopped and started again by the test.
struct PrivateNginx {
    env: Vec<(&'static str, String)>,
    state: String,
    url: String,
}

impl PrivateNginx {
    fn start() -> PrivateNginx {
        let state = "/tmp/glance-backends/nginx-glint-faults".to_owned();
        let env = vec![
            ("NGINX_STATE", state.clone()),
            ("NGINX_PORT", "8097".to_owned()),
        ];
        let nginx = PrivateNginx {
            env,
            state,
            url: "http://127.0.0.1:8097".to_owned(),
        };
        nginx.up();
        nginx
    }

    fn up(&self) {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        backends::run_script("nginx-http-up.sh", &env);
    }

    fn stop(&self) {
        backends::stop_pid_file(&format!("{}/run/master.pid", self.state), "-TERM");
    }

    /// Serves `data` as a file of its own; its URL.
    fn serve(&self, data: &[u8]) -> String {
        let name = format!("faults-{}.bin", uuid::Uuid::new_v4().simple());
        std::fs::write(format!("{}/www/{name}", self.state), data).unwrap();
        format!("{}/{name}", self.url)
    }
}

#[tokio::test]
async fn nginx_down_behind_the_http_store_answers_503_and_a_second_copy_keeps_serving() {
    let started = Instant::now();
    let nginx = tokio::task::spawn_blocking(PrivateNginx::start)
        .await
        .unwrap();
    let (glint, dir) = glint_configured(
        &[("web", "http", json!({}))],
        "[import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = [8097]\n",
        &[],
    )
    .await;

    // Two images whose data nginx serves; the second also gets a copy in the file store.
    let one_data = pattern(300 * KIB, 93);
    let two_data = pattern(200 * KIB, 94);
    let mut ids = Vec::new();
    for data in [&one_data, &two_data] {
        let id = create(&glint).await;
        let r = glint
            .post(&format!("/v2/images/{id}/locations"))
            .json(&json!({ "url": nginx.serve(data) }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        ids.push(id);
    }
    let (one, two) = (ids[0].clone(), ids[1].clone());
    let r = glint
        .post(&format!("/v2/images/{two}/import"))
        .json(&json!({"method": {"name": "copy-image"}, "stores": ["file"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let img = glint.show(&two).await;
        if img["stores"].as_str().is_some_and(|s| s.contains("file")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "copy-image did not finish: {img}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let nginx = tokio::task::spawn_blocking(move || {
        nginx.stop();
        nginx
    })
    .await
    .unwrap();
    let fault = Instant::now();
    let (status, _) = download(&glint, &one).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let to_503 = fault.elapsed();
    let (status, got) = download(&glint, &two).await;
    assert_eq!(status, StatusCode::OK, "the second copy does not serve");
    assert!(got == two_data);

    let nginx = tokio::task::spawn_blocking(move || {
        nginx.up();
        nginx
    })
    .await
    .unwrap();
    let back = Instant::now();
    let (status, got) = download(&glint, &one).await;
    let to_success = back.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(got == one_data);
    none_saving(&glint).await;
    print_timings("http store (nginx stopped)", to_503, to_success);
    eprintln!("http store: test {:.1?}", started.elapsed());
    drop(nginx);
    // The file store holds the one copy made, and nothing else.
    assert_eq!(
        files_under(&dir.path().join("file-store")),
        std::slice::from_ref(&two)
    );
}

#[tokio::test]
async fn vcsim_down_answers_503_and_after_its_restart_the_vmware_store_serves_again() {
    let started = Instant::now();
    let state = "/tmp/glance-backends/vcsim-glint-faults";
    let env = [("VCSIM_STATE", state), ("VCSIM_PORT", "8997")];
    let vcsim = tokio::task::spawn_blocking(move || backends::start_vcsim(&env))
        .await
        .unwrap();
    let dir = backends::vmware_dir("outage");
    let mut options = vcsim.options(&dir);
    options["api_retry_count"] = json!(1);
    let (glint, _dir) = glint_with(&[("vsphere", "vmware", options)]).await;

    let data = pattern(400 * KIB, 95);
    let before = create(&glint).await;
    let (status, text) = upload(&glint, &before, "vsphere", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");

    let pid_file = format!("{state}/run/vcsim.pid");
    tokio::task::spawn_blocking(move || backends::stop_pid_file(&pid_file, "-TERM"))
        .await
        .unwrap();
    let fault = Instant::now();
    let id = create(&glint).await;
    let (status, text) = upload(&glint, &id, "vsphere", &data).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    let to_503 = fault.elapsed();
    let img = glint.show(&id).await;
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(
        download(&glint, &before).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The file store is not affected.
    assert_eq!(
        upload(&glint, &create(&glint).await, "file", &data).await.0,
        StatusCode::NO_CONTENT
    );

    // The simulator starts again with the same inventory but none of its sessions, and without
    // its files: vcsim-up.sh empties its datastore directory at each start (a vCenter keeps
    // them). The store logs in again and finds its datastores and its image directory again,
    // without a restart of Glint: the very next upload succeeds, and so does its download.
    let vcsim = tokio::task::spawn_blocking(move || backends::start_vcsim(&env))
        .await
        .unwrap();
    let back = Instant::now();
    let (status, text) = upload(&glint, &id, "vsphere", &data).await;
    let to_success = back.elapsed();
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let (status, got) = download(&glint, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);
    assert_eq!(vcsim.files_in(&dir).await, [id.clone()]);
    assert!(
        glint.log().contains("looking the datastores up again"),
        "{}",
        glint.log()
    );
    // The image stored before the outage lost its file with the simulator's restart: its
    // download answers without data (204, as Glance answers when the store has no data for
    // it), never a 500, and nothing is left saving.
    let (status, got) = download(&glint, &before).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "an image whose file is gone"
    );
    assert!(got.is_empty());
    eprintln!("vmware store: the image stored before the restart now answers {status}");
    none_saving(&glint).await;
    print_timings(
        "vmware store (vcsim stopped, restarted)",
        to_503,
        to_success,
    );
    eprintln!("vmware store: test {:.1?}", started.elapsed());
}

#[tokio::test]
async fn a_paused_ceph_cluster_times_out_rbd_calls_with_503_and_the_store_comes_back() {
    let started = Instant::now();
    // This file's own cluster: its own state, monitor ports and no manager.
    let ceph = tokio::task::spawn_blocking(|| {
        backends::start_ceph(&[
            ("CEPH_STATE", "/tmp/glance-backends/ceph-glint-faults"),
            ("CEPH_MON_PORT", "6799"),
            ("CEPH_MON_PORT2", "3309"),
            ("CEPH_NO_MGR", "1"),
            ("CEPH_OSD_SIZE_MB", "512"),
        ])
    })
    .await
    .unwrap();
    let cluster_ready = started.elapsed();
    let before_test = ceph.all_images();
    // librados waits for a cluster that does not serve; the store's timeout bounds the wait.
    let (glint, _dir) = glint_configured(
        &[("rbd", "rbd", ceph.options())],
        "",
        &[("GLINT_STORES__RBD__TIMEOUT_SECS", "3")],
    )
    .await;

    let data = pattern(600 * KIB, 96);
    let kept = create(&glint).await;
    let (status, text) = upload(&glint, &kept, "rbd", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");

    // Every OSD stops serving reads and writes (`ceph osd pause`), as when they are down.
    let conf = ceph.conf.clone();
    tokio::task::spawn_blocking(move || backends::ceph_admin(&conf, &["osd", "pause"]))
        .await
        .unwrap();
    let fault = Instant::now();
    let id = create(&glint).await;
    let (status, text) = upload(&glint, &id, "rbd", &data).await;
    let to_503 = fault.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert_eq!(glint.show(&id).await["status"], "queued");
    let read = Instant::now();
    assert_eq!(
        download(&glint, &kept).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let read_503 = read.elapsed();
    assert_eq!(
        upload(&glint, &create(&glint).await, "file", &data).await.0,
        StatusCode::NO_CONTENT
    );

    let conf = ceph.conf.clone();
    tokio::task::spawn_blocking(move || backends::ceph_admin(&conf, &["osd", "unpause"]))
        .await
        .unwrap();
    let back = Instant::now();
    let (status, got) = download(&glint, &kept).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);
    let to_success = back.elapsed();
    let (status, text) = upload(&glint, &id, "rbd", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let (status, got) = download(&glint, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == data);

    // The pool holds the two images under their ids and nothing else under an image's name.
    // (A write abandoned while the cluster was paused finishes in the driver's own thread once
    // the cluster serves again; its temporary image, named `.<id>.tmp-…`, is removed then, but
    // not always: when the removal fails it stays, until the orphan audit finds it through the
    // store's listing and the reaper removes it, as crash_leftovers.rs drills. Counted and
    // printed, not asserted.)
    let published = |names: Vec<String>| -> Vec<String> {
        names.into_iter().filter(|n| !n.starts_with('.')).collect()
    };
    let mut expected = published(before_test.clone());
    expected.extend([kept.clone(), id.clone()]);
    expected.sort();
    assert_eq!(
        published(ceph.all_images()),
        expected,
        "the pool holds other images"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = |names: Vec<String>| names.iter().filter(|n| n.starts_with('.')).count();
    while left(ceph.all_images()) > left(before_test.clone()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let temporaries =
        left(ceph.all_images()) - left(before_test.clone()).min(left(ceph.all_images()));
    if temporaries > 0 {
        eprintln!(
            "rbd store: the abandoned write left {temporaries} temporary image(s) in the pool"
        );
    }
    none_saving(&glint).await;
    print_timings("rbd store (OSDs paused)", to_503, to_success);
    eprintln!(
        "rbd store: cluster ready in {cluster_ready:.1?}; read 503 {read_503:.2?}; test {:.1?}",
        started.elapsed()
    );
}
