//! Upload and download speed of a 1 GiB image through the real loader against the tests'
//! tempauth Swift (started by the shared backend script when it is not running).
//!
//! ```sh
//! cargo run --release -p glint-store-swift --example swift_bench [-- SIZE_MIB]
//! ```
//!
//! Three runs: a known size (one object), an unknown size (a Static Large Object of 200 MiB
//! segments, Glance's default), then the download of each. Numbers are MB/s (10^6 bytes).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::DataStream;
use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk_testkit::random_bytes;

const MIB: usize = 1024 * 1024;

/// The plugin next to this example's profile directory (`target/<profile>/deps` or above).
fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let profile = exe
        .parent()
        .and_then(|dir| dir.parent())
        .expect("profile directory");
    [profile.join("deps"), profile.to_owned()]
        .iter()
        .map(|dir| dir.join("libglint_store_swift.so"))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("no libglint_store_swift.so under {}", profile.display()))
}

/// `mib` MiB as 1 MiB chunks of one random buffer (the same bytes over and over).
fn image(mib: usize) -> DataStream {
    let chunk = random_bytes(MIB, 7);
    stream::iter((0..mib).map(move |_| Ok::<Bytes, glint_sdk::StoreError>(chunk.clone()))).boxed()
}

fn mbps(bytes: u64, started: Instant) -> f64 {
    bytes as f64 / started.elapsed().as_secs_f64() / 1e6
}

async fn download(store: &Store, location: &str) -> (u64, f64) {
    let started = Instant::now();
    let mut data = store.get(location, None).await.expect("get").data;
    let mut bytes = 0u64;
    while let Some(chunk) = data.next().await {
        bytes += chunk.expect("download").len() as u64;
    }
    (bytes, mbps(bytes, started))
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .map_or(1024, |arg| arg.parse().expect("SIZE_MIB"));
    let size = (mib * MIB) as u64;
    let scratch = std::env::temp_dir().join(format!("bench-{}", std::process::id()));
    let options = support::options(&scratch);
    let container = options["container"].as_str().unwrap().to_owned();
    let store = load_store_plugin(&plugin_path())
        .expect("load")
        .open("swift", &options)
        .expect("open");
    let runtime = support::runtime();
    runtime.block_on(async {
        println!("image: {mib} MiB; Swift at {}", options["auth_url"]);
        for (label, hint) in [
            ("known size (one object)", Some(size)),
            ("unknown size (SLO, 200 MiB segments)", None),
        ] {
            let image_id = format!("bench-{}-{}", std::process::id(), hint.is_some());
            let started = Instant::now();
            let outcome = store.put(&image_id, hint, image(mib)).await.expect("put");
            let up = mbps(outcome.size, started);
            let (bytes, down) = download(&store, &outcome.location).await;
            assert_eq!(bytes, size);
            println!("{label}: upload {up:.0} MB/s, download {down:.0} MB/s");
            store.delete(&outcome.location).await.expect("delete");
        }
        support::Account::connect(support::swift())
            .await
            .purge(&container)
            .await;
    });
}
