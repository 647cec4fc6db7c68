//! Throughput of a 1 GiB put and get through the real loader, against the test cluster of
//! `../shared/backends/ceph-up.sh`. A measurement, not a check: run it on a release build:
//!
//! `cargo run --release -p glint-store-rbd --example throughput`
//!
//! `GLINT_BENCH_CHUNK_MIB` sets the store's `chunk_size` (default 8).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk_testkit::{cdylib_path, random_bytes};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;

fn main() {
    let chunk_mib: u64 = std::env::var("GLINT_BENCH_CHUNK_MIB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(8);
    let ceph = support::ceph();
    let store = load_store_plugin(&plugin())
        .unwrap_or_else(|err| panic!("{err}"))
        .open("bench", &ceph.options(chunk_mib))
        .unwrap_or_else(|err| panic!("{err}"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("chunk_size {chunk_mib} MiB");
    let pattern = random_bytes(8 * CHUNK, 1);
    run(&rt, &store, "random data", move |index| {
        pattern.slice((index % 8) * CHUNK..(index % 8 + 1) * CHUNK)
    });
    let zeroes = Bytes::from(vec![0u8; CHUNK]);
    run(&rt, &store, "zeroes (thin, nothing written)", move |_| {
        zeroes.clone()
    });
}

/// The library cargo built for this example (`target/<profile>/deps/`), else the one
/// `cargo build` left in the profile directory.
fn plugin() -> PathBuf {
    let exe = std::env::current_exe().expect("the example's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples");
    let in_deps = profile.join("deps/libglint_store_rbd.so");
    if in_deps.exists() {
        in_deps
    } else {
        cdylib_path("glint_store_rbd")
    }
}

fn run(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    what: &str,
    chunk: impl Fn(usize) -> Bytes + Send + 'static,
) {
    let image_id = format!("glint-rbd-test-bench-{}", std::process::id());
    let chunks = (0..GIB as usize / CHUNK).map(move |index| Ok(chunk(index)));
    let started = Instant::now();
    let outcome = rt
        .block_on(store.put(&image_id, Some(GIB), stream::iter(chunks).boxed()))
        .unwrap_or_else(|err| panic!("put: {err}"));
    report(&format!("put {what}"), started);
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
    report(&format!("get {what}"), started);
    assert_eq!(read, GIB);
    rt.block_on(store.delete(&outcome.location))
        .unwrap_or_else(|err| panic!("delete: {err}"));
}

fn report(what: &str, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{what}: 1 GiB in {seconds:.2} s = {:.0} MB/s",
        GIB as f64 / seconds / 1e6
    );
}
