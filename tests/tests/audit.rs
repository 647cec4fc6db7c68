//! The auditor against the real binary and real file stores: a corrupted
//! byte and a deleted file are found and reported (`glint audit`, `glint
//! audit report`), the download path reads the healthy copy meanwhile, `glint
//! audit repair` re-copies from it, an unaffected image is never flagged;
//! orphans are handed to the reaper; a content audit stopped by `kill -9`
//! resumes where it stopped; the running job repairs on its own with
//! `auto_repair`, counts in the metric and logs at WARN.
//!
//! Two file stores: `fast` (weight 100, the default) and `spare` (weight 10).
//! A second copy of an image is placed as a copy-image import leaves it: the
//! file in `spare`'s directory and a location added on the server's database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, free_port, md5_hex, pattern};
use glint_core::db::Database;
use glint_core::domain::{ImageStatus, Location};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

struct Site {
    glint: Glint,
    fast: TempDir,
    spare: TempDir,
    config: PathBuf,
    _config_dir: TempDir,
}

impl Site {
    /// A server with two file stores and `audit` as the `[jobs.audit]` settings.
    async fn start(audit: &str, extra: &str) -> Site {
        let fast = tempfile::tempdir().unwrap();
        let spare = tempfile::tempdir().unwrap();
        let config_dir = tempfile::tempdir().unwrap();
        let config = config_dir.path().join("glint.toml");
        std::fs::write(
            &config,
            format!(
                r#"default_store = "fast"
{extra}

[cache]
enabled = false

[jobs.audit]
{audit}

[stores.fast]
driver = "file"
weight = 100
options = {{ datadir = {fast:?}, fsync = false }}

[stores.spare]
driver = "file"
weight = 10
options = {{ datadir = {spare:?}, fsync = false }}
"#,
                fast = fast.path().to_str().unwrap(),
                spare = spare.path().to_str().unwrap(),
            ),
        )
        .unwrap();
        let glint = Glint::start_with(&[("GLINT_CONFIG", config.to_str().unwrap())]).await;
        Site {
            glint,
            fast,
            spare,
            config,
            _config_dir: config_dir,
        }
    }

    fn dir(&self, store: &str) -> PathBuf {
        let dir = match store {
            "fast" => self.fast.path(),
            "spare" => self.spare.path(),
            other => panic!("no directory for store {other}"),
        };
        std::fs::canonicalize(dir).unwrap()
    }

    fn file(&self, store: &str, id: &str) -> PathBuf {
        self.dir(store).join(id)
    }

    async fn image(&self, data: &[u8]) -> String {
        let id = self.glint.create_with_data("audited", data).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(self.file("fast", &id).exists());
        id
    }

    /// A second copy of image `id` in `spare`, as a copy-image import leaves it.
    async fn add_copy(&self, id: &str, data: &[u8]) {
        let file = self.file("spare", id);
        std::fs::write(&file, data).unwrap();
        let db = self.database().await;
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), "spare".into());
        let location = Location {
            url: format!("file://{}", file.display()),
            metadata,
            status: "active".into(),
        };
        db.append_location(
            Uuid::parse_str(id).unwrap(),
            &location,
            &[ImageStatus::Active],
        )
        .await
        .unwrap();
        db.close().await;
    }

    async fn database(&self) -> Database {
        let url = format!(
            "sqlite://{}?mode=rwc",
            self.glint.data_dir.path().join("glint.db").display()
        );
        Database::connect(&url).await.unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(glint_blackbox::target_dir().join("glint"));
        cmd.args(args)
            .args(["--data-dir", "."])
            .current_dir(self.glint.data_dir.path())
            .env("GLINT_CONFIG", &self.config)
            .env(
                "GLINT_PLUGINS__PATHS",
                format!("[{:?}]", glint_sdk_testkit::cdylib_path("glint-store-file")),
            )
            .env("GLINT_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    fn admin(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run glint")
    }

    /// Runs `glint <args> --json`; its exit code and document.
    fn admin_json(&self, args: &[&str]) -> (i32, Value) {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.admin(&args);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "glint {args:?} printed no JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), doc)
    }

    fn findings(&self) -> Vec<Value> {
        let (code, doc) = self.admin_json(&["audit", "report"]);
        assert_eq!(code, 0, "{doc}");
        doc["results"].as_array().unwrap().clone()
    }

    async fn download(&self, id: &str) -> Vec<u8> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }
}

