//! The `dirhash` driver through glint's real plugin loader: the SDK's conformance suite, then the
//! rules of this driver.

use std::path::{Path, PathBuf};

use glint_sdk::ErrorKind;
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk::serde_json::{Value, json};
use glint_sdk_testkit::{cdylib_path, collect, odd_chunks, random_bytes};

/// The library `cargo test` built for this crate (the `rlib` crate type makes it build first).
fn plugin() -> PathBuf {
    cdylib_path("glint_store_dirhash")
}

fn options(scratch: &Path) -> Value {
    json!({ "root": scratch.join("objects"), "chunk_size": 65_536 })
}

// One #[test] per case of the kit, each enforcing lines of the `# Behavior` lists of `StoreDriver`.
glint_sdk_testkit::store_conformance_suite!(plugin(), options);

fn open(scratch: &Path) -> Store {
    load_store_plugin(&plugin())
        .unwrap_or_else(|err| panic!("{err}"))
        .open("dirhash-test", &options(scratch))
        .unwrap_or_else(|err| panic!("{err}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_library_declares_driver_dirhash() {
    assert_eq!(
        load_store_plugin(&plugin()).unwrap().driver_name(),
        "dirhash"
    );
}

#[test]
fn bad_options_are_config_invalid_naming_the_option() {
    let plugin = load_store_plugin(&plugin()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    for (options, option) in [
        (json!({}), "`root`"),
        (json!({ "root": "relative/dir" }), "`root`"),
        (json!({ "root": scratch.path(), "roots": "/x" }), "`roots`"),
        (
            json!({ "root": scratch.path(), "chunk_size": 0 }),
            "`chunk_size`",
        ),
        (json!({ "root": file }), "`root`"),
        (json!({ "root": file.join("below-a-file") }), "`root`"),
    ] {
        let err = plugin.open("dirhash-test", &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains(option), "{options}: {err}");
    }
}

#[test]
fn objects_land_in_the_shard_of_their_id_and_nothing_else_stays() {
    let scratch = tempfile::tempdir().unwrap();
    let store = open(scratch.path());
    let rt = runtime();
    let image_id = "c3a1f00d-0000-4000-8000-000000000001";
    let data = random_bytes(3 * 1024 * 1024 + 1, 1);
    let outcome = rt
        .block_on(store.put(image_id, Some(data.len() as u64), odd_chunks(&data)))
        .unwrap();
    assert_eq!(outcome.location, format!("dirhash://c3/{image_id}"));
    let root = scratch.path().join("objects");
    assert_eq!(listing(&root), [".incoming", "c3"]);
    assert_eq!(listing(&root.join("c3")), [image_id]);
    assert_eq!(listing(&root.join(".incoming")), Vec::<String>::new());
    assert_eq!(std::fs::read(root.join("c3").join(image_id)).unwrap(), data);

    rt.block_on(store.delete(&outcome.location)).unwrap();
    assert_eq!(listing(&root.join("c3")), Vec::<String>::new());

    // A failed write leaves no temporary file and no object.
    let err = rt
        .block_on(store.put(image_id, Some(1), odd_chunks(&data)))
        .unwrap_err();
    assert!(err.message.contains("announced"), "{err}");
    assert_eq!(listing(&root.join(".incoming")), Vec::<String>::new());
    assert_eq!(listing(&root.join("c3")), Vec::<String>::new());
}

#[test]
fn ids_and_locations_outside_the_layout_are_permission_denied() {
    let scratch = tempfile::tempdir().unwrap();
    let store = open(scratch.path());
    let secret = scratch.path().join("secret");
    std::fs::write(&secret, b"secret").unwrap();
    let rt = runtime();
    for image_id in ["../secret", "..", "C3A1F00D-0000", "zz", ""] {
        let err = rt
            .block_on(store.put(image_id, None, odd_chunks(&random_bytes(1, 1))))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{image_id:?}: {err}");
    }
    for location in [
        format!("file://{}", secret.display()),
        "dirhash://../secret".to_owned(),
        "dirhash://c3/../../secret".to_owned(),
        "dirhash://c4/c3a1f00d-0000-4000-8000-000000000001".to_owned(),
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
    assert_eq!(std::fs::read(&secret).unwrap(), b"secret");
}

#[test]
fn two_stores_on_one_root_see_each_others_objects() {
    // Several glint servers may share one directory (a shared filesystem): locations are relative
    // to the root, and a second store on it reads what the first wrote.
    let scratch = tempfile::tempdir().unwrap();
    let (first, second) = (open(scratch.path()), open(scratch.path()));
    let rt = runtime();
    let data = random_bytes(100_000, 2);
    let outcome = rt
        .block_on(first.put(
            "0f000000-0000-4000-8000-000000000001",
            None,
            odd_chunks(&data),
        ))
        .unwrap();
    let read = rt
        .block_on(async { collect(second.get(&outcome.location, None).await.unwrap().data).await });
    assert_eq!(read, data);
    let err = rt
        .block_on(second.put(
            "0f000000-0000-4000-8000-000000000001",
            None,
            odd_chunks(&data),
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
}
