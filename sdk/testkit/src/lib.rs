//! Store conformance kit: one suite every store plugin passes, through the real loader.
//!
//! Each case enforces lines of the `# Behavior` lists on [`glint_sdk::StoreDriver`], and runs only
//! when the driver has the capabilities it needs (otherwise it reports itself skipped and passes).
//! Use it from a plugin's integration test:
//!
//! ```ignore
//! glint_testkit::store_conformance_suite!(
//!     glint_testkit::cdylib_path("glint_store_file"),
//!     |scratch: &std::path::Path| serde_json::json!({ "datadir": scratch })
//! );
//! ```

pub mod cases;
mod data;

use std::future::Future;
use std::path::{Path, PathBuf};

use glint_sdk::host::{Store, load_store_plugin};

pub use data::{collect, odd_chunks, random_bytes, sha256};

/// Expands to one `#[test]` per conformance case, so a failure names its case.
///
/// `$plugin` is the path of the plugin library; `$config` maps a fresh scratch directory (removed
/// after the case) to the store options.
#[macro_export]
macro_rules! store_conformance_suite {
    ($plugin:expr, $config:expr) => {
        $crate::store_conformance_suite!(@cases $plugin, $config;
            round_trip_multi_mib,
            empty_image,
            ranged_reads,
            size_matches_put,
            delete_then_get_is_not_found,
            delete_missing_is_not_found,
            put_existing_id_is_already_exists,
            failed_stream_leaves_nothing,
            dropped_put_leaves_nothing,
            size_hint_mismatch_leaves_nothing,
            concurrent_puts,
            missing_capabilities_are_refused,
        );
    };
    (@cases $plugin:expr, $config:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case($plugin, $config, $crate::cases::$case);
            }
        )+
    };
}

/// Loads the plugin at `plugin`, opens a store on a fresh scratch directory, and runs `case` on a
/// multi-threaded runtime like the server's.
pub fn run_case<C, F>(
    plugin: impl AsRef<Path>,
    config: impl FnOnce(&Path) -> serde_json::Value,
    case: C,
) where
    C: FnOnce(Store) -> F,
    F: Future<Output = ()>,
{
    let scratch = tempfile::tempdir().expect("scratch directory");
    let plugin = load_store_plugin(plugin.as_ref()).unwrap_or_else(|err| panic!("{err}"));
    let store = plugin
        .open("conformance", &config(scratch.path()))
        .unwrap_or_else(|err| panic!("opening the store failed: {err}"));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(case(store));
}

/// The path of the cdylib `lib<crate_name>.so` built into the same target directory and profile as
/// the running test executable (`target/<profile>/deps/<test>`).
///
/// A plugin crate declares `crate-type = ["cdylib", "rlib"]` so that `cargo test` builds the
/// library before its integration tests; built that way the fresh `.so` lands in
/// `target/<profile>/deps/` (cargo copies it up to `target/<profile>/` only for `cargo build`), so
/// that copy is preferred.
pub fn cdylib_path(crate_name: &str) -> PathBuf {
    let file = library_file(crate_name);
    let in_deps = deps_dir().join(&file);
    if in_deps.exists() {
        in_deps
    } else {
        profile_dir().join(file)
    }
}

/// The path of a cdylib example of this workspace (`target/<profile>/examples/lib<name>.so`).
///
/// `cargo test -p glint-testkit` builds the kit's example plugins, among them `store_future_abi`,
/// which is intentionally incompatible, for loader tests.
pub fn example_cdylib_path(name: &str) -> PathBuf {
    profile_dir().join("examples").join(library_file(name))
}

fn library_file(crate_name: &str) -> String {
    format!("lib{}.so", crate_name.replace('-', "_"))
}

fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .expect("the test executable lives in a directory")
        .to_owned()
}

fn profile_dir() -> PathBuf {
    deps_dir()
        .parent()
        .expect("the deps directory lives in the profile directory")
        .to_owned()
}