/// Flips one byte in the middle of `file`, keeping its size.
fn corrupt_one_byte(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(file, bytes).unwrap();
}

const MANUAL: &str = "enabled = false\nreaudit_days = 0\norphan_grace_secs = 0";

#[tokio::test]
async fn a_corrupted_byte_is_found_reported_avoided_and_repaired_from_the_healthy_copy() {
    let site = Site::start(MANUAL, "").await;
    let data = pattern(3 << 20, 11);
    let damaged = site.image(&data).await;
    site.add_copy(&damaged, &data).await;
    let bystander_data = pattern(100_000, 12);
    let bystander = site.image(&bystander_data).await;

    let (code, clean) = site.admin_json(&["audit", "--content"]);
    assert_eq!(code, 0, "{clean}");
    assert_eq!(clean["presence_checked"], 3);
    assert_eq!(clean["content_checked"], 3);
    assert_eq!(clean["content_bytes"], 2 * (3 << 20) + 100_000);
    assert!(site.findings().is_empty());

    corrupt_one_byte(&site.file("fast", &damaged));
    // The presence audit cannot see a changed byte; the content audit does.
    let (code, presence) = site.admin_json(&["audit"]);
    assert_eq!((code, presence["presence_failed"].clone()), (0, json!(0)));
    let (code, found) = site.admin_json(&["audit", "--content"]);
    assert_eq!(code, 2, "damage found: {found}");
    assert_eq!(found["content_failed"], 1);
    let findings = site.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let finding = &findings[0];
    assert_eq!(finding["kind"], "content");
    assert_eq!(finding["outcome"], "checksum_mismatch");
    assert_eq!(finding["image_id"], damaged.as_str());
    assert_eq!(finding["store"], "fast");
    let expected = finding["expected"].as_str().unwrap();
    assert!(expected.contains(&md5_hex(&data)), "{expected}");
    let mut corrupted = data.clone();
    corrupted[data.len() / 2] ^= 0x5a;
    assert!(
        finding["found"]
            .as_str()
            .unwrap()
            .contains(&md5_hex(&corrupted))
    );
    assert!(finding["first_failed_at"].is_string());

    // The API reads the healthy copy, though the damaged one is in the heavier store.
    assert_eq!(site.download(&damaged).await, data);
    assert_eq!(site.download(&bystander).await, bystander_data);

    let (code, repaired) = site.admin_json(&["audit", "repair", &damaged]);
    assert_eq!(code, 0, "{repaired}");
    assert_eq!(repaired["repaired"].as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read(site.file("fast", &damaged)).unwrap(), data);
    let (code, after) = site.admin_json(&["audit", "--content"]);
    assert_eq!(
        (code, after["content_failed"].clone()),
        (0, json!(0)),
        "{after}"
    );
    assert!(site.findings().is_empty());
    let text = String::from_utf8(site.admin(&["audit", "report"]).stdout).unwrap();
    assert_eq!(text.trim(), "no audit findings");
}

#[tokio::test]
async fn a_deleted_file_is_missing_and_without_a_healthy_copy_is_not_repaired() {
    let site = Site::start(MANUAL, "").await;
    let data = pattern(200_000, 21);
    let lost = site.image(&data).await;
    let kept = site.image(&pattern(1000, 22)).await;
    std::fs::remove_file(site.file("fast", &lost)).unwrap();

    let (code, found) = site.admin_json(&["audit"]);
    assert_eq!(code, 2, "{found}");
    assert_eq!(
        (
            found["presence_checked"].clone(),
            found["presence_failed"].clone()
        ),
        (json!(2), json!(1))
    );
    let findings = site.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (
            findings[0]["outcome"].as_str(),
            findings[0]["image_id"].as_str()
        ),
        (Some("missing"), Some(lost.as_str()))
    );
    assert_eq!(findings[0]["expected"], "200000 bytes");
    assert!(!findings.iter().any(|f| f["image_id"] == kept.as_str()));

    let (code, repair) = site.admin_json(&["audit", "repair", &lost]);
    assert_eq!(code, 1, "{repair}");
    assert_eq!(repair["failed"][0][1], "no healthy copy to repair from");
    // One store only: `--store spare` checks nothing.
    let (code, none) = site.admin_json(&["audit", "--store", "spare"]);
    assert_eq!((code, none["presence_checked"].clone()), (0, json!(0)));
    let (code, refused) = site.admin_json(&["audit", "--store", "nowhere"]);
    assert_eq!(code, 1);
    assert!(refused["error"].as_str().unwrap().contains("nowhere"));
}

