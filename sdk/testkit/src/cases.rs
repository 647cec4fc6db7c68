//! The conformance cases. Each names the `# Behavior` lines of `StoreDriver` it enforces.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::host::Store;
use glint_sdk::{DataStream, ErrorKind, ReadRange};

use crate::data::{counted_chunks, failing_item};
use crate::{Seeder, collect, odd_chunks, random_bytes, sha256};

const MIB: usize = 1024 * 1024;

/// Returns early, recording the case as skipped for the capabilities it lacks (see
/// [`crate::Outcome`]), unless the store has every named capability.
macro_rules! requires {
    ($store:expr, $($capability:ident),+) => {
        let capabilities = $store.capabilities();
        let missing: Vec<&'static str> = [$((stringify!($capability), capabilities.$capability)),+]
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(name, _)| name)
            .collect();
        if !missing.is_empty() {
            crate::skip(missing);
            return;
        }
    };
}

/// Asserts that `result` failed with `kind`.
fn assert_kind<T>(result: Result<T, glint_sdk::StoreError>, kind: ErrorKind, what: &str) {
    match result {
        Ok(_) => panic!("{what}: expected {kind}, got success"),
        Err(err) => assert_eq!(err.kind, kind, "{what}: {err}"),
    }
}

async fn put_ok(store: &Store, image_id: &str, data: &Bytes) -> String {
    let outcome = store
        .put(image_id, Some(data.len() as u64), odd_chunks(data))
        .await
        .unwrap_or_else(|err| panic!("put of {image_id} failed: {err}"));
    assert_eq!(
        outcome.size,
        data.len() as u64,
        "put reports the byte count"
    );
    assert!(!outcome.location.is_empty(), "put returns a location");
    outcome.location
}

async fn read_all(store: &Store, location: &str, range: Option<ReadRange>) -> (u64, Vec<u8>) {
    let outcome = store
        .get(location, range)
        .await
        .unwrap_or_else(|err| panic!("get of {location} ({range:?}) failed: {err}"));
    (outcome.total_size, collect(outcome.data).await)
}

async fn assert_stored(store: &Store, location: &str, expected: &[u8]) {
    let (total_size, data) = read_all(store, location, None).await;
    assert_eq!(
        total_size,
        expected.len() as u64,
        "total_size of {location}"
    );
    assert_eq!(sha256(&data), sha256(expected), "content of {location}");
}

/// Where `image_id` would be stored, learnt by storing and deleting a small object (the store
/// must support delete), so a case can later check that nothing is readable there.
async fn vacant_location(store: &Store, image_id: &str) -> Option<String> {
    if !store.capabilities().delete {
        return None;
    }
    let location = put_ok(store, image_id, &Bytes::from_static(b"probe")).await;
    store.delete(&location).await.expect("delete of the probe");
    Some(location)
}

/// After a failed put of `image_id`: nothing is readable at its location, and the id can be stored.
async fn assert_left_nothing(store: &Store, image_id: &str, vacant: Option<String>) {
    if let Some(location) = &vacant {
        assert_kind(
            read_all_result(store, location).await,
            ErrorKind::NotFound,
            "get after a failed put",
        );
    }
    let data = random_bytes(MIB + 7, 99);
    let location = put_ok(store, image_id, &data).await;
    if store.capabilities().read {
        assert_stored(store, &location, &data).await;
    }
}

async fn read_all_result(store: &Store, location: &str) -> Result<Vec<u8>, glint_sdk::StoreError> {
    let outcome = store.get(location, None).await?;
    Ok(collect(outcome.data).await)
}

