//! Generates the client from the checked-in spec (`openapi/glint.json`) with progenitor.
//!
//! The spec is read as it is; only what progenitor cannot express is adjusted here, in
//! memory:
//! - A request body may have one media type, and progenitor knows `application/json` but not
//!   Glance's JSON-patch types: `updateImage` is generated as a JSON body, and the client's
//!   request hook ([`crate::hooks::before_send`]) sends it as
//!   `application/openstack-images-v2.1-json-patch`.

use std::path::PathBuf;

use serde_json::{Value, json};

const PATCH_V21: &str = "application/openstack-images-v2.1-json-patch";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let path = manifest.join("../../openapi/glint.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).expect("read openapi/glint.json");
    let mut doc: Value = serde_json::from_str(&text).expect("openapi/glint.json is JSON");
    adjust(&mut doc);
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc).expect("an OpenAPI 3.0 document");
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_pre_hook(hook());
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor refused openapi/glint.json: {e}"));
    let file = syn::parse2(tokens).expect("progenitor writes Rust");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("generated.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("write the generated client");
}

fn hook() -> proc_macro2::TokenStream {
    "crate::hooks::before_send".parse().expect("a path")
}

/// Every JSON-patch body as one `application/json` body (see the module's comment).
fn adjust(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(patch) = item.get_mut("patch") else {
            continue;
        };
        let content = &mut patch["requestBody"]["content"];
        if let Some(media) = content.get(PATCH_V21).cloned() {
            *content = json!({ "application/json": media });
        }
    }
}
