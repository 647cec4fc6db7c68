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