/// put: consumes the stream to its end; get yields exactly those bytes; data is durable.
pub async fn round_trip_multi_mib(store: Store) {
    requires!(store, read, write);
    let data = random_bytes(5 * MIB + 12_345, 1);
    let location = put_ok(&store, "6f2b5a6e-0001-4000-8000-000000000001", &data).await;
    assert_stored(&store, &location, &data).await;
    let unhinted = random_bytes(MIB + 3, 2);
    let outcome = store
        .put(
            "6f2b5a6e-0001-4000-8000-000000000002",
            None,
            odd_chunks(&unhinted),
        )
        .await
        .expect("put without a size hint");
    assert_eq!(outcome.size, unhinted.len() as u64);
    assert_stored(&store, &outcome.location, &unhinted).await;
}

/// put: an empty stream stores an empty object; get: a range at offset 0 of it is not satisfiable.
pub async fn empty_image(store: Store) {
    requires!(store, read, write);
    let outcome = store
        .put(
            "6f2b5a6e-0002-4000-8000-000000000001",
            Some(0),
            stream::empty().boxed(),
        )
        .await
        .expect("put of an empty image");
    assert_eq!(outcome.size, 0);
    assert_stored(&store, &outcome.location, b"").await;
    if store.capabilities().size {
        assert_eq!(store.size(&outcome.location).await.expect("size"), 0);
    }
    if store.capabilities().ranged_read {
        let range = ReadRange {
            offset: 0,
            length: None,
        };
        assert_kind(
            store.get(&outcome.location, Some(range)).await,
            ErrorKind::RangeNotSatisfiable,
            "range on an empty image",
        );
    }
}

/// get: yields `offset .. min(offset + length, total_size)`; total_size is the whole object;
/// an offset at or beyond the end is `RangeNotSatisfiable`.
pub async fn ranged_reads(store: Store) {
    requires!(store, read, write, ranged_read);
    let data = random_bytes(2 * MIB + 333, 3);
    let location = put_ok(&store, "6f2b5a6e-0003-4000-8000-000000000001", &data).await;
    assert_ranges(&store, &location, &data).await;
}

/// The ranged-read behaviour on `location`, which holds `data` (at least a few bytes).
async fn assert_ranges(store: &Store, location: &str, data: &[u8]) {
    let len = data.len() as u64;
    let ranges = [
        (0, Some(10)),
        (1, Some(MIB as u64)),
        (1000, None),
        (len - 1, Some(1)),
        (len - 5, Some(100)),
        (len - 5, None),
    ];
    for (offset, length) in ranges {
        let range = ReadRange { offset, length };
        let (total_size, got) = read_all(store, location, Some(range)).await;
        assert_eq!(total_size, len, "total_size with {range:?}");
        let end = length.map_or(len, |length| (offset + length).min(len));
        assert_eq!(
            sha256(&got),
            sha256(&data[offset as usize..end as usize]),
            "bytes of {range:?}"
        );
    }
    for offset in [len, len + 1, u64::MAX] {
        let range = ReadRange {
            offset,
            length: Some(1),
        };
        assert_kind(
            store.get(location, Some(range)).await,
            ErrorKind::RangeNotSatisfiable,
            &format!("offset {offset} of a {len}-byte image"),
        );
    }
}

/// size: equals the byte count the put stored.
pub async fn size_matches_put(store: Store) {
    requires!(store, write, size);
    for (index, len) in [1, 4096, MIB + 1].into_iter().enumerate() {
        let data = random_bytes(len, 4);
        let location = put_ok(
            &store,
            &format!("6f2b5a6e-0004-4000-8000-00000000000{index}"),
            &data,
        )
        .await;
        assert_eq!(store.size(&location).await.expect("size"), len as u64);
    }
}

/// delete: afterwards get and size of the location fail with `NotFound`.
pub async fn delete_then_get_is_not_found(store: Store) {
    requires!(store, read, write, delete);
    let location = put_ok(
        &store,
        "6f2b5a6e-0005-4000-8000-000000000001",
        &random_bytes(MIB, 5),
    )
    .await;
    store.delete(&location).await.expect("delete");
    assert_kind(
        store.get(&location, None).await,
        ErrorKind::NotFound,
        "get after delete",
    );
    if store.capabilities().size {
        assert_kind(
            store.size(&location).await,
            ErrorKind::NotFound,
            "size after delete",
        );
    }
}

