//! The real storage backends behind the swift, rbd and vmware stores, started through the shared
//! backend scripts (`$GLINT_SHARED/backends`, default `../shared` beside the repository), and
//! each one's own interface, to see what Glint left in it: Swift's HTTP API (tempauth), the
//! `rbd` command and vcsim's datastore browser (`/folder`). The tests fail, never skip, when a
//! backend cannot be started.

#![allow(dead_code)] // Each test binary uses part of this module.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glint_blackbox::md5_hex;
use serde_json::{Value, json};

/// Runs `<shared>/backends/<name>` with `env` and returns the `KEY=value` settings it prints.
pub fn run_script(name: &str, env: &[(&str, &str)]) -> HashMap<String, String> {
    let shared = std::env::var_os("GLINT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
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

fn setting(settings: &HashMap<String, String>, script: &str, key: &str) -> String {
    settings
        .get(key)
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| panic!("{script} printed no {key}"))
        .clone()
}

/// A plugin of this workspace, freshly built for this test run.
pub fn plugin(crate_name: &str) -> String {
    let path = glint_sdk_testkit::cdylib_path(crate_name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        path.display()
    );
    path.to_str().expect("a UTF-8 target path").to_owned()
}

/// `GLINT_PLUGINS__PATHS` for the file store and `drivers` (crate names).
pub fn plugin_paths(drivers: &[&str]) -> String {
    let mut paths = vec![plugin("glint-store-file")];
    paths.extend(drivers.iter().map(|name| plugin(name)));
    format!("{paths:?}")
}

/// A tempauth Swift, as swift-up.sh prints it.
#[derive(Debug, Clone)]
pub struct Swift {
    pub auth_url: String,
    pub user: String,
    pub key: String,
    /// The state directory, which also names the instance to swift-down.sh.
    pub state: String,
    env: Vec<(String, String)>,
}

/// The tempauth-only Swift the swift store's own tests use (its own state and ports beside the
/// default instance, which may run in Keystone mode, where every request is much slower).
pub fn shared_swift() -> &'static Swift {
    static SWIFT: OnceLock<Swift> = OnceLock::new();
    SWIFT.get_or_init(|| {
        start_swift(&[
            ("SWIFT_STATE", "/tmp/glance-backends/swift-glint-tempauth"),
            ("SWIFT_PROXY_PORT", "8090"),
            ("SWIFT_BASE_PORT", "6210"),
            ("SWIFT_MEMCACHE_PORT", "11213"),
        ])
    })
}

