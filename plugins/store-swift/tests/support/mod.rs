//! The real Swift (and Keystone) the tests use, started by the shared backend scripts when they
//! are not running, and direct access to the account to check what the driver left there.

#![allow(dead_code)] // Each test binary uses part of this module.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glint_sdk::host::{Store, load_store_plugin};
use serde_json::json;

/// A tempauth-only Swift of the tests' own: in Keystone mode, Swift asks Keystone about every
/// tempauth token too (about half a second per request on the test machine), which would make
/// the suites crawl. Its ports and state directory are its own, beside the default instance.
const TEMPAUTH_SWIFT: [(&str, &str); 4] = [
    ("SWIFT_STATE", "/tmp/glance-backends/swift-glint-tempauth"),
    ("SWIFT_PROXY_PORT", "8090"),
    ("SWIFT_BASE_PORT", "6210"),
    ("SWIFT_MEMCACHE_PORT", "11213"),
];
/// The memcached of that Swift, where tempauth keeps its tokens.
pub const TEMPAUTH_MEMCACHE_PORT: u16 = 11213;

/// A Swift with tempauth, as swift-up.sh prints it.
pub struct Swift {
    pub auth_url: String,
    pub user: String,
    pub key: String,
}

/// The tempauth-only Swift, started by the shared backend script when it is not running (the
/// script only prints the settings when it is up), once per test process. Fails, never skips,
/// when it cannot be started.
pub fn swift() -> &'static Swift {
    static SWIFT: OnceLock<Swift> = OnceLock::new();
    SWIFT.get_or_init(|| {
        let settings = run_script("swift-up.sh", &TEMPAUTH_SWIFT);
        Swift {
            auth_url: settings["SWIFT_AUTH_URL"].clone(),
            user: settings["SWIFT_USER"].clone(),
            key: settings["SWIFT_KEY"].clone(),
        }
    })
}

/// Keystone and a Swift in Keystone mode, as keystone-up.sh and swift-up.sh print them.
pub struct KeystoneSwift {
    pub keystone_url: String,
    pub region: String,
    /// The same Swift's tempauth (it keeps working beside Keystone, with the prefix TEMPAUTH_).
    pub tempauth: Swift,
}

/// Starts Keystone, then the default Swift (the port Keystone's catalog names) in Keystone mode.
/// A default Swift already running without Keystone is refused with a message saying so.
pub fn keystone_swift() -> &'static KeystoneSwift {
    static BACKENDS: OnceLock<KeystoneSwift> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        let keystone = run_script("keystone-up.sh", &[]);
        let keystone_url = keystone["KEYSTONE_URL"].clone();
        let swift = run_script("swift-up.sh", &[("SWIFT_KEYSTONE_URL", &keystone_url)]);
        let tempauth = Swift {
            auth_url: swift["SWIFT_AUTH_URL"].clone(),
            user: swift["SWIFT_USER"].clone(),
            key: swift["SWIFT_KEY"].clone(),
        };
        let storage_url = std::thread::scope(|scope| {
            scope
                .spawn(|| runtime().block_on(Account::connect(&tempauth)).storage_url)
                .join()
                .expect("tempauth")
        });
        assert!(
            storage_url.contains("/TEMPAUTH_"),
            "the Swift at {} runs without Keystone (its tempauth account is {storage_url}); \
             stop it with swift-down.sh so that the tests start it in Keystone mode",
            tempauth.auth_url
        );
        KeystoneSwift {
            keystone_url,
            region: keystone["KEYSTONE_REGION"].clone(),
            tempauth,
        }
    })
}

