//! A real Glance 33 of a test's own: the shared harness's glance-up.sh
//! (noauth) with a private state directory and port, so its image list is
//! the test's alone. Stopped (its uWSGI master, by pid) when dropped; the
//! shared Glance on 9292 is never touched.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::free_port;

/// A running private Glance.
pub struct Glance {
    pub url: String,
    pub client: Client,
    state: tempfile::TempDir,
}

/// The shared harness directory (`GLINT_SHARED`, else `../shared` beside the repository).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("GLINT_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        PathBuf::from,
    )
}

impl Glance {
    /// Starts one; panics (fails the test) when it does not come up. The
    /// virtualenv is the harness's shared one (built on first use).
    pub fn start() -> Glance {
        let state = tempfile::tempdir().expect("glance state dir");
        let script = shared_dir().join("harness/glance-up.sh");
        let venvs = std::env::var("GLINT_HARNESS_VENVS")
            .unwrap_or_else(|_| "/tmp/glint-harness/venvs".into());
        let port = free_port();
        let out = Command::new("bash")
            .arg(&script)
            .env("GLINT_HARNESS_STATE", state.path())
            .env("GLINT_HARNESS_VENVS", venvs)
            .env("GLANCE_PORT", port.to_string())
            .env("GLANCE_LOAD_METADEFS", "0")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        let glance = Glance {
            url: format!("http://127.0.0.1:{port}"),
            client: Client::builder()
                .timeout(Duration::from_secs(300))
                .build()
                .expect("http client"),
            state,
        };
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        glance
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Creates an image (`body` as for `POST /v2/images`), uploads `data`
    /// when given, and returns the image.
    pub async fn image(&self, body: Value, data: Option<&[u8]>) -> Value {
        let r = self
            .client
            .post(self.url("/v2/images"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "create {body}: {}",
            r.text().await.unwrap()
        );
        let image: Value = r.json().await.unwrap();
        let id = image["id"].as_str().unwrap();
        if let Some(data) = data {
            let r = self
                .client
                .put(self.url(&format!("/v2/images/{id}/file")))
                .header("content-type", "application/octet-stream")
                .body(data.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::NO_CONTENT,
                "upload: {}",
                r.text().await.unwrap()
            );
        }
        self.show(id).await
    }

    pub async fn show(&self, id: &str) -> Value {
        let r = self
            .client
            .get(self.url(&format!("/v2/images/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "show {id}");
        r.json().await.unwrap()
    }

    /// Applies a JSON patch to an image.
    pub async fn patch(&self, id: &str, ops: Value) {
        let r = self
            .client
            .patch(self.url(&format!("/v2/images/{id}")))
            .header(
                "content-type",
                "application/openstack-images-v2.1-json-patch",
            )
            .body(ops.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "patch {id}: {}",
            r.text().await.unwrap()
        );
    }

    /// Shares image `id` with `member` and gives the membership `status`.
    pub async fn share(&self, id: &str, member: &str, status: &str) {
        let r = self
            .client
            .post(self.url(&format!("/v2/images/{id}/members")))
            .json(&json!({"member": member}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "add member: {}",
            r.text().await.unwrap()
        );
        if status != "pending" {
            self.share_status(id, member, status).await;
        }
    }

    /// Sets `member`'s status on image `id`.
    pub async fn share_status(&self, id: &str, member: &str, status: &str) {
        let r = self
            .client
            .put(self.url(&format!("/v2/images/{id}/members/{member}")))
            .json(&json!({"status": status}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "member status: {}",
            r.text().await.unwrap()
        );
    }

    /// Stops sharing image `id` with `member`.
    pub async fn unshare(&self, id: &str, member: &str) {
        let r = self
            .client
            .delete(self.url(&format!("/v2/images/{id}/members/{member}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "remove member: {}",
            r.text().await.unwrap()
        );
    }
}

impl Drop for Glance {
    fn drop(&mut self) {
        let pidfile = self.state.path().join("glance.pid");
        if let Ok(pid) = std::fs::read_to_string(&pidfile) {
            let pid = pid.trim();
            let _ = Command::new("kill").args(["-TERM", pid]).status();
            // uWSGI's master stops its workers, then itself.
            let alive = || {
                Command::new("kill")
                    .args(["-0", pid])
                    .stderr(std::process::Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            for _ in 0..100 {
                if !alive() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}
