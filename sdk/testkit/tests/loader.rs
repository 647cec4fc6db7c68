//! The loader against real libraries: distinct drivers, refusals, and panicking plugins.

use std::path::Path;

use futures::StreamExt;
use glint_sdk::ErrorKind;
use glint_sdk::host::{
    LoadError, PluginKind, StorePlugin, discover_store_plugins, load_store_plugin, plugin_files,
};
use glint_sdk_testkit::{collect, example_cdylib_path, odd_chunks, random_bytes};
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
    assert!(message.contains("plugin ABI 1.3"), "{message}");
}

#[test]
fn a_layout_mismatch_is_refused_in_one_paragraph() {
    let path = example_cdylib_path("store_bad_layout");
    let err = refusal(&path);
    assert!(matches!(err, LoadError::LayoutMismatch { .. }), "{err:?}");
    assert_short(&err, &path);
}

#[test]
fn a_layout_mismatch_names_the_plugins_abi_and_the_hosts() {
    let path = example_cdylib_path("store_bad_layout_1_0");
    let err = refusal(&path);
    let host = glint_sdk::abi::ABI_VERSION.rsplit_once('.').unwrap().0;
    match &err {
        LoadError::LayoutMismatch {
            plugin_abi,
            host_abi,
            ..
        } => {
            assert_eq!(plugin_abi, "1.0", "{err}");
            assert_eq!(host_abi, host, "{err}");
        }
        other => panic!("expected a layout mismatch, got {other:?}"),
    }
    let message = assert_short(&err, &path);
    assert!(
        message.contains("claims store plugin ABI 1.0,"),
        "{message}"
    );
    assert!(
        message.contains(&format!("store plugin ABI {host},")),
        "{message}"
    );
}

#[test]
fn discovery_loads_plugin_files_of_its_kind_explicit_paths_first() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    let copy = |example: &str, to: &Path| {
        std::fs::copy(example_cdylib_path(example), to).unwrap();
        to.to_owned()
    };
    let readonly_b = copy("store_readonly", &dir.join("libglint_store_b.so"));
    let readonly_c = copy("store_readonly", &dir.join("libglint_store_c.so"));
    std::fs::write(dir.join("libglint_store_a_junk.so"), b"junk").unwrap();
    // Neither a store plugin's name nor a library: never opened.
    copy("store_memory", &dir.join("libother.so"));
    std::fs::write(dir.join("libglint_metadef_x.so"), b"not a store plugin").unwrap();
    std::fs::write(dir.join("libglint_store_readme.txt"), b"not a library").unwrap();
    // An explicit path may be named freely; one named like a metadef plugin is not a store's.
    let explicit = copy("store_memory", &scratch.path().join("custom.so"));
    let metadef = scratch.path().join("libglint_metadef_y.so");

    let dirs = [dir.clone(), scratch.path().join("missing")];
    let paths = [explicit.clone(), metadef.clone()];
    assert_eq!(
        plugin_files(PluginKind::Store, &dirs, &paths),
        [
            explicit.clone(),
            dir.join("libglint_store_a_junk.so"),
            readonly_b.clone(),
            readonly_c.clone()
        ]
    );
    assert_eq!(
        plugin_files(PluginKind::Metadef, &dirs, &paths),
        [metadef, dir.join("libglint_metadef_x.so")]
    );

    let found = discover_store_plugins(&dirs, &paths);
    let drivers: Vec<&str> = found.plugins.keys().map(String::as_str).collect();
    assert_eq!(drivers, ["memory", "readonly"]);
    assert_eq!(
        found.plugins["memory"].path(),
        explicit.canonicalize().unwrap()
    );
    assert_eq!(
        found.plugins["readonly"].path(),
        readonly_b.canonicalize().unwrap()
    );
    assert!(
        matches!(found.refused.as_slice(), [LoadError::Open { .. }]),
        "{:?}",
        found.refused
    );
    assert_eq!(
        found.duplicates,
        [(
            "readonly".to_owned(),
            readonly_c,
            readonly_b.canonicalize().unwrap()
        )]
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

#[test]
fn plugins_of_abi_1_2_describe_their_driver_and_older_ones_load_without() {
    let memory = load("store_memory");
    let described = memory.description().expect("a 1.2 plugin describes itself");
    assert_eq!(described.name, "memory");
    assert_eq!(described.schemes, ["memory"]);
    assert_eq!(described.option_defaults["panic_on_open"], false);

    // 1.1: the root module ends before `describe`.
    let v11 = load("store_abi_1_1");
    assert!(v11.description().is_none());
    let store = v11.open("s", &json!({})).unwrap();
    assert_eq!(runtime().block_on(store.size("v11://x")).unwrap(), 11);

    // 1.0: the frozen example of the oldest minor still loads.
    assert!(load("store_abi_1_0").description().is_none());
}

#[test]
fn plugins_of_abi_1_3_list_and_declare_secrets_and_1_2_ones_load_without() {
    let rt = runtime();
    let memory = load("store_memory");
    assert_eq!(
        memory.description().unwrap().secret_options,
        Some(Vec::new()),
        "a 1.3 plugin may declare that it has no secrets"
    );
    let store = memory.open("m", &json!({})).unwrap();
    assert!(store.capabilities().list);
    for id in ["c", "a", "b"] {
        rt.block_on(store.put(id, None, odd_chunks(&random_bytes(3, 1))))
            .unwrap();
    }
    let first = rt.block_on(store.list(None)).unwrap();
    let second = rt.block_on(store.list(first.next.as_deref())).unwrap();
    let listed: Vec<_> = first
        .objects
        .iter()
        .chain(&second.objects)
        .map(|o| (o.location.as_str(), o.size))
        .collect();
    assert_eq!(
        listed,
        [
            ("memory://m/a", 3),
            ("memory://m/b", 3),
            ("memory://m/c", 3)
        ]
    );
    assert_eq!(second.next, None);

    // 1.2: the root module ends before `open_ext`; the driver's claim to list is not believed.
    let v12 = load("store_abi_1_2");
    let described = v12.description().expect("a 1.2 plugin describes itself");
    assert_eq!(described.secret_options, None, "1.2 declared no secrets");
    let store = v12.open("s", &json!({})).unwrap();
    assert!(!store.capabilities().list);
    assert_eq!(
        rt.block_on(store.list(None)).unwrap_err().kind,
        ErrorKind::Unsupported
    );
    assert_eq!(rt.block_on(store.size("v12://x")).unwrap(), 12);
}
