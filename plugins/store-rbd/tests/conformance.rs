//! The rbd store through the real loader, against a real Ceph cluster: the conformance suite,
//! then its own rules (snapshots, thin provisioning, clones, credentials, locations).

mod support;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk::{ErrorKind, StoreError};
use glint_sdk_testkit::{cdylib_path, collect, odd_chunks, random_bytes, sha256};
use glint_store_rbd::SNAPSHOT;
use serde_json::json;
use support::{ceph, remove_image};

const MIB: usize = 1024 * 1024;

fn plugin() -> PathBuf {
    cdylib_path("glint_store_rbd")
}

/// 1 MiB chunks, so that the suite's multi-MiB images take several writes and resizes.
fn options(_scratch: &Path) -> serde_json::Value {
    ceph().options(1)
}

glint_sdk_testkit::store_conformance_suite!(plugin(), options);

fn open(options: &serde_json::Value) -> Result<Store, StoreError> {
    load_store_plugin(&plugin())
        .expect("load")
        .open("ceph", options)
}

fn store() -> Store {
    open(&ceph().options(1)).expect("open")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An image id unique to this test process.
fn test_id(name: &str) -> String {
    format!("glint-rbd-test-{}-{name}", std::process::id())
}

fn read(store: &Store, location: &str) -> Result<Vec<u8>, StoreError> {
    runtime().block_on(async { Ok(collect(store.get(location, None).await?.data).await) })
}

fn with(extra: serde_json::Value) -> serde_json::Value {
    let mut options = ceph().options(1);
    options
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    options
}

#[test]
fn driver_is_named_rbd() {
    assert_eq!(load_store_plugin(&plugin()).unwrap().driver_name(), "rbd");
}

#[test]
fn config_errors_are_config_invalid_naming_the_option() {
    let cases = [
        (
            with(json!({ "rbd_store_pool": "images" })),
            "`rbd_store_pool`",
        ),
        (with(json!({ "chunk_size": 3 })), "`chunk_size`"),
        (with(json!({ "connect_timeout": "soon" })), "invalid type"),
        (
            with(json!({ "ceph_conf": "/nonexistent/ceph.conf" })),
            "`ceph_conf`",
        ),
        (
            with(json!({ "keyring": "/nonexistent/keyring" })),
            "`keyring`",
        ),
        (with(json!({ "pool": "no-such-pool" })), "`pool`"),
    ];
    for (options, needle) in cases {
        let err = open(&options).expect_err(&options.to_string());
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains(needle), "{options}: {err}");
    }
}

#[test]
fn refused_credentials_are_config_invalid_naming_user_and_keyring() {
    let scratch = tempfile::tempdir().unwrap();
    let wrong_key = "AQB+TApr9c+3EBAASebD9dJiIiuyBdTyBZO4nQ==";
    let keyring = scratch.path().join("wrong.keyring");
    std::fs::write(
        &keyring,
        format!("[client.{}]\n\tkey = {wrong_key}\n", ceph().user),
    )
    .unwrap();
    for options in [
        with(json!({ "keyring": keyring })),
        with(json!({ "rados_user": "nobody" })),
    ] {
        let err = open(&options).expect_err(&options.to_string());
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains("`rados_user`"), "{err}");
        assert!(err.message.contains("`keyring`"), "{err}");
        assert!(!err.message.contains(wrong_key), "the key leaked: {err}");
    }
}

