//! Named stores: a read-only store is listed and refuses uploads as Glance does.

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn uploads_to_a_read_only_store_are_410_and_leave_the_image_queued() {
    let images = tempfile::tempdir().unwrap();
    let datadir = images.path().to_str().unwrap().to_owned();
    let g = Glint::start_with(&[
        ("GLINT_STORES__LOCAL__DRIVER", "file"),
        ("GLINT_STORES__LOCAL__OPTIONS__DATADIR", datadir.as_str()),
        ("GLINT_STORES__WEB__DRIVER", "http"),
        ("GLINT_STORES__WEB__DESCRIPTION", "read-only web store"),
        ("GLINT_DEFAULT_STORE", "local"),
    ])
    .await;

    let stores: Value = g
        .get("/v2/info/stores")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stores["stores"],
        // Glance's shape: flags are strings; no description when none is set.
        json!([{"id": "local", "default": "true"},
               {"id": "web", "description": "read-only web store", "read-only": "true"}])
    );

    let img = g
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let path = format!("/v2/images/{id}/file");
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .header("x-image-meta-store", "web")
        .body("data")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(g.show(id).await["status"], "queued");

    // The default store still takes it.
    let r = g
        .put(&path)
        .header("content-type", "application/octet-stream")
        .body("data")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let img = g.show(id).await;
    assert_eq!(img["stores"], "local");
    assert!(
        std::fs::read_dir(images.path())
            .unwrap()
            .any(|e| e.unwrap().file_name() == id)
    );
}
