//! Store conformance kit: one suite every store plugin passes, through the real loader.
//!
//! Each case enforces lines of the `# Behavior` lists on [`glint_sdk::StoreDriver`], and runs only
//! when the driver has the capabilities it needs: otherwise it is skipped, and says so ([`Outcome`]:
//! `cargo test` shows a line `conformance: <case> SKIPPED: the driver lacks the capability <names>`
//! even for a passing test, and the caller of [`run_case`] gets the names back).
//! Use it from a plugin's integration test:
//!
//! ```ignore
//! glint_sdk_testkit::store_conformance_suite!(
//!     glint_sdk_testkit::cdylib_path("glint_store_file"),
//!     |scratch: &std::path::Path| serde_json::json!({ "datadir": scratch })
//! );
//! ```
//!
//! A read-only driver uses [`store_readonly_conformance_suite!`], whose cases place their objects
//! as files from outside the driver.
//!
//! Metadef provider plugins have their own suite, [`metadef_provider_conformance_suite!`].

pub mod cases;
mod data;
pub mod metadef;

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
            list_shows_stored_objects_once,
            list_leaves_out_unfinished_puts,
            missing_capabilities_are_refused,
        );
    };
    (@cases $plugin:expr, $config:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case($plugin, $config, $crate::cases::$case)
                    .report(stringify!($case));
            }
        )+
    };
}

/// Expands to one `#[test]` per conformance case for a store the kit cannot write through (a
/// read-only driver): the cases place their objects as files, from outside the driver.
///
/// `$plugin` and `$config` are as for [`store_conformance_suite!`]; `$place` maps the scratch
/// directory and an object name (unique within one test process) to the location the driver
/// reads that object at and the file that holds it (see [`Seeder`]).
///
/// ```ignore
/// glint_sdk_testkit::store_readonly_conformance_suite!(
///     glint_sdk_testkit::cdylib_path("glint_store_http"),
///     |_: &std::path::Path| serde_json::json!({}),
///     |_: &std::path::Path, name: &str| (format!("{URL}/{name}"), DOCROOT.join(name))
/// );
/// ```
#[macro_export]
macro_rules! store_readonly_conformance_suite {
    ($plugin:expr, $config:expr, $place:expr) => {
        $crate::store_readonly_conformance_suite!(@cases $plugin, $config, $place;
            seeded_reads,
            seeded_empty_object,
            seeded_ranged_reads,
            seeded_size,
            seeded_missing_is_not_found,
        );

        #[test]
        fn missing_capabilities_are_refused() {
            $crate::run_case($plugin, $config, $crate::cases::missing_capabilities_are_refused)
                .report("missing_capabilities_are_refused");
        }
    };
    (@cases $plugin:expr, $config:expr, $place:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::run_seeded_case($plugin, $config, $place, $crate::cases::$case)
                    .report(stringify!($case));
            }
        )+
    };
}

/// How a case ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The case ran its checks.
    Passed,
    /// The case checked nothing: the driver lacks the capabilities `missing` the case needs (or,
    /// when empty, a case about missing capabilities met a driver that has them all).
    Skipped { missing: Vec<&'static str> },
}