/// Starts (or finds running) the tempauth Swift described by `env` (swift-up.sh's variables).
pub fn start_swift(env: &[(&str, &str)]) -> Swift {
    let settings = run_script("swift-up.sh", env);
    let get = |key: &str| setting(&settings, "swift-up.sh", key);
    Swift {
        auth_url: get("SWIFT_AUTH_URL"),
        user: get("SWIFT_USER"),
        key: get("SWIFT_KEY"),
        state: get("SWIFT_STATE"),
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

impl Swift {
    /// Restarts this Swift after [`Swift::stop`].
    pub fn start(&self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run_script("swift-up.sh", &env);
    }

    /// Stops every process of this Swift (proxy, storage servers, memcached).
    pub fn stop(&self) {
        run_script("swift-down.sh", &[("SWIFT_STATE", &self.state)]);
    }

    /// Store options for `container`; images of a MiB or more become Static Large Objects of
    /// 256 KiB segments, so the tests see segments.
    pub fn options(&self, container: &str) -> Value {
        json!({
            "auth_url": self.auth_url,
            "auth_version": "1",
            "user": self.user,
            "key": self.key,
            "container": container,
            "large_object_size": 1 << 20,
            "large_object_chunk_size": 256 << 10,
            "timeout_secs": 20,
        })
    }

    pub async fn account(&self) -> SwiftAccount {
        SwiftAccount::connect(self).await
    }
}

/// Containers made by these tests are named `glint-t-<pid>-<tag>`, as the swift store's own tests
/// name theirs, so the containers of finished test processes can be recognised and removed.
pub fn container_name(tag: &str) -> String {
    format!("glint-t-{}-{tag}", std::process::id())
}

/// A Swift account spoken to directly with a tempauth token.
pub struct SwiftAccount {
    http: reqwest::Client,
    token: String,
    storage_url: String,
}

impl SwiftAccount {
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
        SwiftAccount {
            token: header("x-auth-token"),
            storage_url: header("x-storage-url"),
            http,
        }
    }

    /// The objects in `container` (none when it does not exist).
    pub async fn objects(&self, container: &str) -> Vec<String> {
        let url = format!("{}/{container}", self.storage_url);
        let response = self
            .http
            .get(&url)
            .query(&[("format", "json")])
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("container listing");
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        assert!(
            response.status().is_success(),
            "listing {url}: {}",
            response.status()
        );
        let entries: Vec<Value> = response.json().await.expect("listing JSON");
        entries
            .iter()
            .map(|entry| entry["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The md5 of an object's content as Swift serves it (a large object whole).
    pub async fn object_md5(&self, container: &str, object: &str) -> String {
        let response = self
            .http
            .get(format!("{}/{container}/{object}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("object GET");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {object}");
        md5_hex(&response.bytes().await.expect("object body"))
    }

    /// Waits up to 60 s for `container` to hold exactly `expected`; returns what it holds. The
    /// reaper's retries of a delete double their wait while the backend is down, so the one
    /// after its return may come well after it (16 s after four failed attempts).
    pub async fn wait_for_objects(&self, container: &str, expected: &[String]) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let objects = self.objects(container).await;
            if objects == expected || Instant::now() > deadline {
                return objects;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes one object (behind Glint's back).
    pub async fn delete_object(&self, container: &str, object: &str) {
        let response = self
            .http
            .delete(format!("{}/{container}/{object}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("object DELETE");
        assert!(
            response.status().is_success(),
            "DELETE {object}: {}",
            response.status()
        );
    }

    /// Writes `data` as `object` (behind Glint's back).
    pub async fn put_object(&self, container: &str, object: &str, data: &[u8]) {
        let response = self
            .http
            .put(format!("{}/{container}/{object}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .body(data.to_vec())
            .send()
            .await
            .expect("object PUT");
        assert!(
            response.status().is_success(),
            "PUT {object}: {}",
            response.status()
        );
    }

    /// Deletes `container` and what is left in it.
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
}

/// The Ceph cluster of ceph-up.sh.
#[derive(Debug, Clone)]
pub struct Ceph {
    pub conf: String,
    pub pool: String,
    pub user: String,
    pub keyring: String,
}

pub fn ceph() -> &'static Ceph {
    static CEPH: OnceLock<Ceph> = OnceLock::new();
    CEPH.get_or_init(|| start_ceph(&[]))
}

/// Starts (or finds running) the Ceph cluster described by `env` (ceph-up.sh's variables).
pub fn start_ceph(env: &[(&str, &str)]) -> Ceph {
    let settings = run_script("ceph-up.sh", env);
    let get = |key: &str| setting(&settings, "ceph-up.sh", key);
    Ceph {
        conf: get("CEPH_CONF"),
        pool: get("CEPH_POOL"),
        user: get("CEPH_USER"),
        keyring: get("CEPH_KEYRING"),
    }
}

/// `ceph <args>` as the administrator of the cluster whose configuration is `conf` (its admin
/// keyring beside it, as ceph-up.sh leaves it).
pub fn ceph_admin(conf: &str, args: &[&str]) {
    let dir = Path::new(conf)
        .parent()
        .expect("ceph.conf lives in the state dir");
    let keyring = dir.join("ceph.client.admin.keyring");
    let output = Command::new("ceph")
        .args(["-c", conf, "-k"])
        .arg(&keyring)
        .args(["-n", "client.admin", "--connect-timeout", "10"])
        .args(args)
        .output()
        .expect("run the ceph command");
    assert!(
        output.status.success(),
        "ceph {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Ceph {
    pub fn options(&self) -> Value {
        json!({
            "pool": self.pool,
            "rados_user": self.user,
            "ceph_conf": self.conf,
            "keyring": self.keyring,
            "chunk_size": 1,
            "connect_timeout": 20,
        })
    }

    /// `rbd -c <conf> --id <user> --keyring <keyring> <args>`; its stdout.
    fn rbd(&self, args: &[&str]) -> String {
        let output = Command::new("rbd")
            .args([
                "-c",
                &self.conf,
                "--id",
                &self.user,
                "--keyring",
                &self.keyring,
            ])
            .args(args)
            .output()
            .expect("run the rbd command");
        assert!(
            output.status.success(),
            "rbd {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Every RBD image of the pool.
    pub fn all_images(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .rbd(&["ls", &self.pool])
            .lines()
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// The RBD images of the pool whose names contain `image_id` (temporary ones included).
    pub fn images_of(&self, image_id: &str) -> Vec<String> {
        self.rbd(&["ls", &self.pool])
            .lines()
            .filter(|name| name.contains(image_id))
            .map(str::to_owned)
            .collect()
    }

    /// Shrinks the image behind Glint's back to `size` bytes: its protected snapshot `snap` is
    /// removed, the image resized, and the snapshot taken and protected again.
    pub fn shrink(&self, image_id: &str, size: u64) {
        let image = format!("{}/{image_id}", self.pool);
        let snap = format!("{image}@snap");
        self.rbd(&["snap", "unprotect", &snap]);
        self.rbd(&["snap", "rm", &snap]);
        self.rbd(&[
            "resize",
            "--allow-shrink",
            "--size",
            &format!("{size}B"),
            &image,
        ]);
        self.rbd(&["snap", "create", &snap]);
        self.rbd(&["snap", "protect", &snap]);
    }

    /// Creates an image of `size` bytes with a protected snapshot `snap`, as the rbd store
    /// leaves one, that no Glint image names.
    pub fn create_stray(&self, name: &str, size: u64) {
        let image = format!("{}/{name}", self.pool);
        self.rbd(&["create", "--size", &format!("{size}B"), &image]);
        self.rbd(&["snap", "create", &format!("{image}@snap")]);
        self.rbd(&["snap", "protect", &format!("{image}@snap")]);
    }

    /// Removes an image made by [`Ceph::create_stray`].
    pub fn remove_stray(&self, name: &str) {
        let snap = format!("{}/{name}@snap", self.pool);
        self.rbd(&["snap", "unprotect", &snap]);
        self.rbd(&["snap", "rm", &snap]);
        self.rbd(&["rm", &format!("{}/{name}", self.pool)]);
    }

    /// The md5 of the image's snapshot `snap`, read with `rbd export`.
    pub fn image_md5(&self, image_id: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export");
        self.rbd(&[
            "export",
            &format!("{}/{image_id}@snap", self.pool),
            file.to_str().unwrap(),
        ]);
        md5_hex(&std::fs::read(&file).unwrap())
    }
}

/// The vSphere simulator of vcsim-up.sh.
#[derive(Debug, Clone)]
pub struct Vcsim {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub datacenter: String,
    pub datastore: String,
    pub ca_file: String,
}

pub fn vcsim() -> &'static Vcsim {
    static VCSIM: OnceLock<Vcsim> = OnceLock::new();
    VCSIM.get_or_init(|| start_vcsim(&[]))
}

/// Starts (or finds running) the vSphere simulator described by `env` (vcsim-up.sh's variables).
pub fn start_vcsim(env: &[(&str, &str)]) -> Vcsim {
    let settings = run_script("vcsim-up.sh", env);
    let get = |key: &str| setting(&settings, "vcsim-up.sh", key);
    Vcsim {
        host: get("VCSIM_HOST"),
        port: get("VCSIM_PORT").parse().expect("VCSIM_PORT is a port"),
        user: get("VCSIM_USER"),
        password: get("VCSIM_PASSWORD"),
        datacenter: get("VCSIM_DATACENTER"),
        datastore: get("VCSIM_DATASTORE"),
        ca_file: get("VCSIM_CA_FILE"),
    }
}

/// Stops the server whose process id the file `pid_file` holds (one a test started itself,
/// under its own state directory) with `signal` (`-TERM`, `-INT`), and waits until it is gone.
pub fn stop_pid_file(pid_file: &str, signal: &str) {
    let pid = std::fs::read_to_string(pid_file).unwrap_or_else(|e| panic!("{pid_file}: {e}"));
    let pid = pid.trim();
    let out = Command::new("kill")
        .args([signal, pid])
        .output()
        .expect("run kill");
    assert!(out.status.success(), "kill {signal} {pid}: {out:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "process {pid} did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when process `pid` has exited (a zombie not yet reaped counts as gone).
fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// An image directory of each test's own: `/glint-tests/<pid>-<tag>`.
pub fn vmware_dir(tag: &str) -> String {
    format!("/glint-tests/{}-{tag}", std::process::id())
}

impl Vcsim {
    pub fn options(&self, image_dir: &str) -> Value {
        json!({
            "host": self.host,
            "port": self.port,
            "username": self.user,
            "password": self.password,
            "datastores": [format!("{}:{}:10", self.datacenter, self.datastore)],
            "store_image_dir": image_dir,
            "ca_file": self.ca_file,
            "task_poll_interval_ms": 50,
            "api_retry_count": 2,
        })
    }

    fn http(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.ca_file).expect("read the vcsim CA file");
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM CA"))
            .build()
            .expect("an HTTPS client")
    }

    fn folder_url(&self, path: &str) -> String {
        format!(
            "https://{}:{}/folder{path}?dcPath={}&dsName={}",
            self.host, self.port, self.datacenter, self.datastore
        )
    }

    /// The names in datastore directory `dir`, as the datastore browser lists them.
    pub async fn files_in(&self, dir: &str) -> Vec<String> {
        let response = self
            .http()
            .get(self.folder_url(&format!("{dir}/")))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .expect("datastore listing");
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        assert!(
            response.status().is_success(),
            "listing {dir}: {}",
            response.status()
        );
        let page = response.text().await.unwrap();
        page.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|name| name.trim_end_matches('/').to_owned())
            .collect()
    }

    /// The md5 of a datastore file's content.
    pub async fn file_md5(&self, path: &str) -> String {
        let response = self
            .http()
            .get(self.folder_url(path))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .expect("datastore GET");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {path}");
        md5_hex(&response.bytes().await.unwrap())
    }
}
