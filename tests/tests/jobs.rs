//! Background jobs against the real binary: store data a DELETE could not
//! remove (a read-only store directory) becomes pending work that `glint
//! scrub` and the running reaper reclaim once the directory is writable;
//! delayed delete and `glint scrub restore`; two nodes on one PostgreSQL
//! with the reaper on both, each image scrubbed once; `glint db purge`
//! counts; `glint jobs list` shows the lease holder and the pending work; a
//! copy-image a read-only store refused is retried by the updater.
//!
//! A read-only directory stops nobody running as root, so when the tests
//! run as root, Glint and its admin commands run as `nobody` on a data
//! directory handed to `nobody`.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::postgres::PgDatabase;
use glint_blackbox::{Client, StatusCode, pattern, target_dir};
use serde_json::{Value, json};

/// The uid and gid Glint runs as: `nobody` when the tests run as root.
fn run_as() -> Option<(u32, u32)> {
    // Read from /proc: the effective uid, without a libc dependency.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse::<u32>().ok())?;
    (uid == 0).then_some((65534, 65534))
}

/// Hands `path` and everything under it to the uid Glint runs as.
fn hand_over(path: &Path) {
    let Some((uid, gid)) = run_as() else { return };
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            hand_over(&entry.unwrap().path());
        }
    }
}

