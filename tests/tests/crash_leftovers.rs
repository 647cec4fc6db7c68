//! What a `kill -9` of Glint in the middle of an upload leaves in each store, and what cleans
//! it up, against the real backends:
//! - rbd (the shared Ceph cluster, in a pool of this file's own): the write's temporary image
//!   `.<id>.tmp-…` stays in the pool. While the upload runs, the orphan audit does not report
//!   it (the writer watches the image); once the killed writer's watch has timed out, the audit
//!   reports it as an orphan of its image and hands it to the reaper, which removes it.
//! - file: the temporary file `.<id>.tmp-…` stays; unlisted while its writer holds its lock,
//!   reported and reaped once the writer is gone (the reaper's own file sweep is off here, so
//!   the audit path is the one tested).
//! - swift: the segments written so far stay; the store's own sweep removes them once the
//!   newest is older than `orphan_min_age_secs`, and never the segments of an upload that is
//!   still writing, however long it runs.
//!
//! Each test then uploads the image again, which succeeds, and leaves nothing else behind.

mod backends;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glint_blackbox::{Glint, StatusCode, pattern};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::mpsc;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// This file's own RBD pool in the shared cluster: the orphan audit hands everything it finds
/// there to the reaper at once, which it must never do in the pool other tests share.
const POOL: &str = "glint-crash-leftovers";