/// delete: a missing object fails with `NotFound`.
pub async fn delete_missing_is_not_found(store: Store) {
    requires!(store, write, delete);
    let location = put_ok(
        &store,
        "6f2b5a6e-0006-4000-8000-000000000001",
        &random_bytes(10, 6),
    )
    .await;
    store.delete(&location).await.expect("first delete");
    assert_kind(
        store.delete(&location).await,
        ErrorKind::NotFound,
        "second delete",
    );
}

/// put: an object already stored for the id fails with `AlreadyExists` and is left intact.
pub async fn put_existing_id_is_already_exists(store: Store) {
    requires!(store, write);
    let image_id = "6f2b5a6e-0007-4000-8000-000000000001";
    let original = random_bytes(MIB + 1, 7);
    let location = put_ok(&store, image_id, &original).await;
    let replacement = random_bytes(1000, 8);
    assert_kind(
        store
            .put(image_id, Some(1000), odd_chunks(&replacement))
            .await,
        ErrorKind::AlreadyExists,
        "second put of one id",
    );
    if store.capabilities().read {
        assert_stored(&store, &location, &original).await;
    }
}

/// put: if the stream yields an error, that error is returned and nothing is left behind.
pub async fn failed_stream_leaves_nothing(store: Store) {
    requires!(store, write);
    let image_id = "6f2b5a6e-0008-4000-8000-000000000001";
    let vacant = vacant_location(&store, image_id).await;
    let data = random_bytes(3 * MIB, 9);
    let failing: DataStream = odd_chunks(&data)
        .chain(stream::iter([failing_item("client went away")]))
        .boxed();
    let err = store
        .put(image_id, None, failing)
        .await
        .expect_err("a put whose stream fails must fail");
    assert_eq!(
        err.kind,
        ErrorKind::Unavailable,
        "the stream's error is returned: {err}"
    );
    assert_left_nothing(&store, image_id, vacant).await;
}

/// put: if the future is dropped before it completes, nothing is left behind.
pub async fn dropped_put_leaves_nothing(store: Store) {
    requires!(store, write);
    let image_id = "6f2b5a6e-0009-4000-8000-000000000001";
    let vacant = vacant_location(&store, image_id).await;
    let (reached, reached_rx) = tokio::sync::oneshot::channel();
    let released = Arc::new(AtomicUsize::new(0));
    let (data, chunks) = counted_chunks(&random_bytes(3 * MIB, 10), &released);
    let stalled: DataStream = data
        .chain(stream::once(async move {
            let _ = reached.send(());
            futures::future::pending::<Result<Bytes, glint_sdk::StoreError>>().await
        }))
        .boxed();
    let put = tokio::spawn(store.put(image_id, None, stalled));
    reached_rx.await.expect("the put consumed its data");
    // Drop the put only once the driver is done with every chunk it received (wrote or copied
    // them: it released their buffers), so there is partial data for it to clean up. A driver
    // that holds chunks until more arrive never gets there: it is dropped at the deadline.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while released.load(Ordering::SeqCst) < chunks && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    put.abort();
    assert!(put.await.expect_err("aborted").is_cancelled());
    assert_left_nothing(&store, image_id, vacant).await;
}

/// put: if `size_hint` differs from the byte count, the put fails and nothing is left behind.
pub async fn size_hint_mismatch_leaves_nothing(store: Store) {
    requires!(store, write);
    let image_id = "6f2b5a6e-000a-4000-8000-000000000001";
    let vacant = vacant_location(&store, image_id).await;
    let data = random_bytes(MIB + 5, 11);
    for hint in [data.len() as u64 - 1, data.len() as u64 + 1, 0] {
        store
            .put(image_id, Some(hint), odd_chunks(&data))
            .await
            .expect_err(&format!(
                "size hint {hint} for {} bytes must fail",
                data.len()
            ));
    }
    assert_left_nothing(&store, image_id, vacant).await;
}