#[tokio::test]
async fn orphans_in_a_file_store_are_handed_to_the_reaper_and_live_data_is_kept() {
    let site = Site::start(MANUAL, "[jobs.reaper]\nenabled = false").await;
    let live = site.image(&pattern(5000, 31)).await;
    let stray = Uuid::new_v4().to_string();
    std::fs::write(site.file("fast", &stray), b"left behind").unwrap();
    std::fs::write(site.dir("fast").join("notes.txt"), b"not an image").unwrap();

    let (code, found) = site.admin_json(&["audit", "--orphans"]);
    assert_eq!(code, 0, "{found}");
    assert_eq!(found["orphans_listed"], 3);
    assert_eq!(found["orphans_handed_over"], 2);
    let (_, jobs) = site.admin_json(&["jobs", "list"]);
    let mut pending: Vec<String> = jobs["pending_work"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["url"].as_str().unwrap().to_owned())
        .collect();
    pending.sort();
    let mut expected = vec![
        format!("file://{}", site.file("fast", &stray).display()),
        format!("file://{}", site.dir("fast").join("notes.txt").display()),
    ];
    expected.sort();
    assert_eq!(pending, expected);
    let findings = site.findings();
    assert!(
        findings
            .iter()
            .all(|f| f["kind"] == "orphan" && f["outcome"] == "handed_to_reaper")
    );
    // The reaper deletes what it was handed; the image's data stays.
    let out = site.admin(&["scrub"]);
    assert!(out.status.success(), "{out:?}");
    let mut left: Vec<String> = std::fs::read_dir(site.dir("fast"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [live]);
}

#[tokio::test]
async fn a_content_audit_killed_midway_resumes_where_it_stopped() {
    // A short lease: the killed process's lease on the audit expires quickly.
    let site = Site::start(
        "enabled = false\ncontent_mb_per_sec = 1",
        "[jobs]\nlease_secs = 1",
    )
    .await;
    let mut ids = Vec::new();
    for seed in 0..3 {
        ids.push(site.image(&pattern(1_500_000, 40 + seed)).await);
    }
    let mut child = site
        .command(&["audit", "--content", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = site.database().await;
    let content_rows = || async {
        db.audit_results(true, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == glint_core::db::AuditKind::Content)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while content_rows().await == 0 {
        assert!(Instant::now() < deadline, "no content audit finished");
        assert!(child.try_wait().unwrap().is_none(), "the audit ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = content_rows().await;
    assert!((1..3).contains(&done), "{done} audited before the kill");

    // The dead process holds the audit lease until it expires: refused meanwhile.
    let (code, resumed) = loop {
        let (code, doc) = site.admin_json(&["audit", "--content"]);
        if code != 1 || Instant::now() > deadline {
            break (code, doc);
        }
        assert!(
            doc["error"].as_str().unwrap().contains("another node"),
            "{doc}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(code, 0, "{resumed}");
    assert_eq!(
        resumed["content_checked"],
        3 - done as u64,
        "only what was left is read"
    );
    assert_eq!(content_rows().await, 3);
    // Nothing is due any more within reaudit_days.
    let (_, again) = site.admin_json(&["audit", "--content"]);
    assert_eq!(again["content_checked"], 0);
    db.close().await;
}

#[tokio::test]
async fn the_running_job_repairs_counts_and_warns() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let site = Site::start(
        "enabled = true\ninterval_secs = 1\ncontent = true\nreaudit_days = 0\nauto_repair = true",
        &format!("[metrics]\nbind = {metrics:?}"),
    )
    .await;
    let data = pattern(400_000, 51);
    let id = site.image(&data).await;
    site.add_copy(&id, &data).await;
    corrupt_one_byte(&site.file("spare", &id));

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = site.glint.log();
        let repaired = std::fs::read(site.file("spare", &id)).unwrap() == data
            && log.contains("damaged copy repaired");
        if repaired {
            assert!(
                log.contains("WARN") && log.contains("audit: stored data differs"),
                "{log}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never repaired:\n{log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = site.glint.metrics_text(&metrics).await;
    let failed = text
        .lines()
        .find(|l| l.starts_with("glint_audit_checks_total") && l.contains("checksum_mismatch"))
        .unwrap_or_else(|| panic!("no failed check counted:\n{text}"));
    assert!(
        failed.contains("store=\"spare\"") && failed.contains("kind=\"content\""),
        "{failed}"
    );
}
