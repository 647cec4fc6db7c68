//! Scale-out, proven on loopback: three `glint serve` nodes sharing a 3-node MariaDB Galera
//! cluster and one Swift, behind HAProxy (`tests/cluster/up.sh`). Each test drives the cluster
//! through the load balancer or a chosen node, and breaks a part of it (a node killed, a rolling
//! restart, a database node stopped) while clients keep working.
//!
//! The cluster is started once per test binary (or found running) and stopped by the last test
//! to finish; the tests take turns, since each one may stop a part of it. With
//! `GLINT_CLUSTER_KEEP=1` it stays up afterwards (then `tests/cluster/down.sh` stops it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glint_blackbox::{Client, StatusCode, md5_hex, pattern, target_dir};
use glint_core::db::Database;
use serde_json::{Value, json};

/// How many tests this binary has: the last one to finish stops the cluster (a run of some of
/// them leaves it up).
const TESTS: usize = 7;
static FINISHED: AtomicUsize = AtomicUsize::new(0);
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The cluster as up.sh printed it.
struct Cluster {
    lb: String,
    nodes: Vec<String>,
    db_url: String,
    state: PathBuf,
    lease_secs: u64,
    client: Client,
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cluster")
}

/// Runs `tests/cluster/<script> args…` and returns what it printed as `KEY=value` lines.
fn run(script: &str, args: &[&str]) -> HashMap<String, String> {
    let plugins = format!(
        "[{:?}, {:?}]",
        glint_sdk_testkit::cdylib_path("glint-store-swift"),
        glint_sdk_testkit::cdylib_path("glint-store-file")
    );
    let output = Command::new("bash")
        .arg(scripts().join(script))
        .args(args)
        .env("GLINT_BIN", target_dir().join("glint"))
        .env("GLINT_PLUGIN_PATHS", plugins)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    assert!(
        output.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `ctl.sh` off the runtime's threads, so that client load keeps running meanwhile.
async fn ctl(action: &'static str, part: &'static str) {
    tokio::task::spawn_blocking(move || run("ctl.sh", &[action, part]))
        .await
        .expect("ctl.sh task");
}

fn cluster_settings() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let s = run("up.sh", &[]);
        let get = |k: &str| {
            s.get(k)
                .unwrap_or_else(|| panic!("up.sh printed no {k}"))
                .clone()
        };
        Cluster {
            lb: get("CLUSTER_URL"),
            nodes: get("CLUSTER_NODE_URLS")
                .split(',')
                .map(str::to_owned)
                .collect(),
            db_url: get("CLUSTER_DB_URL"),
            state: PathBuf::from(get("CLUSTER_STATE")),
            lease_secs: get("CLUSTER_LEASE_SECS").parse().expect("lease secs"),
            client: Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("client"),
        }
    })
}

/// This test's turn with the whole cluster running; stops it when dropped by the last test.
struct Turn {
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if FINISHED.fetch_add(1, Ordering::SeqCst) + 1 == TESTS
            && std::env::var("GLINT_CLUSTER_KEEP").is_err()
        {
            run("down.sh", &[]);
        }
    }
}

async fn turn() -> (Turn, &'static Cluster) {
    let guard = TURN.lock().await;
    // Whatever an earlier test stopped (or a crash left) runs again.
    let c = tokio::task::spawn_blocking(|| {
        let c = cluster_settings();
        run("up.sh", &[]);
        c
    })
    .await
    .expect("up.sh task");
    (Turn { _guard: guard }, c)
}

impl Cluster {
    fn node(&self, i: usize) -> &str {
        &self.nodes[i - 1]
    }

    async fn create(&self, base: &str, name: &str) -> String {
        let r = self
            .client
            .post(format!("{base}/v2/images"))
            .json(&json!({"name": name, "disk_format": "raw", "container_format": "bare"}))
            .send()
            .await
            .expect("create");
        assert_eq!(r.status(), StatusCode::CREATED, "create at {base}");
        let v: Value = r.json().await.expect("image");
        v["id"].as_str().expect("id").to_owned()
    }

