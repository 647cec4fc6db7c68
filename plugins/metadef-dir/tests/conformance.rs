//! The directory provider through the real loader, on Glance's 32 bundled definitions files (read
//! from `shared/reference/metadefs` beside the clone, never copied into the repository).

use std::path::{Path, PathBuf};

use glint_core::service::metadefs::load;
use glint_sdk::ErrorKind;
use glint_sdk::host::{MetadefSource, load_metadef_plugin};
use glint_sdk::metadef::NamespaceVisibility;
use serde_json::{Value, json};

const BUNDLED_COUNT: usize = 32;

fn bundled_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/metadefs");
    assert!(
        dir.is_dir(),
        "the bundled definitions are missing: expected {} (shared/ beside the clone)",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

fn plugin() -> PathBuf {
    glint_sdk_testkit::cdylib_path("glint_metadef_dir")
}

glint_sdk_testkit::metadef_provider_conformance_suite!(plugin(), |_: &Path| json!({
    "path": bundled_dir()
}));

fn open(options: Value) -> MetadefSource {
    load_metadef_plugin(&plugin())
        .unwrap_or_else(|err| panic!("{err}"))
        .open("test", &options)
        .unwrap_or_else(|err| panic!("{err}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn names(rt: &tokio::runtime::Runtime, source: &MetadefSource) -> Vec<String> {
    let mut names: Vec<String> = rt
        .block_on(source.list_namespaces())
        .unwrap()
        .into_iter()
        .map(|entry| entry.namespace)
        .collect();
    names.sort();
    names
}

#[test]
fn every_bundled_file_is_served_as_glint_metadefs_load_reads_it() {
    let source = open(json!({ "path": bundled_dir() }));
    assert!(source.read_only());
    let rt = runtime();
    let entries = rt.block_on(source.list_namespaces()).unwrap();
    assert_eq!(entries.len(), BUNDLED_COUNT);
    for entry in entries {
        let file = bundled_dir().join(&entry.source);
        let served = rt.block_on(source.get_namespace(&entry.namespace)).unwrap();
        // The server's own rules for definitions files accept the served document, and it says
        // exactly what the file says, with the owner `glint metadefs load` would give it.
        let served = load::parse(&served).unwrap_or_else(|err| panic!("{}: {err}", entry.source));
        let original = load::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            load::document_json(&served),
            load::document_json(&original),
            "{}",
            entry.source
        );
        assert_eq!(entry.owner, original.namespace.owner);
        assert!(entry.updated_at.is_some_and(|t| t > 0));
    }
}

#[test]
fn visibility_and_owner_options_replace_the_files_own() {
    let source = open(json!({ "path": bundled_dir(), "visibility": "private", "owner": "p1" }));
    let rt = runtime();
    for entry in rt.block_on(source.list_namespaces()).unwrap() {
        assert_eq!(entry.visibility, NamespaceVisibility::Private);
        assert_eq!(entry.owner.as_deref(), Some("p1"));
        let doc: Value =
            serde_json::from_str(&rt.block_on(source.get_namespace(&entry.namespace)).unwrap())
                .unwrap();
        assert_eq!(doc["visibility"], "private");
        assert_eq!(doc["owner"], "p1");
    }
}

#[test]
fn bad_files_are_skipped_and_the_others_served() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["compute-hypervisor.json", "operating-system.json"] {
        std::fs::copy(bundled_dir().join(name), dir.path().join(name)).unwrap();
    }
    // The same namespace again, in a file read later: the first file wins.
    std::fs::copy(
        bundled_dir().join("compute-hypervisor.json"),
        dir.path().join("zz-duplicate.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{ not json").unwrap();
    std::fs::write(dir.path().join("list.json"), "[1, 2]").unwrap();
    std::fs::write(dir.path().join("nameless.json"), r#"{"display_name": "x"}"#).unwrap();
    std::fs::write(
        dir.path().join("shared.json"),
        r#"{"namespace": "X", "visibility": "shared"}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a definitions file").unwrap();
    let source = open(json!({ "path": dir.path() }));
    let rt = runtime();
    assert_eq!(
        names(&rt, &source),
        ["OS::Compute::Hypervisor", "OS::OperatingSystem"]
    );
    let entries = rt.block_on(source.list_namespaces()).unwrap();
    assert_eq!(entries[0].source, "compute-hypervisor.json");
}

#[test]
fn a_missing_directory_is_config_invalid() {
    let err = load_metadef_plugin(&plugin())
        .unwrap()
        .open("test", &json!({ "path": "/nonexistent/glint-metadefs" }))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid);
    assert!(err.message.contains("`path`"), "{err}");
}

#[test]
fn an_empty_directory_serves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = open(json!({ "path": dir.path() }));
    assert!(names(&runtime(), &source).is_empty());
}
