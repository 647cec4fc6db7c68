//! The locations API (2.17) against a real nginx serving the data: an http
//! location makes a queued image active, its hash is computed by reading the
//! data back through the http store, downloads stream the same bytes, and
//! URLs the filter or the stores refuse are 400.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::{Value, json};

/// The nginx the http store reads from, started by the shared backend script
/// when it is not running; the suite fails, rather than skips, without it.
struct Nginx {
    url: String,
    port: String,
    docroot: PathBuf,
}

fn nginx() -> &'static Nginx {
    static NGINX: OnceLock<Nginx> = OnceLock::new();
    NGINX.get_or_init(|| {
        let shared = std::env::var_os("GLINT_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
            PathBuf::from,
        );
        let script = shared.join("backends/nginx-http-up.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
        assert!(
            output.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let settings: HashMap<String, String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let url = settings["HTTP_STORE_URL"].clone();
        let port = url.rsplit(':').next().unwrap().to_owned();
        Nginx {
            url,
            port,
            docroot: PathBuf::from(&settings["HTTP_STORE_DOCROOT"]),
        }
    })
}

/// A file served by nginx, removed when dropped.
struct Served {
    url: String,
    file: PathBuf,
}

impl Served {
    fn new(name: &str, data: &[u8]) -> Served {
        let name = format!("glint-locations-{}-{name}", std::process::id());
        let file = nginx().docroot.join(&name);
        std::fs::write(&file, data).unwrap();
        Served {
            url: format!("{}/{name}", nginx().url),
            file,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Ignored failure: a leftover test file harms nothing.
        let _ = std::fs::remove_file(&self.file);
    }
}

/// A site with a file store (default) and the http store `web`; the URL
/// filter lets through the nginx port on 127.0.0.1 only.
struct Site {
    glint: Glint,
    _images: tempfile::TempDir,
}

impl std::ops::Deref for Site {
    type Target = Glint;

    fn deref(&self) -> &Glint {
        &self.glint
    }
}

async fn site() -> Site {
    site_with(&[]).await
}

async fn site_with(extra: &[(&str, &str)]) -> Site {
    let images = tempfile::tempdir().unwrap();
    let port = format!("[{}]", nginx().port);
    let mut env = vec![
        ("GLINT_STORES__LOCAL__DRIVER", "file"),
        (
            "GLINT_STORES__LOCAL__OPTIONS__DATADIR",
            images.path().to_str().unwrap(),
        ),
        ("GLINT_STORES__WEB__DRIVER", "http"),
        ("GLINT_DEFAULT_STORE", "local"),
        ("GLINT_IMPORT_FILTERING__ALLOWED_PORTS", port.as_str()),
        ("GLINT_IMPORT_FILTERING__ALLOWED_HOSTS", "[\"127.0.0.1\"]"),
    ];
    env.extend_from_slice(extra);
    let glint = Glint::start_with(&env).await;
    Site {
        glint,
        _images: images,
    }
}

async fn create(g: &Glint) -> String {
    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    img["id"].as_str().unwrap().to_owned()
}

async fn add(g: &Glint, id: &str, body: Value) -> (StatusCode, String) {
    let r = g
        .post(&format!("/v2/images/{id}/locations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Polls the image until `done` holds, for at most 20 s.
async fn wait_for(g: &Glint, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let img = g.show(id).await;
        if done(&img) {
            return img;
        }
        assert!(Instant::now() < deadline, "image never settled: {img}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_http_location_activates_the_image_and_its_hash_is_computed_from_the_data() {
    let g = site().await;
    let data = pattern(3 << 20, 7);
    let served = Served::new("plain", &data);
    let id = create(&g).await;

    let (status, body) = add(&g, &id, json!({"url": served.url})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let img = wait_for(&g, &id, |img| img["os_hash_value"].is_string()).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "web");
    assert_eq!(img["size"], data.len());
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["os_hash_value"], sha512_hex(&data));

    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());

    let r = g
        .get(&format!("/v2/images/{id}/locations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let locations: Value = r.json().await.unwrap();
    assert_eq!(
        locations,
        json!([{"url": served.url, "metadata": {"store": "web"}}])
    );

    // Only a queued image takes a location.
    let (status, _) = add(&g, &id, json!({"url": served.url})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn validation_data_is_checked_against_the_data() {
    let g = site().await;
    let data = pattern(100_000, 8);
    let served = Served::new("validated", &data);
    let sha256 = {
        let out = openssl_sha256(&data);
        hex_string(&out)
    };

    let id = create(&g).await;
    let body = json!({"url": served.url,
                      "validation_data": {"os_hash_algo": "sha256", "os_hash_value": sha256}});
    let (status, text) = add(&g, &id, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let img = wait_for(&g, &id, |img| img["status"] == "active").await;
    assert_eq!(img["os_hash_algo"], "sha256");
    assert_eq!(img["os_hash_value"], sha256);
    assert_eq!(img["checksum"], md5_hex(&data));

    // A hash of other data: the image goes back to queued with no hash; as in
    // Glance, the http location stays (the http store cannot delete it).
    let id = create(&g).await;
    let wrong = "ab".repeat(32);
    let body = json!({"url": served.url,
                      "validation_data": {"os_hash_algo": "sha256", "os_hash_value": wrong}});
    assert_eq!(add(&g, &id, body).await.0, StatusCode::ACCEPTED);
    let img = wait_for(&g, &id, |img| img["status"] == "queued").await;
    assert_eq!(img["stores"], "web", "{img}");
    assert_eq!(img["os_hash_value"], Value::Null);
    assert_eq!(img["checksum"], Value::Null);
    let tasks: Value = g
        .get(&format!("/v2/images/{id}/tasks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks["tasks"][0]["type"], "location_import");
    assert_eq!(tasks["tasks"][0]["status"], "failure");

    // Malformed validation data is refused outright.
    for bad in [
        json!({"os_hash_algo": "sha512", "os_hash_value": "dbc9e0f80d131e64b94913a7b40bb5"}),
        json!({"os_hash_value": sha256}),
        json!({"os_hash_algo": "sha123", "os_hash_value": sha256}),
        json!({"os_hash_algo": "sha512", "os_hash_value": sha256}),
    ] {
        let (status, text) = add(&g, &id, json!({"url": served.url, "validation_data": bad})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {text}");
    }
    assert_eq!(g.show(&id).await["status"], "queued");
}

#[tokio::test]
async fn urls_outside_the_filter_or_the_stores_are_refused() {
    let g = site().await;
    let served = Served::new("refused", b"some bytes");
    let id = create(&g).await;
    let via_localhost = served.url.replace("127.0.0.1", "localhost");
    let missing = format!("{}/no-such-file", nginx().url);
    let other_port = served.url.replace(&format!(":{}", nginx().port), ":9");
    for (url, why, expected) in [
        (
            via_localhost.as_str(),
            "host not allowed",
            StatusCode::BAD_REQUEST,
        ),
        (
            other_port.as_str(),
            "port not allowed",
            StatusCode::BAD_REQUEST,
        ),
        (missing.as_str(), "nothing there", StatusCode::BAD_REQUEST),
        // Callers without the service role may add http(s) URLs only.
        ("file:///etc/passwd", "not http", StatusCode::FORBIDDEN),
        ("gopher://127.0.0.1/x", "not http", StatusCode::FORBIDDEN),
    ] {
        let (status, text) = add(&g, &id, json!({"url": url})).await;
        assert_eq!(status, expected, "{why}: {text}");
    }
    assert_eq!(add(&g, &id, json!({})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        add(&g, &id, json!({"url": 5})).await.0,
        StatusCode::BAD_REQUEST
    );
    let img = g.show(&id).await;
    assert_eq!(img["status"], "queued");
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(
        add(&g, &unknown.to_string(), json!({"url": served.url}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_added_location_is_an_image_update_and_a_location_import_task_in_the_notifications() {
    // Nothing listens on this port: every event waits in the outbox, where the test reads it.
    let broker = format!(
        "rabbit://guest:guest@127.0.0.1:{}/",
        glint_blackbox::free_port()
    );
    let g = site_with(&[("GLINT_NOTIFICATIONS__TRANSPORT_URL", &broker)]).await;
    let data = pattern(1 << 20, 3);
    let served = Served::new("noted", &data);
    let id = create(&g).await;

    let (status, body) = add(&g, &id, json!({"url": served.url})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    wait_for(&g, &id, |img| img["os_hash_value"].is_string()).await;
    let tasks: Value = g
        .get(&format!("/v2/images/{id}/tasks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = tasks["tasks"][0]["id"].as_str().expect("a task").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (of_image, of_task) = loop {
        let got = g.outbox().await;
        let of = |wanted: &str| -> Vec<Value> {
            got.iter()
                .filter(|m| m["payload"]["id"] == wanted)
                .cloned()
                .collect()
        };
        let (of_image, of_task) = (of(&id), of(&task_id));
        if of_task.iter().any(|m| m["event_type"] == "task.run") {
            break (of_image, of_task);
        }
        assert!(
            Instant::now() < deadline,
            "the task never ended: {of_task:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let types = |ms: &[Value]| -> Vec<String> {
        ms.iter()
            .map(|m| m["event_type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types(&of_image), ["image.create", "image.update"]);
    let update = &of_image[1]["payload"];
    assert_eq!(update["status"], "active");
    assert_eq!(update["size"], data.len());
    assert_eq!(
        types(&of_task),
        ["task.create", "task.processing", "task.success", "task.run"]
    );
    assert!(
        of_task
            .iter()
            .all(|m| m["payload"]["type"] == "location_import")
    );
    assert_eq!(of_task[2]["payload"]["status"], "success");
}

fn openssl_sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

fn hex_string(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