impl Outcome {
    /// Prints a skipped case, by name and with the capabilities it needed, on the test process's
    /// standard error.
    ///
    /// The line is written to the stream itself, not through `eprintln!`, which the test harness
    /// captures and throws away for a passing test: a skip must be seen in a plain `cargo test`,
    /// or a driver that lost a capability would pass the kit silently.
    pub fn report(&self, case: &str) {
        if let Some(line) = self.skip_line(case) {
            use std::io::Write as _;
            // Ignored failure: a closed stderr leaves nobody to tell.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// The line [`Outcome::report`] prints for `case`, `None` when the case ran its checks.
    pub fn skip_line(&self, case: &str) -> Option<String> {
        match self {
            Outcome::Passed => None,
            Outcome::Skipped { missing } if missing.is_empty() => Some(format!(
                "conformance: {case} SKIPPED: nothing to check, the driver has every capability"
            )),
            Outcome::Skipped { missing } => Some(format!(
                "conformance: {case} SKIPPED: the driver lacks the capability {}",
                missing.join(", ")
            )),
        }
    }
}

tokio::task_local! {
    /// Where `cases` record that the running case skipped itself.
    static SKIPPED: std::cell::RefCell<Option<Vec<&'static str>>>;
}

/// Records the running case as skipped for lacking `missing` (called by the cases).
pub(crate) fn skip(missing: Vec<&'static str>) {
    // Ignored failure: outside `run_case` (a case called directly) there is nobody to tell.
    let _ = SKIPPED.try_with(|skipped| *skipped.borrow_mut() = Some(missing));
}

/// Runs `case` to its end and says whether it skipped itself.
fn run_recorded(case: impl Future<Output = ()>) -> Outcome {
    let recorded = block_on(SKIPPED.scope(std::cell::RefCell::new(None), async {
        case.await;
        SKIPPED.with(|skipped| skipped.borrow_mut().take())
    }));
    match recorded {
        Some(missing) => Outcome::Skipped { missing },
        None => Outcome::Passed,
    }
}

/// Loads the plugin at `plugin`, opens a store on a fresh scratch directory, and runs `case` on a
/// multi-threaded runtime like the server's. A failed check panics; otherwise the case passed or
/// skipped itself, as the [`Outcome`] says.
pub fn run_case<C, F>(
    plugin: impl AsRef<Path>,
    config: impl FnOnce(&Path) -> serde_json::Value,
    case: C,
) -> Outcome
where
    C: FnOnce(Store) -> F,
    F: Future<Output = ()>,
{
    let scratch = tempfile::tempdir().expect("scratch directory");
    let store = open_store(plugin.as_ref(), &config(scratch.path()));
    run_recorded(case(store))
}

/// Like [`run_case`], for cases that place their objects through a [`Seeder`] built on `place`.
pub fn run_seeded_case<C, F>(
    plugin: impl AsRef<Path>,
    config: impl FnOnce(&Path) -> serde_json::Value,
    place: impl Fn(&Path, &str) -> (String, PathBuf) + 'static,
    case: C,
) -> Outcome
where
    C: FnOnce(Store, Seeder) -> F,
    F: Future<Output = ()>,
{
    let scratch = tempfile::tempdir().expect("scratch directory");
    let store = open_store(plugin.as_ref(), &config(scratch.path()));
    let scratch_path = scratch.path().to_owned();
    let seeder = Seeder {
        place: Box::new(move |name| place(&scratch_path, name)),
        placed: Vec::new(),
    };
    run_recorded(case(store, seeder))
}

fn open_store(plugin: &Path, config: &serde_json::Value) -> Store {
    load_store_plugin(plugin)
        .unwrap_or_else(|err| panic!("{err}"))
        .open("conformance", config)
        .unwrap_or_else(|err| panic!("opening the store failed: {err}"))
}

pub(crate) fn block_on<T>(case: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(case)
}

/// Maps an object name to its location and the file that holds it.
type Place = dyn Fn(&str) -> (String, PathBuf);

/// Places objects where a read-only driver finds them, as files; removes them when dropped, so a
/// case leaves nothing behind even when it fails.
pub struct Seeder {
    place: Box<Place>,
    placed: Vec<PathBuf>,
}

impl Seeder {
    /// Writes `data` as the object `name` and returns its location.
    pub fn put(&mut self, name: &str, data: &[u8]) -> String {
        let (location, file) = (self.place)(name);
        std::fs::write(&file, data)
            .unwrap_or_else(|err| panic!("placing {} failed: {err}", file.display()));
        self.placed.push(file);
        location
    }

    /// The location the object `name` would have; nothing is placed there.
    pub fn vacant(&self, name: &str) -> String {
        let (location, file) = (self.place)(name);
        assert!(!file.exists(), "{} exists", file.display());
        location
    }
}

impl Drop for Seeder {
    fn drop(&mut self) {
        for file in &self.placed {
            // Ignored failure: a leftover test object harms nothing.
            let _ = std::fs::remove_file(file);
        }
    }
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
/// `cargo test -p glint-sdk-testkit` builds the kit's example plugins, among them `store_future_abi`,
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
