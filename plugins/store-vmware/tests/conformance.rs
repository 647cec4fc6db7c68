//! The vmware store through the real loader, against the real vSphere simulator (vcsim): the
//! full conformance suite, then this driver's own rules (TLS trust, credentials, locations,
//! errors).

mod support;

use std::path::Path;
use std::sync::OnceLock;

use bytes::Bytes;
use glint_sdk::host::Store;
use glint_sdk::{ErrorKind, StoreError};
use glint_sdk_testkit::{collect, odd_chunks, random_bytes};
use serde_json::json;
use support::{Vcsim, image_dir, open, plugin, plugin_path, runtime, start_vcsim};

/// The shared simulator (`vcsim-up.sh` with its defaults), started once per test process.
fn vcsim() -> &'static Vcsim {
    static VCSIM: OnceLock<Vcsim> = OnceLock::new();
    VCSIM.get_or_init(|| start_vcsim(&[]))
}

/// Each conformance case stores its images in a directory named after its scratch directory.
fn options(scratch: &Path) -> serde_json::Value {
    let name = scratch
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a scratch directory name")
        .trim_start_matches('.');
    vcsim().options(&image_dir(name))
}

glint_sdk_testkit::store_conformance_suite!(plugin_path(), options);

fn put(store: &Store, image_id: &str, data: &Bytes) -> Result<String, StoreError> {
    runtime().block_on(async {
        let outcome = store
            .put(image_id, Some(data.len() as u64), odd_chunks(data))
            .await?;
        assert_eq!(outcome.size, data.len() as u64);
        Ok(outcome.location)
    })
}

fn read(store: &Store, location: &str) -> Result<Vec<u8>, StoreError> {
    runtime().block_on(async {
        let outcome = store.get(location, None).await?;
        Ok(collect(outcome.data).await)
    })
}

fn open_error(options: serde_json::Value) -> StoreError {
    match plugin().open("vmware", &options) {
        Ok(_) => panic!("opening with {options} succeeded"),
        Err(err) => err,
    }
}

#[test]
fn driver_is_named_vmware() {
    assert_eq!(plugin().driver_name(), "vmware");
}

#[test]
fn locations_are_vsphere_urls_without_credentials() {
    let vcsim = vcsim();
    let store = open(&vcsim.options(&image_dir("locations")));
    let id = "6f2b5a6e-1001-4000-8000-000000000001";
    let data = random_bytes(70_000, 41);
    let location = put(&store, id, &data).unwrap();
    assert_eq!(
        location,
        format!(
            "vsphere://{}:{}/folder/glint-tests/{}-locations/{id}?dcPath={}&dsName={}",
            vcsim.host,
            vcsim.port,
            std::process::id(),
            vcsim.datacenter,
            vcsim.datastore
        )
    );
    assert!(!location.contains(&vcsim.password) && !location.contains('@'));
    assert_eq!(read(&store, &location).unwrap(), data);
    runtime().block_on(store.delete(&location)).unwrap();
}

#[test]
fn opening_creates_the_image_directory() {
    let vcsim = vcsim();
    let dir = image_dir("mkdir/nested");
    let listing = || {
        let pem = std::fs::read(&vcsim.ca_file).unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let url = format!(
            "https://{}:{}/folder{dir}/?dcPath={}&dsName={}",
            vcsim.host, vcsim.port, vcsim.datacenter, vcsim.datastore
        );
        runtime().block_on(async { client.get(url).send().await.unwrap().status() })
    };
    assert_eq!(listing(), 404, "{dir} exists before the store is opened");
    let _store = open(&vcsim.options(&dir));
    assert_eq!(listing(), 200, "{dir} after the store is opened");
}

#[test]
fn insecure_skips_certificate_verification() {
    let vcsim = vcsim();
    let mut options = vcsim.options(&image_dir("insecure"));
    options.as_object_mut().unwrap().remove("ca_file");
    // Without the simulator's CA the self-signed certificate is refused.
    let err = open_error(options.clone());
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(!err.temporary, "retrying cannot help: {err}");
    assert!(
        err.message.contains("certificate") && err.message.contains("`ca_file`"),
        "{err}"
    );

    options["insecure"] = json!(true);
    let store = open(&options);
    let data = random_bytes(2 * 1024 * 1024 + 5, 42);
    let location = put(&store, "6f2b5a6e-1002-4000-8000-000000000001", &data).unwrap();
    assert_eq!(read(&store, &location).unwrap(), data);
    assert_eq!(
        runtime().block_on(store.size(&location)).unwrap(),
        data.len() as u64
    );
    runtime().block_on(store.delete(&location)).unwrap();
}

