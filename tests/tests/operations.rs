//! What operators touch over HTTP: the health check, request ids and the
//! access log, Prometheus metrics (read by the Prometheus project's own
//! parser), TLS (driven by curl) and proxy headers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, free_port, pattern, python_venv, target_dir};
use serde_json::Value;

#[tokio::test]
async fn healthcheck_answers_without_credentials_and_drains_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("drain");
    let g = Glint::start_with(&[
        ("GLINT_AUTH__STRATEGY", "keystone"),
        ("GLINT_AUTH__KEYSTONE__AUTH_URL", "http://127.0.0.1:9/v3"),
        ("GLINT_AUTH__KEYSTONE__USERNAME", "glance"),
        ("GLINT_AUTH__KEYSTONE__PASSWORD", "pw"),
        ("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service"),
        ("GLINT_HEALTH__DISABLE_BY_FILE", flag.to_str().unwrap()),
    ])
    .await;
    let r = g.get("/healthcheck").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "OK");
    // The API itself still wants a token.
    let r = g.get("/v2/images").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The detailed form needs credentials.
    let r = g.get("/healthcheck?detailed=true").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    std::fs::write(&flag, b"").unwrap();
    let r = g.get("/healthcheck").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.text().await.unwrap(), "DISABLED BY FILE");
    std::fs::remove_file(&flag).unwrap();
    let r = g.get("/healthcheck").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn detailed_healthcheck_reports_the_database_and_each_store() {
    // noauth: every caller is an administrator.
    let g = Glint::start().await;
    let r = g.get("/healthcheck?detailed=true").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "OK", "{v}");
    assert_eq!(v["database"]["ok"], true, "{v}");
    assert_eq!(v["stores"]["file"]["ok"], true, "{v}");

    // A configured store whose driver has no plugin fails the detailed check only.
    let images = tempfile::tempdir().unwrap();
    let g = Glint::start_with(&[
        ("GLINT_STORES__FILE__DRIVER", "file"),
        (
            "GLINT_STORES__FILE__OPTIONS__DATADIR",
            images.path().to_str().unwrap(),
        ),
        ("GLINT_STORES__GONE__DRIVER", "nosuchdriver"),
        ("GLINT_DEFAULT_STORE", "file"),
    ])
    .await;
    let r = g.get("/healthcheck?detailed=true").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stores"]["gone"]["ok"], false, "{v}");
    assert_eq!(v["stores"]["file"]["ok"], true, "{v}");
    assert_eq!(
        g.get("/healthcheck").send().await.unwrap().status(),
        StatusCode::OK
    );
    // The log says where the missing plugin was looked for.
    let log = g.log();
    assert!(
        log.contains("no plugin provides driver 'nosuchdriver' (searched"),
        "{log}"
    );
}

fn request_id(r: &reqwest::Response) -> String {
    r.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_own_id(id: &str) -> bool {
    id.strip_prefix("req-")
        .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok() && u.len() == 36)
}

#[tokio::test]
async fn request_ids_are_ours_and_a_valid_callers_id_is_logged_as_global() {
    let g = Glint::start().await;
    let global = format!("req-{}", uuid::Uuid::new_v4());
    let r = g
        .get("/v2/images")
        .header("X-OpenStack-Request-ID", &global)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ours = request_id(&r);
    assert!(is_own_id(&ours) && ours != global, "{ours}");
    // Ill-formed ids, short or long, are ignored, not refused.
    for given in ["req-mine".to_owned(), "r".repeat(65), "x".repeat(300)] {
        let r = g
            .get("/v2/images")
            .header("X-OpenStack-Request-ID", &given)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{given}");
        assert!(is_own_id(&request_id(&r)));
    }
    let log = g.log();
    let line = log
        .lines()
        .find(|l| l.contains(&ours))
        .unwrap_or_else(|| panic!("no line names {ours}:\n{log}"));
    assert!(
        line.contains(&format!("global_request_id=\"{global}\"")) || line.contains(&global),
        "{line}"
    );
    assert!(!log.contains("req-mine"), "an ill-formed id was logged");
}

