//! Black-box test support: start the real `glint` binary on a free loopback
//! port with its own data directory, and talk to it over HTTP.

pub mod glance;
pub mod keystone;
pub mod mariadb;
pub mod postgres;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// The cargo target directory this test binary was built into (`target/<profile>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// A virtualenv `<target>/<name>` with `package` from PyPI, made on first use and reused
/// by later runs. The tests of a binary run on parallel threads: one makes it while the
/// others wait. `GLINT_TEST_PYTHON` names the interpreter (`python3` by default).
pub fn python_venv(name: &str, package: &str) -> PathBuf {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = MAKING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = target_dir().join(name);
    let marker = venv.join(".installed");
    if marker.exists() {
        return venv;
    }
    let python = std::env::var("GLINT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let steps = [
        Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .output(),
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", package])
            .output(),
    ];
    for step in steps {
        let out = step.unwrap_or_else(|e| panic!("making {name}: {e}"));
        assert!(
            out.status.success(),
            "making {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&marker, b"").unwrap();
    venv
}

/// A running `glint serve`, stopped when dropped.
pub struct Glint {
    child: Child,
    pub url: String,
    pub data_dir: tempfile::TempDir,
    pub client: Client,
    log: PathBuf,
}

impl Glint {
    /// Start with the embedded defaults (SQLite + file store in a temp dir).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Start with extra environment settings (`GLINT_...`).
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        Self::launch(tempfile::tempdir().expect("temp data dir"), env).await
    }

    /// Start on a data directory prepared beforehand (e.g. by an admin command).
    pub async fn start_in(data_dir: tempfile::TempDir) -> Self {
        Self::launch(data_dir, &[]).await
    }

    /// Start on a prepared data directory with extra environment settings.
    pub async fn start_in_with(data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        Self::launch(data_dir, env).await
    }

    /// Start on a prepared data directory with the `dir` metadef provider
    /// plugin installed in `<data_dir>/plugins` and `config` (TOML text)
    /// as the configuration file.
    pub async fn start_with_metadefs(data_dir: tempfile::TempDir, config: &str) -> Self {
        install_metadef_dir_plugin(data_dir.path());
        let file = data_dir.path().join("glint.toml");
        std::fs::write(&file, config).expect("write the configuration file");
        let file = file.to_str().expect("a UTF-8 temporary path").to_owned();
        Self::launch(data_dir, &[("GLINT_CONFIG", &file)]).await
    }

    async fn launch(data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        let bin = target_dir().join("glint");
        assert!(
            bin.exists(),
            "{} is missing: build the workspace first (cargo build --workspace)",
            bin.display()
        );
        let log = data_dir.path().join("glint.log");
        let client = Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("http client");
        // A free port may be taken by someone else before glint binds it: retry.
        for _attempt in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(&bin);
            // A relative data dir, as in the README's run command (`./data`).
            cmd.args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                ".",
            ])
            .current_dir(data_dir.path())
            // The plugins freshly built for this test run, not stale copies next to the binary.
            .env(
                "GLINT_PLUGINS__PATHS",
                format!(
                    "[{:?}, {:?}]",
                    glint_sdk_testkit::cdylib_path("glint-store-file"),
                    glint_sdk_testkit::cdylib_path("glint-store-http")
                ),
            )
            .env("GLINT_LOG", "info,glint_core=debug")
            .stdin(Stdio::null());
            // glint logs to stdout; both streams go to the log file.
            let file = std::fs::File::create(&log).expect("log file");
            cmd.stdout(file.try_clone().expect("log file")).stderr(file);
            for (k, v) in env {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("spawn glint");
            let url = format!("http://127.0.0.1:{port}");
            if wait_ready(&mut child, &client, &url).await {
                return Glint {
                    child,
                    url,
                    data_dir,
                    client,
                    log,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "glint did not start; env {env:?}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every notification waiting in the outbox of this server's SQLite database, in the
    /// order written.
    pub async fn outbox(&self) -> Vec<Value> {
        let path = self.data_dir.path().join("glint.db");
        let db = glint_core::db::Database::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("open the outbox");
        let rows = db
            .next_notifications(10_000)
            .await
            .expect("read the outbox");
        db.close().await;
        rows.iter()
            .map(|n| serde_json::from_str(&n.message).expect("a JSON message"))
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The text of `GET /metrics` from this server's metrics listener at `bind`.
    pub async fn metrics_text(&self, bind: &str) -> String {
        let r = self
            .client
            .get(format!("http://{bind}/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        assert!(r.status().is_success(), "GET /metrics: {}", r.status());
        r.text().await.expect("the metrics text")
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path))
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path))
    }

    pub fn patch(&self, path: &str, ops: Value) -> reqwest::RequestBuilder {
        self.client
            .patch(self.url(path))
            .header(
                "content-type",
                "application/openstack-images-v2.1-json-patch",
            )
            .body(ops.to_string())
    }

    /// Create an image and return its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let r = self
            .post("/v2/images")
            .json(&body)
            .send()
            .await
            .expect("create");
        assert_eq!(r.status(), StatusCode::CREATED, "create {body}");
        r.json().await.expect("image json")
    }

    /// Create a raw/bare image and upload `data` to it.
    pub async fn create_with_data(&self, name: &str, data: &[u8]) -> Value {
        let img = self
            .create(
                serde_json::json!({"name": name, "disk_format": "raw", "container_format": "bare"}),
            )
            .await;
        let id = img["id"].as_str().unwrap();
        let r = self
            .put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .expect("upload");
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "upload: {}",
            r.text().await.unwrap_or_default()
        );
        self.show(id).await
    }

    pub async fn show(&self, id: &str) -> Value {
        let r = self
            .get(&format!("/v2/images/{id}"))
            .send()
            .await
            .expect("show");
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("image json")
    }

    /// Files in the default file store's directory, temporary ones included.
    pub fn stored_files(&self) -> Vec<String> {
        let dir = self.data_dir.path().join("images");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Glint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies the freshly built `dir` metadef provider plugin into
/// `<data_dir>/plugins`, where `glint serve` finds it by its name.
pub fn install_metadef_dir_plugin(data_dir: &Path) {
    let plugin = glint_sdk_testkit::cdylib_path("glint-metadef-dir");
    let dir = data_dir.join("plugins");
    std::fs::create_dir_all(&dir).expect("create the plugin directory");
    std::fs::copy(&plugin, dir.join("libglint_metadef_dir.so"))
        .unwrap_or_else(|e| panic!("copy {}: {e}", plugin.display()));
}

async fn wait_ready(child: &mut Child, client: &Client, url: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(r) = client.get(url).send().await
            && r.status() == StatusCode::MULTIPLE_CHOICES
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A port nothing listens on now (the OS picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

pub fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(data))
}

/// The workspace's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace root")
        .to_path_buf()
}

/// The target directory for crates built outside the workspace (the plugin template, the plugins
/// built against pinned SDKs): `target/out-of-tree`, kept between runs and shared by them, so
/// their common dependencies build once. Also the profile this test was built with.
pub fn outside_target() -> (PathBuf, String) {
    let profile_dir = target_dir();
    let profile = profile_dir
        .file_name()
        .expect("target/<profile>")
        .to_string_lossy()
        .into_owned();
    let target = profile_dir
        .parent()
        .expect("target/<profile> has a parent")
        .join("out-of-tree");
    (target, profile)
}

/// Runs `cargo <args>` in the crate folder `dir`, as a vendor would, with the target directory of
/// [`outside_target`] and this test's profile; fails the test with cargo's output when it fails.
pub fn cargo_outside(dir: &Path, args: &[&str]) {
    let (target, profile) = outside_target();
    // The cargo that runs this test, so the pinned toolchain builds the crate too.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target);
    if profile == "release" {
        command.arg("--release");
    }
    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cargo {args:?} in {}: {err}", dir.display()));
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed ({}); if it says the lock file needs updating, run \
         `cargo update --workspace` in that folder and commit its Cargo.lock:\n{}\n{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "cargo {args:?} in {} took {:.1?}",
        dir.display(),
        started.elapsed()
    );
}
