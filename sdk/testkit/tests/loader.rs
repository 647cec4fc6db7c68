//! The loader against real libraries: distinct drivers, refusals, and panicking plugins.

use std::path::Path;

use futures::StreamExt;
use glint_sdk::ErrorKind;
use glint_sdk::host::{LoadError, StorePlugin, discover_store_plugins, load_store_plugin};
use glint_testkit::{collect, example_cdylib_path, odd_chunks, random_bytes};
use serde_json::json;

fn load(name: &str) -> StorePlugin {
    load_store_plugin(&example_cdylib_path(name)).unwrap_or_else(|err| panic!("{err}"))
}

fn refusal(path: &Path) -> LoadError {
    load_store_plugin(path).expect_err("the library must be refused")
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
fn two_plugin_files_are_two_drivers() {
    let memory = load("store_memory");
    let readonly = load("store_readonly");
    assert_eq!(memory.driver_name(), "memory");
    assert_eq!(readonly.driver_name(), "readonly");
    assert_eq!(memory.sdk_version(), env!("CARGO_PKG_VERSION"));
    let store = readonly
        .open("ro", &json!({ "objects": { "a": "abc" } }))
        .unwrap();
    assert_eq!(store.driver(), "readonly");
    assert!(!store.capabilities().write);
    let memory_store = memory.open("mem", &json!({})).unwrap();
    assert!(memory_store.capabilities().write);
    let rt = runtime();
    assert_eq!(rt.block_on(store.size("readonly:a")).unwrap(), 3);
    let outcome = rt.block_on(store.get("readonly:a", None)).unwrap();
    assert_eq!(rt.block_on(collect(outcome.data)), b"abc");
}

#[test]
fn loading_one_file_twice_returns_the_loaded_plugin() {
    let scratch = tempfile::tempdir().unwrap();
    let link = scratch.path().join("libalias.so");
    std::os::unix::fs::symlink(example_cdylib_path("store_memory"), &link).unwrap();
    let direct = load("store_memory");
    let aliased = load_store_plugin(&link).unwrap();
    assert_eq!(aliased.path(), direct.path());
    assert_eq!(aliased.driver_name(), "memory");
}

#[test]
fn a_file_that_is_not_a_library_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("libgarbage.so");
    std::fs::write(&path, random_bytes(10_000, 1)).unwrap();
    let err = refusal(&path);
    assert!(matches!(err, LoadError::Open { .. }), "{err:?}");
    assert_short(&err, &path);
    let err = refusal(&scratch.path().join("libmissing.so"));
    assert!(matches!(err, LoadError::Open { .. }), "{err:?}");
}

#[test]
fn a_library_without_a_root_module_is_not_a_plugin() {
    // The test executable's own standard library is a shared object, but no plugin.
    let libc = Path::new("/lib/x86_64-linux-gnu/libm.so.6");
    if !libc.exists() {
        eprintln!("skipped: no libm at {}", libc.display());
        return;
    }
    let err = refusal(libc);
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
    assert_short(&err, libc);
}

#[test]
fn another_abi_major_is_refused_naming_both_versions() {
    let path = example_cdylib_path("store_future_abi");
    let err = refusal(&path);
    assert!(matches!(err, LoadError::Incompatible { .. }), "{err:?}");
    let message = assert_short(&err, &path);
    assert!(message.contains("plugin ABI 2.0"), "{message}");
    assert!(message.contains("plugin ABI 1.1"), "{message}");
}

#[test]
fn a_layout_mismatch_is_refused_in_one_paragraph() {
    let path = example_cdylib_path("store_bad_layout");
    let err = refusal(&path);
    assert!(matches!(err, LoadError::LayoutMismatch { .. }), "{err:?}");
    assert_short(&err, &path);
}

#[test]
fn discovery_loads_every_lib_so_in_name_order() {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::copy(
        example_cdylib_path("store_readonly"),
        scratch.path().join("libb_readonly.so"),
    )
    .unwrap();
    std::fs::write(scratch.path().join("liba_junk.so"), b"junk").unwrap();
    std::fs::write(scratch.path().join("README.txt"), b"not a plugin").unwrap();
    let found = discover_store_plugins(scratch.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].is_err(), "{found:?}");
    assert_eq!(found[1].as_ref().unwrap().driver_name(), "readonly");
    let missing = discover_store_plugins(&scratch.path().join("nope"));
    assert!(
        matches!(missing.as_slice(), [Err(LoadError::Open { .. })]),
        "{missing:?}"
    );
}

#[test]
fn panics_in_a_plugin_become_unexpected_errors() {
    let memory = load("store_memory");
    let err = memory
        .open("mem", &json!({ "panic_on_open": true }))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unexpected);
    assert!(err.message.contains("asked to panic on open"), "{err}");

    let store = memory.open("mem", &json!({})).unwrap();
    let rt = runtime();
    let data = random_bytes(200_000, 3);
    let err = rt
        .block_on(store.put("panic-in-put", None, odd_chunks(&data)))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unexpected);
    assert!(err.message.contains("asked to panic in put"), "{err}");

    let outcome = rt
        .block_on(store.put("panic-in-stream", None, odd_chunks(&data)))
        .unwrap();
    let items: Vec<_> = rt.block_on(async {
        store
            .get(&outcome.location, None)
            .await
            .unwrap()
            .data
            .collect()
            .await
    });
    assert!(items[0].is_ok(), "the first chunk arrives");
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unexpected);
    assert!(
        err.message.contains("asked to panic in the stream"),
        "{err}"
    );

    // The plugin keeps working after its panics.
    let outcome = rt
        .block_on(store.put("after", None, odd_chunks(&data)))
        .unwrap();
    let read = rt
        .block_on(async { collect(store.get(&outcome.location, None).await.unwrap().data).await });
    assert_eq!(read, data);
}

#[test]
fn stores_are_usable_from_spawned_tasks() {
    let store = load("store_memory").open("mem", &json!({})).unwrap();
    let rt = runtime();
    let data = random_bytes(100_000, 4);
    let location = rt
        .block_on(rt.spawn(store.put("spawned", None, odd_chunks(&data))))
        .unwrap()
        .unwrap()
        .location;
    assert_eq!(
        rt.block_on(rt.spawn(store.size(&location)))
            .unwrap()
            .unwrap(),
        100_000
    );
    assert!(format!("{store:?}").contains("memory"));
}