#[tokio::test]
async fn access_log_names_each_request_and_why_one_was_refused() {
    let g = Glint::start().await;
    let img = g.create_with_data("logged", &pattern(1000, 1)).await;
    let id = img["id"].as_str().unwrap();
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let download_id = request_id(&r);
    let r = g.get("/v2/images/not-an-id").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let refused_id = request_id(&r);
    let log = g.log();
    let line = |rid: &str| {
        log.lines()
            .find(|l| l.contains("glint_core::access") && l.contains(rid))
            .unwrap_or_else(|| panic!("no access line for {rid}:\n{log}"))
            .to_owned()
    };
    let download = line(&download_id);
    for part in [
        "GET".to_owned(),
        format!("/v2/images/{id}/file"),
        "status=200".into(),
        "bytes_out=1000".into(),
        "duration_ms=".into(),
    ] {
        assert!(download.contains(&part), "{part} missing: {download}");
    }
    let refused = line(&refused_id);
    assert!(
        refused.contains("status=404") && refused.contains("reason="),
        "{refused}"
    );
    // No terminal: no colour codes in the file.
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a log file");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let g = Glint::start_with(&[("GLINT_LOG_FORMAT", "json")]).await;
    let r = g.get("/v2/images").send().await.unwrap();
    let rid = request_id(&r);
    let log = g.log();
    let access: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["request_id"] == rid.as_str())
        .unwrap_or_else(|| panic!("no JSON access line for {rid}:\n{log}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["status"], 200);
    assert_eq!(access["fields"]["path"], "/v2/images");
}

/// A virtualenv with the Prometheus project's Python client.
fn prometheus_python() -> PathBuf {
    python_venv("pyvenv-prometheus", "prometheus-client").join("bin/python")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parses a scrape with `prometheus_client`'s OpenMetrics parser (strict: it
/// refuses what Prometheus would refuse) and returns each sample as
/// `{"name", "labels", "value", "type"}`.
fn parse_metrics(python: &Path, text: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scrape.txt");
    std::fs::write(&file, text).unwrap();
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name,
                    "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let out = run(Command::new(python).args(["-c", script]).arg(&file));
    serde_json::from_str::<Vec<Value>>(&out).unwrap()
}

#[tokio::test]
async fn metrics_are_served_apart_and_parse_as_openmetrics() {
    let python = prometheus_python();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let g = Glint::start_with(&[("GLINT_METRICS__BIND", bind.as_str())]).await;
    // Not on the API port, where a path outside the API gets the versions document.
    assert_eq!(
        g.get("/metrics").send().await.unwrap().status(),
        StatusCode::MULTIPLE_CHOICES
    );
    let data = pattern(4096, 7);
    let img = g.create_with_data("counted", &data).await;
    let id = img["id"].as_str().unwrap();
    for _ in 0..2 {
        let r = g
            .get(&format!("/v2/images/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap().len(), data.len());
    }
    let r = g.get("/v2/images/not-an-id").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = g
        .client
        .get(format!("http://{bind}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    let samples = parse_metrics(&python, &text);
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        samples
            .iter()
            .filter(|s| s["name"] == name)
            .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().unwrap())
            .sum()
    };
    assert!(
        value(
            "glint_http_requests_total",
            &[("operation", "createImage"), ("status", "2xx")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        value("glint_http_requests_total", &[("status", "4xx")]) >= 1.0,
        "{text}"
    );
    assert!(
        value("glint_http_request_duration_seconds_count", &[]) >= 4.0,
        "{text}"
    );
    assert!(
        value("glint_http_body_bytes_total", &[("direction", "in")]) >= data.len() as f64,
        "{text}"
    );
    assert!(
        value("glint_http_body_bytes_total", &[("direction", "out")]) >= 2.0 * data.len() as f64,
        "{text}"
    );
    assert!(
        value(
            "glint_store_operations_total",
            &[("store", "file"), ("operation", "put"), ("outcome", "ok")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        value(
            "glint_store_operation_duration_seconds_count",
            &[("store", "file")]
        ) >= 1.0,
        "{text}"
    );
    // The first download fills the cache, the second is served from it.
    assert!(
        value("glint_cache_lookups_total", &[("result", "miss")]) >= 1.0,
        "{text}"
    );
    assert!(
        samples
            .iter()
            .any(|s| s["name"] == "glint_cache_size_bytes"),
        "{text}"
    );
    assert!(
        samples.iter().any(|s| s["name"] == "glint_pending_work"),
        "{text}"
    );
    assert!(
        value("glint_db_pool_connections", &[("pool", "writer")]) >= 1.0,
        "{text}"
    );
    // Bounded labels: no image id, no path anywhere.
    assert!(!text.contains(id), "an image id in the labels:\n{text}");
    assert!(!text.contains("/v2/"), "a path in the labels:\n{text}");
}

/// SQLite's group commit: concurrent writes share the flushes of the log
/// that make them durable, and each write answered is in the database.
#[tokio::test]
async fn concurrent_creates_share_log_flushes() {
    let python = prometheus_python();
    let bind = format!("127.0.0.1:{}", free_port());
    let g = std::sync::Arc::new(Glint::start_with(&[("GLINT_METRICS__BIND", bind.as_str())]).await);
    let flushes = || {
        let (g, bind, python) = (g.clone(), bind.clone(), python.clone());
        async move {
            let text = g.metrics_text(&bind).await;
            parse_metrics(&python, &text)
                .iter()
                .filter(|s| s["name"] == "glint_db_wal_flushes_total")
                .map(|s| s["value"].as_f64().unwrap())
                .sum::<f64>()
        }
    };
    let before = flushes().await;
    const CLIENTS: usize = 32;
    const EACH: usize = 8;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let g = g.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..EACH {
                    let image = g
                        .create(serde_json::json!({"name": format!("grouped-{client}-{n}")}))
                        .await;
                    ids.push(image["id"].as_str().unwrap().to_owned());
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    let made = flushes().await - before;
    assert!(made >= 1.0, "no flush of the log counted");
    assert!(
        made < (CLIENTS * EACH) as f64,
        "{made} flushes for {} creates: none shared",
        CLIENTS * EACH
    );
    let listed: Value = g
        .get("/v2/images?limit=1000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: std::collections::HashSet<&str> = listed["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| listed.contains(id.as_str())));
}

/// `glint serve` started by hand (the harness speaks plain HTTP).
struct Served {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn glint_command(dir: &Path) -> Command {
    let mut cmd = Command::new(target_dir().join("glint"));
    cmd.current_dir(dir)
        .env(
            "GLINT_PLUGINS__PATHS",
            format!("[{:?}]", glint_sdk_testkit::cdylib_path("glint-store-file")),
        )
        .env("GLINT_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

fn serve(args: &[&str], env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("glint.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut cmd = glint_command(dir.path());
    cmd.arg("serve").args(["--data-dir", "."]).args(args);
    cmd.envs(env.iter().copied());
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    Served {
        child: cmd.spawn().unwrap(),
        log,
        _dir: dir,
    }
}

/// curl's answer (`-i`: status line and headers, then the body), retried until glint listens.
fn curl(args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new("curl")
            .args(["-sS", "-i", "--max-time", "10"])
            .args(args)
            .output()
            .expect("curl");
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn tls_listener_serves_https_with_https_links() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]));
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let s = serve(
        &["--bind", &bind],
        &[
            ("GLINT_TLS__CERT_FILE", cert.to_str().unwrap()),
            ("GLINT_TLS__KEY_FILE", key.to_str().unwrap()),
        ],
    );
    let url = format!("https://localhost:{port}");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let answer = curl(&[
        "--cacert",
        cert.to_str().unwrap(),
        "--resolve",
        &resolve,
        &format!("{url}/"),
    ]);
    assert!(
        answer.starts_with("HTTP/1.1 300") || answer.starts_with("HTTP/2 300"),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("\"href\": \"{url}/v2/\""))
            || answer.contains(&format!("\"href\":\"{url}/v2/\"")),
        "{answer}"
    );
    let health = curl(&[
        "--cacert",
        cert.to_str().unwrap(),
        "--resolve",
        &resolve,
        &format!("{url}/healthcheck"),
    ]);
    assert!(health.ends_with("OK"), "{health}");
    // Plain HTTP on the TLS port gets no API answer.
    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "5", &format!("http://{bind}/")])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("versions"));
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        log.contains("scheme=\"https\"") || log.contains("https"),
        "{log}"
    );
}

#[tokio::test]
async fn proxy_headers_are_honoured_only_when_enabled() {
    let forwarded = |g: &Glint| {
        g.get("/")
            .header("X-Forwarded-Proto", "https")
            .header("X-Forwarded-Host", "images.example.org")
            .send()
    };
    let g = Glint::start().await;
    let v: Value = forwarded(&g).await.unwrap().json().await.unwrap();
    assert_eq!(
        v["versions"][0]["links"][0]["href"],
        format!("{}/v2/", g.url)
    );

    let g = Glint::start_with(&[("GLINT_ENABLE_PROXY_HEADERS_PARSING", "true")]).await;
    let v: Value = forwarded(&g).await.unwrap().json().await.unwrap();
    assert_eq!(
        v["versions"][0]["links"][0]["href"],
        "https://images.example.org/v2/"
    );
    // The Location of a created image too.
    let r = g
        .post("/v2/images")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "images.example.org")
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://images.example.org/v2/images/"),
        "{location}"
    );
}

#[test]
fn a_taken_port_is_named_and_bind_takes_a_host_name() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = glint_command(dir.path())
        .args(["serve", "--data-dir", ".", "--bind", &addr.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("cannot listen on {addr}")), "{text}");

    let port = free_port();
    let _s = serve(&["--bind", &format!("localhost:{port}")], &[]);
    let answer = curl(&[&format!("http://127.0.0.1:{port}/healthcheck")]);
    assert!(answer.ends_with("OK"), "{answer}");
}
