//! The http store through the real loader, against a real nginx: the read-only conformance suite,
//! then its own rules (redirects, basic auth, errors).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use glint_sdk::host::{Store, load_store_plugin};
use glint_sdk::{ErrorKind, ReadRange, StoreError};
use glint_sdk_testkit::{cdylib_path, collect, random_bytes};
use serde_json::json;

/// The nginx this suite reads from, started by the shared backend script when it is not running.
struct Nginx {
    url: String,
    docroot: PathBuf,
}

/// Runs `nginx-http-up.sh` once per test process (it only prints the settings when nginx is up);
/// the suite fails, rather than skips, when nginx cannot be started.
fn nginx() -> &'static Nginx {
    static NGINX: OnceLock<Nginx> = OnceLock::new();
    NGINX.get_or_init(|| {
        let shared = std::env::var_os("GLINT_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        );
        let script = shared.join("backends/nginx-http-up.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
        assert!(
            output.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let settings: HashMap<String, String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let setting = |key: &str| {
            settings
                .get(key)
                .unwrap_or_else(|| panic!("{} printed no {key}", script.display()))
                .clone()
        };
        Nginx {
            url: setting("HTTP_STORE_URL"),
            docroot: PathBuf::from(setting("HTTP_STORE_DOCROOT")),
        }
    })
}

/// A docroot object served by nginx: removed when dropped.
struct Object {
    name: String,
    file: PathBuf,
}

impl Object {
    fn new(name: &str, data: &[u8]) -> Self {
        let name = format!("glint-http-{}-{name}", std::process::id());
        let file = nginx().docroot.join(&name);
        std::fs::write(&file, data).unwrap();
        Object { name, file }
    }

    /// The object's URL under `prefix` (`""`, `"redirect/3/"`, `"private/"`).
    fn url(&self, prefix: &str) -> String {
        format!("{}/{prefix}{}", nginx().url, self.name)
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // Ignored failure: a leftover test object harms nothing.
        let _ = std::fs::remove_file(&self.file);
    }
}

fn plugin() -> PathBuf {
    cdylib_path("glint_store_http")
}

/// Conformance objects live in the docroot, named per test process.
fn place(_scratch: &Path, name: &str) -> (String, PathBuf) {
    let name = format!("glint-conformance-{}-{name}", std::process::id());
    (
        format!("{}/{name}", nginx().url),
        nginx().docroot.join(name),
    )
}

glint_sdk_testkit::store_readonly_conformance_suite!(plugin(), |_: &Path| json!({}), place);

fn open(options: serde_json::Value) -> Store {
    load_store_plugin(&plugin())
        .expect("load")
        .open("web", &options)
        .expect("open")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn read(store: &Store, location: &str, range: Option<ReadRange>) -> Result<Vec<u8>, StoreError> {
    runtime().block_on(async {
        let outcome = store.get(location, range).await?;
        Ok(collect(outcome.data).await)
    })
}

fn size(store: &Store, location: &str) -> Result<u64, StoreError> {
    runtime().block_on(store.size(location))
}

#[test]
fn driver_is_named_http() {
    assert_eq!(load_store_plugin(&plugin()).unwrap().driver_name(), "http");
}

#[test]
fn config_errors_are_config_invalid_naming_the_option() {
    let plugin = load_store_plugin(&plugin()).unwrap();
    let cases = [
        (json!({ "timeout": 5 }), "`timeout`"),
        (json!({ "max_redirects": 11 }), "`max_redirects`"),
        (json!({ "user": "glance" }), "`password`"),
        (json!({ "ca_file": "/nonexistent/ca.pem" }), "`ca_file`"),
    ];
    for (options, named) in cases {
        let err = plugin.open("web", &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{options}: {err}");
        assert!(err.message.contains(named), "{options}: {err}");
    }
}

#[test]
fn size_comes_from_head_and_ranges_are_exact() {
    let data = random_bytes(3 * 1024 * 1024 + 17, 31);
    let object = Object::new("ranges.img", &data);
    let store = open(json!({}));
    assert_eq!(size(&store, &object.url("")).unwrap(), data.len() as u64);
    for (offset, length) in [
        (0, 1),
        (4095, 4097),
        (1_048_575, 2_000_000),
        (3_145_000, 745),
    ] {
        let range = ReadRange {
            offset,
            length: Some(length),
        };
        let got = read(&store, &object.url(""), Some(range)).unwrap();
        let end = (offset + length).min(data.len() as u64) as usize;
        assert!(got == data[offset as usize..end], "bytes of {range:?}");
    }
}

#[test]
fn redirects_are_followed_up_to_max_redirects() {
    let data = random_bytes(100_000, 32);
    let object = Object::new("redirected.img", &data);
    let store = open(json!({}));
    assert_eq!(
        read(&store, &object.url("redirect/3/"), None).unwrap(),
        data
    );
    assert_eq!(size(&store, &object.url("redirect/3/")).unwrap(), 100_000);
    let err = read(&store, &object.url("redirect/4/"), None).unwrap_err();
    assert!(err.message.contains("redirect"), "{err}");
    assert!(size(&store, &object.url("redirect/4/")).is_err());

    let strict = open(json!({ "max_redirects": 0 }));
    assert!(read(&strict, &object.url("redirect/1/"), None).is_err());
    assert_eq!(read(&strict, &object.url(""), None).unwrap(), data);
    let lenient = open(json!({ "max_redirects": 9 }));
    assert_eq!(
        read(&lenient, &object.url("redirect/9/"), None).unwrap(),
        data
    );
}

#[test]
fn missing_objects_are_not_found_naming_the_location() {
    let store = open(json!({}));
    let location = format!("{}/glint-http-no-such-object.img", nginx().url);
    for err in [
        read(&store, &location, None).unwrap_err(),
        size(&store, &location).unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert!(err.message.contains(&location), "{err}");
    }
}

#[test]
fn basic_auth_from_options_or_location() {
    let data = random_bytes(50_000, 33);
    let object = Object::new("private.img", &data);
    let private = object.url("private/");

    let anonymous = open(json!({}));
    let err = read(&anonymous, &private, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");

    let authorised = open(json!({ "user": "glance", "password": "glance-secret" }));
    assert_eq!(read(&authorised, &private, None).unwrap(), data);
    assert_eq!(size(&authorised, &private).unwrap(), 50_000);

    let wrong = open(json!({ "user": "glance", "password": "not-the-secret" }));
    let err = size(&wrong, &private).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(!err.message.contains("not-the-secret"), "{err}");

    let in_location = private.replacen("://", "://glance:glance-secret@", 1);
    assert_eq!(read(&anonymous, &in_location, None).unwrap(), data);
    let wrong_in_location = private.replacen("://", "://glance:not-the-secret@", 1);
    let err = read(&anonymous, &wrong_in_location, None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(!err.message.contains("not-the-secret"), "{err}");
}

#[test]
fn unreachable_server_is_temporarily_unavailable() {
    let store = open(json!({ "timeout_secs": 2 }));
    // Port 9 (discard) on loopback: nothing listens there on a test machine.
    let err = size(&store, "http://127.0.0.1:9/image.img").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.temporary, "{err}");
}

#[test]
fn other_schemes_are_permission_denied() {
    let store = open(json!({}));
    let err = read(&store, "file:///etc/passwd", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
}
