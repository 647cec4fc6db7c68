//! Interoperable import against the real binary: stage + glance-direct,
//! web-download from a real HTTP server (Python's http.server, as the
//! Tempest harness serves its fixtures), copy-image between two file stores,
//! and the failure paths that must leave no data behind.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::{Value, json};
use tempfile::TempDir;

struct Site {
    glint: Glint,
    fast: TempDir,
    slow: TempDir,
    _config: TempDir,
}

/// Two file stores, `fast` (default) and `slow`, the read-only http store
/// `web`, and an import filter that lets through `allowed_port` on 127.0.0.1.
async fn site(allowed_port: u16) -> Site {
    let fast = tempfile::tempdir().unwrap();
    let slow = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("glint.toml");
    std::fs::write(
        &file,
        format!(
            r#"default_store = "fast"

[stores.fast]
driver = "file"
options = {{ datadir = {fast:?} }}

[stores.slow]
driver = "file"
options = {{ datadir = {slow:?} }}

[stores.web]
driver = "http"

[import_filtering]
allowed_hosts = ["127.0.0.1"]
allowed_ports = [80, 443, {allowed_port}]
"#,
            fast = fast.path().to_str().unwrap(),
            slow = slow.path().to_str().unwrap(),
        ),
    )
    .unwrap();
    let glint = Glint::start_with(&[("GLINT_CONFIG", file.to_str().unwrap())]).await;
    Site {
        glint,
        fast,
        slow,
        _config: config,
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

impl Site {
    fn staged(&self) -> Vec<String> {
        files_in(&self.glint.data_dir.path().join("staging"))
    }

    async fn create(&self) -> String {
        let img = self
            .glint
            .create(json!({"disk_format": "raw", "container_format": "bare"}))
            .await;
        img["id"].as_str().unwrap().to_owned()
    }

    async fn stage(&self, id: &str, data: &[u8]) -> StatusCode {
        self.glint
            .put(&format!("/v2/images/{id}/stage"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn import(&self, id: &str, body: Value) -> (StatusCode, String) {
        let r = self
            .glint
            .post(&format!("/v2/images/{id}/import"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Polls the image until its import task is over.
    async fn settled(&self, id: &str) -> Value {
        for _ in 0..200 {
            let img = self.glint.show(id).await;
            let importing = img["os_glance_importing_to_stores"].as_str().unwrap_or("");
            if img.get("os_glance_import_task").is_none() && importing.is_empty() {
                return img;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "import of {id} did not finish: {}",
            self.glint.show(id).await
        );
    }

    async fn download(&self, id: &str, query: &str) -> Vec<u8> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }

    async fn tasks(&self, id: &str) -> Vec<Value> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/tasks"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        body["tasks"].as_array().unwrap().clone()
    }
}

/// `python3 -m http.server` on a free port, serving a temporary directory.
struct Fixtures {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl Fixtures {
    fn start() -> Fixtures {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Fixtures { child, dir, port };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("http.server did not start on {port}");
    }

    fn serve(&self, name: &str, data: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), data).unwrap();
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn staged_data_imports_with_glance_direct_and_the_stage_is_cleared() {
    let s = site(9).await;
    let id = s.create().await;
    let data = pattern(3 << 20, 7);

    assert_eq!(s.stage(&id, &data).await, StatusCode::NO_CONTENT);
    let img = s.glint.show(&id).await;
    assert_eq!(img["status"], "uploading");
    assert_eq!(img["size"], data.len());
    assert_eq!(s.staged(), vec![id.clone()]);
    // Staging twice is refused: the image is no longer queued.
    assert_eq!(s.stage(&id, b"again").await, StatusCode::CONFLICT);

    let (status, body) = s
        .import(&id, json!({"method": {"name": "glance-direct"}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "fast");
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(img["os_hash_value"], sha512_hex(&data));
    assert_eq!(img["os_glance_failed_import"], "");
    assert_eq!(s.download(&id, "").await, data);
    assert!(s.staged().is_empty(), "staging left: {:?}", s.staged());
    assert_eq!(files_in(s.fast.path()), vec![id.clone()]);

    let tasks = s.tasks(&id).await;
    assert_eq!(tasks.len(), 1);
    // Glance's progress report, from the bytes that went into the store.
    assert_eq!(tasks[0]["message"], "Copied 3 MiB");
    assert_eq!(tasks[0]["type"], "api_image_import");
    assert_eq!(tasks[0]["status"], "success");
    assert_eq!(tasks[0]["image_id"], id.as_str());
    assert_eq!(tasks[0]["input"]["backend"], json!(["fast"]));
}

#[tokio::test]
async fn import_checks_come_in_glances_order_with_glances_statuses() {
    let s = site(9).await;
    let id = s.create().await;
    let cases = [
        (json!({}), StatusCode::BAD_REQUEST),
        (json!({"method": {}}), StatusCode::BAD_REQUEST),
        (
            json!({"method": {"name": "glance-download"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"method": {"name": "glance-direct"}, "all_stores": "yes"}),
            StatusCode::BAD_REQUEST,
        ),
        // Not staged yet.
        (
            json!({"method": {"name": "glance-direct"}}),
            StatusCode::CONFLICT,
        ),
        // copy-image needs an active image.
        (
            json!({"method": {"name": "copy-image"}, "stores": ["slow"]}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"method": {"name": "web-download", "uri": "http://127.0.0.1:9/x"}, "stores": ["nowhere"]}),
            StatusCode::CONFLICT,
        ),
    ];
    for (body, expected) in cases {
        let (status, text) = s.import(&id, body.clone()).await;
        assert_eq!(status, expected, "{body}: {text}");
    }
    let bare = s.glint.create(json!({})).await;
    let (status, text) = s
        .import(
            bare["id"].as_str().unwrap(),
            json!({"method": {"name": "web-download", "uri": "http://127.0.0.1:9/x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "formats unset: {text}");
    assert_eq!(s.glint.show(&id).await["status"], "queued");
}

#[tokio::test]
async fn web_download_fetches_allowed_urls_only() {
    let fixtures = Fixtures::start();
    let s = site(fixtures.port).await;
    let data = pattern(1 << 20, 11);
    let url = fixtures.serve("disk.raw", &data);

    for refused in [
        "http://192.0.2.2/disk.raw".to_owned(),
        "ftp://127.0.0.1/disk.raw".to_owned(),
        format!("http://localhost:{}/disk.raw", fixtures.port),
        "http://127.0.0.1:22/disk.raw".to_owned(),
    ] {
        let id = s.create().await;
        let (status, text) = s
            .import(
                &id,
                json!({"method": {"name": "web-download", "uri": refused}}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {text}");
        assert!(text.contains("does not pass filtering"), "{text}");
        assert_eq!(s.glint.show(&id).await["status"], "queued");
    }

    let id = s.create().await;
    let (status, text) = s
        .import(
            &id,
            json!({"method": {"name": "web-download", "uri": url}, "stores": ["slow"]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "slow");
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(s.download(&id, "").await, data);
    assert!(s.staged().is_empty());

    // A URL that answers 404: the import fails, the image is queued again,
    // and nothing is left in staging or in the store.
    let id = s.create().await;
    let missing = format!("http://127.0.0.1:{}/missing.raw", fixtures.port);
    let (status, _) = s
        .import(
            &id,
            json!({"method": {"name": "web-download", "uri": missing}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "queued");
    // The data never arrived: the target store is recorded as failed, as Glance does.
    assert_eq!(img["os_glance_failed_import"], "fast");
    assert_eq!(img["os_glance_importing_to_stores"], "");
    assert!(s.staged().is_empty());
    let tasks = s.tasks(&id).await;
    assert_eq!(tasks[0]["status"], "failure");
    assert!(
        tasks[0]["message"].as_str().unwrap().contains("404"),
        "{}",
        tasks[0]
    );
}

#[tokio::test]
async fn copy_image_adds_a_store_and_refuses_one_already_holding_it() {
    let s = site(9).await;
    let data = pattern(2 << 20, 3);
    let id = s.create().await;
    assert_eq!(s.stage(&id, &data).await, StatusCode::NO_CONTENT);
    let (status, _) = s
        .import(&id, json!({"method": {"name": "glance-direct"}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.settled(&id).await;

    let (status, text) = s
        .import(
            &id,
            json!({"method": {"name": "copy-image"}, "stores": ["fast"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");

    let (status, text) = s
        .import(
            &id,
            json!({"method": {"name": "copy-image"}, "all_stores": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "fast,slow");
    assert_eq!(files_in(s.slow.path()), vec![id.clone()]);
    // Read through the new copy only.
    std::fs::remove_file(s.fast.path().join(&id)).unwrap();
    assert_eq!(s.download(&id, "").await, data);

    // Every writable store already holds it: nothing to do, still 202.
    let (status, _) = s
        .import(
            &id,
            json!({"method": {"name": "copy-image"}, "all_stores": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_failed_store_with_all_stores_must_succeed_reverts_the_import() {
    let s = site(9).await;
    let data = pattern(1 << 20, 5);
    let id = s.create().await;
    assert_eq!(s.stage(&id, &data).await, StatusCode::NO_CONTENT);
    // `web` is read-only: the copy to `fast` is written, then undone.
    let (status, text) = s
        .import(
            &id,
            json!({"method": {"name": "glance-direct"}, "stores": ["fast", "web"]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(img["os_glance_failed_import"], "web");
    assert!(img.get("stores").is_none(), "{img}");
    assert!(
        files_in(s.fast.path()).is_empty(),
        "{:?}",
        files_in(s.fast.path())
    );
    assert!(s.staged().is_empty());
    assert_eq!(s.tasks(&id).await[0]["status"], "failure");
}

#[tokio::test]
async fn a_failed_store_without_all_stores_must_succeed_keeps_the_good_copies() {
    let s = site(9).await;
    let data = pattern(1 << 20, 9);
    let id = s.create().await;
    assert_eq!(s.stage(&id, &data).await, StatusCode::NO_CONTENT);
    let (status, text) = s
        .import(
            &id,
            json!({"method": {"name": "glance-direct"}, "stores": ["fast", "web", "slow"],
                   "all_stores_must_succeed": false}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let img = s.settled(&id).await;
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["stores"], "fast,slow");
    assert_eq!(img["os_glance_failed_import"], "web");
    assert_eq!(s.download(&id, "").await, data);
    assert_eq!(s.tasks(&id).await[0]["status"], "success");
}

#[tokio::test]
async fn deleting_a_staged_image_removes_its_staged_data() {
    let s = site(9).await;
    let id = s.create().await;
    assert_eq!(
        s.stage(&id, &pattern(4096, 1)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.staged().len(), 1);
    let r = s
        .glint
        .delete(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s.staged().is_empty());
}

#[tokio::test]
async fn import_methods_are_discoverable() {
    let s = site(9).await;
    let r = s.glint.get("/v2/info/import").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["import-methods"]["value"],
        json!(["glance-direct", "web-download", "copy-image"])
    );
    let r = s
        .glint
        .post("/v2/images")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["openstack-image-import-methods"],
        "glance-direct,web-download,copy-image"
    );
}