/// put: concurrent puts of different ids do not interfere.
pub async fn concurrent_puts(store: Store) {
    requires!(store, read, write);
    let uploads: Vec<_> = (0..6)
        .map(|index| {
            let data = random_bytes(MIB + index * 4099, 12 + index as u64);
            let image_id = format!("6f2b5a6e-000b-4000-8000-00000000000{index}");
            let put = store.put(&image_id, Some(data.len() as u64), odd_chunks(&data));
            (data, tokio::spawn(put))
        })
        .collect();
    let mut locations = Vec::new();
    for (data, upload) in uploads {
        let outcome = upload.await.expect("put task").expect("concurrent put");
        assert_stored(&store, &outcome.location, &data).await;
        locations.push(outcome.location);
    }
    locations.sort();
    locations.dedup();
    assert_eq!(locations.len(), 6, "distinct ids get distinct locations");
}

/// capabilities: the host refuses an operation the driver lacks with `Unsupported`.
pub async fn missing_capabilities_are_refused(store: Store) {
    let capabilities = store.capabilities();
    let location = "unsupported://location";
    let mut checked = 0;
    if !capabilities.write {
        let data = Bytes::from_static(b"data");
        assert_kind(
            store
                .put(
                    "6f2b5a6e-000c-4000-8000-000000000001",
                    Some(4),
                    odd_chunks(&data),
                )
                .await,
            ErrorKind::Unsupported,
            "put",
        );
        checked += 1;
    }
    if !capabilities.delete {
        assert_kind(
            store.delete(location).await,
            ErrorKind::Unsupported,
            "delete",
        );
        checked += 1;
    }
    if !capabilities.size {
        assert_kind(store.size(location).await, ErrorKind::Unsupported, "size");
        checked += 1;
    }
    if !capabilities.read {
        assert_kind(
            store.get(location, None).await,
            ErrorKind::Unsupported,
            "get",
        );
        checked += 1;
    }
    if !capabilities.ranged_read {
        let range = ReadRange {
            offset: 0,
            length: Some(1),
        };
        assert_kind(
            store.get(location, Some(range)).await,
            ErrorKind::Unsupported,
            "ranged get",
        );
        checked += 1;
    }
    if !capabilities.list {
        assert_kind(store.list(None).await, ErrorKind::Unsupported, "list");
        checked += 1;
    }
    if checked == 0 {
        // Nothing to check: no capability is missing.
        crate::skip(Vec::new());
    }
}

/// Every page of the store's listing, from the first to the last.
async fn list_all(store: &Store) -> Vec<glint_sdk::ListedObject> {
    let mut objects = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100_000 {
        let page = store
            .list(cursor.as_deref())
            .await
            .unwrap_or_else(|err| panic!("list from {cursor:?} failed: {err}"));
        objects.extend(page.objects);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return objects,
        }
    }
    panic!("the listing never reached its last page");
}

/// list: following `next` yields every stored object once, with its location as `put` returned
/// it and its size; a deleted object is not listed.
pub async fn list_shows_stored_objects_once(store: Store) {
    requires!(store, list, write, delete);
    let mut stored = Vec::new();
    for (index, len) in [0, 1, MIB + 3].into_iter().enumerate() {
        let id = format!("6f2b5a6e-000d-4000-8000-00000000000{index}");
        let location = put_ok(&store, &id, &random_bytes(len, 13)).await;
        stored.push((location, len as u64));
    }
    let listed = list_all(&store).await;
    for (location, size) in &stored {
        let found: Vec<_> = listed.iter().filter(|o| &o.location == location).collect();
        assert_eq!(found.len(), 1, "{location} is listed once: {listed:?}");
        assert_eq!(found[0].size, *size, "listed size of {location}");
    }
    let mut locations: Vec<&str> = listed.iter().map(|o| o.location.as_str()).collect();
    let count = locations.len();
    locations.sort_unstable();
    locations.dedup();
    assert_eq!(locations.len(), count, "no object is listed twice");

    store.delete(&stored[1].0).await.expect("delete");
    let after = list_all(&store).await;
    assert!(
        after.iter().all(|o| o.location != stored[1].0),
        "a deleted object is not listed"
    );
    for (location, _) in [&stored[0], &stored[2]] {
        assert!(
            after.iter().any(|o| &o.location == location),
            "{location} still listed"
        );
        store.delete(location).await.expect("cleanup");
    }
}

