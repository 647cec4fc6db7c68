//! Bad input: every malformed request gets a 4xx in Glance's shape and changes nothing.

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

async fn image_count(g: &Glint) -> usize {
    let v: Value = g
        .get("/v2/images?limit=1000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["images"].as_array().unwrap().len()
}

#[tokio::test]
async fn error_bodies_follow_accept() {
    let g = Glint::start().await;
    let missing = format!("/v2/images/{}", uuid::Uuid::new_v4());
    let r = g
        .get(&missing)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "404 Not Found");
    assert_eq!(v["title"], "Not Found");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("No image found with ID")
    );

    let r = g.get(&missing).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<h1>404 Not Found</h1>"));

    let r = g
        .get(&missing)
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().starts_with("404 Not Found\n\n"));
}

#[tokio::test]
async fn malformed_create_requests_are_400_and_create_nothing() {
    let g = Glint::start().await;
    let bad_bodies: Vec<(&str, &str)> = vec![
        ("{not json", "Malformed JSON"),
        ("", "Body expected"),
        ("\"a string\"", "Unexpected body type. Expected list/dict."),
        ("[1,2]", "does not match schema"),
        (r#"{"name": 5}"#, "does not match schema"),
        (r#"{"protected": "yes"}"#, "does not match schema"),
        (r#"{"min_ram": -1}"#, "Cannot be a negative value"),
        (r#"{"min_disk": "1"}"#, "does not match schema"),
        (r#"{"id": "not-a-uuid"}"#, "does not match schema"),
        (r#"{"visibility": "everyone"}"#, "does not match schema"),
        (r#"{"disk_format": "floppy"}"#, "does not match schema"),
        (r#"{"tags": "a"}"#, "does not match schema"),
        (r#"{"hw_prop": 1}"#, "does not match schema"),
    ];
    let long_name = json!({"name": "x".repeat(256)}).to_string();
    let mut all = bad_bodies.clone();
    all.push((long_name.as_str(), "too long"));
    for (body, needle) in all {
        let r = g
            .post("/v2/images")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
    assert_eq!(image_count(&g).await, 0);
}

#[tokio::test]
async fn read_only_and_reserved_attributes_are_403() {
    let g = Glint::start().await;
    for body in [
        json!({"status": "active"}),
        json!({"size": 1}),
        json!({"checksum": "x"}),
        json!({"self": "x"}),
        json!({"os_glance_import_task": "x"}),
        json!({"deleted": "x"}),
        json!({"location": "x"}),
    ] {
        let r = g.post("/v2/images").json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{body}");
    }
    assert_eq!(image_count(&g).await, 0);
}

#[tokio::test]
async fn duplicate_id_is_409() {
    let g = Glint::start().await;
    let id = uuid::Uuid::new_v4().to_string();
    g.create(json!({"id": id})).await;
    let r = g
        .post("/v2/images")
        .json(&json!({"id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Still reserved after deletion.
    assert_eq!(
        g.delete(&format!("/v2/images/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = g
        .post("/v2/images")
        .json(&json!({"id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_ids_in_paths_are_404() {
    let g = Glint::start().await;
    for path in ["/v2/images/nope", "/v2/images/nope/file", "/v2/images/123"] {
        assert_eq!(
            g.get(path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        g.delete("/v2/images/nope").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_body_on_show_or_delete_is_400() {
    let g = Glint::start().await;
    let img = g.create(json!({})).await;
    let r = g
        .get(&format!("/v2/images/{}", img["id"].as_str().unwrap()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = g
        .delete(&format!("/v2/images/{}", img["id"].as_str().unwrap()))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(image_count(&g).await, 1);
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let g = Glint::start().await;
    for q in [
        "limit=abc",
        "limit=-2",
        "marker=00000000-0000-0000-0000-000000000000",
        "sort_key=owner",
        "sort_dir=sideways",
        "sort=name&sort_key=size",
        "visibility=everyone",
        "protected=maybe",
        "os_hidden=2",
        "size_min=big",
        "created_at=gt:yesterday",
        "name=like:x",
        "changes-since=2020-01-01T00:00:00Z",
    ] {
        let r = g.get(&format!("/v2/images?{q}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn bad_patches_are_refused_with_the_right_status_and_change_nothing() {
    let g = Glint::start().await;
    let img = g.create(json!({"name": "orig", "extra": "v"})).await;
    let path = format!("/v2/images/{}", img["id"].as_str().unwrap());
    let r = g
        .client
        .patch(g.url(&path))
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let accept_patch = r.headers()["accept-patch"].to_str().unwrap();
    assert!(accept_patch.contains("application/openstack-images-v2.1-json-patch"));
    assert!(accept_patch.contains("application/openstack-images-v2.0-json-patch"));

    for (ops, status) in [
        (json!({"op": "replace"}), StatusCode::BAD_REQUEST),
        (
            json!([{"op": "replace", "path": "/name"}]),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!([{"op": "replace", "path": false, "value": "x"}]),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!([{"op": "move", "path": "/name", "value": "x"}]),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!([{"op": "replace", "path": "/a/b", "value": "x"}]),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!([{"op": "replace", "path": "/min_ram", "value": "5"}]),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!([{"op": "replace", "path": "/status", "value": "active"}]),
            StatusCode::FORBIDDEN,
        ),
        (
            json!([{"op": "remove", "path": "/name"}]),
            StatusCode::FORBIDDEN,
        ),
        (
            json!([{"op": "replace", "path": "/nope", "value": "x"}]),
            StatusCode::CONFLICT,
        ),
        (
            json!([{"op": "remove", "path": "/nope"}]),
            StatusCode::CONFLICT,
        ),
        // The first change is valid; the whole patch is still refused.
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "remove", "path": "/nope"}]),
            StatusCode::CONFLICT,
        ),
    ] {
        let r = g.patch(&path, ops.clone()).send().await.unwrap();
        assert_eq!(r.status(), status, "{ops}");
    }
    let r = g
        .patch(&path, json!([]))
        .body("[oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let now = g.show(img["id"].as_str().unwrap()).await;
    assert_eq!(now["name"], "orig");
    assert_eq!(now["updated_at"], img["updated_at"]);
}
