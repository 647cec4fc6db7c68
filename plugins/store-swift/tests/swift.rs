//! The swift store's own rules, through the real loader against a real Swift (tempauth): Static
//! Large Objects and their segments, multiple containers, errors.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk::{DataStream, ErrorKind, ReadRange, StoreError};
use glint_sdk_testkit::{collect, odd_chunks, random_bytes, sha256};
use serde_json::json;
use support::{Account, container_name, open, options, plugin, runtime, segmented_options, swift};

const MIB: usize = 1024 * 1024;
const SEGMENT: usize = 256 * 1024;

/// Options for a fresh container; `tag` names it within this test process.
fn fresh(tag: &str, segmented: bool) -> (serde_json::Value, String) {
    let dir = std::env::temp_dir().join(tag);
    let options = if segmented {
        segmented_options(&dir)
    } else {
        options(&dir)
    };
    let container = options["container"].as_str().unwrap().to_owned();
    assert_eq!(container, container_name(tag));
    (options, container)
}

async fn account() -> Account {
    Account::connect(swift()).await
}

async fn read(
    store: &Store,
    location: &str,
    range: Option<ReadRange>,
) -> Result<Vec<u8>, StoreError> {
    let outcome = store.get(location, range).await?;
    Ok(collect(outcome.data).await)
}

fn segment_names(image_id: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{image_id}-{n:05}")).collect()
}

#[test]
fn driver_is_named_swift() {
    assert_eq!(load_store_plugin(&plugin()).unwrap().driver_name(), "swift");
}

#[test]
fn config_errors_are_config_invalid_naming_the_option() {
    let plugin = load_store_plugin(&plugin()).unwrap();
    let base = json!({
        "auth_url": "http://127.0.0.1:8080/auth/v1.0",
        "auth_version": "1",
        "user": "test:tester",
        "key": "testing",
    });
    let with = |key: &str, value: serde_json::Value| {
        let mut options = base.clone();
        if value.is_null() {
            options.as_object_mut().unwrap().remove(key);
        } else {
            options[key] = value;
        }
        options
    };
    let cases = [
        (with("auth_url", json!(null)), "`auth_url`"),
        (with("user", json!(null)), "`user`"),
        (with("key", json!(null)), "`key`"),
        (
            with("swift_store_container", json!("x")),
            "`swift_store_container`",
        ),
        (with("auth_version", json!("2")), "`auth_version`"),
        (
            with("large_object_chunk_size", json!(0)),
            "`large_object_chunk_size`",
        ),
        (
            with("multiple_containers_seed", json!(40)),
            "`multiple_containers_seed`",
        ),
    ];
    for (options, named) in cases {
        let err = plugin.open("swift", &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains(named), "{options}: {err}");
        assert!(!err.message.contains("testing"), "the key leaked: {err}");
    }
}

#[test]
fn large_objects_are_slo_segments_and_delete_removes_every_one() {
    let (options, container) = fresh("slo-delete", true);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-0001-4000-8000-000000000001";
        // Known size above large_object_size: 5 full segments and a short one.
        let data = random_bytes(5 * SEGMENT + 1000, 41);
        let outcome = store
            .put(image_id, Some(data.len() as u64), odd_chunks(&data))
            .await
            .unwrap();
        assert_eq!(
            outcome.location,
            format!("swift+config://swift/{container}/{image_id}")
        );
        let mut expected = vec![image_id.to_owned()];
        expected.extend(segment_names(image_id, 6));
        assert_eq!(account.objects(&container).await, expected);
        let headers = account.head(&container, image_id).await.unwrap();
        assert_eq!(headers["x-static-large-object"], "True");
        assert_eq!(
            store.size(&outcome.location).await.unwrap(),
            data.len() as u64
        );
        assert_eq!(
            sha256(&read(&store, &outcome.location, None).await.unwrap()),
            sha256(&data)
        );

        store.delete(&outcome.location).await.unwrap();
        assert_eq!(account.objects(&container).await, Vec::<String>::new());
        let err = store.delete(&outcome.location).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn known_size_up_to_large_object_size_is_one_plain_object() {
    let (options, container) = fresh("plain", true);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-0002-4000-8000-000000000001";
        let data = random_bytes(MIB, 42);
        let outcome = store
            .put(image_id, Some(MIB as u64), odd_chunks(&data))
            .await
            .unwrap();
        assert_eq!(account.objects(&container).await, vec![image_id.to_owned()]);
        let headers = account.head(&container, image_id).await.unwrap();
        assert!(headers.get("x-static-large-object").is_none());
        store.delete(&outcome.location).await.unwrap();
        assert!(account.objects(&container).await.is_empty());
    });
}

