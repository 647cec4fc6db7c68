//! Metadef provider plugins through the real loader: the conformance suite against the kit's
//! in-memory provider, the refusals, and the two plugin kinds kept apart.

use std::path::Path;

use glint_sdk::ErrorKind;
use glint_sdk::host::{LoadError, PluginKind, load_metadef_plugin, load_store_plugin};
use glint_sdk::metadef::NamespaceVisibility;
use glint_sdk_testkit::example_cdylib_path;
use serde_json::{Value, json};

fn memory_options() -> Value {
    json!({ "namespaces": [
        { "namespace": "Glint::Kit::Public", "visibility": "public", "owner": "admin",
          "properties": { "p": { "title": "P", "type": "string" } } },
        { "namespace": "Glint::Kit::Private", "owner": "p1", "tags": [{ "name": "t" }] },
    ] })
}

mod memory {
    glint_sdk_testkit::metadef_provider_conformance_suite!(
        glint_sdk_testkit::example_cdylib_path("metadef_memory"),
        |_: &std::path::Path| super::memory_options()
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A refusal is one short paragraph naming the file.
fn assert_short(err: &LoadError, path: &Path) -> String {
    let message = err.to_string();
    assert!(message.len() < 600, "{} bytes: {message}", message.len());
    assert!(!message.contains('\n'), "{message}");
    assert!(
        message.contains(&path.file_name().unwrap().to_string_lossy().into_owned()),
        "{message}"
    );
    message
}

#[test]
fn a_metadef_plugin_loads_and_serves_its_documents() {
    let plugin = load_metadef_plugin(&example_cdylib_path("metadef_memory")).unwrap();
    assert_eq!(plugin.driver_name(), "memory");
    assert_eq!(plugin.sdk_version(), env!("CARGO_PKG_VERSION"));
    let source = plugin.open("kit", &memory_options()).unwrap();
    assert_eq!(source.name(), "kit");
    assert!(
        source.read_only(),
        "a provider that says nothing is read-only"
    );
    let rt = runtime();
    let mut entries = rt.block_on(source.list_namespaces()).unwrap();
    entries.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    assert_eq!(entries[0].namespace, "Glint::Kit::Private");
    assert_eq!(entries[0].visibility, NamespaceVisibility::Private);
    assert_eq!(entries[0].owner.as_deref(), Some("p1"));
    assert_eq!(entries[1].visibility, NamespaceVisibility::Public);
    assert_eq!(entries[1].source, "namespaces[0]");
    let doc: Value = serde_json::from_str(
        &rt.block_on(source.get_namespace("Glint::Kit::Public"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["properties"]["p"]["title"], "P");
    assert!(format!("{source:?}").contains("memory"));
}

#[test]
fn a_panicking_provider_yields_unexpected_errors_and_keeps_working() {
    let plugin = load_metadef_plugin(&example_cdylib_path("metadef_memory")).unwrap();
    let mut options = memory_options();
    options["panic_on_get"] = json!(true);
    let source = plugin.open("panicky", &options).unwrap();
    let rt = runtime();
    let err = rt
        .block_on(source.get_namespace("Glint::Kit::Public"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unexpected);
    assert!(err.message.contains("asked to panic"), "{err}");
    assert_eq!(rt.block_on(source.list_namespaces()).unwrap().len(), 2);
}

#[test]
fn a_metadef_plugin_of_a_newer_minor_is_refused_naming_both_versions() {
    let path = example_cdylib_path("metadef_future_minor");
    let err = load_metadef_plugin(&path).expect_err("a newer minor must be refused");
    assert!(
        matches!(
            err,
            LoadError::Incompatible {
                kind: PluginKind::Metadef,
                ..
            }
        ),
        "{err:?}"
    );
    let message = assert_short(&err, &path);
    assert!(message.contains("metadef plugin ABI 1.1"), "{message}");
    assert!(message.contains("metadef plugin ABI 1.0"), "{message}");
}

#[test]
fn each_loader_refuses_the_other_kind_of_plugin() {
    let metadef = example_cdylib_path("metadef_memory");
    let err = load_store_plugin(&metadef).expect_err("not a store plugin");
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
    let message = assert_short(&err, &metadef);
    assert!(message.contains("glint_metadef"), "{message}");

    let store = example_cdylib_path("store_memory");
    let err = load_metadef_plugin(&store).expect_err("not a metadef plugin");
    assert!(
        matches!(
            err,
            LoadError::NotAPlugin {
                kind: PluginKind::Metadef,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(assert_short(&err, &store).contains("glint_store"));

    // Store plugins of this SDK still load, and a store plugin for another ABI major is still
    // refused as before.
    assert_eq!(load_store_plugin(&store).unwrap().driver_name(), "memory");
    let future = example_cdylib_path("store_future_abi");
    let err = load_store_plugin(&future).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Incompatible {
                kind: PluginKind::Store,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("store plugin ABI 2.0"), "{err}");
}

#[test]
fn bad_options_are_config_invalid() {
    let plugin = load_metadef_plugin(&example_cdylib_path("metadef_memory")).unwrap();
    let err = plugin
        .open("bad", &json!({ "namespaces": [{ "display_name": "x" }] }))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
}
