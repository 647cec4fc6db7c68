//! The checked-in spec under `openapi/` must match what the code generates.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test -p glint-core --test openapi`.

use std::path::PathBuf;

#[test]
fn checked_in_spec_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/glint.json");
    let generated = format!("{}\n", glint_core::api::spec());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/glint.json");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "openapi/glint.json is stale: regenerate it with `UPDATE_OPENAPI=1 cargo test -p glint-core --test openapi`"
    );
}

#[test]
fn every_operation_has_an_id_and_declares_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(&glint_core::api::spec()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            if path.starts_with("/v2/images") {
                for status in ["400", "403", "404"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path} does not declare {status}"
                    );
                }
            }
        }
    }
    let patch = &spec["paths"]["/v2/images/{image_id}"]["patch"]["requestBody"]["content"];
    assert!(
        patch
            .get("application/openstack-images-v2.1-json-patch")
            .is_some()
    );
    assert!(
        patch
            .get("application/openstack-images-v2.0-json-patch")
            .is_some()
    );
}

#[test]
fn generated_clients_can_call_every_operation() {
    let spec: serde_json::Value = serde_json::from_str(&glint_core::api::spec()).unwrap();
    let scheme = &spec["components"]["securitySchemes"]["keystoneToken"];
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "X-Auth-Token");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} twice");
            // Filters and paging are optional everywhere.
            if method == "get" && id.starts_with("list") {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    assert!(
                        p["in"] != "query" || p["required"] != true,
                        "{id}: {} is required",
                        p["name"]
                    );
                }
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                let answer = match answer["$ref"].as_str() {
                    Some(shared) => {
                        let name = shared.trim_start_matches("#/components/responses/");
                        &spec["components"]["responses"][name]
                    }
                    None => answer,
                };
                let content = answer["content"].as_object();
                if status.starts_with('2') {
                    // Every JSON answer has a shape.
                    if let Some(json) = content.and_then(|c| c.get("application/json")) {
                        let schema = &json["schema"];
                        assert!(
                            schema.get("$ref").is_some() || schema.get("items").is_some(),
                            "{method} {path} {status}: untyped"
                        );
                    }
                } else if status.starts_with('4') || status.starts_with('5') {
                    // Errors come in the three forms webob writes.
                    let types: Vec<&String> = content.unwrap().keys().collect();
                    assert_eq!(
                        types,
                        ["application/json", "text/html", "text/plain"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    for gone in [
        "deleteMetadefObjects",
        "deleteMetadefProperties",
        "deleteMetadefTags",
    ] {
        assert!(ids.contains(gone), "{gone} is missing");
    }
}