#[test]
fn unknown_size_goes_in_segments() {
    let (options, container) = fresh("unknown-size", true);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-0003-4000-8000-000000000001";
        // Exactly two segments: no empty third one.
        let data = random_bytes(2 * SEGMENT, 43);
        let outcome = store.put(image_id, None, odd_chunks(&data)).await.unwrap();
        assert_eq!(outcome.size, data.len() as u64);
        let mut expected = vec![image_id.to_owned()];
        expected.extend(segment_names(image_id, 2));
        assert_eq!(account.objects(&container).await, expected);
        assert_eq!(
            sha256(&read(&store, &outcome.location, None).await.unwrap()),
            sha256(&data)
        );
        store.delete(&outcome.location).await.unwrap();
        assert!(account.objects(&container).await.is_empty());
    });
}

#[test]
fn ranged_reads_span_segments() {
    let (options, _) = fresh("ranges", true);
    let store = open(&options);
    runtime().block_on(async {
        let data = random_bytes(4 * SEGMENT + 77, 44);
        let outcome = store
            .put(
                "7a5e0b1c-0004-4000-8000-000000000001",
                Some(data.len() as u64),
                odd_chunks(&data),
            )
            .await
            .unwrap();
        let seg = SEGMENT as u64;
        for (offset, length) in [
            (seg - 1, Some(2)),
            (seg - 100, Some(2 * seg + 200)),
            (3 * seg + 5, None),
            (0, Some(4 * seg + 77)),
            (4 * seg + 76, Some(10)),
        ] {
            let range = ReadRange { offset, length };
            let outcome = store.get(&outcome.location, Some(range)).await.unwrap();
            assert_eq!(outcome.total_size, data.len() as u64);
            let got = collect(outcome.data).await;
            let end = length.map_or(data.len() as u64, |length| {
                (offset + length).min(data.len() as u64)
            });
            assert!(
                got == data[offset as usize..end as usize],
                "bytes of {range:?}"
            );
        }
        let err = store
            .get(
                &outcome.location,
                Some(ReadRange {
                    offset: data.len() as u64,
                    length: None,
                }),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::RangeNotSatisfiable, "{err}");
    });
}

/// A stream of `data` that fails after it.
fn failing_after(data: &Bytes) -> DataStream {
    odd_chunks(data)
        .chain(stream::iter([Err(StoreError::new(
            ErrorKind::Unavailable,
            "client went away",
        )
        .temporary())]))
        .boxed()
}

#[test]
fn failed_and_mismatched_puts_leave_no_segment() {
    let (options, container) = fresh("failed-put", true);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-0005-4000-8000-000000000001";
        let data = random_bytes(3 * MIB, 45);
        let err = store
            .put(image_id, None, failing_after(&data))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
        assert_eq!(err.message, "client went away");
        assert!(account.objects(&container).await.is_empty());
        // More bytes than announced: caught before the excess is sent, segments removed.
        let err = store
            .put(image_id, Some(2 * MIB as u64), odd_chunks(&data))
            .await
            .unwrap_err();
        assert!(err.message.contains("announced"), "{err}");
        assert!(account.objects(&container).await.is_empty());
        // Fewer bytes than announced.
        let err = store
            .put(image_id, Some(4 * MIB as u64), odd_chunks(&data))
            .await
            .unwrap_err();
        assert!(err.message.contains("announced"), "{err}");
        assert!(account.objects(&container).await.is_empty());
    });
}

#[test]
fn dropped_put_leaves_no_segment() {
    let (options, container) = fresh("dropped-put", true);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-0006-4000-8000-000000000001";
        let (reached, reached_rx) = tokio::sync::oneshot::channel();
        let stalled: DataStream = odd_chunks(&random_bytes(3 * MIB, 46))
            .chain(stream::once(async move {
                let _ = reached.send(());
                futures::future::pending::<Result<Bytes, StoreError>>().await
            }))
            .boxed();
        let put = tokio::spawn(store.put(image_id, None, stalled));
        reached_rx.await.unwrap();
        // Segments are written by now; then the put is dropped.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while account.objects(&container).await.len() < 10 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            account.objects(&container).await.len() >= 10,
            "segments were written"
        );
        put.abort();
        assert!(put.await.unwrap_err().is_cancelled());
        let left = account.wait_for_objects(&container, &[]).await;
        assert!(left.is_empty(), "left behind: {left:?}");
        // The id can be stored again at once: the cleanup holds the id until it is done.
        let data = random_bytes(MIB + 3, 47);
        let outcome = store.put(image_id, None, odd_chunks(&data)).await.unwrap();
        assert_eq!(
            sha256(&read(&store, &outcome.location, None).await.unwrap()),
            sha256(&data)
        );
    });
}

