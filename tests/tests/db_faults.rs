//! Database outages under a steady load of creates, shows and uploads.
//!
//! Expected, on PostgreSQL and MariaDB: while the database server is down every request is
//! answered 503 in Glance's shape with `Retry-After`, within the pool's short wait
//! (`database.acquire_timeout_secs`, 3 s), never held until the pool's old 60 s timeout and never
//! a 500; once the server is back, requests succeed again without a restart of Glint; every image
//! created before is intact; an upload whose final write could not reach the database leaves
//! nothing in the store and its image is `queued` again within seconds of the database's return
//! (the upload keeps trying; crash recovery would take the lease time), never left `saving`.
//! The file store's directory then holds exactly the data of the active images.
//!
//! On SQLite, another process holding the database's write lock only slows writes down: `database
//! is locked` never reaches a client.
//!
//! The servers stopped here are this file's own (own state directories and ports), started with
//! the shared backend scripts; the shared ones on 5432 and 3306 are never touched.

mod backends;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern};
use serde_json::{Value, json};
use tokio::sync::watch;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// What a request may take while the database is down: the pool's wait, three times over for
/// an upload (its final write, putting the image back, giving back its lease), plus slack.
const OUTAGE_ANSWER_BOUND: Duration = Duration::from_secs(12);

/// A database server of this file's own, stopped and started by the drill.
struct PrivateServer {
    script: &'static str,
    env: Vec<(&'static str, String)>,
    /// The file holding the server's process id.
    pid_file: String,
    /// The signal that stops it as an operator's restart does (PostgreSQL's fast shutdown).
    signal: &'static str,
    /// Glint's URL for a database made for this run.
    url: String,
}

impl PrivateServer {
    fn postgres() -> PrivateServer {
        let state = "/tmp/glance-backends/postgres-glint-faults";
        let port = "5442";
        let env = vec![("PG_STATE", state.to_owned()), ("PG_PORT", port.to_owned())];
        let mut server = PrivateServer {
            script: "postgres-up.sh",
            env,
            pid_file: format!("{state}/run/postgres.pid"),
            signal: "-INT",
            url: String::new(),
        };
        server.start();
        let name = database_name();
        let admin = format!("postgresql://glance:glance@127.0.0.1:{port}/glance");
        run(Command::new("psql").args([
            &admin,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ]));
        server.url = format!("postgres://glance:glance@127.0.0.1:{port}/{name}");
        server
    }

    fn mariadb() -> PrivateServer {
        let state = "/tmp/glance-backends/mariadb-glint-faults";
        let port = "3316";
        let env = vec![
            ("MARIADB_STATE", state.to_owned()),
            ("MARIADB_PORT", port.to_owned()),
        ];
        let mut server = PrivateServer {
            script: "mariadb-up.sh",
            env,
            pid_file: format!("{state}/run/mariadbd.pid"),
            signal: "-TERM",
            url: String::new(),
        };
        server.start();
        let name = database_name();
        run(Command::new("mariadb").args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            "-uglance",
            "-pglance",
            "-e",
            &format!("CREATE DATABASE {name}"),
        ]));
        server.url = format!("mysql://glance:glance@127.0.0.1:{port}/{name}");
        server
    }

    /// Starts the server (or finds it running) and waits until it answers.
    fn start(&self) {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        backends::run_script(self.script, &env);
    }
}

