//! Upload and download throughput of one image through the loader and the vmware store, against
//! the vSphere simulator started by the shared backend script.
//!
//! ```sh
//! cargo build --release -p glint-store-vmware --example vmware_bench
//! ./target/release/examples/vmware_bench [MiB]        # default 1024
//! ```
//!
//! The image is generated while it is sent (one 1 MiB buffer, repeated), so the bench holds no
//! image in memory; the download is counted, not kept.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::DataStream;
use glint_sdk_testkit::random_bytes;

const MIB: u64 = 1024 * 1024;

fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("the image size in MiB"))
        .unwrap_or(1024);
    let size = mib * MIB;
    let vcsim = support::start_vcsim(&[]);
    let image_dir = support::image_dir("bench");
    let store = support::open(&vcsim.options(&image_dir));
    let runtime = support::runtime();
    let image_id = format!("bench-{}", std::process::id());

    let chunk: Bytes = random_bytes(MIB as usize, 7);
    let data: DataStream = futures::stream::iter((0..mib).map(move |_| Ok(chunk.clone()))).boxed();
    let started = Instant::now();
    let outcome = runtime
        .block_on(store.put(&image_id, Some(size), data))
        .unwrap_or_else(|err| panic!("put: {err}"));
    let upload = started.elapsed();
    assert_eq!(outcome.size, size);

    let started = Instant::now();
    let read = runtime.block_on(async {
        let mut stream = store
            .get(&outcome.location, None)
            .await
            .unwrap_or_else(|err| panic!("get: {err}"))
            .data;
        let mut read = 0u64;
        while let Some(chunk) = stream.next().await {
            read += chunk.unwrap_or_else(|err| panic!("read: {err}")).len() as u64;
        }
        read
    });
    let download = started.elapsed();
    assert_eq!(read, size);

    runtime
        .block_on(store.delete(&outcome.location))
        .unwrap_or_else(|err| panic!("delete: {err}"));
    let rate = |seconds: f64| size as f64 / 1e6 / seconds;
    println!("image: {mib} MiB ({size} bytes) at {}", outcome.location);
    println!(
        "upload:   {:.2} s, {:.0} MB/s",
        upload.as_secs_f64(),
        rate(upload.as_secs_f64())
    );
    println!(
        "download: {:.2} s, {:.0} MB/s",
        download.as_secs_f64(),
        rate(download.as_secs_f64())
    );
}
