//! Versions document, version prefixes, request ids, routing errors.

use glint_blackbox::{Glint, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn root_lists_versions_with_300() {
    let g = Glint::start().await;
    let r = g.get("/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES);
    let v: Value = r.json().await.unwrap();
    let ids: Vec<&str> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    // With the image cache on (the default), Glance 33's list for several stores.
    assert_eq!(
        ids,
        [
            "v2.18", "v2.17", "v2.16", "v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10",
            "v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"
        ]
    );
    assert_eq!(v["versions"][0]["status"], "CURRENT");
    assert_eq!(v["versions"][1]["status"], "SUPPORTED");
    assert!(
        v["versions"][0]["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v2/")
    );

    let r = g.get("/versions").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_cache_2_17_is_current_and_the_cache_versions_are_not_listed() {
    let g = Glint::start_with(&[("GLINT_CACHE__ENABLED", "false")]).await;
    let v: Value = g.get("/").send().await.unwrap().json().await.unwrap();
    let listed: Vec<(&str, &str)> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(listed[0], ("v2.15", "SUPPORTED"));
    assert!(listed.contains(&("v2.17", "CURRENT")));
    assert!(
        !listed
            .iter()
            .any(|(id, _)| ["v2.14", "v2.16", "v2.18"].contains(id))
    );
}

#[tokio::test]
async fn version_prefixes_route_to_v2_and_unknown_versions_get_the_document() {
    let g = Glint::start().await;
    let r = g.get("/v2.9/images").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["images"].is_array());
    for path in ["/v3/images", "/v2.99/images", "/v1/images"] {
        let r = g.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES, "{path}");
    }
}

#[tokio::test]
async fn every_response_carries_its_own_request_id() {
    let g = Glint::start().await;
    let r = g.get("/v2/images").send().await.unwrap();
    let id = r.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("req-") && id.len() == 40, "{id}");
    // A caller's id is never echoed (a valid one is logged as the global
    // request id, see operations.rs), and a too long one is not refused.
    let r = g
        .get("/v2/nowhere")
        .header("X-Openstack-Request-ID", "req-mine")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let answered = r.headers()["x-openstack-request-id"].to_str().unwrap();
    assert!(
        answered.starts_with("req-") && answered.len() == 40,
        "{answered}"
    );
    let r = g
        .get("/v2/images")
        .header("X-Openstack-Request-ID", "r".repeat(65))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let g = Glint::start().await;
    let r = g.client.patch(g.url("/v2/images")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let id = uuid::Uuid::new_v4();
    let r = g
        .post(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, PUT");
}

#[tokio::test]
async fn unknown_method_is_501_where_no_route_is() {
    let g = Glint::start().await;
    let r = g
        .client
        .request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            g.url("/v2/nowhere"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn the_spec_and_docs_are_served() {
    let g = Glint::start().await;
    let spec: Value = g
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/v2/images"]["post"]["operationId"] == "createImage");
    let r = g.get("/docs").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("swagger"));
}
