//! Crash recovery and graceful shutdown against the real binary: `kill -9`
//! mid-upload then a restart (SQLite and PostgreSQL), SIGTERM mid-upload, a
//! body that stalls, two nodes on one PostgreSQL (the live node's upload is
//! never touched by the other's recovery; a dead node's is), SIGHUP, and a
//! connection that never finishes its request headers.
//!
//! Each scenario ends by comparing the store directory with its baseline
//! (empty, or the data of the image uploaded), so no partial file survives.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glint_blackbox::postgres::PgDatabase;
use glint_blackbox::{Client, StatusCode, free_port, pattern, target_dir};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A state directory with `glint.toml` holding `config`, and a file store in
/// `<dir>/images`, or `store` when given (shared by several nodes).
struct Site {
    dir: tempfile::TempDir,
    store: PathBuf,
}

impl Site {
    fn new(config: &str, store: Option<&Path>) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let store = store.map_or_else(|| dir.path().join("images"), Path::to_path_buf);
        std::fs::create_dir_all(&store).unwrap();
        let text = format!(
            "{config}\n\n[cache]\nenabled = false\n\n[stores.file]\ndriver = \"file\"\noptions = {{ datadir = {:?}, fsync = false }}\n",
            store.display().to_string()
        );
        std::fs::write(dir.path().join("glint.toml"), text).unwrap();
        Site { dir, store }
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(target_dir().join("glint"));
        cmd.args(args)
            .args(["--data-dir", "."])
            .current_dir(self.dir.path())
            .env("GLINT_CONFIG", self.dir.path().join("glint.toml"))
            .env(
                "GLINT_PLUGINS__PATHS",
                format!("[{:?}]", glint_sdk_testkit::cdylib_path("glint-store-file")),
            )
            .env("GLINT_LOG", "info,glint_core=debug")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `glint jobs list --json`.
    fn jobs(&self, env: &[(&str, &str)]) -> Value {
        let out = self
            .command(&["jobs", "list", "--json"], env)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `glint jobs run <job> --json`.
    fn run_job(&self, job: &str, env: &[(&str, &str)]) -> Value {
        let out = self
            .command(&["jobs", "run", job, "--json"], env)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn store_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.store)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Starts `glint serve` on `port` (a free one when `None`).
    async fn serve(&self, port: Option<u16>, env: &[(&str, &str)]) -> Node {
        for _ in 0..5 {
            let port = port.unwrap_or_else(free_port);
            let log = self
                .dir
                .path()
                .join(format!("glint-{port}-{}.log", uuid::Uuid::new_v4()));
            let file = std::fs::File::create(&log).unwrap();
            let child = self
                .command(&["serve", "--bind", &format!("127.0.0.1:{port}")], env)
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .expect("spawn glint");
            let mut node = Node {
                child,
                port,
                url: format!("http://127.0.0.1:{port}"),
                client: Client::new(),
                log,
            };
            if node.ready().await {
                return node;
            }
        }
        panic!("glint did not start");
    }
}

struct Node {
    child: Child,
    port: u16,
    url: String,
    client: Client,
    log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An upload whose body the test feeds chunk by chunk.
struct Upload {
    chunks: Option<mpsc::Sender<Bytes>>,
    response: tokio::task::JoinHandle<Result<StatusCode, String>>,
}

impl Upload {
    async fn send(&self, bytes: Vec<u8>) {
        self.chunks
            .as_ref()
            .unwrap()
            .send(Bytes::from(bytes))
            .await
            .unwrap();
    }

