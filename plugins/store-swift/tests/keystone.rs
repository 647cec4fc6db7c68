//! Keystone v3 authentication against a real Keystone, with the object-store endpoint taken from
//! its catalog: the default Swift, started in Keystone mode (see `support::keystone_swift`).

mod support;

use glint_sdk::{ErrorKind, ReadRange};
use glint_sdk_testkit::{collect, odd_chunks, random_bytes, sha256};
use serde_json::json;
use support::{keystone_swift, open, runtime};

fn options(tag: &str) -> serde_json::Value {
    let backends = keystone_swift();
    json!({
        "auth_url": backends.keystone_url,
        "user": "glance",
        "key": "glance-password",
        "project_name": "service",
        "region": backends.region,
        "container": support::container_name(tag),
        "large_object_size": 1024 * 1024,
        "large_object_chunk_size": 256 * 1024,
    })
}

/// What Keystone itself says: a token for glance in project service, and the service project's
/// object-store URL from the catalog.
async fn keystone_view() -> (String, String) {
    let backends = keystone_swift();
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", backends.keystone_url))
        .json(&json!({ "auth": {
            "identity": { "methods": ["password"], "password": { "user": {
                "name": "glance", "domain": { "id": "default" }, "password": "glance-password" }}},
            "scope": { "project": { "name": "service", "domain": { "id": "default" } } },
        }}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let token = response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    let project_id = body["token"]["project"]["id"].as_str().unwrap();
    let url = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "object-store")
        .flat_map(|entry| entry["endpoints"].as_array().unwrap())
        .find(|endpoint| endpoint["interface"] == "public")
        .map(|endpoint| endpoint["url"].as_str().unwrap().to_owned())
        .expect("an object-store endpoint");
    assert!(url.ends_with(&format!("/AUTH_{project_id}")), "{url}");
    (token, url)
}

#[test]
fn keystone_password_auth_stores_in_the_project_account() {
    let options = options("keystone");
    let container = options["container"].as_str().unwrap().to_owned();
    let store = open(&options);
    runtime().block_on(async {
        let image_id = "7a5e0b1c-0201-4000-8000-000000000001";
        let data = random_bytes(1024 * 1024 + 4097, 71);
        let outcome = store
            .put(image_id, Some(data.len() as u64), odd_chunks(&data))
            .await
            .unwrap_or_else(|err| panic!("put: {err}"));
        assert_eq!(
            store.size(&outcome.location).await.unwrap(),
            data.len() as u64
        );
        let got = collect(store.get(&outcome.location, None).await.unwrap().data).await;
        assert_eq!(sha256(&got), sha256(&data));
        let range = ReadRange {
            offset: 262_000,
            length: Some(1000),
        };
        let got = collect(
            store
                .get(&outcome.location, Some(range))
                .await
                .unwrap()
                .data,
        )
        .await;
        assert!(got == data[262_000..263_000]);

        // The objects are in the service project's account, seen with Keystone's own token.
        let (token, account_url) = keystone_view().await;
        let http = reqwest::Client::new();
        let listing: Vec<serde_json::Value> = http
            .get(format!("{account_url}/{container}?format=json"))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = listing
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 6, "manifest and 5 segments: {names:?}");
        assert_eq!(names[0], image_id);

        store.delete(&outcome.location).await.unwrap();
        let status = http
            .get(format!("{account_url}/{container}?format=json"))
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        let listing: Vec<serde_json::Value> = status.json().await.unwrap();
        assert!(listing.is_empty(), "{listing:?}");
        let _ = http
            .delete(format!("{account_url}/{container}"))
            .header("X-Auth-Token", &token)
            .send()
            .await;
    });
}

#[test]
fn the_internal_endpoint_works_too() {
    let mut options = options("keystone-internal");
    options["endpoint_type"] = json!("internalURL");
    let store = open(&options);
    runtime().block_on(async {
        let outcome = store
            .put(
                "7a5e0b1c-0202-4000-8000-000000000001",
                Some(5),
                odd_chunks(&"hello".into()),
            )
            .await
            .unwrap_or_else(|err| panic!("put: {err}"));
        store.delete(&outcome.location).await.unwrap();
    });
}

#[test]
fn a_wrong_password_leaves_the_store_out_without_the_password() {
    let mut options = options("keystone-wrong");
    options["key"] = json!("not-the-password-42");
    let err = refused(&options);
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(
        err.message.contains("glance") && err.message.contains("`key`"),
        "{err}"
    );
    assert!(!err.message.contains("not-the-password-42"), "{err}");
}

#[test]
fn unknown_region_is_config_invalid_naming_the_options() {
    let mut options = options("keystone-region");
    options["region"] = json!("Nowhere");
    let err = refused(&options);
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(
        err.message.contains("`region`") && err.message.contains("Nowhere"),
        "{err}"
    );
}

/// The error opening a store with `options` gives: credentials and catalog are checked then.
fn refused(options: &serde_json::Value) -> glint_sdk::StoreError {
    glint_sdk::host::load_store_plugin(&support::plugin())
        .expect("the swift plugin loads")
        .open("swift", options)
        .expect_err("the store is refused")
}
