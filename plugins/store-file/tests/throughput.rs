//! Throughput of a 1 GiB put and get through the real loader. A measurement, not a check of
//! correctness, so it is ignored by default; run it on a release build:
//!
//! `cargo test --release -p glint-store-file --test throughput -- --ignored --nocapture`
//!
//! `GLINT_BENCH_DIR` selects the data directory's parent (default: the system temp directory).

use std::time::Instant;

use futures::{StreamExt, stream};
use glint_sdk::host::load_store_plugin;
use glint_sdk_testkit::{cdylib_path, random_bytes};
use serde_json::json;

const GIB: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;

#[test]
#[ignore = "a 1 GiB measurement; run explicitly on a release build"]
fn one_gib_put_and_get() {
    let parent = std::env::var_os("GLINT_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let scratch = tempfile::tempdir_in(parent).unwrap();
    let store = load_store_plugin(&cdylib_path("glint_store_file"))
        .unwrap()
        .open("bench", &json!({ "datadir": scratch.path() }))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pattern = random_bytes(8 * CHUNK, 1);
    let chunks = (0..GIB as usize / CHUNK)
        .map(move |index| Ok(pattern.slice((index % 8) * CHUNK..(index % 8 + 1) * CHUNK)));

    let started = Instant::now();
    let outcome = rt
        .block_on(store.put("bench", Some(GIB), stream::iter(chunks).boxed()))
        .unwrap();
    report("put (fsync)", started);
    assert_eq!(outcome.size, GIB);

    let started = Instant::now();
    let read = rt.block_on(async {
        let mut data = store.get(&outcome.location, None).await.unwrap().data;
        let mut read = 0;
        while let Some(chunk) = data.next().await {
            read += chunk.unwrap().len() as u64;
        }
        read
    });
    report("get", started);
    assert_eq!(read, GIB);
}

fn report(what: &str, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{what}: 1 GiB in {seconds:.2} s = {:.2} GB/s",
        GIB as f64 / seconds / 1e9
    );
}