    async fn upload(&self, base: &str, id: &str, data: Vec<u8>) -> StatusCode {
        self.client
            .put(format!("{base}/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
            .await
            .map(|r| r.status())
            .unwrap_or(StatusCode::BAD_GATEWAY)
    }

    async fn show(&self, base: &str, id: &str) -> Value {
        let r = self
            .client
            .get(format!("{base}/v2/images/{id}"))
            .send()
            .await
            .expect("show");
        assert_eq!(r.status(), StatusCode::OK, "show {id} at {base}");
        r.json().await.expect("image")
    }

    /// The md5 of the image's data. A download whose connection breaks is asked again (a GET
    /// may be), once, and said so: a status other than 200 fails at once.
    async fn download_md5(&self, base: &str, id: &str) -> String {
        let mut attempt = 1;
        loop {
            let r = self
                .client
                .get(format!("{base}/v2/images/{id}/file"))
                .send()
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) if attempt == 1 => {
                    println!("download of {id} at {base} failed ({e}); asking again");
                    attempt += 1;
                    continue;
                }
                Err(e) => panic!("download of {id} at {base}: {e}"),
            };
            assert_eq!(r.status(), StatusCode::OK, "download {id} at {base}");
            match r.bytes().await {
                Ok(data) => return md5_hex(&data),
                Err(e) if attempt == 1 => {
                    println!("download of {id} at {base} broke off ({e}); asking again");
                    attempt += 1;
                }
                Err(e) => panic!("download of {id} at {base}: {e}"),
            }
        }
    }