fn run_script(name: &str, env: &[(&str, &str)]) -> HashMap<String, String> {
    let shared = std::env::var_os("GLINT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let script = shared.join("backends").join(name);
    let output = Command::new("bash")
        .arg(&script)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

pub fn plugin() -> PathBuf {
    glint_sdk_testkit::cdylib_path("glint_store_swift")
}

/// Test containers are named `glint-t-<pid>-<tag>`, so a later run can remove those of test
/// processes that are gone.
pub fn container_name(tag: &str) -> String {
    format!("glint-t-{}-{tag}", std::process::id())
}

/// Tempauth options for a fresh container named after `scratch` (a per-case directory).
pub fn options(scratch: &Path) -> serde_json::Value {
    let swift = swift();
    purge_stale_containers_once();
    let tag = scratch
        .file_name()
        .map(|name| name.to_string_lossy().trim_start_matches('.').to_owned())
        .unwrap_or_default();
    json!({
        "auth_url": swift.auth_url,
        "auth_version": "1",
        "user": swift.user,
        "key": swift.key,
        "container": container_name(&tag),
    })
}

/// Like [`options`], with small large-object settings so images of a few MiB become Static Large
/// Objects of 256 KiB segments.
pub fn segmented_options(scratch: &Path) -> serde_json::Value {
    let mut options = options(scratch);
    options["large_object_size"] = json!(1024 * 1024);
    options["large_object_chunk_size"] = json!(256 * 1024);
    options
}

pub fn open(options: &serde_json::Value) -> Store {
    load_store_plugin(&plugin())
        .expect("load")
        .open("swift", options)
        .unwrap_or_else(|err| panic!("open: {err}"))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The test account, spoken to directly (tempauth), to see what the driver left in it.
pub struct Account {
    http: reqwest::Client,
    pub token: String,
    pub storage_url: String,
}

impl Account {
    pub async fn connect(swift: &Swift) -> Self {
        let http = reqwest::Client::new();
        let response = http
            .get(&swift.auth_url)
            .header("X-Auth-User", &swift.user)
            .header("X-Auth-Key", &swift.key)
            .send()
            .await
            .expect("tempauth");
        assert!(
            response.status().is_success(),
            "tempauth: {}",
            response.status()
        );
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        Account {
            token: header("x-auth-token"),
            storage_url: header("x-storage-url"),
            http,
        }
    }

    /// The names of the objects in `container` (none when it does not exist).
    pub async fn objects(&self, container: &str) -> Vec<String> {
        self.list(&format!("{}/{container}", self.storage_url))
            .await
    }

    pub async fn containers(&self) -> Vec<String> {
        self.list(&self.storage_url).await
    }

    async fn list(&self, url: &str) -> Vec<String> {
        let response = self
            .http
            .get(url)
            .query(&[("format", "json")])
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("listing");
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        assert!(
            response.status().is_success(),
            "listing {url}: {}",
            response.status()
        );
        let entries: Vec<serde_json::Value> = response.json().await.expect("listing JSON");
        entries
            .iter()
            .map(|entry| entry["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Headers of an object, or `None` when it is missing.
    pub async fn head(&self, container: &str, object: &str) -> Option<reqwest::header::HeaderMap> {
        let response = self
            .http
            .head(format!("{}/{container}/{object}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("HEAD");
        response
            .status()
            .is_success()
            .then(|| response.headers().clone())
    }

    pub async fn put(
        &self,
        container: &str,
        object: &str,
        data: Vec<u8>,
        headers: &[(&str, &str)],
    ) {
        let mut request = self
            .http
            .put(format!("{}/{container}/{object}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .header(reqwest::header::CONTENT_LENGTH, data.len())
            .body(data);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("PUT");
        assert!(
            response.status().is_success(),
            "PUT {container}/{object}: {}",
            response.status()
        );
    }

    /// Deletes the container and everything in it.
    pub async fn purge(&self, container: &str) {
        for object in self.objects(container).await {
            let _ = self
                .http
                .delete(format!("{}/{container}/{object}", self.storage_url))
                .header("X-Auth-Token", &self.token)
                .send()
                .await;
        }
        let _ = self
            .http
            .delete(format!("{}/{container}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .send()
            .await;
    }

    /// Waits up to 10 s for `container` to hold exactly `expected`; returns what it holds.
    pub async fn wait_for_objects(&self, container: &str, expected: &[String]) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let objects = self.objects(container).await;
            if objects == expected || Instant::now() > deadline {
                return objects;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Removes the test containers of test processes that no longer run (their cases may have
/// failed midway), once per process.
fn purge_stale_containers_once() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        std::thread::spawn(|| {
            runtime().block_on(async {
                let account = Account::connect(swift()).await;
                for container in account.containers().await {
                    let Some(pid) = container
                        .strip_prefix("glint-t-")
                        .and_then(|rest| rest.split('-').next())
                        .and_then(|pid| pid.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    if !Path::new(&format!("/proc/{pid}")).exists() {
                        account.purge(&container).await;
                    }
                }
            })
        })
        .join()
        .expect("purging stale test containers");
    });
}
