//! Image records: create, show, update, delete, tags, list.

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn create_returns_every_base_key_and_a_location() {
    let g = Glint::start().await;
    let r = g
        .post("/v2/images")
        .json(&json!({"name": "cirros", "disk_format": "qcow2", "container_format": "bare", "min_ram": 64,
                      "tags": ["a", "b"], "hw_disk_bus": "scsi", "visibility": "private", "protected": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["openstack-image-store-ids"], "file");
    let img: Value = r.json().await.unwrap();
    let id = img["id"].as_str().unwrap();
    assert_eq!(location, g.url(&format!("/v2/images/{id}")));
    for key in [
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "owner",
        "size",
        "virtual_size",
        "container_format",
        "disk_format",
        "min_disk",
        "min_ram",
        "created_at",
        "updated_at",
        "tags",
        "self",
        "file",
        "schema",
    ] {
        assert!(img.get(key).is_some(), "missing {key}");
    }
    assert_eq!(img["status"], "queued");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(img["min_ram"], 64);
    assert_eq!(img["hw_disk_bus"], "scsi");
    assert_eq!(img["self"], format!("/v2/images/{id}"));
    assert_eq!(img["file"], format!("/v2/images/{id}/file"));
    assert_eq!(img["schema"], "/v2/schemas/image");
    let created = img["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");
    assert_eq!(g.show(id).await, img);
}

#[tokio::test]
async fn defaults_on_an_empty_create() {
    let g = Glint::start().await;
    let img = g.create(json!({})).await;
    assert_eq!(img["visibility"], "shared");
    assert_eq!(img["protected"], false);
    assert_eq!(img["os_hidden"], false);
    assert_eq!(img["name"], Value::Null);
    assert_eq!(img["tags"], json!([]));
    // noauth acts without a project.
    assert_eq!(img["owner"], Value::Null);
}

#[tokio::test]
async fn patch_in_both_media_types() {
    let g = Glint::start().await;
    let img = g.create(json!({"name": "a"})).await;
    let path = format!("/v2/images/{}", img["id"].as_str().unwrap());
    let r = g
        .patch(&path, json!([{"op": "replace", "path": "/name", "value": "b"}, {"op": "add", "path": "/k", "value": "v"},
                             {"op": "add", "path": "/tags", "value": ["x"]}, {"op": "replace", "path": "/min_disk", "value": 3}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["k"].as_str(), v["min_disk"].as_i64()),
        (Some("b"), Some("v"), Some(3))
    );
    assert_eq!(v["tags"], json!(["x"]));

    let r = g
        .client
        .patch(g.url(&path))
        .header(
            "content-type",
            "application/openstack-images-v2.0-json-patch",
        )
        .body(json!([{"replace": "/name", "value": "c"}, {"remove": "/k"}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "c");
    assert!(v.get("k").is_none());
    // v2.0 refuses to add an existing key.
    let r = g
        .client
        .patch(g.url(&path))
        .header(
            "content-type",
            "application/openstack-images-v2.0-json-patch",
        )
        .body(json!([{"add": "/name", "value": "d"}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "base attributes are set, not added"
    );
}

#[tokio::test]
async fn protected_images_cannot_be_deleted_until_unprotected() {
    let g = Glint::start().await;
    let img = g.create(json!({"protected": true})).await;
    let path = format!("/v2/images/{}", img["id"].as_str().unwrap());
    assert_eq!(
        g.delete(&path).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    g.patch(
        &path,
        json!([{"op": "replace", "path": "/protected", "value": false}]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        g.delete(&path).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        g.get(&path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        g.delete(&path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tags_are_a_set() {
    let g = Glint::start().await;
    let img = g.create(json!({})).await;
    let id = img["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            g.put(&format!("/v2/images/{id}/tags/blue"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    g.put(&format!("/v2/images/{id}/tags/red%20one"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.show(id).await["tags"], json!(["blue", "red one"]));
    assert_eq!(
        g.delete(&format!("/v2/images/{id}/tags/blue"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        g.delete(&format!("/v2/images/{id}/tags/blue"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let long = "t".repeat(256);
    assert_eq!(
        g.put(&format!("/v2/images/{id}/tags/{long}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(g.show(id).await["tags"], json!(["red one"]));
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let g = Glint::start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let img = g
            .create(json!({"name": format!("img-{i}"), "disk_format": if i % 2 == 0 { "raw" } else { "qcow2" },
                           "container_format": "bare", "tags": if i < 3 { json!(["t1", "t2"]) } else { json!(["t1"]) },
                           "color": if i == 4 { "blue" } else { "red" }, "os_hidden": i == 6}))
            .await;
        ids.push(img["id"].as_str().unwrap().to_owned());
    }
    let names = |v: &Value| -> Vec<String> {
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let g = &g;
    let list = |q: &str| {
        let url = format!("/v2/images?{q}");
        async move {
            g.get(&url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        names(&list("sort=name:asc").await),
        ["img-0", "img-1", "img-2", "img-3", "img-4", "img-5"]
    );
    assert_eq!(
        names(&list("sort=name:asc&os_hidden=true").await),
        ["img-6"]
    );
    assert_eq!(
        names(&list("sort=name:desc&disk_format=qcow2").await),
        ["img-5", "img-3", "img-1"]
    );
    assert_eq!(
        names(&list("sort_key=name&sort_dir=asc&tag=t1&tag=t2").await),
        ["img-0", "img-1", "img-2"]
    );
    assert_eq!(names(&list("color=blue").await), ["img-4"]);
    assert_eq!(
        names(&list("sort=name:asc&name=in:img-1,img-3").await),
        ["img-1", "img-3"]
    );
    assert_eq!(names(&list(&format!("id={}", ids[2])).await), ["img-2"]);

    // Pages of two, following `next`, give every visible image once, in order.
    let mut seen = Vec::new();
    let mut page = list("limit=2&sort=name:asc").await;
    assert_eq!(page["first"], "/v2/images?limit=2&sort=name%3Aasc");
    loop {
        seen.extend(names(&page));
        let Some(next) = page["next"].as_str() else {
            break;
        };
        assert!(next.contains("marker="));
        page = g.get(next).send().await.unwrap().json().await.unwrap();
    }
    assert_eq!(seen, ["img-0", "img-1", "img-2", "img-3", "img-4", "img-5"]);
    // Default order: newest first.
    assert_eq!(names(&list("").await)[0], "img-5");
}

#[tokio::test]
async fn schemas_describe_images() {
    let g = Glint::start().await;
    let s: Value = g
        .get("/v2/schemas/image")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["name"], "image");
    for key in [
        "id",
        "name",
        "status",
        "visibility",
        "checksum",
        "os_hash_value",
        "tags",
        "min_ram",
        "self",
        "file",
        "schema",
    ] {
        assert!(s["properties"].get(key).is_some(), "{key}");
    }
    assert_eq!(s["additionalProperties"]["type"], "string");
    let s: Value = g
        .get("/v2/schemas/images")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["name"], "images");
    assert_eq!(s["properties"]["images"]["items"]["name"], "image");
}
