//! The file store through the real loader: the conformance suite, then its own rules.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use glint_sdk::ErrorKind;
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk_testkit::{cdylib_path, collect, odd_chunks, random_bytes};
use serde_json::json;

fn plugin() -> PathBuf {
    cdylib_path("glint_store_file")
}

fn options(datadir: &Path) -> serde_json::Value {
    json!({ "datadir": datadir, "chunk_size": 65_536 })
}

glint_sdk_testkit::store_conformance_suite!(plugin(), options);

fn open(datadir: &Path) -> Store {
    load_store_plugin(&plugin())
        .expect("load")
        .open("files", &options(datadir))
        .expect("open")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn driver_is_named_file() {
    assert_eq!(load_store_plugin(&plugin()).unwrap().driver_name(), "file");
}

#[test]
fn unknown_option_is_config_invalid_naming_it() {
    let plugin = load_store_plugin(&plugin()).unwrap();
    let err = plugin
        .open("files", &json!({ "datadir": "/tmp", "data_dir": "/tmp" }))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid);
    assert!(err.message.contains("`data_dir`"), "{err}");
    let err = plugin.open("files", &json!({})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid);
    assert!(err.message.contains("`datadir`"), "{err}");
}

#[test]
fn unusable_datadir_is_config_invalid() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let err = load_store_plugin(&plugin())
        .unwrap()
        .open("files", &json!({ "datadir": file.join("images") }))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(err.message.contains("`datadir`"), "{err}");
}

#[test]
fn locations_are_absolute_file_urls_inside_the_datadir() {
    let scratch = tempfile::tempdir().unwrap();
    let store = open(scratch.path());
    let data = random_bytes(1000, 1);
    let outcome = runtime()
        .block_on(store.put(
            "b0c1d2e3-0000-4000-8000-000000000001",
            None,
            odd_chunks(&data),
        ))
        .unwrap();
    let expected = scratch
        .path()
        .canonicalize()
        .unwrap()
        .join("b0c1d2e3-0000-4000-8000-000000000001");
    assert_eq!(outcome.location, format!("file://{}", expected.display()));
    assert_eq!(std::fs::read(expected).unwrap(), data);
}

#[test]
fn escaping_ids_and_locations_are_permission_denied() {
    let scratch = tempfile::tempdir().unwrap();
    let datadir = scratch.path().join("images");
    let store = open(&datadir);
    let outside = scratch.path().join("secret");
    std::fs::write(&outside, b"secret").unwrap();
    std::os::unix::fs::symlink(&outside, datadir.join("link")).unwrap();
    let root = datadir.canonicalize().unwrap();
    let rt = runtime();
    for image_id in ["../secret", "..", ".hidden", "a/b", ""] {
        let err = rt
            .block_on(store.put(image_id, None, odd_chunks(&random_bytes(1, 1))))
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "id {image_id:?}: {err}"
        );
    }
    for location in [
        format!("file://{}/../secret", root.display()),
        format!("file://{}", outside.display()),
        format!("file://{}/link", root.display()),
        outside.display().to_string(),
    ] {
        let err = rt.block_on(store.get(&location, None)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "get {location}: {err}"
        );
        let err = rt.block_on(store.size(&location)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "size {location}: {err}"
        );
        let err = rt.block_on(store.delete(&location)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "delete {location}: {err}"
        );
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"secret");
}

/// Lists the data directory, waiting briefly for an abandoned write to clean up.
fn settled_listing(dir: &Path, expected: usize) -> Vec<String> {
    let list = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    for _ in 0..100 {
        if list().len() == expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    list()
}

#[test]
fn failed_and_abandoned_writes_leave_no_temporary_files() {
    let scratch = tempfile::tempdir().unwrap();
    let store = open(scratch.path());
    let rt = runtime();
    let data = random_bytes(2 * 1024 * 1024, 2);
    let err = rt
        .block_on(store.put(
            "c0000000-0000-4000-8000-000000000001",
            Some(1),
            odd_chunks(&data),
        ))
        .unwrap_err();
    assert!(err.message.contains("announced"), "{err}");
    let stalled = odd_chunks(&data).chain(futures::stream::pending());
    rt.block_on(async {
        let put = store.put(
            "c0000000-0000-4000-8000-000000000002",
            None,
            Box::pin(stalled),
        );
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(300), put).await;
        assert!(timed_out.is_err(), "the stalled put cannot finish");
    });
    assert_eq!(settled_listing(scratch.path(), 0), Vec::<String>::new());
    let outcome = rt
        .block_on(store.put(
            "c0000000-0000-4000-8000-000000000003",
            None,
            odd_chunks(&data),
        ))
        .unwrap();
    assert_eq!(
        settled_listing(scratch.path(), 1),
        ["c0000000-0000-4000-8000-000000000003"]
    );
    let read = rt
        .block_on(async { collect(store.get(&outcome.location, None).await.unwrap().data).await });
    assert_eq!(read, data);
}