#[test]
fn unreachable_cluster_is_unavailable() {
    let scratch = tempfile::tempdir().unwrap();
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = scratch.path().join("ceph.conf");
    std::fs::write(
        &conf,
        format!("[global]\nmon host = 127.0.0.1:{port}\nauth client required = cephx\nlog file = /dev/null\n"),
    )
    .unwrap();
    let store = open(&with(json!({ "ceph_conf": conf, "connect_timeout": 2 })))
        .expect("a store opens while its cluster is unreachable");
    let rt = runtime();
    let err = rt
        .block_on(store.put(
            &test_id("unreachable"),
            None,
            odd_chunks(&random_bytes(10, 1)),
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.temporary, "{err}");
    let err = rt
        .block_on(store.get("rbd://fsid/images/glint-rbd-test-x/snap", None))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
}

#[test]
fn put_leaves_a_protected_snapshot_and_a_glance_location() {
    let store = store();
    let image_id = test_id("snapshot");
    let data = random_bytes(3 * MIB + 17, 31);
    let outcome = runtime()
        .block_on(store.put(&image_id, Some(data.len() as u64), odd_chunks(&data)))
        .unwrap();
    let ioctx = ceph().ioctx();
    let fsid = read_fsid();
    assert_eq!(
        outcome.location,
        format!("rbd://{fsid}/{}/{image_id}/{SNAPSHOT}", ceph().pool)
    );
    let image = ioctx.open_read_only(&image_id, None).unwrap();
    assert!(
        image.snap_is_protected(SNAPSHOT).unwrap(),
        "snap is protected"
    );
    assert_eq!(image.size().unwrap(), data.len() as u64);
    drop(image);
    let leftovers: Vec<String> = ioctx
        .list_images()
        .unwrap()
        .into_iter()
        .filter(|name| name.starts_with(&format!(".{image_id}")))
        .collect();
    assert!(leftovers.is_empty(), "temporary images left: {leftovers:?}");
    // The short form reads the image head: the same bytes.
    assert_eq!(
        sha256(&read(&store, &format!("rbd://{image_id}")).unwrap()),
        sha256(&data)
    );
    runtime().block_on(store.delete(&outcome.location)).unwrap();
    let err = ioctx.open_read_only(&image_id, None).unwrap_err();
    assert_eq!(err.errno, glint_store_rbd::ceph::errno::ENOENT);
}

fn read_fsid() -> String {
    let conf = std::fs::read_to_string(&ceph().conf).unwrap();
    conf.lines()
        .find_map(|line| line.trim().strip_prefix("fsid = "))
        .expect("fsid in ceph.conf")
        .to_owned()
}

#[test]
fn zero_chunks_are_not_allocated() {
    let store = store();
    let image_id = test_id("sparse");
    // 1 MiB chunks: data, zeroes, zeroes, data, then half a chunk of zeroes at the end.
    let mut data = Vec::new();
    data.extend_from_slice(&random_bytes(MIB, 41));
    data.extend_from_slice(&vec![0; 2 * MIB]);
    data.extend_from_slice(&random_bytes(MIB, 42));
    data.extend_from_slice(&vec![0; MIB / 2]);
    let data = Bytes::from(data);
    let outcome = runtime()
        .block_on(store.put(&image_id, None, odd_chunks(&data)))
        .unwrap();
    assert_eq!(outcome.size, data.len() as u64);
    assert_eq!(
        sha256(&read(&store, &outcome.location).unwrap()),
        sha256(&data)
    );

    let image = ceph()
        .ioctx()
        .open_read_only(&image_id, Some(SNAPSHOT))
        .unwrap();
    let extents = image.extents(data.len() as u64).unwrap();
    let allocated: u64 = extents.iter().filter(|e| e.exists).map(|e| e.len).sum();
    assert_eq!(allocated, 2 * MIB as u64, "extents: {extents:?}");
    for extent in extents.iter().filter(|e| e.exists) {
        let (start, end) = (
            extent.offset as usize,
            (extent.offset + extent.len) as usize,
        );
        let in_data = end <= MIB || (start >= 3 * MIB && end <= 4 * MIB);
        assert!(in_data, "zeroes were written at {start}..{end}");
    }
    drop(image);
    runtime().block_on(store.delete(&outcome.location)).unwrap();
}

#[test]
fn a_clone_makes_delete_in_use_until_it_is_removed() {
    let store = store();
    let image_id = test_id("parent");
    let clone = format!("{image_id}-clone");
    let data = random_bytes(2 * MIB + 5, 51);
    let rt = runtime();
    let outcome = rt
        .block_on(store.put(&image_id, Some(data.len() as u64), odd_chunks(&data)))
        .unwrap();
    let ioctx = ceph().ioctx();
    ioctx.clone_image(&image_id, SNAPSHOT, &clone).unwrap();

    let err = rt.block_on(store.delete(&outcome.location)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InUse, "{err}");
    assert!(
        err.message.contains(&clone),
        "the message names the clone: {err}"
    );
    // The image, its snapshot and its protection are intact.
    assert_eq!(
        sha256(&read(&store, &outcome.location).unwrap()),
        sha256(&data)
    );
    let image = ioctx.open_read_only(&image_id, None).unwrap();
    assert!(image.snap_is_protected(SNAPSHOT).unwrap());
    drop(image);

    remove_image(&ioctx, &clone);
    rt.block_on(store.delete(&outcome.location)).unwrap();
    let err = read(&store, &outcome.location).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[test]
fn foreign_and_malformed_locations_are_permission_denied() {
    let store = store();
    let rt = runtime();
    for location in [
        "rbd://00000000-0000-0000-0000-000000000000/images/glint-rbd-test-x/snap".to_owned(),
        format!("rbd://{}/images/.hidden/snap", read_fsid()),
        "rbd://a/b".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        let err = rt.block_on(store.get(&location, None)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "get {location}: {err}"
        );
        let err = rt.block_on(store.delete(&location)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PermissionDenied,
            "delete {location}: {err}"
        );
    }
    let err = rt
        .block_on(store.put("../x", None, stream::empty().boxed()))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
}

#[test]
fn a_missing_snapshot_is_not_found() {
    let store = store();
    let image_id = test_id("nosnap");
    let rt = runtime();
    let outcome = rt
        .block_on(store.put(&image_id, None, odd_chunks(&random_bytes(100, 61))))
        .unwrap();
    let other = outcome.location.replace("/snap", "/other");
    let err = rt.block_on(store.size(&other)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    rt.block_on(store.delete(&outcome.location)).unwrap();
}

/// The temporary images (`.<id>.tmp-…`) of `image_id` still in the pool.
fn temporary_images(image_id: &str) -> Vec<String> {
    let prefix = format!(".{image_id}.tmp-");
    ceph()
        .ioctx()
        .list_images()
        .unwrap()
        .into_iter()
        .filter(|name| name.starts_with(&prefix))
        .collect()
}

#[test]
fn failed_and_abandoned_puts_remove_their_temporary_images() {
    let store = store();
    let rt = runtime();
    let data = random_bytes(3 * MIB, 71);

    let failed = test_id("failed");
    let failing = odd_chunks(&data)
        .chain(stream::iter([Err(StoreError::new(
            ErrorKind::Unavailable,
            "gone",
        ))]))
        .boxed();
    rt.block_on(store.put(&failed, None, failing)).unwrap_err();
    // The error is returned only once the clean-up is done.
    assert_eq!(temporary_images(&failed), Vec::<String>::new());

    let abandoned = test_id("abandoned");
    let stalled = odd_chunks(&data).chain(stream::pending()).boxed();
    rt.block_on(async {
        let put = tokio::spawn(store.put(&abandoned, None, stalled));
        let mut written = Vec::new();
        for _ in 0..100 {
            written = temporary_images(&abandoned);
            if !written.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(written.len(), 1, "the put writes one temporary image");
        put.abort();
        assert!(put.await.expect_err("aborted").is_cancelled());
    });
    let mut left = temporary_images(&abandoned);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        left = temporary_images(&abandoned);
    }
    assert_eq!(left, Vec::<String>::new(), "the abandoned put cleaned up");
}