/// The log's warnings and errors, to explain a failure.
fn problems(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn database_name() -> String {
    format!(
        "faults_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn run(command: &mut Command) {
    let out = command.output().expect("run a database client");
    assert!(out.status.success(), "{command:?}: {out:?}");
}

/// One answer of the load.
#[derive(Debug, Clone)]
struct Answer {
    op: &'static str,
    started: Instant,
    ended: Instant,
    status: StatusCode,
    retry_after: bool,
    /// The JSON body's `code`, when it is an error in Glance's shape.
    code: Option<String>,
}

/// What the load learnt: its answers, the images it created and those whose upload succeeded.
#[derive(Default)]
struct Record {
    answers: Vec<Answer>,
    created: Vec<String>,
    uploaded: BTreeSet<String>,
}

/// The data every image of the load is given.
fn load_data() -> Vec<u8> {
    pattern(96 * KIB, 141)
}

async fn answer(
    op: &'static str,
    started: Instant,
    request: reqwest::RequestBuilder,
) -> (Answer, Value) {
    let (status, retry_after, text) =
        match request.header("accept", "application/json").send().await {
            Ok(r) => {
                let status = r.status();
                let retry_after = r.headers().contains_key("retry-after");
                (status, retry_after, r.text().await.unwrap_or_default())
            }
            // Reported as a status the drill never accepts.
            Err(e) => (StatusCode::IM_A_TEAPOT, false, e.to_string()),
        };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let code = body["code"].as_str().map(str::to_owned);
    let answer = Answer {
        op,
        started,
        ended: Instant::now(),
        status,
        retry_after,
        code,
    };
    (answer, body)
}

/// One client of the steady load: create, upload, show, again and again until `stop`.
async fn client(glint: Arc<Glint>, record: Arc<Mutex<Record>>, stop: watch::Receiver<bool>) {
    let data = load_data();
    while !*stop.borrow() {
        let started = Instant::now();
        let (a, body) = answer(
            "create",
            started,
            glint
                .post("/v2/images")
                .json(&json!({"disk_format": "raw", "container_format": "bare"})),
        )
        .await;
        let created = a.status == StatusCode::CREATED;
        record.lock().unwrap().answers.push(a);
        if created {
            let id = body["id"].as_str().unwrap().to_owned();
            record.lock().unwrap().created.push(id.clone());
            let started = Instant::now();
            let (a, _) = answer(
                "upload",
                started,
                glint
                    .put(&format!("/v2/images/{id}/file"))
                    .header("content-type", "application/octet-stream")
                    .body(data.clone()),
            )
            .await;
            let mut r = record.lock().unwrap();
            if a.status == StatusCode::NO_CONTENT {
                r.uploaded.insert(id.clone());
            }
            r.answers.push(a);
        }
        let some = record.lock().unwrap().created.first().cloned();
        if let Some(id) = some {
            let started = Instant::now();
            let (a, _) = answer("show", started, glint.get(&format!("/v2/images/{id}"))).await;
            record.lock().unwrap().answers.push(a);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `data` as a body that stops after `gate` bytes until `go` turns true.
fn held_body(data: Vec<u8>, gate: usize, go: watch::Receiver<bool>) -> reqwest::Body {
    let data = Bytes::from(data);
    let stream = futures::stream::unfold((0usize, go), move |(sent, mut go)| {
        let data = data.clone();
        async move {
            if sent >= data.len() {
                return None;
            }
            if sent >= gate {
                // Ignored failure: a dropped sender means the test is over anyway.
                let _ = go.wait_for(|go| *go).await;
            }
            let end = (sent + 64 * KIB).min(data.len());
            Some((Ok::<_, std::io::Error>(data.slice(sent..end)), (end, go)))
        }
    });
    reqwest::Body::wrap_stream(stream)
}

/// Waits up to `within` for the first answer that `matches`, ended after `after`.
async fn first_answer(
    record: &Mutex<Record>,
    after: Instant,
    within: Duration,
    matches: impl Fn(&Answer) -> bool,
) -> Option<Answer> {
    let deadline = Instant::now() + within;
    loop {
        let found = record
            .lock()
            .unwrap()
            .answers
            .iter()
            .filter(|a| a.ended > after && matches(a))
            .min_by_key(|a| a.ended)
            .cloned();
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The drill on a database server: load, outage, recovery, then the baseline checks.
async fn outage_drill(server: PrivateServer, name: &str) {
    let drill_started = Instant::now();
    let glint = Arc::new(
        Glint::start_with(&[
            ("GLINT_DATABASE__URL", server.url.as_str()),
            ("GLINT_CACHE__ENABLED", "false"),
            // The default lease (60 s) and recovery interval (30 s): the interrupted upload
            // must put its image back to `queued` by itself once the database is back, well
            // before crash recovery would.
        ])
        .await,
    );

    // Images committed before the outage, with data.
    let data = load_data();
    let mut before = Vec::new();
    for n in 0..3 {
        let img = glint.create_with_data(&format!("before-{n}"), &data).await;
        before.push(img);
    }

    let record = Arc::new(Mutex::new(Record::default()));
    let (stop_tx, stop) = watch::channel(false);
    let clients: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(client(
                Arc::clone(&glint),
                Arc::clone(&record),
                stop.clone(),
            ))
        })
        .collect();

    // An upload in flight when the database goes down.
    let held = glint
        .create(json!({"name": "in-flight", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let held_id = held["id"].as_str().unwrap().to_owned();
    let (go, gate) = watch::channel(false);
    let request = glint
        .put(&format!("/v2/images/{held_id}/file"))
        .header("content-type", "application/octet-stream")
        .header("accept", "application/json")
        .body(held_body(pattern(3 * MIB, 142), MIB + MIB / 2, gate))
        .send();
    let running = tokio::spawn(request);
    let deadline = Instant::now() + Duration::from_secs(20);
    while glint.show(&held_id).await["status"] != "saving" {
        assert!(Instant::now() < deadline, "the held upload never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = record.lock().unwrap().answers.len();
    assert!(baseline > 0, "no load before the outage");

    // The fault.
    let fault = Instant::now();
    let (pid_file, signal) = (server.pid_file.clone(), server.signal);
    tokio::task::spawn_blocking(move || backends::stop_pid_file(&pid_file, signal))
        .await
        .unwrap();
    let down = Instant::now();
    let first_503 = first_answer(&record, fault, Duration::from_secs(15), |a| {
        a.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await
    .expect("no 503 while the database is down");
    // The held upload ends now, while the database is still down: its final write fails.
    go.send(true).unwrap();
    let held_answer = running
        .await
        .unwrap()
        .expect("an answer to the held upload");
    let held_status = held_answer.status();
    let held_retry = held_answer.headers().contains_key("retry-after");
    let held_body_text = held_answer.text().await.unwrap();
    // Keep the outage a little longer, to see that every answer during it is a quick 503.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let restart = Instant::now();
    tokio::task::spawn_blocking({
        let script = server.script;
        let env = server.env.clone();
        move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            backends::run_script(script, &env);
        }
    })
    .await
    .unwrap();
    let ready = Instant::now();
    let first_success = first_answer(&record, ready, Duration::from_secs(20), |a| {
        a.status.is_success() && a.started >= ready
    })
    .await
    .expect("no success after the database came back");
    let requeued = loop {
        let status = glint.show(&held_id).await["status"].clone();
        if status != "saving" || ready.elapsed() > Duration::from_secs(20) {
            break ready.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_tx.send(true).unwrap();
    for c in clients {
        c.await.unwrap();
    }

    let to_503 = first_503.ended - fault;
    let to_success = first_success.ended - restart;
    eprintln!(
        "{name}: fault to first 503: {to_503:.2?} (server gone after {:.2?}); restart to first \
         success: {to_success:.2?} (server ready after {:.2?}, success {:.2?} later)",
        down - fault,
        ready - restart,
        first_success.ended - ready,
    );

    // The one form every outage drill prints (recovery: the database answers again).
    eprintln!(
        "{name}: fault→first 503: {:.2} s, recovery→first success: {:.2} s",
        to_503.as_secs_f64(),
        (first_success.ended - ready).as_secs_f64()
    );
    eprintln!(
        "{name}: the interrupted upload's image left `saving` {requeued:.2?} after the database was ready"
    );
    assert!(
        requeued < Duration::from_secs(5),
        "the interrupted upload's image stayed saving for {requeued:?}"
    );

    // Requests during the outage: 503 in Glance's shape, with Retry-After, answered quickly.
    assert_eq!(
        held_status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{held_body_text}"
    );
    assert!(held_retry, "the held upload's 503 has no Retry-After");
    assert!(
        to_503 < Duration::from_secs(5),
        "first 503 after {to_503:?}"
    );
    assert!(
        first_success.ended - ready < Duration::from_secs(5),
        "first success {:?} after the database was ready",
        first_success.ended - ready
    );
    let answers = record.lock().unwrap().answers.clone();
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started > down && a.ended < restart)
        .collect();
    assert!(!during.is_empty(), "no request during the outage");
    for a in &answers {
        assert!(
            a.status.is_success() || a.status == StatusCode::SERVICE_UNAVAILABLE,
            "{a:?}\n{}",
            problems(&glint.log())
        );
        if a.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(a.retry_after, "{a:?}");
            assert_eq!(a.code.as_deref(), Some("503 Service Unavailable"), "{a:?}");
        }
        assert!(a.ended - a.started < OUTAGE_ANSWER_BOUND, "{a:?}");
    }
    for a in &during {
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
    }
    let after: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started > first_success.ended)
        .collect();
    assert!(!after.is_empty());
    for a in &after {
        assert!(a.status.is_success(), "after recovery: {a:?}");
    }
    let ops: BTreeSet<&str> = during.iter().map(|a| a.op).collect();
    eprintln!(
        "{name}: {} answers, {} during the outage ({ops:?}), {} after recovery",
        answers.len(),
        during.len(),
        after.len()
    );

    // The baseline: nothing lost, nothing `saving`, no orphan data.
    let (created, uploaded) = {
        let r = record.lock().unwrap();
        (r.created.clone(), r.uploaded.clone())
    };
    for img in &before {
        let id = img["id"].as_str().unwrap();
        let now = glint.show(id).await;
        assert_eq!(now["status"], "active", "{now}");
        assert_eq!(now["checksum"], img["checksum"]);
        let r = glint
            .get(&format!("/v2/images/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap() == data);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let all: Vec<String> = created
        .iter()
        .cloned()
        .chain(std::iter::once(held_id.clone()))
        .collect();
    let mut active = BTreeSet::new();
    for id in &all {
        let img = loop {
            let img = glint.show(id).await;
            if img["status"] != "saving" || Instant::now() > deadline {
                break img;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        match img["status"].as_str().unwrap() {
            "active" => {
                // Data committed is readable, whether or not its answer reached the client.
                assert_eq!(img["checksum"], md5_hex(&data), "{img}");
                active.insert(id.clone());
            }
            "queued" => {
                assert!(
                    !uploaded.contains(id),
                    "an uploaded image went back to queued: {img}"
                );
                assert_eq!(img["size"], Value::Null, "{img}");
            }
            other => panic!("image left {other}: {img}"),
        }
    }
    for id in &uploaded {
        assert!(
            active.contains(id),
            "image {id} answered 204 but is not active"
        );
    }
    assert!(
        !active.contains(&held_id),
        "the interrupted upload is active"
    );
    for img in &before {
        active.insert(img["id"].as_str().unwrap().to_owned());
    }
    let r = glint
        .get("/v2/images?status=saving")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(r["images"], json!([]), "images left saving");
    let stored: BTreeSet<String> = glint.stored_files().into_iter().collect();
    assert_eq!(
        stored, active,
        "the file store holds other data than the active images'"
    );
    eprintln!(
        "{name}: {} images created under load, {} uploaded; drill took {:.1?}; {} upload commits went unanswered and were read back",
        created.len(),
        uploaded.len(),
        drill_started.elapsed(),
        glint
            .log()
            .matches("the upload's commit went unanswered")
            .count()
    );
}

#[tokio::test]
async fn postgres_restart_under_load_answers_503_then_recovers_without_losing_images() {
    let server = tokio::task::spawn_blocking(PrivateServer::postgres)
        .await
        .unwrap();
    outage_drill(server, "postgres").await;
}

#[tokio::test]
async fn mariadb_restart_under_load_answers_503_then_recovers_without_losing_images() {
    let server = tokio::task::spawn_blocking(PrivateServer::mariadb)
        .await
        .unwrap();
    outage_drill(server, "mariadb").await;
}

/// Another process takes SQLite's write lock for 3 s while the load creates images: writes
/// wait for it (the busy timeout) and succeed; none is refused.
#[tokio::test]
async fn sqlite_locked_by_another_process_only_delays_writes() {
    let glint = Glint::start().await;
    let db = glint.data_dir.path().join("glint.db");
    let started = Instant::now();
    let mut locker = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(3)\n\
             c.execute('COMMIT')\n",
            db.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the process that locks the database");
    // Wait until the lock is taken.
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(locker.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
    }
    let locked = Instant::now();
    let mut answers = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (url, client) = (glint.url("/v2/images"), glint.client.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("accept", "application/json")
                .json(&json!({"name": format!("waiter-{n}"), "disk_format": "raw", "container_format": "bare"}))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap(), Instant::now())
        }));
    }
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(locker.wait().unwrap().success());
    for (status, body, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert!(!body.contains("locked"), "{body}");
    }
    let slowest = answers.iter().map(|(_, _, at)| *at - locked).max().unwrap();
    eprintln!(
        "sqlite: 8 creates under another process's 3 s write lock all succeeded; the slowest \
         answered after {slowest:.2?}; drill took {:.1?}",
        started.elapsed()
    );
    assert!(
        slowest >= Duration::from_secs(2),
        "the lock did not hold the writes: {slowest:?}"
    );
    assert!(!glint.log().contains("database is locked"));
}