#[test]
fn a_retry_right_after_a_drop_is_not_disturbed_by_the_cleanup() {
    let (options, container) = fresh("retry-after-drop", true);
    let store = open(&options);
    runtime().block_on(async {
        let image_id = "7a5e0b1c-0007-4000-8000-000000000001";
        let (reached, reached_rx) = tokio::sync::oneshot::channel();
        let stalled: DataStream = odd_chunks(&random_bytes(2 * MIB, 48))
            .chain(stream::once(async move {
                let _ = reached.send(());
                futures::future::pending::<Result<Bytes, StoreError>>().await
            }))
            .boxed();
        let put = tokio::spawn(store.put(image_id, None, stalled));
        reached_rx.await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        put.abort();
        let _ = put.await;
        // Same segment names as the abandoned put: the retry waits for its cleanup.
        let data = random_bytes(2 * MIB + 5, 49);
        let outcome = store.put(image_id, None, odd_chunks(&data)).await.unwrap();
        assert_eq!(
            sha256(&read(&store, &outcome.location, None).await.unwrap()),
            sha256(&data)
        );
        let account = account().await;
        let mut expected = vec![image_id.to_owned()];
        expected.extend(segment_names(image_id, 9));
        assert_eq!(account.objects(&container).await, expected);
    });
}

#[test]
fn multiple_containers_mode_names_containers_after_the_image_id() {
    let (mut options, base) = fresh("seeded", false);
    options["multiple_containers_seed"] = json!(3);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        for image_id in [
            "AB1e0b1c-0008-4000-8000-000000000001",
            "cd2e0b1c-0008-4000-8000-000000000002",
        ] {
            let container = format!("{base}_{}", &image_id[..3].to_lowercase());
            let data = random_bytes(1000, 50);
            let outcome = store
                .put(image_id, Some(1000), odd_chunks(&data))
                .await
                .unwrap();
            assert_eq!(
                outcome.location,
                format!("swift+config://swift/{container}/{image_id}")
            );
            assert_eq!(account.objects(&container).await, vec![image_id.to_owned()]);
            assert_eq!(read(&store, &outcome.location, None).await.unwrap(), data);
            store.delete(&outcome.location).await.unwrap();
            assert!(account.objects(&container).await.is_empty());
            account.purge(&container).await;
        }
        assert!(
            account.objects(&base).await.is_empty(),
            "the base container is not used"
        );
    });
}

/// Segments whose manifest was never written (their put's cleanup was lost with its process)
/// are found by the sweep from Swift's listings; images, their segments, young orphans and
/// objects that are not segments stay.
#[test]
fn the_orphan_sweep_removes_old_manifestless_segments_only() {
    let (mut options, base) = fresh("sweep", true);
    options["multiple_containers_seed"] = json!(1);
    options["orphan_sweep_interval_secs"] = json!(0);
    let writer = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let container = format!("{base}_7");
        let image = "7a5e0b1c-0009-4000-8000-000000000001";
        let data = random_bytes(2 * SEGMENT + 10, 61);
        let outcome = writer.put(image, None, odd_chunks(&data)).await.unwrap();
        let orphan = "7b5e0b1c-0009-4000-8000-000000000002";
        for name in segment_names(orphan, 2)
            .into_iter()
            .chain(["notes-00001".to_owned()])
        {
            account.put(&container, &name, vec![1; 100], &[]).await;
        }
        let mut image_objects = vec![image.to_owned()];
        image_objects.extend(segment_names(image, 3));
        let mut everything = image_objects.clone();
        everything.extend(segment_names(orphan, 2));
        everything.push("notes-00001".to_owned());
        everything.sort();
        assert_eq!(account.objects(&container).await, everything);

        // Orphans younger than the minimum age stay.
        options["orphan_sweep_interval_secs"] = json!(1);
        options["orphan_min_age_secs"] = json!(3600);
        let patient = open(&options);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(account.objects(&container).await, everything);
        drop(patient);

        // Old enough: the orphan's segments go, nothing else.
        options["orphan_min_age_secs"] = json!(0);
        let sweeper = open(&options);
        let mut kept = image_objects.clone();
        kept.push("notes-00001".to_owned());
        kept.sort();
        assert_eq!(account.wait_for_objects(&container, &kept).await, kept);
        assert_eq!(
            sha256(&read(&sweeper, &outcome.location, None).await.unwrap()),
            sha256(&data)
        );
        account.purge(&container).await;
    });
}