    /// Waits until the image has `status` as `base` shows it.
    async fn wait_status(&self, base: &str, id: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let image = self.show(base, id).await;
            if image["status"] == status {
                return image;
            }
            assert!(
                Instant::now() < deadline,
                "image {id} is {} after {within:?}, not {status}",
                image["status"]
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn log(&self, node: usize) -> String {
        std::fs::read_to_string(self.state.join(format!("glint{node}/glint.log")))
            .unwrap_or_default()
    }

    /// `glint_db_retries_total` summed over the nodes' metrics listeners.
    async fn write_retries(&self) -> u64 {
        let mut total = 0;
        for i in 1..=3 {
            let port = 19310 + i;
            let Ok(r) = self
                .client
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await
            else {
                continue;
            };
            let text = r.text().await.unwrap_or_default();
            total += text
                .lines()
                .filter(|l| l.starts_with("glint_db_retries_total"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64;
        }
        total
    }
}

/// A request body streamed in `chunks` pieces of 64 KiB, `pause` apart.
fn slow_body(chunks: usize, pause: Duration) -> reqwest::Body {
    let stream = futures::stream::unfold(0usize, move |n| async move {
        if n == chunks {
            return None;
        }
        tokio::time::sleep(pause).await;
        let chunk = Bytes::from(pattern(64 << 10, n as u64));
        Some((Ok::<_, std::io::Error>(chunk), n + 1))
    });
    reqwest::Body::wrap_stream(stream)
}

/// A failed request as the load reports it: what, why, and the wall-clock time (UNIX seconds)
/// to find it in HAProxy's log and the nodes' logs.
fn failure(what: &str, why: &dyn std::fmt::Display) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    format!("{what}: {why} (at {:.3})", now.as_secs_f64())
}

/// An error with its causes, down to the I/O error that ended the connection.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Steady client load through the load balancer until `stop`: each round creates an image,
/// uploads to it, shows it, lists, and deletes every other one. Returns (requests, failures,
/// the ids of images whose data was accepted).
fn load(
    c: &'static Cluster,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u64, Vec<String>, Vec<String>)> {
    tokio::spawn(async move {
        let requests = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for w in 0..workers {
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            tasks.push(tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut kept = Vec::new();
                let mut round = 0u64;
                let check = |what: String, r: Result<reqwest::Response, reqwest::Error>| match r {
                    Ok(r) if r.status().is_success() => Ok(r),
                    Ok(r) => Err(failure(&what, &r.status())),
                    Err(e) => Err(failure(&what, &error_chain(&e))),
                };
                while !stop.load(Ordering::SeqCst) {
                    round += 1;
                    let lb = &c.lb;
                    let r = c
                        .client
                        .post(format!("{lb}/v2/images"))
                        .json(&json!({"name": format!("load-{w}-{round}"),
                                      "disk_format": "raw", "container_format": "bare"}))
                        .send()
                        .await;
                    requests.fetch_add(1, Ordering::SeqCst);
                    let id = match check("create".into(), r) {
                        Ok(r) => r.json::<Value>().await.expect("image")["id"]
                            .as_str()
                            .expect("id")
                            .to_owned(),
                        Err(e) => {
                            failures.push(e);
                            continue;
                        }
                    };
                    let steps: [(&str, reqwest::RequestBuilder); 3] = [
                        (
                            "upload",
                            c.client
                                .put(format!("{lb}/v2/images/{id}/file"))
                                .header("content-type", "application/octet-stream")
                                .body(pattern(256 << 10, round)),
                        ),
                        ("show", c.client.get(format!("{lb}/v2/images/{id}"))),
                        ("list", c.client.get(format!("{lb}/v2/images?limit=5"))),
                    ];
                    let mut ok = true;
                    for (what, req) in steps {
                        requests.fetch_add(1, Ordering::SeqCst);
                        // Each answer is read to its end, as a client does.
                        let answer =
                            match check(format!("{what} {id}"), req.send().await) {
                                Ok(r) => r.bytes().await.map(drop).map_err(|e| {
                                    failure(&format!("{what} {id}"), &error_chain(&e))
                                }),
                                Err(e) => Err(e),
                            };
                        if let Err(e) = answer {
                            failures.push(e);
                            ok = false;
                        }
                    }
                    if ok && round.is_multiple_of(2) {
                        requests.fetch_add(1, Ordering::SeqCst);
                        let r = c.client.delete(format!("{lb}/v2/images/{id}")).send().await;
                        if let Err(e) = check(format!("delete {id}"), r) {
                            failures.push(e);
                        }
                    } else if ok {
                        kept.push(id);
                    }
                }
                (failures, kept)
            }));
        }
        let mut failures = Vec::new();
        let mut kept = Vec::new();
        for t in tasks {
            let (f, k) = t.await.expect("load worker");
            failures.extend(f);
            kept.extend(k);
        }
        (requests.load(Ordering::SeqCst), failures, kept)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn glance_direct_staged_on_one_node_is_imported_through_another() {
    let (_turn, c) = turn().await;
    let data = pattern(3 << 20, 7);
    let id = c.create(&c.lb, "staged-on-1").await;
    let r = c
        .client
        .put(format!("{}/v2/images/{id}/stage", c.node(1)))
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .expect("stage");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The stage host is recorded, and every node sees it.
    let image = c.show(c.node(3), &id).await;
    assert_eq!(image["status"], "uploading");
    assert_eq!(image["os_glance_stage_host"], c.node(1));
    assert!(c.state.join(format!("glint1/staging/{id}")).exists());
    assert!(!c.state.join(format!("glint2/staging/{id}")).exists());

    // The import lands on node 2, which forwards it to node 1 where the data is.
    let r = c
        .client
        .post(format!("{}/v2/images/{id}/import", c.node(2)))
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .expect("import");
    // The answer names the request that started the task on node 1, as Glance's does.
    let import_request = r
        .headers()
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let image = c
        .wait_status(&c.lb, &id, "active", Duration::from_secs(60))
        .await;
    assert!(image.get("os_glance_stage_host").is_none(), "{image}");
    assert_eq!(image["checksum"], md5_hex(&data));
    assert_eq!(c.download_md5(c.node(3), &id).await, md5_hex(&data));
    assert!(!c.state.join(format!("glint1/staging/{id}")).exists());
    assert!(
        c.log(2).contains(&format!("image={id}"))
            && c.log(2)
                .contains("forwarding the import to the node that staged the data"),
        "node 2 did not say it forwarded the import"
    );
    let tasks: Value = c
        .client
        .get(format!("{}/v2/images/{id}/tasks", c.node(3)))
        .send()
        .await
        .expect("tasks")
        .json()
        .await
        .expect("tasks json");
    assert_eq!(tasks["tasks"][0]["status"], "success", "{tasks}");
    assert_eq!(
        tasks["tasks"][0]["request_id"], import_request,
        "the import's answer names another request than its task"
    );

    // A staged image deleted through another node goes with its staged data.
    let gone = c.create(&c.lb, "staged-then-deleted").await;
    let r = c
        .client
        .put(format!("{}/v2/images/{gone}/stage", c.node(1)))
        .body(pattern(1 << 20, 8))
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .expect("stage");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .client
        .delete(format!("{}/v2/images/{gone}", c.node(3)))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!c.state.join(format!("glint1/staging/{gone}")).exists());
    let r = c
        .client
        .get(format!("{}/v2/images/{gone}", c.node(1)))
        .send()
        .await
        .expect("show");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // With the stage host down, the import is refused with Glance's 504 (and the image is
    // left staged); once it is back, the same import succeeds.
    let later = c.create(&c.lb, "stage-host-down").await;
    let r = c
        .client
        .put(format!("{}/v2/images/{later}/stage", c.node(3)))
        .body(data.clone())
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .expect("stage");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    ctl("stop", "glint3").await;
    let r = c
        .client
        .post(format!("{}/v2/images/{later}/import", c.node(1)))
        .header("accept", "application/json")
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
    let body: Value = r.json().await.expect("error body");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Stage host is unavailable")),
        "{body}"
    );
    assert_eq!(c.show(c.node(2), &later).await["status"], "uploading");
    ctl("start", "glint3").await;
    let r = c
        .client
        .post(format!("{}/v2/images/{later}/import", c.node(1)))
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    c.wait_status(&c.lb, &later, "active", Duration::from_secs(60))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_image_operation_works_whichever_node_answers() {
    let (_turn, c) = turn().await;
    // Each step on the next node in turn; each result read back on the two others.
    let node = |step: usize| c.node(step % 3 + 1).to_owned();
    let id = c.create(&node(0), "round-robin").await;
    let patch = |base: String, ops: Value| {
        c.client
            .patch(format!("{base}/v2/images/{id}"))
            .header(
                "content-type",
                "application/openstack-images-v2.1-json-patch",
            )
            .body(ops.to_string())
    };
    let r = patch(
        node(1),
        json!([{"op": "add", "path": "/color", "value": "blue"}]),
    )
    .send()
    .await
    .expect("patch");
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .client
        .put(format!("{}/v2/images/{id}/tags/shared", node(2)))
        .send()
        .await
        .expect("tag");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let data = pattern(5 << 20, 11);
    assert_eq!(
        c.upload(&node(3), &id, data.clone()).await,
        StatusCode::NO_CONTENT
    );
    for i in 1..=3 {
        let image = c.show(c.node(i), &id).await;
        assert_eq!(image["status"], "active");
        assert_eq!(image["color"], "blue");
        assert_eq!(image["tags"], json!(["shared"]));
        assert_eq!(image["checksum"], md5_hex(&data));
    }
    let r = c
        .client
        .patch(format!("{}/v2/images/{id}", node(4)))
        .header(
            "content-type",
            "application/openstack-images-v2.1-json-patch",
        )
        .body(json!([{"op": "replace", "path": "/visibility", "value": "shared"}]).to_string())
        .send()
        .await
        .expect("visibility");
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .client
        .post(format!("{}/v2/images/{id}/members", node(5)))
        .json(&json!({"member": "tenant-b"}))
        .send()
        .await
        .expect("member");
    assert_eq!(r.status(), StatusCode::OK);
    let members: Value = c
        .client
        .get(format!("{}/v2/images/{id}/members", node(6)))
        .send()
        .await
        .expect("members")
        .json()
        .await
        .expect("members json");
    assert_eq!(members["members"][0]["member_id"], "tenant-b");
    for (step, action, status) in [
        (7, "deactivate", "deactivated"),
        (8, "reactivate", "active"),
    ] {
        let r = c
            .client
            .post(format!("{}/v2/images/{id}/actions/{action}", node(step)))
            .send()
            .await
            .expect("action");
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(c.show(&node(step + 1), &id).await["status"], status);
    }
    let listed: Value = c
        .client
        .get(format!("{}/v2/images?tag=shared&limit=1000", node(9)))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list json");
    assert!(
        listed["images"]
            .as_array()
            .expect("images")
            .iter()
            .any(|i| i["id"] == id.as_str())
    );

    // The cache is per node: downloads through nodes 1 and 3 fill theirs, and any node
    // names exactly those two.
    assert_eq!(c.download_md5(c.node(1), &id).await, md5_hex(&data));
    assert_eq!(c.download_md5(c.node(3), &id).await, md5_hex(&data));
    let want: BTreeSet<String> = [c.node(1), c.node(3)].map(str::to_owned).into();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let nodes: Vec<String> = c
            .client
            .get(format!("{}/v2/cache/nodes/{id}", c.node(2)))
            .send()
            .await
            .expect("cache nodes")
            .json()
            .await
            .expect("cache nodes json");
        let nodes: BTreeSet<String> = nodes.into_iter().collect();
        if nodes == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cache nodes {nodes:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        std::fs::read_dir(c.state.join("glint2/cache"))
            .map(|d| d
                .filter_map(Result::ok)
                .all(|e| e.file_name() != id.as_str()))
            .unwrap_or(true)
    );

    let r = c
        .client
        .delete(format!("{}/v2/images/{id}", node(10)))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for i in 1..=3 {
        let r = c
            .client
            .get(format!("{}/v2/images/{id}", c.node(i)))
            .send()
            .await
            .expect("show");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

/// The job leases, sampled: job name → holder.
async fn job_holders(db: &Database) -> BTreeMap<String, String> {
    let now = chrono_now_micros();
    db.leases()
        .await
        .expect("leases")
        .into_iter()
        .filter(|l| !l.name.starts_with("data:"))
        .filter(|l| l.expires_at.timestamp_micros() > now)
        .map(|l| (l.name, l.holder))
        .collect()
}

fn chrono_now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn periodic_jobs_run_on_one_node_at_a_time() {
    let (_turn, c) = turn().await;
    let db = Database::open(&c.db_url).await.expect("database");
    // Over three lease lifetimes, every job keeps one holder, one of the nodes.
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(3 * c.lease_secs);
    while Instant::now() < deadline {
        for (job, holder) in job_holders(&db).await {
            seen.entry(job).or_default().insert(holder);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for job in ["reaper", "updater"] {
        assert!(seen.contains_key(job), "no lease for {job}: {seen:?}");
    }
    for (job, holders) in &seen {
        assert_eq!(holders.len(), 1, "{job} changed hands: {holders:?}");
        let holder = holders.iter().next().expect("holder");
        assert!(
            c.nodes.iter().any(|n| holder.starts_with(&format!("{n}#"))),
            "{job} held by {holder}"
        );
    }
    println!("job leases: {seen:?}");

    // The holder of the reaper is killed: another node takes its jobs over after one lease.
    let reaper = seen["reaper"].iter().next().expect("holder").clone();
    let dead = (1..=3)
        .find(|i| reaper.starts_with(&format!("{}#", c.node(*i))))
        .expect("reaper node");
    let part: &'static str = ["glint1", "glint2", "glint3"][dead - 1];
    ctl("kill", part).await;
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(4 * c.lease_secs + 30);
    let taken = loop {
        let holders = job_holders(&db).await;
        if let Some(h) = holders.get("reaper")
            && !h.starts_with(&format!("{}#", c.node(dead)))
        {
            break h.clone();
        }
        assert!(
            Instant::now() < deadline,
            "nobody took the reaper over: {holders:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!(
        "reaper taken over by {taken} {:?} after the kill",
        killed.elapsed()
    );
    ctl("start", part).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_during_uploads_loses_nothing() {
    let (_turn, c) = turn().await;
    // Images that exist before the crash.
    let mut before = Vec::new();
    for n in 0..3 {
        let id = c.create(&c.lb, &format!("before-{n}")).await;
        let data = pattern(1 << 20, 100 + n);
        assert_eq!(
            c.upload(&c.lb, &id, data.clone()).await,
            StatusCode::NO_CONTENT
        );
        before.push((id, md5_hex(&data)));
    }
    // Two slow uploads to each node (about 4 s each).
    let mut uploads = Vec::new();
    for node in 1..=3usize {
        for k in 0..2 {
            let id = c.create(c.node(node), &format!("crash-{node}-{k}")).await;
            let url = format!("{}/v2/images/{id}/file", c.node(node));
            let client = c.client.clone();
            uploads.push((
                node,
                id,
                tokio::spawn(async move {
                    client
                        .put(url)
                        .header("content-type", "application/octet-stream")
                        .body(slow_body(64, Duration::from_millis(60)))
                        .send()
                        .await
                        .map(|r| r.status())
                }),
            ));
        }
    }
    // Meanwhile, reads through the load balancer, before, during and after the crash.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = {
        let stop = Arc::clone(&stop);
        let client = c.client.clone();
        let lb = c.lb.clone();
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                match client.get(format!("{lb}/v2/images?limit=20")).send().await {
                    Ok(r) if r.status() == StatusCode::OK => ok += 1,
                    other => failed.push(format!("{other:?}")),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (ok, failed)
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ctl("kill", "glint2").await;
    let mut lost = Vec::new();
    for (node, id, task) in uploads {
        let status = task.await.expect("upload task");
        if node == 2 {
            assert!(
                !status.is_ok_and(|s| s.is_success()),
                "an upload to the killed node succeeded"
            );
            lost.push(id);
        } else {
            assert_eq!(
                status.expect("upload to a live node"),
                StatusCode::NO_CONTENT,
                "upload to node {node}"
            );
            assert_eq!(c.show(&c.lb, &id).await["status"], "active");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (ok, failed) = reads.await.expect("reads");
    assert!(
        failed.is_empty(),
        "{} of {} reads failed: {failed:?}",
        failed.len(),
        ok as usize + failed.len()
    );
    // A live node recovers the dead one's uploads once their leases expire: back to queued,
    // and a retry through the load balancer succeeds.
    let started = Instant::now();
    for id in &lost {
        c.wait_status(
            &c.lb,
            id,
            "queued",
            Duration::from_secs(4 * c.lease_secs + 30),
        )
        .await;
    }
    println!(
        "{} uploads of the killed node requeued {:?} after it died; {ok} reads through the LB, none failed",
        lost.len(),
        started.elapsed()
    );
    for id in &lost {
        let data = pattern(2 << 20, 9);
        assert_eq!(
            c.upload(&c.lb, id, data.clone()).await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(c.download_md5(&c.lb, id).await, md5_hex(&data));
    }
    for (id, md5) in &before {
        assert_eq!(c.show(&c.lb, id).await["status"], "active");
        assert_eq!(&c.download_md5(&c.lb, id).await, md5);
    }
    ctl("start", "glint2").await;
}

// Every request through HAProxy must succeed while each node in turn drains (SIGTERM: its
// health check fails, HAProxy takes it out, it finishes what it has and exits) and starts
// again. This needs HAProxy to keep its connections to the nodes (tests/cluster/lib.sh): with a
// connection per request, about one request in 1,000 failed with the client connection closed
// by HAProxy, whether or not a node was restarting (docs/scaling.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_fails_no_request() {
    let (_turn, c) = turn().await;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let load = load(c, 4, Arc::clone(&stop));
    tokio::time::sleep(Duration::from_secs(2)).await;
    for node in ["glint1", "glint2", "glint3"] {
        ctl("roll", node).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let (requests, failures, kept) = load.await.expect("load");
    println!(
        "rolling restart of 3 nodes in {:?}: {requests} requests, {} failed",
        started.elapsed(),
        failures.len()
    );
    assert!(
        requests > 100,
        "too little load to prove anything: {requests}"
    );
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    for id in kept.iter().step_by(7) {
        assert_eq!(c.show(&c.lb, id).await["status"], "active");
    }
}

/// 24 writers, 8 through each node (so on all three Galera nodes), 4 writes each on one image
/// row (96 in all: within the tag and property quotas): JSON-patches (`patch`) or tag additions. Returns how many writes answered each status.
async fn contend(c: &'static Cluster, id: &str, patch: bool) -> BTreeMap<u16, u32> {
    let mut tasks = Vec::new();
    for w in 0..24usize {
        let base = c.node(w % 3 + 1).to_owned();
        let client = c.client.clone();
        let id = id.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..4 {
                let r = if patch {
                    client
                        .patch(format!("{base}/v2/images/{id}"))
                        .header(
                            "content-type",
                            "application/openstack-images-v2.1-json-patch",
                        )
                        .body(
                            json!([{"op": "add", "path": format!("/p_{w}_{n}"), "value": "x"}])
                                .to_string(),
                        )
                        .send()
                        .await
                } else {
                    client
                        .put(format!("{base}/v2/images/{id}/tags/t{w}-{n}"))
                        .send()
                        .await
                };
                statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        }));
    }
    let mut by_status = BTreeMap::new();
    for t in tasks {
        for s in t.await.expect("writer") {
            *by_status.entry(s).or_default() += 1;
        }
    }
    by_status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn galera_write_conflicts_are_retried_never_500() {
    let (_turn, c) = turn().await;
    let id = c.create(&c.lb, "contended").await;
    let retries_before = c.write_retries().await;
    // Tag additions add to what is there: every one must be kept.
    let tags = contend(c, &id, false).await;
    let retries_tags = c.write_retries().await - retries_before;
    println!("96 contended tag additions: {tags:?}; {retries_tags} write transactions retried");
    assert_eq!(tags, BTreeMap::from([(204, 96)]));
    let image = c.show(&c.lb, &id).await;
    assert_eq!(image["tags"].as_array().map(Vec::len), Some(96));
    // A patch writes the whole image as its request read it (the last writer wins, as in
    // Glance); each one answers 200, none a 5xx.
    let patches = contend(c, &id, true).await;
    let retries = c.write_retries().await - retries_before - retries_tags;
    println!("96 contended patches: {patches:?}; {retries} write transactions retried");
    assert_eq!(patches, BTreeMap::from([(200, 96)]));
    assert!(
        retries_tags + retries > 0,
        "no write conflict happened: the test proves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_galera_node_stopped_under_load_loses_no_committed_image() {
    let (_turn, c) = turn().await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = load(c, 4, Arc::clone(&stop));
    tokio::time::sleep(Duration::from_secs(2)).await;
    ctl("stop", "galera2").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    ctl("start", "galera2").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let (requests, failures, kept) = load.await.expect("load");
    println!(
        "galera2 stopped and restarted under load: {requests} requests, {} failed {failures:?}",
        failures.len()
    );
    assert!(
        failures.iter().all(|f| !f.contains("500")),
        "internal errors: {failures:?}"
    );
    // Every image whose upload was answered 204 is there, active, on every node, and in the
    // restarted database node's own copy of the data.
    assert!(!kept.is_empty());
    for id in &kept {
        for i in 1..=3 {
            assert_eq!(c.show(c.node(i), id).await["status"], "active", "{id}");
        }
    }
    let list = kept
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sock = c.state.join("galera2/run/mysqld.sock");
    let out = Command::new("mariadb")
        .args(["--no-defaults", "-S"])
        .arg(&sock)
        .args([
            "-u",
            "root",
            "-N",
            "-B",
            "glint",
            "-e",
            &format!("SELECT COUNT(*) FROM images WHERE status = 'active' AND id IN ({list})"),
        ])
        .output()
        .expect("mariadb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        kept.len().to_string()
    );
}
