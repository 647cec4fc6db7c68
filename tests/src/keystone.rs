//! A real Keystone for the tests that authenticate: its settings, password
//! tokens, administrator calls to its API, and Glint started to validate
//! tokens with it.
//!
//! Keystone is started with the shared harness's keystone-up.sh when nothing
//! answers on KEYSTONE_PORT (5000); when it already runs, its settings come
//! from the environment or keystone-up.sh's defaults.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::Glint;

/// Keystone's settings, as keystone-up.sh prints them (its defaults when it
/// was already running).
pub struct Keystone {
    /// The identity API, ending in `/v3`.
    pub url: String,
    /// The password of the `admin` user.
    pub admin_password: String,
}

/// The one Keystone of this test binary, started on first use when nothing
/// answers; panics (fails the test) when it cannot be started.
pub fn keystone() -> &'static Keystone {
    static KEYSTONE: OnceLock<Keystone> = OnceLock::new();
    KEYSTONE.get_or_init(|| {
        let port = std::env::var("KEYSTONE_PORT").unwrap_or_else(|_| "5000".into());
        let mut settings: HashMap<String, String> = HashMap::new();
        if !answers(&format!("http://127.0.0.1:{port}/v3")) {
            let shared = std::env::var_os("GLINT_SHARED").map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
                PathBuf::from,
            );
            let script = shared.join("harness/keystone-up.sh");
            let out = Command::new("bash")
                .arg(&script)
                .output()
                .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
            assert!(
                out.status.success(),
                "{} failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            settings = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        }
        let setting = |key: &str, default: String| {
            settings
                .get(key)
                .cloned()
                .or_else(|| std::env::var(key).ok())
                .unwrap_or(default)
        };
        Keystone {
            url: setting("KEYSTONE_URL", format!("http://127.0.0.1:{port}/v3")),
            admin_password: setting("KEYSTONE_ADMIN_PASSWORD", "password".into()),
        }
    })
}

/// Whether `url` answers with a success status within five seconds.
fn answers(url: &str) -> bool {
    Command::new("curl")
        .args(["-sf", "-m", "5", "-o", "/dev/null", url])
        .status()
        .is_ok_and(|s| s.success())
}

/// A token from password auth of `user` (in the default domain); `scope` is
/// Keystone's scope object (see [`project_scope`], [`system_scope`]).
pub async fn token(user: &str, password: &str, scope: Value) -> String {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": scope,
    }});
    let r = Client::new()
        .post(format!("{}/auth/tokens?nocatalog", keystone().url))
        .json(&body)
        .send()
        .await
        .expect("keystone auth");
    assert_eq!(r.status(), StatusCode::CREATED, "token for {user}");
    r.headers()["x-subject-token"].to_str().unwrap().to_owned()
}

/// The scope of the project `name` in the default domain.
pub fn project_scope(name: &str) -> Value {
    json!({"project": {"name": name, "domain": {"id": "default"}}})
}

/// The system scope (all of it).
pub fn system_scope() -> Value {
    json!({"system": {"all": true}})
}

/// A token of the `demo` user on project `demo`, which keystone-up.sh creates.
pub async fn demo_token() -> String {
    token("demo", "demo-secret", project_scope("demo")).await
}

/// A system-scoped token of the `admin` user.
pub async fn admin_system_token() -> String {
    token("admin", &keystone().admin_password, system_scope()).await
}

/// A Keystone API call (`path` below `/v3`) with a fresh system-scoped
/// administrator token; asserts success and returns the JSON body (`null`
/// when there is none).
pub async fn keystone_admin(method: Method, path: &str, body: Option<Value>) -> Value {
    keystone_admin_as(&admin_system_token().await, method, path, body).await
}

/// [`keystone_admin`] with a system-scoped administrator token at hand.
pub async fn keystone_admin_as(
    system: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = Client::new()
        .request(method, format!("{}{path}", keystone().url))
        .header("x-auth-token", system);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.expect("keystone call");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

/// The settings that make Glint validate tokens with [`keystone`], as the
/// `glance` service user of project `service`.
pub fn glint_env() -> Vec<(&'static str, String)> {
    vec![
        ("GLINT_AUTH__STRATEGY", "keystone".into()),
        ("GLINT_AUTH__KEYSTONE__AUTH_URL", keystone().url.clone()),
        ("GLINT_AUTH__KEYSTONE__USERNAME", "glance".into()),
        ("GLINT_AUTH__KEYSTONE__PASSWORD", "glance-password".into()),
        ("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service".into()),
    ]
}

/// Glint validating tokens with [`keystone`] ([`glint_env`]), with
/// `extra_env` settings after those.
pub async fn start_glint(extra_env: &[(&str, &str)]) -> Glint {
    let base = glint_env();
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra_env);
    Glint::start_with(&env).await
}
