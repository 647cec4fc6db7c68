//! Several named stores: discovery in configured order, uploads to a named
//! store, copies in two stores (removing one, reading through the other when
//! one is gone, `?prefer=`), and a store that goes away and comes back.
//!
//! Two file stores, `fast` (weight 100) and `slow` (weight 10), plus the
//! read-only http store `web`. A second copy of an image is placed the way a
//! copy-image import leaves it: the file in the other store's directory and a
//! location recorded through Glint's own repository on the server's database.

use std::path::{Path, PathBuf};

use glint_blackbox::{Glint, StatusCode, pattern};
use glint_core::db::Database;
use glint_core::domain::{ImageStatus, Location};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

struct Site {
    glint: Glint,
    fast: TempDir,
    slow: TempDir,
    _config: TempDir,
}

impl Site {
    /// `slow` is listed first in the file, `fast` is the default.
    async fn start() -> Site {
        let fast = tempfile::tempdir().unwrap();
        let slow = tempfile::tempdir().unwrap();
        let config = tempfile::tempdir().unwrap();
        let file = config.path().join("glint.toml");
        std::fs::write(
            &file,
            format!(
                r#"default_store = "fast"

[stores.slow]
driver = "file"
description = "Slow disks"
weight = 10
options = {{ datadir = {slow:?} }}

[stores.fast]
driver = "file"
description = "Local SSD"
weight = 100
options = {{ datadir = {fast:?}, chunk_size = 65536 }}

[stores.web]
driver = "http"
"#,
                slow = slow.path().to_str().unwrap(),
                fast = fast.path().to_str().unwrap(),
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

    fn dir(&self, store: &str) -> &Path {
        match store {
            "fast" => self.fast.path(),
            "slow" => self.slow.path(),
            other => panic!("no directory for store {other}"),
        }
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.glint.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    async fn create(&self) -> String {
        let img = self
            .glint
            .create(json!({"disk_format": "raw", "container_format": "bare"}))
            .await;
        img["id"].as_str().unwrap().to_owned()
    }

    async fn upload(&self, id: &str, store: Option<&str>, data: &[u8]) -> reqwest::Response {
        let mut r = self
            .glint
            .put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream");
        if let Some(store) = store {
            r = r.header("x-image-meta-store", store);
        }
        r.body(data.to_vec()).send().await.unwrap()
    }

    async fn download(&self, id: &str, query: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file{query}"))
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    /// Puts `data` in `store` as a second copy of image `id`, as a copy-image
    /// import does: the file, then the location.
    async fn add_copy(&self, id: &str, store: &str, data: &[u8]) {
        let dir = std::fs::canonicalize(self.dir(store)).unwrap();
        let file: PathBuf = dir.join(id);
        std::fs::write(&file, data).unwrap();
        let db_url = format!(
            "sqlite://{}?mode=rwc",
            self.glint.data_dir.path().join("glint.db").display()
        );
        let db = Database::connect(&db_url).await.unwrap();
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), store.into());
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
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn discovery_lists_the_stores_in_configured_order_as_glance_does() {
    let site = Site::start().await;
    let stores = site.json("/v2/info/stores").await;
    assert_eq!(
        stores,
        json!({"stores": [
            {"id": "slow", "description": "Slow disks"},
            {"id": "fast", "description": "Local SSD", "default": "true"},
            {"id": "web", "read-only": "true"},
        ]})
    );

    let detail = site.json("/v2/info/stores/detail").await;
    let fast_dir = site.fast.path().to_str().unwrap();
    let slow_dir = site.slow.path().to_str().unwrap();
    assert_eq!(
        detail,
        json!({"stores": [
            {"id": "slow", "description": "Slow disks", "type": "file", "weight": 10,
             "properties": {"data_dir": slow_dir, "chunk_size": 524288, "thin_provisioning": false}},
            {"id": "fast", "description": "Local SSD", "default": "true", "type": "file", "weight": 100,
             "properties": {"data_dir": fast_dir, "chunk_size": 65536, "thin_provisioning": false}},
            {"id": "web", "read-only": "true", "type": "http", "weight": 0, "properties": {}},
        ]})
    );

    let r = site
        .glint
        .post("/v2/images")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["openstack-image-store-ids"], "slow,fast,web");
}

#[tokio::test]
async fn uploads_go_to_the_named_store_or_the_default() {
    let site = Site::start().await;
    let data = pattern(300_000, 1);

    let id = site.create().await;
    let r = site.upload(&id, Some("slow"), &data).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = site.glint.show(&id).await;
    assert_eq!(img["stores"], "slow");
    assert_eq!(img["status"], "active");
    assert_eq!(files_in(site.slow.path()), std::slice::from_ref(&id));
    assert!(files_in(site.fast.path()).is_empty());
    assert_eq!(site.download(&id, "").await, (StatusCode::OK, data.clone()));

    let id = site.create().await;
    let r = site.upload(&id, Some("nowhere"), &data).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(site.glint.show(&id).await["status"], "queued");
    let r = site.upload(&id, None, &data).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(site.glint.show(&id).await["stores"], "fast");
    assert_eq!(files_in(site.fast.path()), std::slice::from_ref(&id));
}

#[tokio::test]
async fn copies_in_two_stores_read_by_weight_fall_back_and_are_removed_one_by_one() {
    let site = Site::start().await;
    let data = pattern(200_000, 2);
    // The slow copy differs on purpose, to tell which copy a download read.
    let other = pattern(200_000, 3);
    let id = site.create().await;
    assert_eq!(
        site.upload(&id, Some("fast"), &data).await.status(),
        StatusCode::NO_CONTENT
    );
    site.add_copy(&id, "slow", &other).await;
    let img = site.glint.show(&id).await;
    assert_eq!(img["stores"], "fast,slow");

    // Highest weight first; `prefer` puts the named store first.
    assert_eq!(site.download(&id, "").await, (StatusCode::OK, data.clone()));
    assert_eq!(
        site.download(&id, "?prefer=slow").await,
        (StatusCode::OK, other.clone())
    );
    assert_eq!(
        site.download(&id, "?prefer=nowhere").await.0,
        StatusCode::BAD_REQUEST
    );

    // fast loses its file: downloads read the slow copy.
    std::fs::remove_file(site.fast.path().join(&id)).unwrap();
    assert_eq!(
        site.download(&id, "").await,
        (StatusCode::OK, other.clone())
    );

    // Removing one copy: the image stays active with the other.
    let path = |store: &str, id: &str| format!("/v2/stores/{store}/{id}");
    let r = site.glint.delete(&path("fast", &id)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = site.glint.show(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "slow");
    // The last copy stays (checked first, as Glance does).
    let r = site.glint.delete(&path("fast", &id)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = site.glint.delete(&path("slow", &id)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(files_in(site.slow.path()), std::slice::from_ref(&id));
    // A store this node does not have; an image that does not exist.
    let r = site
        .glint
        .delete(&path("nowhere", &id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let missing = Uuid::new_v4().to_string();
    let r = site
        .glint
        .delete(&path("slow", &missing))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Only active images lose copies.
    let queued = site.create().await;
    let r = site
        .glint
        .delete(&path("slow", &queued))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A copy whose file is present is removed with its data.
    let id = site.create().await;
    assert_eq!(
        site.upload(&id, Some("slow"), &data).await.status(),
        StatusCode::NO_CONTENT
    );
    site.add_copy(&id, "fast", &data).await;
    let r = site.glint.delete(&path("web", &id)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no copy in web");
    let r = site.glint.delete(&path("slow", &id)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!site.slow.path().join(&id).exists());
    assert_eq!(site.glint.show(&id).await["stores"], "fast");
    assert_eq!(site.download(&id, "").await, (StatusCode::OK, data));
}

#[tokio::test]
async fn a_store_that_goes_away_answers_503_and_a_retry_succeeds_once_it_is_back() {
    let site = Site::start().await;
    let data = pattern(500_000, 4);
    let id = site.create().await;

    // The slow store's directory disappears (an unmounted disk).
    let away = site.slow.path().with_extension("away");
    std::fs::rename(site.slow.path(), &away).unwrap();
    let r = site.upload(&id, Some("slow"), &data).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // As Glance restores it: queued, no data, ready for a retry.
    let img = site.glint.show(&id).await;
    assert_eq!(img["status"], "queued");
    assert_eq!(img["size"], Value::Null);
    assert!(img.get("stores").is_none());

    std::fs::rename(&away, site.slow.path()).unwrap();
    let r = site.upload(&id, Some("slow"), &data).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = site.glint.show(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "slow");
    assert_eq!(site.download(&id, "").await, (StatusCode::OK, data));
    assert_eq!(files_in(site.slow.path()), [id]);
}