fn inline_table(options: &Value) -> String {
    let fields: Vec<String> = options
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

/// A Glint whose stores are `file` (the default) and `extra`, with the jobs set for the drill:
/// leases of 2 s and recovery every second (a killed node's upload is freed within seconds),
/// the reaper every second without its file sweep, the auditor run by hand with no grace.
struct Site {
    glint: Option<Glint>,
    _config_dir: TempDir,
    config: PathBuf,
    plugins: String,
    file_dir: TempDir,
}

impl Site {
    async fn start(extra: &[(&str, &str, Value)]) -> Site {
        let config_dir = tempfile::tempdir().unwrap();
        let file_dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "default_store = \"file\"\n\n[cache]\nenabled = false\n\n[jobs]\nlease_secs = 2\n\n\
             [jobs.recovery]\ninterval_secs = 1\n\n[jobs.reaper]\ninterval_secs = 1\n\
             sweep_orphans = false\n\n[jobs.audit]\nenabled = false\norphan_grace_secs = 0\n\n\
             [stores.file]\ndriver = \"file\"\noptions = {}\n",
            inline_table(&json!({ "datadir": file_dir.path(), "fsync": false }))
        );
        for (id, driver, options) in extra {
            config.push_str(&format!(
                "\n[stores.{id}]\ndriver = \"{driver}\"\noptions = {}\n",
                inline_table(options)
            ));
        }
        let file = config_dir.path().join("glint.toml");
        std::fs::write(&file, config).unwrap();
        let plugins = backends::plugin_paths(&["glint-store-swift", "glint-store-rbd"]);
        let mut site = Site {
            glint: None,
            config: file,
            _config_dir: config_dir,
            plugins,
            file_dir,
        };
        let glint = Glint::start_with(&site.env()).await;
        site.glint = Some(glint);
        site
    }

    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("GLINT_CONFIG", self.config.to_str().unwrap()),
            ("GLINT_PLUGINS__PATHS", self.plugins.as_str()),
        ]
    }

    fn glint(&self) -> &Glint {
        self.glint.as_ref().unwrap()
    }

    /// `kill -9` of the server; returns when the process is gone.
    fn kill_9(&mut self) {
        let pid = self.glint().pid().to_string();
        let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| stat.contains(") Z"))
        {
            assert!(Instant::now() < deadline, "glint {pid} did not die");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory (and database).
    async fn restart(&mut self) {
        let mut old = self.glint.take().unwrap();
        let data_dir = std::mem::replace(&mut old.data_dir, tempfile::tempdir().unwrap());
        drop(old);
        let env = self.env();
        let glint = Glint::start_in_with(data_dir, &env).await;
        self.glint = Some(glint);
    }

    /// Runs `glint <args> --json` beside the server; its exit code and document.
    fn admin_json(&self, args: &[&str]) -> (i32, Value) {
        let out = Command::new(glint_blackbox::target_dir().join("glint"))
            .args(args)
            .args(["--json", "--data-dir", "."])
            .current_dir(self.glint().data_dir.path())
            .env("GLINT_CONFIG", &self.config)
            .env("GLINT_PLUGINS__PATHS", &self.plugins)
            .env("GLINT_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "glint {args:?}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), doc)
    }

    /// One orphan audit of `store`.
    fn audit_orphans(&self, store: &str) -> Value {
        let (code, found) = self.admin_json(&["audit", "--orphans", "--store", store]);
        assert_eq!(code, 0, "{found}");
        found
    }

    /// Audits `store` for orphans until one is handed to the reaper, for at most `secs`.
    async fn audit_until_handed_over(&self, store: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let found = self.audit_orphans(store);
            if found["orphans_handed_over"] != 0 {
                assert_eq!(found["orphans_handed_over"], 1, "{found}");
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no orphan handed over in {secs} s: {found}"
            );
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }

    /// The orphan rows of `store` in the audit report.
    fn orphan_rows(&self, store: &str) -> Vec<Value> {
        let (_, report) = self.admin_json(&["audit", "report", "--all"]);
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["store"] == store && r["kind"] == "orphan")
            .cloned()
            .collect()
    }

    async fn create(&self) -> String {
        let img = self
            .glint()
            .create(json!({"disk_format": "raw", "container_format": "bare"}))
            .await;
        img["id"].as_str().unwrap().to_owned()
    }

    async fn status(&self, id: &str) -> String {
        self.glint().show(id).await["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn wait_status(&self, id: &str, status: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.status(id).await;
            if now == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "image {id} is still {now}, not {status}\n{}",
                self.glint().log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Starts `PUT /file` into `store` with a body the test feeds (chunked: size unknown).
    fn start_upload(&self, id: &str, store: &str) -> mpsc::Sender<Bytes> {
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let body = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let request = self
            .glint()
            .put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .header("x-image-meta-store", store)
            .body(reqwest::Body::wrap_stream(body));
        tokio::spawn(async move {
            // Ignored result: the server is killed under this request.
            let _ = request.send().await;
        });
        tx
    }

    async fn upload(&self, id: &str, store: &str, data: &[u8]) -> StatusCode {
        self.glint()
            .put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .header("x-image-meta-store", store)
            .body(data.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    }

    fn file_store(&self) -> Vec<String> {
        names_in(self.file_dir.path())
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Polls `check` every 200 ms until it holds, for at most `secs` seconds.
async fn wait_until(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The report row of an orphaned temporary object of image `id`, handed to the reaper.
fn assert_reported_temporary(rows: &[Value], id: &str) {
    let temporary = format!(".{id}.tmp-");
    let row = rows
        .iter()
        .find(|r| r["url"].as_str().unwrap().contains(&temporary))
        .unwrap_or_else(|| panic!("no orphan row for {temporary}: {rows:?}"));
    assert_eq!(row["image_id"], id, "{row}");
    assert_eq!(row["outcome"], "handed_to_reaper", "{row}");
    assert!(
        row["found"].as_str().unwrap().contains("unfinished write"),
        "{row}"
    );
}

/// `rbd` as the cluster's administrator, in this file's pool.
struct Pool {
    conf: String,
    keyring: String,
}

impl Pool {
    /// The pool, created on first use, emptied of what an earlier run may have left.
    fn ready() -> Pool {
        let ceph = backends::ceph();
        let dir = Path::new(&ceph.conf).parent().unwrap();
        let pool = Pool {
            conf: ceph.conf.clone(),
            keyring: dir
                .join("ceph.client.admin.keyring")
                .to_str()
                .unwrap()
                .to_owned(),
        };
        backends::ceph_admin(&pool.conf, &["osd", "pool", "create", POOL, "8", "8"]);
        backends::ceph_admin(
            &pool.conf,
            &[
                "osd",
                "pool",
                "set",
                POOL,
                "size",
                "1",
                "--yes-i-really-mean-it",
            ],
        );
        pool.rbd(&["pool", "init", POOL]);
        for name in pool.images() {
            let image = format!("{POOL}/{name}");
            // Either may fail: no snapshot, or not protected.
            pool.try_rbd(&["snap", "unprotect", &format!("{image}@snap")]);
            pool.try_rbd(&["snap", "purge", &image]);
            pool.rbd(&["rm", &image]);
        }
        pool
    }

    fn try_rbd(&self, args: &[&str]) -> std::process::Output {
        Command::new("rbd")
            .args(["-c", &self.conf, "-k", &self.keyring, "-n", "client.admin"])
            .args(args)
            .output()
            .expect("run the rbd command")
    }

    fn rbd(&self, args: &[&str]) -> String {
        let output = self.try_rbd(args);
        assert!(
            output.status.success(),
            "rbd {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `rbd ls` of the pool.
    fn images(&self) -> Vec<String> {
        let mut names: Vec<String> = self.rbd(&["ls", POOL]).lines().map(str::to_owned).collect();
        names.sort();
        names
    }

    fn options(&self) -> Value {
        let mut options = backends::ceph().options();
        options["pool"] = json!(POOL);
        options["rados_user"] = json!("admin");
        options["keyring"] = json!(self.keyring);
        options
    }
}

#[tokio::test]
async fn kill_9_mid_upload_into_rbd_leaves_a_temporary_image_that_the_audit_and_reaper_remove() {
    let started = Instant::now();
    let pool = tokio::task::spawn_blocking(Pool::ready).await.unwrap();
    assert_eq!(pool.images(), Vec::<String>::new());
    let mut site = Site::start(&[("rbd", "rbd", pool.options())]).await;

    let id = site.create().await;
    let upload = site.start_upload(&id, "rbd");
    upload.send(Bytes::from(pattern(2 * MIB, 1))).await.unwrap();
    let temporary = format!(".{id}.tmp-");
    wait_until(60, "the temporary image", || {
        pool.images().iter().any(|n| n.starts_with(&temporary))
    })
    .await;
    site.wait_status(&id, "saving", 30).await;

    // A write in progress is not an orphan: the store does not list it.
    let found = site.audit_orphans("rbd");
    assert_eq!(found["orphans_listed"], 0, "{found}");
    assert_eq!(found["orphans_handed_over"], 0, "{found}");

    site.kill_9();
    let killed = Instant::now();
    drop(upload);
    let left = pool.images();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&temporary), "{left:?}");
    eprintln!("rbd: left in the pool after kill -9: {left:?}");

    site.restart().await;
    site.wait_status(&id, "queued", 60).await;
    // Listed once the cluster has dropped the killed writer's watch: after the OSD's watch
    // timeout (30 s by default), but minutes later on this test cluster at times.
    site.audit_until_handed_over("rbd", 900).await;
    let reported = killed.elapsed();
    assert_reported_temporary(&site.orphan_rows("rbd"), &id);
    wait_until(60, "the reaper to remove the temporary image", || {
        pool.images().is_empty()
    })
    .await;
    let removed = killed.elapsed();
    eprintln!(
        "rbd: temporary image reported {:.1} s and removed {:.1} s after kill -9",
        reported.as_secs_f64(),
        removed.as_secs_f64()
    );
    assert_eq!(site.audit_orphans("rbd")["orphans_listed"], 0);

    let data = pattern(3 * MIB + 17, 2);
    assert_eq!(site.upload(&id, "rbd", &data).await, StatusCode::NO_CONTENT);
    assert_eq!(site.status(&id).await, "active");
    assert_eq!(pool.images(), [id.clone()]);
    let r = site
        .glint()
        .delete(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(pool.images(), Vec::<String>::new());
    eprintln!("rbd: test {:.1?}", started.elapsed());
}

#[tokio::test]
async fn kill_9_mid_upload_into_a_file_store_leaves_a_temporary_file_that_the_audit_and_reaper_remove()
 {
    let mut site = Site::start(&[]).await;
    let id = site.create().await;
    let upload = site.start_upload(&id, "file");
    upload.send(Bytes::from(pattern(2 * MIB, 3))).await.unwrap();
    let temporary = format!(".{id}.tmp-");
    wait_until(60, "the temporary file", || {
        site.file_store().iter().any(|n| n.starts_with(&temporary))
    })
    .await;
    site.wait_status(&id, "saving", 30).await;

    // A write in progress is not an orphan: its writer holds its lock.
    let found = site.audit_orphans("file");
    assert_eq!(found["orphans_listed"], 0, "{found}");

    site.kill_9();
    let killed = Instant::now();
    drop(upload);
    let left = site.file_store();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&temporary), "{left:?}");

    site.restart().await;
    site.wait_status(&id, "queued", 60).await;
    let found = site.audit_until_handed_over("file", 60).await;
    assert_eq!(found["orphans_listed"], 1, "{found}");
    let reported = killed.elapsed();
    assert_reported_temporary(&site.orphan_rows("file"), &id);
    wait_until(60, "the reaper to remove the temporary file", || {
        site.file_store().is_empty()
    })
    .await;
    eprintln!(
        "file: temporary file reported {:.1} s and removed {:.1} s after kill -9",
        reported.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );

    let data = pattern(MIB + 5, 4);
    assert_eq!(
        site.upload(&id, "file", &data).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(site.file_store(), [id.clone()]);
}

#[tokio::test]
async fn swift_segments_of_a_killed_upload_are_swept_and_a_slow_live_upload_keeps_its_own() {
    let swift = backends::shared_swift();
    let container = backends::container_name("crash-leftovers");
    let mut options = swift.options(&container);
    options["large_object_chunk_size"] = json!(256 * KIB);
    options["orphan_sweep_interval_secs"] = json!(1);
    options["orphan_min_age_secs"] = json!(10);
    let mut site = Site::start(&[("swift", "swift", options)]).await;
    let account = swift.account().await;

    // A slow upload: 256 KiB a second for 20 s, twice the sweep's minimum age. (The server
    // hands the store 256 KiB pieces, so a segment comes every second.) Its first
    // segments grow older than that age while it runs; the sweep leaves them, as their
    // newest is never older than a few seconds.
    let slow = site.create().await;
    let upload = site.start_upload(&slow, "swift");
    let data = pattern(20 * 256 * KIB, 5);
    let uploading = tokio::spawn({
        let data = data.clone();
        async move {
            for piece in data.chunks(256 * KIB) {
                upload.send(Bytes::copy_from_slice(piece)).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    uploading.await.unwrap();
    site.wait_status(&slow, "active", 60).await;
    let r = site
        .glint()
        .get(&format!("/v2/images/{slow}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap() == data);

    // A killed upload (1.5 MiB sent, of which the server passes 1 MiB on: four segments): its
    // segments stay until the sweep of the restarted server.
    let id = site.create().await;
    let upload = site.start_upload(&id, "swift");
    upload
        .send(Bytes::from(pattern(6 * 256 * KIB, 6)))
        .await
        .unwrap();
    let segment = format!("{id}-");
    let deadline = Instant::now() + Duration::from_secs(60);
    while account
        .objects(&container)
        .await
        .iter()
        .filter(|n| n.starts_with(&segment))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no segments written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    site.kill_9();
    let killed = Instant::now();
    drop(upload);
    let left: Vec<String> = account
        .objects(&container)
        .await
        .into_iter()
        .filter(|n| n.starts_with(&segment))
        .collect();
    eprintln!("swift: segments left after kill -9: {left:?}");
    assert!(!left.is_empty());

    site.restart().await;
    site.wait_status(&id, "queued", 60).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let objects = account.objects(&container).await;
        if !objects.iter().any(|n| n.starts_with(&segment)) {
            break;
        }
        assert!(Instant::now() < deadline, "segments not swept: {objects:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "swift: segments of the killed upload swept {:.1} s after kill -9",
        killed.elapsed().as_secs_f64()
    );
    // The slow upload's image is whole.
    let r = site
        .glint()
        .get(&format!("/v2/images/{slow}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap() == data);

    let retry = pattern(MIB + 3, 7);
    assert_eq!(
        site.upload(&id, "swift", &retry).await,
        StatusCode::NO_CONTENT
    );
    account.purge(&container).await;
}
