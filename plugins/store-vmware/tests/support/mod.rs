//! The real vSphere simulator the tests use, started through the shared backend script.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use glint_sdk::host::{Store, StorePlugin, load_store_plugin};
use glint_sdk_testkit::cdylib_path;
use serde_json::json;

/// One running vcsim, as `vcsim-up.sh` describes it.
#[derive(Debug, Clone)]
pub struct Vcsim {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub datacenter: String,
    pub datastore: String,
    pub ca_file: PathBuf,
}

/// Runs `vcsim-up.sh` with `env` (it only prints the settings when that vcsim is already up);
/// panics, so the test fails rather than skips, when the simulator cannot be started.
pub fn start_vcsim(env: &[(&str, &str)]) -> Vcsim {
    let shared = std::env::var_os("GLINT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let script = shared.join("backends/vcsim-up.sh");
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
    let settings: HashMap<String, String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    let setting = |key: &str| {
        settings
            .get(key)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| panic!("{} printed no {key}", script.display()))
            .clone()
    };
    Vcsim {
        host: setting("VCSIM_HOST"),
        port: setting("VCSIM_PORT").parse().expect("VCSIM_PORT is a port"),
        user: setting("VCSIM_USER"),
        password: setting("VCSIM_PASSWORD"),
        datacenter: setting("VCSIM_DATACENTER"),
        datastore: setting("VCSIM_DATASTORE"),
        ca_file: PathBuf::from(setting("VCSIM_CA_FILE")),
    }
}

impl Vcsim {
    /// Store options for this simulator, images under `image_dir`, trusting its certificate.
    pub fn options(&self, image_dir: &str) -> serde_json::Value {
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

    pub fn sdk_url(&self) -> String {
        format!("https://{}:{}/sdk", self.host, self.port)
    }
}

/// An image directory of its own for each test and test process, so runs never collide.
pub fn image_dir(name: &str) -> String {
    format!("/glint-tests/{}-{name}", std::process::id())
}

pub fn plugin_path() -> PathBuf {
    cdylib_path("glint_store_vmware")
}

pub fn plugin() -> StorePlugin {
    load_store_plugin(&plugin_path()).expect("load the vmware plugin")
}

pub fn open(options: &serde_json::Value) -> Store {
    plugin()
        .open("vmware", options)
        .unwrap_or_else(|err| panic!("open: {err}"))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