fn set_writable(dir: &Path, writable: bool) {
    let mode = if writable { 0o755 } else { 0o555 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A state directory with `glint.toml` holding `config`, and a file store in `<dir>/images`
/// (or `store`, when given: a store shared by several nodes).
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
        hand_over(dir.path());
        hand_over(&store);
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
        if let Some((uid, gid)) = run_as() {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// Runs an admin command to its end.
    fn admin(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run glint")
    }

    /// Runs an admin command that must succeed and print one JSON document.
    fn admin_json(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let out = self.admin(args, env);
        assert!(
            out.status.success(),
            "glint {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("glint {args:?} printed no JSON ({e}): {out:?}"))
    }

    fn store_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.store)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Starts `glint serve` here.
    async fn serve(&self, env: &[(&str, &str)]) -> Node {
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let log = self.dir.path().join(format!("glint-{port}.log"));
            let file = std::fs::File::create(&log).unwrap();
            let child = self
                .command(&["serve", "--bind", &format!("127.0.0.1:{port}")], env)
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .expect("spawn glint");
            let mut node = Node {
                child,
                url: format!("http://127.0.0.1:{port}"),
                client: client.clone(),
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

    /// Creates a raw image holding `data`; its id.
    async fn image_with(&self, data: &[u8]) -> String {
        let r = self
            .client
            .post(format!("{}/v2/images", self.url))
            .json(&json!({"disk_format": "raw", "container_format": "bare", "tags": ["a", "b"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = self
            .client
            .put(format!("{}/v2/images/{id}/file", self.url))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        id
    }

    async fn delete(&self, id: &str) {
        let r = self
            .client
            .delete(format!("{}/v2/images/{id}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", self.log());
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
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

fn pending_work(site: &Site) -> Vec<Value> {
    site.admin_json(&["jobs", "list", "--json"], &[])["pending_work"]
        .as_array()
        .unwrap()
        .clone()
}

const NO_REAPER: &str = "[jobs.reaper]\nenabled = false\nretry_max_secs = 1";

#[tokio::test]
async fn data_a_store_refused_to_delete_is_reclaimed_by_glint_scrub() {
    let site = Site::new(NO_REAPER, None);
    let node = site.serve(&[]).await;
    let id = node.image_with(&pattern(100_000, 1)).await;
    assert_eq!(site.store_files(), [id.as_str()]);

    set_writable(&site.store, false);
    node.delete(&id).await;
    assert_eq!(
        node.get(&format!("/v2/images/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(site.store_files(), [id.as_str()], "the store refused");
    let work = pending_work(&site);
    assert_eq!(work.len(), 1, "{work:?}");
    assert_eq!(work[0]["image_id"], id.as_str());
    assert_eq!(work[0]["kind"], "delete_data");
    assert_eq!(work[0]["store"], "file");
    assert!(!work[0]["reason"].as_str().unwrap().is_empty(), "{work:?}");
    assert!(work[0]["created_at"].is_string());

    // Still refused: the attempt is counted, the row stays.
    let report = site.admin_json(&["scrub", "--json"], &[]);
    assert_eq!(
        (report["deleted"].as_u64(), report["failed"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(report["pending_work"], 1);
    let work = pending_work(&site);
    assert_eq!(work[0]["attempts"], 1);
    assert!(work[0]["last_error"].is_string());
    let text = site.admin(&["jobs", "list"], &[]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(&id) && text.contains("delete_data"), "{text}");

    // Writable again: the next scrub once the row is due deletes the file.
    set_writable(&site.store, true);
    let report = wait_for(20, "glint scrub to delete the data", || {
        let report = site.admin_json(&["scrub", "--json"], &[]);
        (report["deleted"] == 1).then_some(report)
    })
    .await;
    assert_eq!(report["pending_work"], 0);
    assert!(site.store_files().is_empty(), "{:?}", site.store_files());
    assert!(pending_work(&site).is_empty());
    let text = site.admin(&["scrub"], &[]);
    assert!(text.status.success());
    assert!(
        String::from_utf8(text.stdout)
            .unwrap()
            .contains("0 pending work rows left")
    );
}

#[tokio::test]
async fn the_running_reaper_reclaims_refused_data_once_the_store_is_writable() {
    let site = Site::new("[jobs.reaper]\ninterval_secs = 1\nretry_max_secs = 1", None);
    let node = site.serve(&[]).await;
    let ids = [
        node.image_with(&pattern(10_000, 2)).await,
        node.image_with(&pattern(20_000, 3)).await,
    ];
    set_writable(&site.store, false);
    for id in &ids {
        node.delete(id).await;
    }
    // The reaper tries, fails, and says so in the row.
    wait_for(20, "a failed attempt by the reaper", || {
        let work = pending_work(&site);
        (work.len() == 2 && work.iter().all(|w| w["attempts"].as_u64() > Some(0))).then_some(())
    })
    .await;
    let listed = site.admin_json(&["jobs", "list", "--json"], &[]);
    let reaper = &listed["workers"][0];
    assert_eq!(reaper["name"], "reaper");
    let port = node.url.rsplit(':').next().unwrap();
    assert!(
        reaper["holder"]
            .as_str()
            .unwrap()
            .contains(&format!(":{port}#")),
        "{listed}"
    );
    // A one-shot scrub while the server holds the lease is refused.
    let refused = site.admin(&["scrub", "--json"], &[]);
    assert!(!refused.status.success());
    let answer: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("reaper is running"),
        "{answer}"
    );

    set_writable(&site.store, true);
    wait_for(20, "the reaper to delete the data", || {
        site.store_files().is_empty().then_some(())
    })
    .await;
    wait_for(10, "the pending work to be done", || {
        pending_work(&site).is_empty().then_some(())
    })
    .await;
    assert!(node.log().contains("pending delete done"), "{}", node.log());
}

#[tokio::test]
async fn delayed_delete_waits_for_the_reaper_and_restore_brings_the_image_back() {
    // scrub_time is long: the image waits in pending_delete for the whole test.
    let site = Site::new(
        "delayed_delete = true\nscrub_time = 3600\n[jobs.reaper]\ninterval_secs = 1",
        None,
    );
    let node = site.serve(&[]).await;
    let data = pattern(50_000, 4);
    let id = node.image_with(&data).await;
    let kept = node.image_with(&pattern(10, 5)).await;
    node.delete(&id).await;
    // Gone from the API as a deleted image is, data kept.
    assert_eq!(
        node.get(&format!("/v2/images/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, list) = node.get("/v2/images").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> = list["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [kept.as_str()]);
    assert_eq!(site.store_files().len(), 2);
    assert!(pending_work(&site).is_empty());

    let restored = site.admin_json(&["scrub", "restore", &id, "--json"], &[]);
    assert_eq!(restored, json!({"id": id, "status": "active"}));
    let (status, image) = node.get(&format!("/v2/images/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(image["status"], "active");
    assert_eq!(image["tags"].as_array().unwrap().len(), 2);
    let r = node
        .client
        .get(format!("{}/v2/images/{id}/file", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), data);

    // Only a pending_delete image can be restored.
    let again = site.admin(&["scrub", "restore", &id], &[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is active, not pending_delete"),
        "{again:?}"
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = site.admin(&["scrub", "restore", &unknown, "--json"], &[]);
    assert!(!missing.status.success());
    let answer: Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(answer["error"], format!("no image {unknown}"));
}

#[tokio::test]
async fn delayed_delete_data_goes_after_scrub_time() {
    let site = Site::new(
        "delayed_delete = true\nscrub_time = 1\n[jobs.reaper]\ninterval_secs = 1",
        None,
    );
    let node = site.serve(&[]).await;
    let id = node.image_with(&pattern(5_000, 6)).await;
    // An image without data has nothing to wait for: deleted at once, as in Glance.
    let empty = node
        .client
        .post(format!("{}/v2/images", node.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    node.delete(&empty).await;
    node.delete(&id).await;
    wait_for(20, "the reaper to scrub the image", || {
        site.store_files().is_empty().then_some(())
    })
    .await;
    wait_for(10, "the scrub to be logged", || {
        node.log().contains("scrubbed image").then_some(())
    })
    .await;
    let restore = site.admin(&["scrub", "restore", &id], &[]);
    assert!(!restore.status.success());
    assert!(String::from_utf8_lossy(&restore.stderr).contains("is deleted"));
}

#[tokio::test]
async fn db_purge_counts_rows_per_table() {
    let site = Site::new(NO_REAPER, None);
    let node = site.serve(&[]).await;
    let gone = node.image_with(b"abc").await;
    let kept = node.image_with(b"def").await;
    node.delete(&gone).await;

    let purged = site.admin_json(
        &[
            "db",
            "purge",
            "--age-in-days",
            "0",
            "--max-rows",
            "1",
            "--json",
        ],
        &[],
    );
    assert_eq!(
        purged,
        json!({"age_in_days": 0, "max_rows": 1, "purged": [
            {"table": "image_members", "rows": 0},
            {"table": "image_properties", "rows": 0},
            {"table": "image_tags", "rows": 1},
            {"table": "image_locations", "rows": 1},
            {"table": "tasks", "rows": 0},
        ]})
    );
    // The image row waits for its tags to go.
    let images = site.admin_json(
        &["db", "purge-images-table", "--age-in-days", "0", "--json"],
        &[],
    );
    assert_eq!(images["purged"], json!([{"table": "images", "rows": 0}]));
    let out = site.admin(
        &["db", "purge", "--age_in_days", "0", "--max_rows", "-1"],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("image_tags: 1 rows purged"), "{text}");
    assert!(text.contains("image_locations: 0 rows purged"), "{text}");
    let images = site.admin_json(
        &[
            "db",
            "purge-images-table",
            "--age-in-days",
            "0",
            "--max-rows",
            "-1",
            "--json",
        ],
        &[],
    );
    assert_eq!(images["purged"], json!([{"table": "images", "rows": 1}]));
    // Rows of images deleted less than a day ago stay; live images are never touched.
    let other = node.image_with(b"ghi").await;
    node.delete(&other).await;
    let purged = site.admin_json(&["db", "purge", "--json"], &[]);
    assert!(
        purged["purged"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rows"] == 0),
        "{purged}"
    );
    let (status, image) = node.get(&format!("/v2/images/{kept}")).await;
    assert_eq!(
        (status, image["tags"].as_array().unwrap().len()),
        (StatusCode::OK, 2)
    );

    for (args, message) in [
        (
            ["db", "purge", "--age-in-days", "-1"],
            "non-negative value for age",
        ),
        (
            ["db", "purge", "--max-rows", "0"],
            "Minimal rows limit is -1",
        ),
    ] {
        let out = site.admin(&args, &[]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{out:?}"
        );
    }
}

#[tokio::test]
async fn two_nodes_on_one_postgres_scrub_each_image_once() {
    let db = PgDatabase::create("glint_jobs");
    let shared = tempfile::tempdir().unwrap();
    let store = shared.path().join("images");
    std::fs::create_dir_all(&store).unwrap();
    hand_over(shared.path());
    let config = "delayed_delete = true\nscrub_time = 1\nscrub_pool_size = 2\n[jobs]\nlease_secs = 3\n[jobs.reaper]\ninterval_secs = 1";
    let sites = [
        Site::new(config, Some(&store)),
        Site::new(config, Some(&store)),
    ];
    let env = [("GLINT_DATABASE__URL", db.url.as_str())];
    let mut nodes = vec![sites[0].serve(&env).await, sites[1].serve(&env).await];

    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(nodes[n % 2].image_with(&pattern(1000 + n, n as u64)).await);
    }
    for (n, id) in ids.iter().enumerate() {
        nodes[n % 2].delete(id).await;
    }
    wait_for(30, "both nodes' reapers to scrub every image", || {
        sites[0].store_files().is_empty().then_some(())
    })
    .await;
    let logs = wait_for(10, "every scrub to be logged", || {
        let logs = [nodes[0].log(), nodes[1].log()];
        let scrubbed = logs
            .iter()
            .map(|l| l.matches("scrubbed image").count())
            .sum::<usize>();
        (scrubbed >= ids.len()).then_some(logs)
    })
    .await;
    for id in &ids {
        let times: usize = logs
            .iter()
            .map(|log| {
                log.lines()
                    .filter(|l| l.contains("scrubbed image") && l.contains(id.as_str()))
                    .count()
            })
            .sum();
        assert_eq!(times, 1, "image {id} scrubbed {times} times");
    }
    // One node held the lease and did it all; neither met a scrub the other did.
    let scrubbing: Vec<bool> = logs.iter().map(|l| l.contains("scrubbed image")).collect();
    assert_eq!(scrubbing.iter().filter(|s| **s).count(), 1, "{scrubbing:?}");
    assert!(
        logs.iter()
            .all(|l| !l.contains("left pending_delete during its scrub"))
    );
    let listed = sites[0].admin_json(&["jobs", "list", "--json"], &env);
    let holder = listed["workers"][0]["holder"].as_str().unwrap().to_owned();
    let scrubber = if scrubbing[0] { &nodes[0] } else { &nodes[1] };
    let port = scrubber.url.rsplit(':').next().unwrap();
    assert!(
        holder.contains(&format!(":{port}#")),
        "{holder} vs {}",
        scrubber.url
    );
    assert!(listed["pending_work"].as_array().unwrap().is_empty());

    // The holder dies (SIGKILL): the survivor takes the lease once it expires, and scrubs.
    let survivor = nodes.remove(usize::from(scrubbing[0]));
    drop(nodes);
    let last = survivor.image_with(&pattern(100, 99)).await;
    survivor.delete(&last).await;
    wait_for(30, "the surviving node to scrub", || {
        survivor
            .log()
            .lines()
            .any(|l| l.contains("scrubbed image") && l.contains(last.as_str()))
            .then_some(())
    })
    .await;
    assert!(sites[0].store_files().is_empty());
    let listed = sites[0].admin_json(&["jobs", "list", "--json"], &env);
    let holder = listed["workers"][0]["holder"].as_str().unwrap().to_owned();
    let port = survivor.url.rsplit(':').next().unwrap();
    assert!(holder.contains(&format!(":{port}#")), "{holder}");
}

#[tokio::test]
async fn the_reaper_removes_orphaned_files_and_nothing_else() {
    let site = Site::new(
        "[jobs.reaper]\ninterval_secs = 1\norphan_grace_secs = 1",
        None,
    );
    let node = site.serve(&[]).await;
    let data = pattern(30_000, 7);
    let live = node.image_with(&data).await;
    // Data no image names, and a temporary file of an image nobody is uploading.
    for name in [
        uuid::Uuid::new_v4().to_string(),
        format!(".{live}.tmp-ff-0-0"),
    ] {
        std::fs::write(site.store.join(name), b"left behind").unwrap();
    }
    std::fs::write(site.store.join("notes.txt"), b"not the store's").unwrap();
    let mut expected = vec![live.clone(), "notes.txt".to_owned()];
    expected.sort();
    wait_for(20, "the reaper to remove the orphans", || {
        (site.store_files() == expected).then_some(())
    })
    .await;
    assert_eq!(node.log().matches("orphan removed").count(), 2);
    let r = node
        .client
        .get(format!("{}/v2/images/{live}/file", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn glint_scrub_removes_orphaned_files() {
    let site = Site::new(
        "[jobs.reaper]\nenabled = false\norphan_grace_secs = 1",
        None,
    );
    let node = site.serve(&[]).await;
    let live = node.image_with(&pattern(1_000, 8)).await;
    let stray = uuid::Uuid::new_v4().to_string();
    std::fs::write(site.store.join(&stray), b"left behind").unwrap();
    let report = wait_for(20, "glint scrub to remove the orphan", || {
        let report = site.admin_json(&["scrub", "--json"], &[]);
        (report["orphans"] == 1).then_some(report)
    })
    .await;
    assert_eq!(report["deleted"], 0);
    assert_eq!(site.store_files(), [live.as_str()]);
}

#[tokio::test]
async fn the_updater_retries_a_copy_image_a_store_refused() {
    copy_retried(false).await;
}

#[tokio::test]
async fn glint_jobs_run_updater_retries_a_copy_image_a_store_refused() {
    copy_retried(true).await;
}

/// A copy-image into a second file store whose directory is read-only fails
/// there and becomes a `copy_image` row; once the directory is writable, the
/// updater, run by the server or (`by_cli`) by `glint jobs run updater`,
/// writes the copy and records its location.
async fn copy_retried(by_cli: bool) {
    let spare = tempfile::tempdir().unwrap();
    hand_over(spare.path());
    let site = Site::new(
        &format!(
            "[jobs.reaper]\nenabled = false\n[jobs.updater]\nenabled = {}\ninterval_secs = 1\nretry_max_secs = 1\n[stores.spare]\ndriver = \"file\"\noptions = {{ datadir = {:?}, fsync = false }}\n",
            !by_cli,
            spare.path().display().to_string()
        ),
        None,
    );
    let env = [("GLINT_DEFAULT_STORE", "file")];
    let node = site.serve(&env).await;
    let data = pattern(30_000, 7);
    let id = node.image_with(&data).await;
    set_writable(spare.path(), false);
    let r = node
        .client
        .post(format!("{}/v2/images/{id}/import", node.url))
        .json(&json!({"method": {"name": "copy-image"}, "stores": ["spare"], "all_stores_must_succeed": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", node.log());

    // The failure is recorded twice in one write: on the image, and as a row.
    let row = wait_for(20, "a copy_image row", || {
        pending_work(&site)
            .into_iter()
            .find(|w| w["kind"] == "copy_image")
    })
    .await;
    let (_, image) = node.get(&format!("/v2/images/{id}")).await;
    assert_eq!(image["os_glance_failed_import"], "spare", "{image}");
    assert_eq!(image["stores"], "file", "{image}");
    assert_eq!(row["image_id"], id.as_str());
    assert_eq!(row["store"], "spare");
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.contains("copy-image into store 'spare' failed"),
        "{row}"
    );
    assert!(row["url"].as_str().unwrap().ends_with(&id), "{row}");
    let listed = site.admin(&["jobs", "list"], &env);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains(&format!("copy_image image {id} into store spare"))
            && text.contains("pending since")
            && text.contains("because: copy-image into store 'spare' failed"),
        "{text}"
    );

    // Still read-only: an attempt fails and says why.
    let failed = wait_for(20, "a failed attempt", || {
        if by_cli {
            let report = site.admin_json(&["jobs", "run", "updater", "--json"], &env);
            assert_eq!(report["done"], 0, "{report}");
        }
        pending_work(&site)
            .into_iter()
            .find(|w| w["kind"] == "copy_image" && w["attempts"].as_u64() > Some(0))
    })
    .await;
    assert!(failed["last_error"].is_string(), "{failed}");
    assert!(std::fs::read_dir(spare.path()).unwrap().next().is_none());

    set_writable(spare.path(), true);
    wait_for(20, "the copy in the spare store", || {
        if by_cli {
            // The row is due again a second after its failed attempt.
            let report = site.admin_json(&["jobs", "run", "updater", "--json"], &env);
            if report["done"] == 0 {
                return None;
            }
            assert_eq!(report["done"], 1, "{report}");
            assert_eq!(report["pending_work"], 0, "{report}");
        }
        pending_work(&site).is_empty().then_some(())
    })
    .await;
    let (_, image) = node.get(&format!("/v2/images/{id}")).await;
    let stores: Vec<&str> = image["stores"].as_str().unwrap().split(',').collect();
    assert!(
        stores.contains(&"spare") && stores.contains(&"file"),
        "{image}"
    );
    assert_eq!(std::fs::read(spare.path().join(&id)).unwrap(), data);
}

/// The one-shot job commands draw their progress only on a terminal: piped,
/// as under cron or a script, both streams are plain text, and the result
/// lines are the same as ever.
#[tokio::test]
async fn piped_job_commands_print_no_escape_codes() {
    // No updater on the server: its killed process would keep the lease.
    let site = Site::new(
        &format!("{NO_REAPER}\n[jobs.updater]\nenabled = false"),
        None,
    );
    let node = site.serve(&[]).await;
    let id = node.image_with(&pattern(5_000, 4)).await;
    set_writable(&site.store, false);
    node.delete(&id).await;
    drop(node);
    set_writable(&site.store, true);
    let runs: [(&[&str], &str); 4] = [
        (&["scrub"], "0 pending work rows left"),
        (&["jobs", "run", "updater"], "updater: "),
        (&["jobs", "run", "recovery"], "recovery: freed: 0"),
        (
            &["db", "purge", "--age-in-days", "0"],
            "image_tags: 2 rows purged",
        ),
    ];
    for (args, expected) in runs {
        let out = site.admin(args, &[("GLINT_LOG", "warn")]);
        assert!(out.status.success(), "glint {args:?}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(expected), "glint {args:?}: {stdout}");
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !stream.contains(&0x1b),
                "glint {args:?} wrote an escape code on {name}: {:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }
    assert!(site.store_files().is_empty());
}

/// A copy row whose image is deleted meanwhile is given up: it stays listed
/// with why, and is not tried again.
#[tokio::test]
async fn a_copy_for_a_deleted_image_is_given_up() {
    let spare = tempfile::tempdir().unwrap();
    hand_over(spare.path());
    let site = Site::new(
        &format!(
            "{NO_REAPER}\n[jobs.updater]\nenabled = false\n[stores.spare]\ndriver = \"file\"\noptions = {{ datadir = {:?}, fsync = false }}\n",
            spare.path().display().to_string()
        ),
        None,
    );
    let env = [("GLINT_DEFAULT_STORE", "file")];
    let node = site.serve(&env).await;
    let id = node.image_with(&pattern(8_000, 5)).await;
    set_writable(spare.path(), false);
    let r = node
        .client
        .post(format!("{}/v2/images/{id}/import", node.url))
        .json(&json!({"method": {"name": "copy-image"}, "stores": ["spare"], "all_stores_must_succeed": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", node.log());
    wait_for(20, "a copy_image row", || {
        pending_work(&site)
            .into_iter()
            .find(|w| w["kind"] == "copy_image")
    })
    .await;
    node.delete(&id).await;
    set_writable(spare.path(), true);

    let report = site.admin_json(&["jobs", "run", "updater", "--json"], &env);
    assert_eq!(report["done"], 0, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    let row = pending_work(&site)
        .into_iter()
        .find(|w| w["kind"] == "copy_image")
        .expect("the given-up row stays listed");
    assert_eq!(
        row["last_error"],
        format!("gave up: image {id} is gone").as_str(),
        "{row}"
    );
    // Never due again: a second run does not touch it.
    let again = site.admin_json(&["jobs", "run", "updater", "--json"], &env);
    assert_eq!(again["failed"], 0, "{again}");
    assert!(std::fs::read_dir(spare.path()).unwrap().next().is_none());
}