/// list: an object being written is not listed until `put` returns.
pub async fn list_leaves_out_unfinished_puts(store: Store) {
    requires!(store, list, write);
    let id = "6f2b5a6e-000e-4000-8000-000000000001";
    let (tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, glint_sdk::StoreError>>(1);
    let mut tx = tx;
    let put = tokio::spawn(store.put(id, None, Box::pin(rx)));
    use futures::SinkExt as _;
    tx.send(Ok(random_bytes(MIB, 14)))
        .await
        .expect("first chunk");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let listed = list_all(&store).await;
    assert!(
        listed.iter().all(|o| !o.location.contains(id)),
        "an unfinished put is not listed: {listed:?}"
    );
    drop(tx);
    let location = put.await.expect("put task").expect("put").location;
    assert!(
        list_all(&store)
            .await
            .iter()
            .any(|o| o.location == location),
        "listed once put returned"
    );
    if store.capabilities().delete {
        store.delete(&location).await.expect("cleanup");
    }
}

// Cases for stores the kit cannot write through: the objects are placed from outside the driver.

/// get: yields exactly the stored bytes; total_size is the whole object.
pub async fn seeded_reads(store: Store, mut seeder: Seeder) {
    requires!(store, read);
    for (name, len, seed) in [
        ("reads-large", 5 * MIB + 12_345, 21),
        ("reads-small", 4096, 22),
    ] {
        let data = random_bytes(len, seed);
        let location = seeder.put(name, &data);
        assert_stored(&store, &location, &data).await;
    }
}

/// get and size of an empty object; a range at offset 0 of it is not satisfiable.
pub async fn seeded_empty_object(store: Store, mut seeder: Seeder) {
    requires!(store, read);
    let location = seeder.put("empty", b"");
    assert_stored(&store, &location, b"").await;
    if store.capabilities().size {
        assert_eq!(store.size(&location).await.expect("size"), 0);
    }
    if store.capabilities().ranged_read {
        let range = ReadRange {
            offset: 0,
            length: None,
        };
        assert_kind(
            store.get(&location, Some(range)).await,
            ErrorKind::RangeNotSatisfiable,
            "range on an empty object",
        );
    }
}

/// get: yields `offset .. min(offset + length, total_size)`; total_size is the whole object;
/// an offset at or beyond the end is `RangeNotSatisfiable`.
pub async fn seeded_ranged_reads(store: Store, mut seeder: Seeder) {
    requires!(store, read, ranged_read);
    let data = random_bytes(2 * MIB + 333, 23);
    let location = seeder.put("ranged", &data);
    assert_ranges(&store, &location, &data).await;
}

/// size: the object's byte count.
pub async fn seeded_size(store: Store, mut seeder: Seeder) {
    requires!(store, size);
    for (index, len) in [1, 4096, MIB + 1].into_iter().enumerate() {
        let location = seeder.put(&format!("size-{index}"), &random_bytes(len, 24));
        assert_eq!(store.size(&location).await.expect("size"), len as u64);
    }
}

/// get and size: a missing object fails with `NotFound`.
pub async fn seeded_missing_is_not_found(store: Store, seeder: Seeder) {
    requires!(store, read);
    let location = seeder.vacant("missing");
    assert_kind(
        store.get(&location, None).await,
        ErrorKind::NotFound,
        "get of a missing object",
    );
    if store.capabilities().size {
        assert_kind(
            store.size(&location).await,
            ErrorKind::NotFound,
            "size of a missing object",
        );
    }
}