#[test]
fn missing_container_without_create_container_on_put_is_config_invalid() {
    let (mut options, container) = fresh("no-create", false);
    options["create_container_on_put"] = json!(false);
    let store = open(&options);
    runtime().block_on(async {
        let err = store
            .put(
                "7a5e0b1c-0009-4000-8000-000000000001",
                Some(3),
                odd_chunks(&Bytes::from_static(b"abc")),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
        assert!(
            err.message.contains("`create_container_on_put`") && err.message.contains(&container),
            "{err}"
        );
    });
}

#[test]
fn dynamic_large_objects_as_glance_writes_them_are_read_and_deleted_whole() {
    let (options, container) = fresh("dlo", false);
    let store = open(&options);
    runtime().block_on(async {
        let account = account().await;
        let image_id = "7a5e0b1c-000a-4000-8000-000000000001";
        // Any put creates the container; then lay out a DLO the way Glance does.
        let probe = store
            .put("probe", Some(1), odd_chunks(&Bytes::from_static(b"p")))
            .await
            .unwrap();
        store.delete(&probe.location).await.unwrap();
        let data = random_bytes(3000, 51);
        for (n, part) in data.chunks(1000).enumerate() {
            account
                .put(
                    &container,
                    &format!("{image_id}-{:05}", n + 1),
                    part.to_vec(),
                    &[],
                )
                .await;
        }
        let manifest = format!("{container}/{image_id}-");
        account
            .put(
                &container,
                image_id,
                Vec::new(),
                &[("X-Object-Manifest", &manifest)],
            )
            .await;
        let location = format!("swift+config://swift/{container}/{image_id}");
        assert_eq!(store.size(&location).await.unwrap(), 3000);
        assert_eq!(read(&store, &location, None).await.unwrap(), data);
        store.delete(&location).await.unwrap();
        assert!(account.objects(&container).await.is_empty());
    });
}

#[test]
fn a_wrong_key_leaves_the_store_out_naming_the_user_not_the_key() {
    let (mut options, _) = fresh("wrong-key", false);
    options["key"] = json!("not-the-key-42");
    let plugin = load_store_plugin(&plugin()).expect("the swift plugin loads");
    let err = plugin.open("swift", &options).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(
        err.message.contains("test:tester") && err.message.contains("`key`"),
        "{err}"
    );
    assert!(!err.message.contains("not-the-key-42"), "{err}");
}

#[test]
fn unreachable_swift_is_temporarily_unavailable() {
    let store = open(&json!({
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        "auth_url": "http://127.0.0.1:9/auth/v1.0",
        "auth_version": "1",
        "user": "test:tester",
        "key": "testing",
        "timeout_secs": 2,
    }));
    let err = runtime()
        .block_on(store.size("swift+config://swift/glance/x"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.temporary, "{err}");
}

#[test]
fn missing_objects_are_not_found_and_foreign_locations_refused() {
    let (options, container) = fresh("missing", false);
    let store = open(&options);
    runtime().block_on(async {
        let location =
            format!("swift+config://swift/{container}/7a5e0b1c-000c-4000-8000-000000000001");
        for err in [
            read(&store, &location, None).await.unwrap_err(),
            store.size(&location).await.unwrap_err(),
            store.delete(&location).await.unwrap_err(),
        ] {
            assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        }
        let foreign = format!("swift+config://other/{container}/x");
        let err = store.size(&foreign).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    });
}

#[test]
fn a_user_without_write_rights_is_permission_denied() {
    // tempauth's test:tester3 is no admin of the account: it may not create containers or objects.
    let (mut options, _) = fresh("no-rights", false);
    options["user"] = json!("test:tester3");
    options["key"] = json!("testing3");
    let store = open(&options);
    let err = runtime()
        .block_on(store.put(
            "7a5e0b1c-000d-4000-8000-000000000001",
            Some(3),
            odd_chunks(&Bytes::from_static(b"abc")),
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(!err.message.contains("testing3"), "{err}");
}
