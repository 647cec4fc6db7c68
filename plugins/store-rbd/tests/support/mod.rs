//! The real Ceph cluster the tests use, started by the shared backend script.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use glint_store_rbd::SNAPSHOT;
use glint_store_rbd::ceph::{Cluster, ConnectOptions, IoCtx};

/// Connection settings printed by `ceph-up.sh`.
pub struct Ceph {
    pub conf: PathBuf,
    pub pool: String,
    pub user: String,
    pub keyring: PathBuf,
}

/// Image names the tests create start with one of these; leftovers of earlier runs are removed
/// once per process, before the first test uses the cluster.
pub const TEST_PREFIXES: [&str; 2] = ["6f2b5a6e-", "glint-rbd-test-"];

/// Runs `ceph-up.sh` once per test process (it only prints the settings when the cluster is
/// up); the tests fail, rather than skip, when the cluster cannot be started.
pub fn ceph() -> &'static Ceph {
    static CEPH: OnceLock<Ceph> = OnceLock::new();
    CEPH.get_or_init(|| {
        let shared = std::env::var_os("GLINT_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        );
        let script = shared.join("backends/ceph-up.sh");
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
        let ceph = Ceph {
            conf: setting("CEPH_CONF").into(),
            pool: setting("CEPH_POOL"),
            user: setting("CEPH_USER"),
            keyring: setting("CEPH_KEYRING").into(),
        };
        purge_test_images(&ceph);
        ceph
    })
}

impl Ceph {
    /// Store options for this cluster with `chunk_size` MiB.
    pub fn options(&self, chunk_size: u64) -> serde_json::Value {
        serde_json::json!({
            "pool": self.pool,
            "rados_user": self.user,
            "ceph_conf": self.conf,
            "keyring": self.keyring,
            "chunk_size": chunk_size,
            "connect_timeout": 20,
        })
    }

    /// A direct librados connection, to inspect what the driver stored.
    pub fn ioctx(&self) -> Arc<IoCtx> {
        let cluster = Cluster::connect(&ConnectOptions {
            conf: &self.conf,
            user: Some(&self.user),
            keyring: Some(&self.keyring),
            timeout_secs: 20,
        })
        .expect("connect to the test cluster");
        cluster.ioctx(&self.pool).expect("open the test pool")
    }
}

/// Removes images (clones first) left by earlier runs of these tests.
fn purge_test_images(ceph: &Ceph) {
    let ioctx = ceph.ioctx();
    let mut names: Vec<String> = ioctx
        .list_images()
        .expect("list images")
        .into_iter()
        .filter(|name| {
            let name = name.trim_start_matches('.');
            TEST_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        })
        .collect();
    names.sort_by_key(|name| !name.ends_with("-clone"));
    for name in names {
        remove_image(&ioctx, &name);
    }
}

/// Unprotects and removes `snap` if present, then removes the image; failures are reported.
pub fn remove_image(ioctx: &Arc<IoCtx>, name: &str) {
    if let Ok(image) = ioctx.open(name, None) {
        let _ = image.snap_unprotect(SNAPSHOT);
        let _ = image.snap_remove(SNAPSHOT);
    }
    if let Err(err) = ioctx.remove_image(name) {
        eprintln!("cannot remove test image {name}: {err}");
    }
}
