//! How the store finds librados and librbd, which it loads at run time: the system's
//! libraries, files named by `librados_path`/`librbd_path`, and clear `ConfigInvalid` errors
//! for a missing file, a file that is not the library, or a second copy of a library already in
//! use. A process of its own, as one test loads a second copy of librados.

mod support;

use std::path::PathBuf;

use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk::{ErrorKind, StoreError};
use glint_sdk_testkit::cdylib_path;
use serde_json::json;
use support::ceph;

fn open(options: &serde_json::Value) -> Result<Store, StoreError> {
    load_store_plugin(&cdylib_path("glint_store_rbd"))
        .expect("load")
        .open("ceph", options)
}

fn with(extra: serde_json::Value) -> serde_json::Value {
    let mut options = ceph().options(1);
    options
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    options
}

fn open_error(options: &serde_json::Value) -> StoreError {
    let err = open(options).expect_err(&options.to_string());
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(!err.temporary, "{err}");
    err
}

/// The file the system's loader resolves a soname to, as mapped into this process. Copies that
/// another test made under the temporary directory (and mapped, to compare them) are not it.
fn system_library(soname: &str) -> PathBuf {
    glint_store_rbd::ceph::load_libraries(None, None).expect("the system's librados and librbd");
    let scratch = std::env::temp_dir();
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .map(PathBuf::from)
        .filter(|path| !path.starts_with(&scratch))
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(soname))
        })
        .unwrap_or_else(|| panic!("{soname} is not mapped"))
}

#[test]
fn a_missing_library_file_is_config_invalid_naming_it() {
    let check = || {
        for (option, soname) in [
            ("librbd_path", "librbd.so.1"),
            ("librados_path", "librados.so.2"),
        ] {
            let missing = format!("/nonexistent/{soname}");
            let err = open_error(&with(json!({ option: missing })));
            assert!(
                err.message.starts_with(&format!(
                    "store 'ceph' (rbd) needs {soname} at {missing} (option `{option}`): "
                )),
                "{err}"
            );
            // The dynamic loader's own reason follows.
            assert!(err.message.contains("No such file or directory"), "{err}");
        }
    };
    // Whether or not another test loaded the libraries first, then surely after a load.
    check();
    drop(open(&ceph().options(1)).expect("open"));
    check();
}

#[test]
fn a_library_without_the_functions_is_config_invalid() {
    // librados is a library, but not librbd: it has none of librbd's functions.
    let err = open_error(&with(
        json!({ "librbd_path": system_library("librados.so.2") }),
    ));
    assert!(
        err.message
            .starts_with("store 'ceph' (rbd) needs librbd.so.1 with rbd_"),
        "{err}"
    );
    assert!(err.message.contains("undefined symbol"), "{err}");
}

#[test]
fn another_copy_of_a_loaded_library_is_refused() {
    drop(open(&ceph().options(1)).expect("open"));
    let scratch = tempfile::tempdir().unwrap();
    let copy = scratch.path().join("librados.so.2");
    std::fs::copy(system_library("librados.so.2"), &copy).unwrap();
    let err = open_error(&with(json!({ "librados_path": copy })));
    assert!(
        err.message.starts_with(&format!(
            "store 'ceph' (rbd) cannot use {} (option `librados_path`): this process already uses another librados.so.2",
            copy.display()
        )),
        "{err}"
    );
}

#[test]
fn named_library_files_serve_the_store() {
    let store = open(&with(json!({
        "librados_path": system_library("librados.so.2"),
        "librbd_path": system_library("librbd.so.1"),
    })))
    .expect("open with the system's library files named");
    let location = format!("rbd://glint-rbd-test-{}-absent", std::process::id());
    let err = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(store.size(&location))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}
