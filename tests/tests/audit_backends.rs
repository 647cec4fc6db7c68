//! The auditor on the real backends: one Glint over `file`, `swift` (a real tempauth Swift) and
//! `rbd` (a real Ceph cluster). An image copied to the three stores is damaged behind Glint's
//! back in each one (a byte flipped in the file, the Swift object deleted, the RBD image shrunk):
//! `glint audit` finds and reports each, an image copied alongside is never flagged, and `glint
//! audit repair` re-copies the three from the fourth copy, left healthy in a second file store.
//! Orphans placed in each backend are found through each driver's listing. Both backends are shared: the test only touches its own
//! container and its own RBD images, and hands nothing of the shared pool to a reaper (the
//! RBD orphan stays within its grace period; the reaper is off).

mod backends;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use backends::{Ceph, Swift};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

struct Site {
    glint: Glint,
    file_dir: TempDir,
    _spare_dir: TempDir,
    swift: &'static Swift,
    container: String,
    ceph: &'static Ceph,
    config: PathBuf,
    plugins: String,
    _config_dir: TempDir,
}

fn inline_table(options: &Value) -> String {
    let fields: Vec<String> = options
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

impl Site {
    async fn start(tag: &str) -> Site {
        let swift = backends::shared_swift();
        let ceph = backends::ceph();
        let file_dir = tempfile::tempdir().unwrap();
        let spare_dir = tempfile::tempdir().unwrap();
        let container = backends::container_name(tag);
        let stores = [
            (
                "file",
                100,
                json!({ "datadir": file_dir.path(), "fsync": false }),
            ),
            ("swift", 75, swift.options(&container)),
            ("rbd", 50, ceph.options()),
            (
                "spare",
                10,
                json!({ "datadir": spare_dir.path(), "fsync": false }),
            ),
        ];
        let mut config = String::from(
            "default_store = \"file\"\n\n[cache]\nenabled = false\n\n[jobs.reaper]\nenabled = false\n\n[jobs.audit]\nenabled = false\nreaudit_days = 0\norphan_grace_secs = 0\n",
        );
        for (store, weight, options) in &stores {
            let driver = if *store == "spare" { "file" } else { store };
            config.push_str(&format!(
                "\n[stores.{store}]\ndriver = \"{driver}\"\nweight = {weight}\noptions = {}\n",
                inline_table(options)
            ));
        }
        let config_dir = tempfile::tempdir().unwrap();
        let file = config_dir.path().join("glint.toml");
        std::fs::write(&file, config).unwrap();
        let plugins = backends::plugin_paths(&["glint-store-swift", "glint-store-rbd"]);
        let glint = Glint::start_with(&[
            ("GLINT_CONFIG", file.to_str().unwrap()),
            ("GLINT_PLUGINS__PATHS", &plugins),
        ])
        .await;
        Site {
            glint,
            file_dir,
            _spare_dir: spare_dir,
            swift,
            container,
            ceph,
            config: file,
            plugins,
            _config_dir: config_dir,
        }
    }

    async fn copy_to(&self, id: &str, stores: &[&str]) {
        let r = self
            .glint
            .post(&format!("/v2/images/{id}/import"))
            .json(&json!({"method": {"name": "copy-image"}, "stores": stores}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::ACCEPTED,
            "{}",
            r.text().await.unwrap()
        );
        for _ in 0..600 {
            let img = self.glint.show(id).await;
            let importing = img["os_glance_importing_to_stores"].as_str().unwrap_or("");
            if img.get("os_glance_import_task").is_none() && importing.is_empty() {
                let held = img["stores"].as_str().unwrap();
                assert!(stores.iter().all(|s| held.contains(s)), "{img}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("copy-image of {id} did not finish");
    }

    /// Runs `glint <args> --json`; its exit code and document.
    fn admin_json(&self, args: &[&str]) -> (i32, Value) {
        let out = Command::new(glint_blackbox::target_dir().join("glint"))
            .args(args)
            .args(["--json", "--data-dir", "."])
            .current_dir(self.glint.data_dir.path())
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

    fn findings(&self, image: &str) -> Vec<(String, String)> {
        let (_, doc) = self.admin_json(&["audit", "report"]);
        let mut found: Vec<(String, String)> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["image_id"] == image)
            .map(|r| {
                (
                    r["store"].as_str().unwrap().to_owned(),
                    r["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    }

    async fn download(&self, id: &str, prefer: &str) -> Vec<u8> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file?prefer={prefer}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }
}

#[tokio::test]
async fn damage_in_file_swift_and_rbd_is_found_reported_and_repaired() {
    let site = Site::start("audit").await;
    let data = pattern((2 << 20) + 4321, 81);
    let id = site.glint.create_with_data("audited", &data).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    site.copy_to(&id, &["swift", "rbd", "spare"]).await;
    let bystander_data = pattern(300_000, 82);
    let bystander = site
        .glint
        .create_with_data("bystander", &bystander_data)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    site.copy_to(&bystander, &["swift", "rbd"]).await;

    let (code, clean) = site.admin_json(&["audit", "--content"]);
    assert_eq!(code, 0, "{clean}");
    assert_eq!(clean["presence_checked"], 7);
    assert_eq!(clean["content_checked"], 7);

    // Behind Glint's back: a byte flipped in the file, the Swift object deleted, the RBD image shrunk.
    let file = site.file_dir.path().canonicalize().unwrap().join(&id);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    site.swift
        .account()
        .await
        .delete_object(&site.container, &id)
        .await;
    site.ceph.shrink(&id, 1 << 20);

    let (code, found) = site.admin_json(&["audit", "--content"]);
    assert_eq!(code, 2, "{found}");
    assert_eq!(found["presence_failed"], 2, "{found}");
    assert_eq!(found["content_failed"], 1, "{found}");
    assert_eq!(
        site.findings(&id),
        [
            ("file".to_owned(), "checksum_mismatch".to_owned()),
            ("rbd".to_owned(), "size_mismatch".to_owned()),
            ("swift".to_owned(), "missing".to_owned()),
        ]
    );
    assert!(
        site.findings(&bystander).is_empty(),
        "an unaffected image is never flagged"
    );
    // The download reads the one healthy copy, though it is the lightest.
    assert!(site.download(&id, "file").await == data);

    let (code, repaired) = site.admin_json(&["audit", "repair", &id]);
    assert_eq!(code, 0, "{repaired}");
    assert_eq!(
        repaired["repaired"].as_array().unwrap().len(),
        3,
        "{repaired}"
    );
    let (code, after) = site.admin_json(&["audit", "--content", "--image", &id]);
    assert_eq!(
        (code, after["content_failed"].clone()),
        (0, json!(0)),
        "{after}"
    );
    assert!(site.findings(&id).is_empty());
    assert_eq!(site.ceph.image_md5(&id), md5_hex(&data));
    assert_eq!(
        site.swift
            .account()
            .await
            .object_md5(&site.container, &id)
            .await,
        md5_hex(&data)
    );
    for store in ["file", "swift", "rbd"] {
        assert!(site.download(&id, store).await == data, "{store}");
    }

    for image in [&id, &bystander] {
        let r = site
            .glint
            .delete(&format!("/v2/images/{image}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    site.swift.account().await.purge(&site.container).await;
}

#[tokio::test]
async fn orphans_are_found_in_file_swift_and_rbd() {
    let site = Site::start("audit-orphans").await;
    let live = site
        .glint
        .create_with_data("live", &pattern(10_000, 91))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    site.copy_to(&live, &["swift"]).await;
    let stray = Uuid::new_v4().to_string();
    std::fs::write(site.file_dir.path().join(&stray), b"stray").unwrap();
    site.swift
        .account()
        .await
        .put_object(&site.container, &stray, b"stray")
        .await;

    // The file and Swift stores are this test's own: orphans there go to the reaper at once.
    for store in ["file", "swift"] {
        let (code, found) = site.admin_json(&["audit", "--orphans", "--store", store]);
        assert_eq!(code, 0, "{found}");
        assert_eq!(found["orphans_handed_over"], 1, "{store}: {found}");
    }
    let (_, jobs) = site.admin_json(&["jobs", "list"]);
    let pending: Vec<(String, String)> = jobs["pending_work"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["store"].as_str().unwrap().to_owned(),
                w["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(
        pending
            .iter()
            .all(|(_, url)| url.ends_with(&stray) && !url.contains(&live))
    );

    // The pool is shared with other tests: a long grace keeps its orphans as findings only.
    let rbd_stray = Uuid::new_v4().to_string();
    site.ceph.create_stray(&rbd_stray, 4096);
    let out = Command::new(glint_blackbox::target_dir().join("glint"))
        .args([
            "audit",
            "--orphans",
            "--store",
            "rbd",
            "--json",
            "--data-dir",
            ".",
        ])
        .current_dir(site.glint.data_dir.path())
        .env("GLINT_CONFIG", &site.config)
        .env("GLINT_PLUGINS__PATHS", &site.plugins)
        .env("GLINT_JOBS__AUDIT__ORPHAN_GRACE_SECS", "86400")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    site.ceph.remove_stray(&rbd_stray);
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["orphans_handed_over"], 0, "{found}");
    let (_, report) = site.admin_json(&["audit", "report"]);
    let rbd_orphans: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["store"] == "rbd" && r["kind"] == "orphan")
        .collect();
    assert!(
        rbd_orphans
            .iter()
            .any(|r| r["outcome"] == "orphan" && r["url"].as_str().unwrap().contains(&rbd_stray)),
        "{rbd_orphans:?}"
    );
    let r = site
        .glint
        .delete(&format!("/v2/images/{live}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    site.swift.account().await.purge(&site.container).await;
}