    /// Ends the body and waits for the answer.
    async fn finish(mut self) -> Result<StatusCode, String> {
        self.chunks = None;
        self.response.await.unwrap()
    }
}

impl Node {
    async fn ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(r) = self.client.get(&self.url).send().await
                && r.status() == StatusCode::MULTIPLE_CHOICES
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// `kill -9`, and the process is gone.
    fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn create(&self) -> String {
        let r = self
            .client
            .post(format!("{}/v2/images", self.url))
            .json(&json!({"disk_format": "raw", "container_format": "bare"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn status(&self, id: &str) -> String {
        let r = self
            .client
            .get(format!("{}/v2/images/{id}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Starts `PUT /file` with a body the test feeds.
    fn start_upload(&self, id: &str) -> Upload {
        self.start_put(&format!("/v2/images/{id}/file"))
    }

    /// Starts a `PUT` of `path` with a body the test feeds.
    fn start_put(&self, path: &str) -> Upload {
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let body = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let request = self
            .client
            .put(format!("{}{path}", self.url))
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        let response = tokio::spawn(async move {
            request
                .send()
                .await
                .map(|r| r.status())
                .map_err(|e| e.to_string())
        });
        Upload {
            chunks: Some(tx),
            response,
        }
    }

    async fn upload(&self, id: &str, data: &[u8]) -> StatusCode {
        self.client
            .put(format!("{}/v2/images/{id}/file", self.url))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// Polls `check` every 100 ms until it gives a value, for at most `secs` seconds.
async fn wait_for<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the image's status until it is `status`, for at most `secs` seconds.
async fn wait_status(node: &Node, id: &str, status: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let now = node.status(id).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "image {id} is still {now}, not {status}\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Feeds `upload` until its image is `saving` with a temporary file in the store.
async fn until_partial(node: &Node, site: &Site, id: &str, upload: &Upload) {
    upload.send(pattern(1 << 20, 7)).await;
    wait_status(node, id, "saving", 20).await;
    wait_for(20, "partial data in the store", || {
        site.store_files()
            .iter()
            .any(|f| f.contains(".tmp-"))
            .then_some(())
    })
    .await;
}

/// Recovery after `kill -9` mid-upload and a restart on the same address:
/// the image is `queued` again, the partial file goes, a retry succeeds.
async fn kill_mid_upload_then_restart(env: &[(&str, &str)]) {
    // A long lease: only the start-up recovery of the node's own previous
    // process can free the image within the test's deadlines.
    let site = Site::new(
        "[jobs]\nlease_secs = 600\n[jobs.reaper]\ninterval_secs = 1\norphan_grace_secs = 0",
        None,
    );
    assert!(site.store_files().is_empty());
    let node = site.serve(None, env).await;
    let port = node.port;
    let id = node.create().await;
    let upload = node.start_upload(&id);
    until_partial(&node, &site, &id, &upload).await;
    let in_flight = site.jobs(env)["in_flight"].clone();
    assert_eq!(in_flight.as_array().map(Vec::len), Some(1), "{in_flight}");
    node.crash();
    assert!(
        upload.finish().await.is_err(),
        "the connection died with the server"
    );

    let node = site.serve(Some(port), env).await;
    assert_eq!(node.status(&id).await, "queued", "{}", node.log());
    assert!(node.log().contains("recovered an abandoned upload"));
    wait_for(20, "the partial file to be swept", || {
        site.store_files().is_empty().then_some(())
    })
    .await;
    assert_eq!(site.jobs(env)["in_flight"], json!([]));

    let data = pattern(300_000, 9);
    assert_eq!(node.upload(&id, &data).await, StatusCode::NO_CONTENT);
    assert_eq!(node.status(&id).await, "active");
    assert_eq!(site.store_files(), [id.as_str()]);
}

#[tokio::test]
async fn kill_9_mid_stage_then_restart_removes_the_partial_stage() {
    let site = Site::new(
        "[jobs]\nlease_secs = 600\n[jobs.reaper]\nenabled = false",
        None,
    );
    let staging = site.dir.path().join("staging");
    let node = site.serve(None, &[]).await;
    let port = node.port;
    let id = node.create().await;
    let stage = node.start_put(&format!("/v2/images/{id}/stage"));
    stage.send(pattern(1 << 20, 3)).await;
    wait_status(&node, &id, "uploading", 20).await;
    let partial = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    };
    wait_for(20, "a partial stage", || {
        (partial(&staging) > 0).then_some(())
    })
    .await;
    node.crash();
    drop(stage);

    let node = site.serve(Some(port), &[]).await;
    assert_eq!(node.status(&id).await, "queued", "{}", node.log());
    assert_eq!(partial(&staging), 0, "the partial stage is gone");
    let r = node
        .client
        .put(format!("{}/v2/images/{id}/stage", node.url))
        .header("content-type", "application/octet-stream")
        .body(pattern(3000, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(node.status(&id).await, "uploading");
    assert_eq!(partial(&staging), 1);
}

#[tokio::test]
async fn kill_9_mid_upload_then_restart_sqlite() {
    kill_mid_upload_then_restart(&[]).await;
}

#[tokio::test]
async fn kill_9_mid_upload_then_restart_postgres() {
    let db = PgDatabase::create("glint_life");
    kill_mid_upload_then_restart(&[("GLINT_DATABASE__URL", db.url.as_str())]).await;
}

#[tokio::test]
async fn sigterm_aborts_an_upload_cleanly_after_the_grace() {
    let site = Site::new(
        "[api]\nshutdown_grace_secs = 1\n[jobs.reaper]\nenabled = false",
        None,
    );
    let mut node = site.serve(None, &[]).await;
    let id = node.create().await;
    let upload = node.start_upload(&id);
    until_partial(&node, &site, &id, &upload).await;
    node.signal("TERM");
    let exit = wait_for(30, "the server to exit", || node.child.try_wait().unwrap()).await;
    assert!(exit.success(), "{exit:?}\n{}", node.log());
    // Cleaned up by the server itself before it exited: no file, no lease.
    assert!(site.store_files().is_empty(), "{:?}", site.store_files());
    assert_eq!(site.jobs(&[])["in_flight"], json!([]));
    assert!(
        node.log()
            .contains("aborting the uploads still in progress")
    );
    let answer = upload.finish().await;
    assert!(
        answer.as_ref().is_err_and(|e| !e.is_empty())
            || answer.as_ref().is_ok_and(|s| s.is_client_error()),
        "{answer:?}"
    );

    let node = site.serve(None, &[]).await;
    assert_eq!(node.status(&id).await, "queued");
    assert_eq!(
        node.upload(&id, &pattern(1000, 3)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(site.store_files(), [id.as_str()]);
}

#[tokio::test]
async fn a_stalled_body_is_aborted_and_frees_the_image() {
    let site = Site::new(
        "[api]\nbody_idle_timeout_secs = 1\n[jobs.reaper]\nenabled = false",
        None,
    );
    let node = site.serve(None, &[]).await;
    let id = node.create().await;
    let upload = node.start_upload(&id);
    until_partial(&node, &site, &id, &upload).await;
    // The client keeps the connection and sends nothing more.
    wait_status(&node, &id, "queued", 20).await;
    assert!(site.store_files().is_empty(), "{:?}", site.store_files());
    let data = pattern(200_000, 5);
    assert_eq!(node.upload(&id, &data).await, StatusCode::NO_CONTENT);
    assert_eq!(site.store_files(), [id.as_str()]);
    drop(upload);
}

#[tokio::test]
async fn two_nodes_recovery_spares_the_live_upload_and_frees_the_dead_ones() {
    let db = PgDatabase::create("glint_life");
    let shared = tempfile::tempdir().unwrap();
    let store = shared.path().join("images");
    std::fs::create_dir_all(&store).unwrap();
    let config = "[jobs]\nlease_secs = 2\n[jobs.recovery]\ninterval_secs = 1\n[jobs.reaper]\ninterval_secs = 1\norphan_grace_secs = 0";
    let sites = [
        Site::new(config, Some(&store)),
        Site::new(config, Some(&store)),
    ];
    let env = [("GLINT_DATABASE__URL", db.url.as_str())];
    let live = sites[0].serve(None, &env).await;
    let other = sites[1].serve(None, &env).await;

    // An upload on `live` that lasts several lease lifetimes while `other`
    // looks for dead writers every second.
    let id = live.create().await;
    let upload = live.start_upload(&id);
    until_partial(&live, &sites[0], &id, &upload).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(7) {
        upload.send(pattern(64 << 10, 1)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(upload.finish().await, Ok(StatusCode::NO_CONTENT));
    assert_eq!(other.status(&id).await, "active");
    assert!(
        !other.log().contains("recovering an upload"),
        "{}",
        other.log()
    );

    // A writer that dies: the other node frees its image once its lease expires.
    let dead = live.create().await;
    let upload = live.start_upload(&dead);
    until_partial(&live, &sites[0], &dead, &upload).await;
    live.crash();
    drop(upload);
    wait_status(&other, &dead, "queued", 30).await;
    wait_for(20, "the partial file to be swept", || {
        (sites[1].store_files() == [id.as_str()]).then_some(())
    })
    .await;
    assert_eq!(
        other.upload(&dead, &pattern(5000, 2)).await,
        StatusCode::NO_CONTENT
    );
    let mut expected = [id.clone(), dead.clone()];
    expected.sort();
    assert_eq!(sites[1].store_files(), expected);
}

#[tokio::test]
async fn sighup_leaves_the_server_serving() {
    let site = Site::new("[jobs.reaper]\nenabled = false", None);
    let mut node = site.serve(None, &[]).await;
    node.signal("HUP");
    wait_for(10, "the SIGHUP to be logged", || {
        node.log().contains("SIGHUP received").then_some(())
    })
    .await;
    assert!(node.child.try_wait().unwrap().is_none(), "{}", node.log());
    let id = node.create().await;
    assert_eq!(node.status(&id).await, "queued");
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let site = Site::new(
        "[api]\nheader_timeout_secs = 1\n[jobs.reaper]\nenabled = false",
        None,
    );
    let node = site.serve(None, &[]).await;
    let port = node.port;
    let closed = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        socket
            .write_all(b"GET /versions HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 256];
        // Closed: end of file, or a reset; a read timeout means it stayed open.
        let read = socket.read(&mut buf);
        (read, started.elapsed())
    })
    .await
    .unwrap();
    match closed {
        (Ok(0), _) => {}
        (Err(e), took) => assert!(
            matches!(e.kind(), std::io::ErrorKind::ConnectionReset),
            "{e} after {took:?}"
        ),
        (Ok(n), _) => panic!("the server answered {n} bytes to a request it never got"),
    }
}

/// An HTTP server that starts a large answer, sends a little, then holds the
/// connection open: a web-download import that stays `importing`.
fn stalling_http_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n");
                let _ = socket.write_all(&pattern(64 << 10, 4));
                // Held open until the client goes away.
                let _ = socket.read(&mut byte);
            });
        }
    });
    port
}

#[tokio::test]
async fn kill_9_mid_import_then_restart_fails_the_import() {
    let source = stalling_http_server();
    let site = Site::new(
        &format!(
            "[jobs]\nlease_secs = 600\n[jobs.reaper]\nenabled = false\n[import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = [{source}]"
        ),
        None,
    );
    let node = site.serve(None, &[]).await;
    let port = node.port;
    let id = node.create().await;
    let r = node
        .client
        .post(format!("{}/v2/images/{id}/import", node.url))
        .json(&json!({"method": {"name": "web-download", "uri": format!("http://127.0.0.1:{source}/image")}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    wait_status(&node, &id, "importing", 20).await;
    node.crash();

    let node = site.serve(Some(port), &[]).await;
    let image: Value = node
        .client
        .get(format!("{}/v2/images/{id}", node.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(image["status"], "queued", "{image}\n{}", node.log());
    assert_eq!(image["os_glance_failed_import"], "file", "{image}");
    assert_eq!(image["os_glance_importing_to_stores"], "", "{image}");
    assert!(image.get("os_glance_import_task").is_none(), "{image}");
    let tasks: Value = node
        .client
        .get(format!("{}/v2/images/{id}/tasks", node.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks["tasks"][0]["status"], "failure", "{tasks}");
    assert_eq!(site.jobs(&[])["in_flight"], json!([]));
    // Free again: an upload succeeds.
    assert_eq!(
        node.upload(&id, &pattern(4000, 8)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(site.store_files(), [id.as_str()]);
}

#[tokio::test]
async fn glint_jobs_run_recovery_frees_a_dead_nodes_upload() {
    let site = Site::new(
        "[jobs]\nlease_secs = 1\n[jobs.recovery]\nenabled = false\n[jobs.reaper]\nenabled = false",
        None,
    );
    let node = site.serve(None, &[]).await;
    let id = node.create().await;
    let upload = node.start_upload(&id);
    until_partial(&node, &site, &id, &upload).await;
    node.crash();
    drop(upload);
    // Nothing to do until the dead writer's lease expires, then one image.
    let report = wait_for(20, "glint jobs run recovery to free the image", || {
        let report = site.run_job("recovery", &[]);
        (report["freed"] == 1).then_some(report)
    })
    .await;
    assert_eq!(report["job"], "recovery");
    assert_eq!(site.jobs(&[])["in_flight"], json!([]));
    assert_eq!(site.run_job("recovery", &[])["freed"], 0);
    // Another address: no start-up recovery of its own is involved.
    let node = site.serve(None, &[]).await;
    assert_eq!(node.status(&id).await, "queued");
    assert_eq!(
        node.upload(&id, &pattern(2000, 6)).await,
        StatusCode::NO_CONTENT
    );
}

/// An HTTP server for `data` that answers HEAD, and GET only once `serving`.
fn flaky_http_server(data: Vec<u8>, serving: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let len = data.len();
            let answer = if head.starts_with(b"HEAD") {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
                    .into_bytes()
            } else if serving.load(std::sync::atomic::Ordering::SeqCst) {
                let mut a = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                )
                .into_bytes();
                a.extend_from_slice(&data);
                a
            } else {
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = socket.write_all(&answer);
        }
    });
    port
}

#[tokio::test]
async fn the_updater_computes_a_hash_that_failed_once_the_data_is_readable() {
    deferred_hash(false).await;
}

#[tokio::test]
async fn glint_jobs_run_updater_computes_a_hash_that_failed() {
    deferred_hash(true).await;
}

/// A location whose data cannot be read when it is added; the updater, run
/// by the server or (`by_cli`) by `glint jobs run updater`, records its hash
/// once it can.
async fn deferred_hash(by_cli: bool) {
    let data = pattern(50_000, 11);
    let serving = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = flaky_http_server(data.clone(), serving.clone());
    let site = Site::new(
        &format!(
            "[locations]\nhttp_retries = 1\n[jobs.updater]\nenabled = {}\ninterval_secs = 1\nretry_max_secs = 1\n[jobs.reaper]\nenabled = false\n[import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = [{port}]\n[stores.web]\ndriver = \"http\"\n",
            !by_cli
        ),
        None,
    );
    let plugins = format!(
        "[{:?}, {:?}]",
        glint_sdk_testkit::cdylib_path("glint-store-file"),
        glint_sdk_testkit::cdylib_path("glint-store-http")
    );
    let env = [
        ("GLINT_PLUGINS__PATHS", plugins.as_str()),
        ("GLINT_DEFAULT_STORE", "file"),
    ];
    let node = site.serve(None, &env).await;
    let id = node.create().await;
    let r = node
        .client
        .post(format!("{}/v2/images/{id}/locations", node.url))
        .json(&json!({"url": format!("http://127.0.0.1:{port}/image")}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?} {}", r.status(), node.log());

    // The hash could not be computed: a row says what, why, since when.
    let row = wait_for(20, "a compute_hash row with a failed attempt", || {
        if by_cli {
            let report = site.run_job("updater", &env);
            assert_eq!(report["done"], 0, "{report}");
        }
        let work = site.jobs(&env)["pending_work"].clone();
        work.as_array()
            .and_then(|w| w.first().cloned())
            .filter(|w| w["kind"] == "compute_hash" && w["attempts"].as_u64() > Some(0))
    })
    .await;
    assert_eq!(row["image_id"], id.as_str());
    assert_eq!(row["store"], "web");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("hash calculation failed"),
        "{row}"
    );
    assert!(
        row["created_at"].is_string() && row["last_error"].is_string(),
        "{row}"
    );
    let image: Value = node
        .client
        .get(format!("{}/v2/images/{id}", node.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(image["status"], "active");
    assert!(image["os_hash_value"].is_null(), "{image}");

    serving.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for(30, "the updater to record the hash", || {
        if by_cli {
            site.run_job("updater", &env);
        }
        let work = site.jobs(&env)["pending_work"].clone();
        (work == json!([])).then_some(())
    })
    .await;
    let image: Value = node
        .client
        .get(format!("{}/v2/images/{id}", node.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        image["os_hash_value"],
        glint_blackbox::sha512_hex(&data),
        "{image}"
    );
    assert_eq!(image["checksum"], glint_blackbox::md5_hex(&data), "{image}");
    let jobs = site.jobs(&env);
    let updater = jobs["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "updater")
        .cloned();
    assert_eq!(
        updater.as_ref().map(|u| &u["enabled"]),
        Some(&json!(!by_cli)),
        "{jobs}"
    );
}