#[test]
fn wrong_password_is_refused_naming_the_credentials() {
    let mut options = vcsim().options(&image_dir("password"));
    options["password"] = json!("not-the-password");
    let err = open_error(options);
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(
        err.message.contains("`username`") && err.message.contains("`password`"),
        "{err}"
    );
    assert!(err.message.contains(&vcsim().user), "{err}");
    assert!(!err.message.contains("not-the-password"), "{err}");
}

#[test]
fn delete_of_a_never_stored_image_is_not_found() {
    let vcsim = vcsim();
    let store = open(&vcsim.options(&image_dir("missing")));
    let location = format!(
        "vsphere://{}:{}/folder/glint-tests/{}-missing/6f2b5a6e-1003-4000-8000-000000000001?dcPath={}&dsName={}",
        vcsim.host,
        vcsim.port,
        std::process::id(),
        vcsim.datacenter,
        vcsim.datastore
    );
    for err in [
        runtime().block_on(store.delete(&location)).unwrap_err(),
        runtime().block_on(store.size(&location)).unwrap_err(),
        read(&store, &location).unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert!(err.message.contains("6f2b5a6e-1003"), "{err}");
    }
}

#[test]
fn locations_outside_the_store_are_permission_denied() {
    let vcsim = vcsim();
    let store = open(&vcsim.options(&image_dir("outside")));
    let elsewhere = [
        format!(
            "vsphere://{}:{}/folder/etc/passwd?dcPath={}&dsName={}",
            vcsim.host, vcsim.port, vcsim.datacenter, vcsim.datastore
        ),
        format!(
            "vsphere://other.example/folder/glint-tests/{}-outside/x?dcPath={}&dsName={}",
            std::process::id(),
            vcsim.datacenter,
            vcsim.datastore
        ),
        "file:///etc/passwd".to_owned(),
    ];
    for location in elsewhere {
        let err = runtime().block_on(store.delete(&location)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{location}: {err}");
    }
}

#[test]
fn an_image_larger_than_the_free_space_is_storage_full() {
    let store = open(&vcsim().options(&image_dir("full")));
    let data = Bytes::from_static(b"small");
    let err = runtime()
        .block_on(store.put(
            "6f2b5a6e-1004-4000-8000-000000000001",
            Some(u64::MAX / 2),
            odd_chunks(&data),
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::StorageFull, "{err}");
}

#[test]
fn config_errors_are_config_invalid_naming_the_option() {
    let vcsim = vcsim();
    let base = vcsim.options(&image_dir("config"));
    let with = |key: &str, value: serde_json::Value| {
        let mut options = base.clone();
        options[key] = value;
        options
    };
    let cases = [
        (
            with("vmware_server_host", json!("x")),
            "`vmware_server_host`",
        ),
        (with("ca_file", json!("/nonexistent/ca.pem")), "`ca_file`"),
        (with("datastores", json!(["DC0"])), "`datastores`"),
        (
            with(
                "datastores",
                json!([format!("{}:NoSuchDS", vcsim.datacenter)]),
            ),
            "NoSuchDS",
        ),
        (
            with(
                "datastores",
                json!([format!("NoSuchDC:{}", vcsim.datastore)]),
            ),
            "NoSuchDC",
        ),
    ];
    for (options, named) in cases {
        let err = open_error(options.clone());
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains(named), "{options}: {err}");
    }
}

#[test]
fn unreachable_server_is_temporarily_unavailable() {
    let mut options = vcsim().options(&image_dir("unreachable"));
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    options["port"] = json!(9);
    options["api_retry_count"] = json!(1);
    let err = open_error(options);
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.temporary, "{err}");
}

#[test]
fn concurrent_puts_of_one_id_let_exactly_one_win() {
    let store = open(&vcsim().options(&image_dir("race")));
    let id = "6f2b5a6e-1005-4000-8000-000000000001";
    let first = random_bytes(3 * 1024 * 1024, 43);
    let second = random_bytes(3 * 1024 * 1024, 44);
    runtime().block_on(async {
        // Both usually pass the existence check before either publishes; then the rename
        // (which never replaces a file) decides.
        let (a, b) = tokio::join!(
            store.put(id, Some(first.len() as u64), odd_chunks(&first)),
            store.put(id, Some(second.len() as u64), odd_chunks(&second)),
        );
        let (location, winner) = match (a, b) {
            (Ok(won), Err(lost)) => {
                assert_eq!(lost.kind, ErrorKind::AlreadyExists, "{lost}");
                (won.location, &first)
            }
            (Err(lost), Ok(won)) => {
                assert_eq!(lost.kind, ErrorKind::AlreadyExists, "{lost}");
                (won.location, &second)
            }
            (a, b) => panic!("expected one success and one AlreadyExists: {a:?} / {b:?}"),
        };
        let read = collect(store.get(&location, None).await.unwrap().data).await;
        assert!(read == winner[..], "the winner's bytes are stored, intact");
        store.delete(&location).await.unwrap();
    });
}
