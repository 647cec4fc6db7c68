//! Notifications through a real RabbitMQ to a real oslo.messaging listener
//! (`tests/notifications/listener.py`, oslo.messaging from PyPI in a venv
//! made once per target dir): every event of an image's life arrives, in
//! Glance's message format; a broker that stops neither fails nor slows
//! requests, and what happened meanwhile arrives once it is back.
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (guest/guest) and `rabbitmqctl`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, python_venv, target_dir};
use serde_json::{Value, json};

const BROKER: &str = "rabbit://guest:guest@127.0.0.1:5672/";

/// The tests share one broker and one of them stops it: one at a time.
static BROKER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A virtualenv with oslo.messaging from PyPI.
fn python() -> PathBuf {
    python_venv("pyvenv-oslo-messaging", "oslo.messaging").join("bin/python")
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

fn rabbitmqctl(args: &[&str]) {
    run(Command::new("rabbitmqctl")
        .args(["--timeout", "60"])
        .args(args));
}

/// The oslo.messaging listener on an exchange and topic of this test's own,
/// writing what it receives to a file; stopped and its queues removed on drop.
struct Listener {
    child: Child,
    out: PathBuf,
    topic: String,
    _dir: tempfile::TempDir,
}

impl Listener {
    async fn start(exchange: &str, topic: &str) -> Listener {
        let python = tokio::task::spawn_blocking(python).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let err = dir.path().join("listener.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("notifications/listener.py");
        let child = Command::new(python)
            .arg(script)
            .args([BROKER, exchange, topic])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("start the listener");
        let listener = Listener {
            child,
            out,
            topic: topic.to_owned(),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&err)
            .unwrap_or_default()
            .contains("listening")
        {
            assert!(
                Instant::now() < deadline,
                "the listener did not start:\n{}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        listener
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Waits until every `(event_type, id)` wanted has arrived (the id is
    /// matched against the payload's `id` or `image_id`, or `namespace`) and
    /// returns all received so far.
    async fn wait_for(&self, wanted: &[(&str, &str)]) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let got = self.received();
            let missing: Vec<_> = wanted
                .iter()
                .filter(|(event, id)| find(&got, event, id).is_none())
                .collect();
            if missing.is_empty() {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "not received: {missing:?}\nreceived: {:#?}",
                got.iter().map(|m| &m["event_type"]).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for priority in ["info", "warn", "error"] {
            let queue = format!("{}.{priority}", self.topic);
            let _ = Command::new("rabbitmqctl")
                .args(["delete_queue", &queue])
                .output();
        }
    }
}

/// Starts the broker's app again however the test ends.
struct RestartOnDrop;

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").output();
    }
}

fn find<'a>(got: &'a [Value], event: &str, id: &str) -> Option<&'a Value> {
    got.iter().find(|m| {
        let p = &m["payload"];
        m["event_type"] == event
            && [&p["id"], &p["image_id"], &p["namespace"]]
                .iter()
                .any(|v| v.as_str() == Some(id))
    })
}

fn one<'a>(got: &'a [Value], event: &str, id: &str) -> &'a Value {
    find(got, event, id).unwrap_or_else(|| panic!("no {event} for {id}"))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// Glance's image payload (`format_image_notification`).
const IMAGE_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "min_disk",
    "min_ram",
    "protected",
    "checksum",
    "owner",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "is_public",
    "visibility",
    "properties",
    "tags",
    "deleted",
    "deleted_at",
];

async fn start_glint(exchange: &str, topic: &str) -> Glint {
    Glint::start_with(&[
        ("GLINT_NOTIFICATIONS__TRANSPORT_URL", BROKER),
        ("GLINT_NOTIFICATIONS__CONTROL_EXCHANGE", exchange),
        ("GLINT_NOTIFICATIONS__TOPICS", &format!("[{topic:?}]")),
    ])
    .await
}

fn names() -> (String, String) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    (format!("glint-test-{run}"), format!("glint_test_{run}"))
}

async fn send(req: reqwest::RequestBuilder) -> StatusCode {
    req.send().await.expect("request").status()
}

async fn upload(g: &Glint, id: &str, path: &str, data: &[u8]) {
    let status = send(
        g.put(&format!("/v2/images/{id}/{path}"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "PUT {path}");
}

async fn wait_active(g: &Glint, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while g.show(id).await["status"] != "active" {
        assert!(Instant::now() < deadline, "{id} never became active");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_flow_arrives_in_glance_format() {
    let _broker = BROKER_LOCK.lock().await;
    let (exchange, topic) = names();
    let listener = Listener::start(&exchange, &topic).await;
    let g = start_glint(&exchange, &topic).await;

    // Create, update, upload, download.
    let img = g
        .create(
            json!({"name": "n1", "disk_format": "raw", "container_format": "bare",
                       "visibility": "shared", "tags": ["t1"]}),
        )
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    let patched = send(g.patch(
        &format!("/v2/images/{id}"),
        json!([{"op": "add", "path": "/purpose", "value": "notify"}]),
    ))
    .await;
    assert_eq!(patched, StatusCode::OK);
    let data = pattern(100_000, 3);
    upload(&g, &id, "file", &data).await;
    let got = g
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().len(), data.len());

    // Members.
    let added = send(
        g.post(&format!("/v2/images/{id}/members"))
            .json(&json!({"member": "project-b"})),
    )
    .await;
    assert_eq!(added, StatusCode::OK);
    let accepted = send(
        g.put(&format!("/v2/images/{id}/members/project-b"))
            .json(&json!({"status": "accepted"})),
    )
    .await;
    assert_eq!(accepted, StatusCode::OK);

    // Import by glance-direct.
    let imported = g
        .create(json!({"name": "n2", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id2 = imported["id"].as_str().unwrap().to_owned();
    let data2 = pattern(50_000, 4);
    upload(&g, &id2, "stage", &data2).await;
    let started = send(
        g.post(&format!("/v2/images/{id2}/import"))
            .json(&json!({"method": {"name": "glance-direct"}})),
    )
    .await;
    assert_eq!(started, StatusCode::ACCEPTED);
    wait_active(&g, &id2).await;

    // Delete; a metadef namespace made and deleted.
    assert_eq!(
        send(g.delete(&format!("/v2/images/{id}"))).await,
        StatusCode::NO_CONTENT
    );
    let ns = format!("OS::Glint::{topic}");
    let made = send(
        g.post("/v2/metadefs/namespaces")
            .json(&json!({"namespace": ns, "display_name": "Notify", "description": "d"})),
    )
    .await;
    assert_eq!(made, StatusCode::CREATED);
    let gone = send(g.delete(&format!("/v2/metadefs/namespaces/{ns}"))).await;
    assert_eq!(gone, StatusCode::NO_CONTENT);

    let tasks: Value = g
        .get(&format!("/v2/images/{id2}/tasks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = tasks["tasks"][0]["id"].as_str().unwrap().to_owned();

    let got = listener
        .wait_for(&[
            ("image.create", &id),
            ("image.update", &id),
            ("image.prepare", &id),
            ("image.upload", &id),
            ("image.activate", &id),
            ("image.send", &id),
            ("image.member.create", &id),
            ("image.member.update", &id),
            ("image.delete", &id),
            ("image.create", &id2),
            ("task.create", &task_id),
            ("task.processing", &task_id),
            ("image.prepare", &id2),
            ("image.upload", &id2),
            ("image.activate", &id2),
            ("task.success", &task_id),
            ("task.run", &task_id),
            ("metadef_namespace.create", &ns),
            ("metadef_namespace.delete", &ns),
        ])
        .await;

    // The envelope, as oslo.messaging decoded it.
    for m in &got {
        assert_eq!(m["publisher_id"], "image.localhost", "{m}");
        assert_eq!(m["priority"], "INFO", "{m}");
        // Glance sends an empty context; oslo.messaging's unpacking adds only
        // its own `client_timeout`.
        assert!(
            keys(&m["ctxt"]).iter().all(|k| *k == "client_timeout"),
            "{m}"
        );
        assert_eq!(
            keys(&m["metadata"]),
            set(&["message_id", "timestamp"]),
            "{m}"
        );
        let message_id = m["metadata"]["message_id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(message_id).is_ok(), "{m}");
        // Python's str() of a UTC datetime: `2026-12-06 22:30:25.123456`.
        let ts = m["metadata"]["timestamp"].as_str().unwrap();
        assert!(
            ts.len() >= 19 && &ts[10..11] == " " && !ts.ends_with('Z'),
            "{ts}"
        );
    }

    // Image payloads.
    let created = &one(&got, "image.create", &id)["payload"];
    assert_eq!(keys(created), set(IMAGE_KEYS));
    assert_eq!(created["name"], "n1");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["visibility"], "shared");
    assert_eq!(created["is_public"], false);
    assert_eq!(created["tags"], json!(["t1"]));
    assert_eq!(created["deleted"], false);
    assert_eq!(created["deleted_at"], Value::Null);
    let at = created["created_at"].as_str().unwrap();
    assert!(
        at.len() == 20 && at.ends_with('Z') && &at[10..11] == "T",
        "{at}"
    );

    let updated = &one(&got, "image.update", &id)["payload"];
    assert_eq!(updated["properties"]["purpose"], "notify");

    let upload_keys = [
        IMAGE_KEYS,
        &["os_glance_importing_to_stores", "os_glance_failed_import"],
    ]
    .concat();
    let prepare_keys = [
        IMAGE_KEYS,
        &[
            "os_glance_importing_to_stores",
            "os_glance_failed_import",
            "backend",
        ],
    ]
    .concat();
    let prepared = &one(&got, "image.prepare", &id)["payload"];
    assert_eq!(keys(prepared), set(&prepare_keys));
    assert_eq!(prepared["status"], "saving");
    assert!(prepared["backend"].is_string(), "{prepared}");
    let uploaded = &one(&got, "image.upload", &id)["payload"];
    assert_eq!(keys(uploaded), set(&upload_keys));
    assert_eq!(uploaded["status"], "active");
    assert_eq!(uploaded["size"], data.len());
    assert_eq!(uploaded["checksum"], md5_hex(&data));
    assert_eq!(uploaded["os_glance_importing_to_stores"], json!([]));
    assert_eq!(
        one(&got, "image.activate", &id)["payload"]["status"],
        "active"
    );
    let order: Vec<_> = got
        .iter()
        .filter(|m| m["payload"]["id"] == id.as_str())
        .map(|m| m["event_type"].as_str().unwrap())
        .collect();
    let pos = |e: &str| order.iter().position(|x| *x == e).unwrap();
    assert!(pos("image.create") < pos("image.prepare"), "{order:?}");
    assert!(pos("image.prepare") < pos("image.upload"), "{order:?}");
    assert!(pos("image.upload") < pos("image.activate"), "{order:?}");

    let sent = &one(&got, "image.send", &id)["payload"];
    assert_eq!(
        keys(sent),
        set(&[
            "bytes_sent",
            "image_id",
            "owner_id",
            "receiver_tenant_id",
            "receiver_user_id"
        ])
    );
    assert_eq!(sent["bytes_sent"], data.len());

    let member = &one(&got, "image.member.create", &id)["payload"];
    assert_eq!(
        keys(member),
        set(&[
            "image_id",
            "member_id",
            "status",
            "created_at",
            "updated_at",
            "deleted",
            "deleted_at"
        ])
    );
    assert_eq!(member["member_id"], "project-b");
    assert_eq!(member["status"], "pending");
    assert_eq!(
        one(&got, "image.member.update", &id)["payload"]["status"],
        "accepted"
    );

    let deleted = &one(&got, "image.delete", &id)["payload"];
    assert_eq!(keys(deleted), set(IMAGE_KEYS));
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["status"], "deleted");
    assert!(deleted["deleted_at"].as_str().unwrap().ends_with('Z'));

    // The import: a task's life, and the data's steps with the target store.
    let task = &one(&got, "task.create", &task_id)["payload"];
    assert_eq!(
        keys(task),
        set(&[
            "id",
            "type",
            "status",
            "result",
            "owner",
            "message",
            "expires_at",
            "created_at",
            "updated_at",
            "deleted",
            "deleted_at"
        ])
    );
    assert_eq!(task["type"], "api_image_import");
    assert_eq!(task["status"], "pending");
    assert_eq!(
        one(&got, "task.processing", &task_id)["payload"]["status"],
        "processing"
    );
    assert_eq!(
        one(&got, "task.success", &task_id)["payload"]["status"],
        "success"
    );
    // Glance sends task.run once its executor returns, with the task as it was created.
    let run = &one(&got, "task.run", &task_id)["payload"];
    assert_eq!(keys(run), keys(task));
    assert_eq!(run["status"], "pending");
    let task_events: Vec<_> = got
        .iter()
        .filter(|m| m["payload"]["id"] == task_id.as_str())
        .map(|m| m["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        task_events,
        ["task.create", "task.processing", "task.success", "task.run"]
    );
    let imported = &one(&got, "image.upload", &id2)["payload"];
    assert_eq!(imported["status"], "active");
    assert_eq!(imported["size"], data2.len());
    assert_eq!(keys(imported), set(&upload_keys));
    let prepared = &one(&got, "image.prepare", &id2)["payload"];
    assert_eq!(prepared["backend"], "file", "{prepared}");

    let ns_made = &one(&got, "metadef_namespace.create", &ns)["payload"];
    assert_eq!(
        keys(ns_made),
        set(&[
            "namespace",
            "namespace_old",
            "display_name",
            "protected",
            "visibility",
            "owner",
            "description",
            "created_at",
            "updated_at",
            "deleted",
            "deleted_at"
        ])
    );
    assert_eq!(ns_made["display_name"], "Notify");
    assert_eq!(
        one(&got, "metadef_namespace.delete", &ns)["payload"]["deleted"],
        true
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_broker_neither_fails_nor_slows_requests_and_loses_nothing() {
    let _broker = BROKER_LOCK.lock().await;
    let (exchange, topic) = names();
    let listener = Listener::start(&exchange, &topic).await;
    let g = start_glint(&exchange, &topic).await;
    let before = g.create(json!({"name": "before"})).await;
    let before = before["id"].as_str().unwrap().to_owned();
    listener.wait_for(&[("image.create", &before)]).await;

    let restart = RestartOnDrop;
    tokio::task::block_in_place(|| rabbitmqctl(&["stop_app"]));
    let mut during = Vec::new();
    for n in 0..5 {
        let started = Instant::now();
        let img = g.create(json!({"name": format!("during-{n}")})).await;
        let id = img["id"].as_str().unwrap().to_owned();
        let patched = send(g.patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "replace", "path": "/name", "value": format!("renamed-{n}")}]),
        ))
        .await;
        assert_eq!(patched, StatusCode::OK);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "two requests took {took:?} with the broker down"
        );
        during.push(id);
    }
    tokio::task::block_in_place(|| rabbitmqctl(&["start_app"]));
    drop(restart);

    let wanted: Vec<(&str, &str)> = during
        .iter()
        .flat_map(|id| [("image.create", id.as_str()), ("image.update", id.as_str())])
        .collect();
    let got = listener.wait_for(&wanted).await;
    for (n, id) in during.iter().enumerate() {
        assert_eq!(
            one(&got, "image.update", id)["payload"]["name"],
            format!("renamed-{n}")
        );
    }
    // Written in order, delivered in order.
    let creates: Vec<_> = got
        .iter()
        .filter(|m| m["event_type"] == "image.create")
        .map(|m| m["payload"]["id"].as_str().unwrap().to_owned())
        .collect();
    let tail: Vec<_> = creates
        .iter()
        .filter(|id| during.contains(id))
        .cloned()
        .collect();
    assert_eq!(tail, during);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_in_the_outbox_when_the_request_returns_with_no_broker() {
    // Nothing listens on this port: the broker is down for the whole test.
    let broker = format!(
        "rabbit://guest:guest@127.0.0.1:{}/",
        glint_blackbox::free_port()
    );
    let g = Glint::start_with(&[("GLINT_NOTIFICATIONS__TRANSPORT_URL", &broker)]).await;
    let events = |got: &[Value], id: &str| -> Vec<String> {
        got.iter()
            .filter(|m| m["payload"]["id"] == id)
            .map(|m| m["event_type"].as_str().unwrap().to_owned())
            .collect()
    };

    let img = g.create(json!({"name": "kept"})).await;
    let id = img["id"].as_str().unwrap().to_owned();
    assert_eq!(events(&g.outbox().await, &id), ["image.create"]);

    let patched = send(g.patch(
        &format!("/v2/images/{id}"),
        json!([{"op": "replace", "path": "/name", "value": "renamed"}]),
    ))
    .await;
    assert_eq!(patched, StatusCode::OK);
    let got = g.outbox().await;
    assert_eq!(events(&got, &id), ["image.create", "image.update"]);
    assert_eq!(got.last().unwrap()["payload"]["name"], "renamed");

    // A refused change writes nothing.
    let refused = send(g.patch(
        &format!("/v2/images/{id}"),
        json!([{"op": "replace", "path": "/status", "value": "active"}]),
    ))
    .await;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    assert_eq!(events(&g.outbox().await, &id).len(), 2);

    // Tags change the image: Glance saves it, an image.update with its tags.
    let put = send(g.put(&format!("/v2/images/{id}/tags/blue"))).await;
    assert_eq!(put, StatusCode::NO_CONTENT);
    let got = g.outbox().await;
    let tagged = got.last().unwrap();
    assert_eq!(tagged["event_type"], "image.update");
    assert_eq!(tagged["payload"]["tags"], json!(["blue"]));
    let stored = g.show(&id).await;
    assert_eq!(
        tagged["payload"]["updated_at"], stored["updated_at"],
        "the event carries the time the tag was saved"
    );
    let missing = send(g.delete(&format!("/v2/images/{id}/tags/red"))).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    let removed = send(g.delete(&format!("/v2/images/{id}/tags/blue"))).await;
    assert_eq!(removed, StatusCode::NO_CONTENT);
    let got = g.outbox().await;
    assert_eq!(
        events(&got, &id),
        [
            "image.create",
            "image.update",
            "image.update",
            "image.update"
        ]
    );
    assert_eq!(got.last().unwrap()["payload"]["tags"], json!([]));
}

/// Glance's payload of a metadef object, property, tag and resource-type association.
const OBJECT_KEYS: &[&str] = &[
    "namespace",
    "name",
    "name_old",
    "properties",
    "required",
    "description",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
];
const PROPERTY_SCHEMA_KEYS: &[&str] = &[
    "type",
    "title",
    "description",
    "default",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "confidential",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
];
const TAG_KEYS: &[&str] = &[
    "namespace",
    "name",
    "name_old",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
];
const ASSOCIATION_KEYS: &[&str] = &[
    "namespace",
    "name",
    "name_old",
    "prefix",
    "properties_target",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
];

/// All the events of one type about namespace `ns`, in the order received.
fn all<'a>(got: &'a [Value], event: &str, ns: &str) -> Vec<&'a Value> {
    got.iter()
        .filter(|m| m["event_type"] == event && m["payload"]["namespace"] == ns)
        .map(|m| &m["payload"])
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metadef_events_arrive_in_glance_format() {
    let _broker = BROKER_LOCK.lock().await;
    let (exchange, topic) = names();
    let listener = Listener::start(&exchange, &topic).await;
    let g = start_glint(&exchange, &topic).await;
    let ns = format!("OS::Glint::{topic}");
    let base = format!("/v2/metadefs/namespaces/{ns}");
    let ok = |status: StatusCode, what: &str| assert!(status.is_success(), "{what}: {status}");

    // A namespace with everything embedded.
    ok(
        send(g.post("/v2/metadefs/namespaces").json(&json!({
            "namespace": ns,
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
            "objects": [{"name": "o1", "required": ["p"],
                         "properties": {"p": {"type": "integer", "minimum": 0, "title": "P"}}}],
            "properties": {"speed": {"type": "string", "title": "Speed", "enum": ["a", "b"]}},
            "tags": [{"name": "t1"}],
        })))
        .await,
        "create",
    );
    // Each kind created, renamed and deleted on its own.
    ok(
        send(
            g.post(&format!("{base}/objects"))
                .json(&json!({"name": "o2"})),
        )
        .await,
        "object",
    );
    ok(
        send(
            g.put(&format!("{base}/objects/o2"))
                .json(&json!({"name": "o3"})),
        )
        .await,
        "object rename",
    );
    ok(
        send(g.delete(&format!("{base}/objects/o3"))).await,
        "object delete",
    );
    ok(
        send(g.post(&format!("{base}/properties")).json(&json!({
            "name": "size", "title": "Size", "type": "integer"
        })))
        .await,
        "property",
    );
    ok(
        send(g.put(&format!("{base}/properties/size")).json(&json!({
            "name": "bulk", "title": "Size", "type": "integer"
        })))
        .await,
        "property rename",
    );
    ok(
        send(g.delete(&format!("{base}/properties/bulk"))).await,
        "property delete",
    );
    ok(send(g.post(&format!("{base}/tags/t2"))).await, "tag");
    ok(
        send(
            g.put(&format!("{base}/tags/t2"))
                .json(&json!({"name": "t3"})),
        )
        .await,
        "tag rename",
    );
    ok(
        send(g.delete(&format!("{base}/tags/t3"))).await,
        "tag delete",
    );
    ok(
        send(
            g.post(&format!("{base}/tags"))
                .header("X-Openstack-Append", "True")
                .json(&json!({"tags": [{"name": "t4"}, {"name": "t5"}]})),
        )
        .await,
        "tags",
    );
    ok(
        send(
            g.post(&format!("{base}/resource_types"))
                .json(&json!({"name": "OS::Nova::Flavor", "properties_target": "x"})),
        )
        .await,
        "association",
    );
    ok(
        send(g.delete(&format!("{base}/resource_types/OS::Nova::Flavor"))).await,
        "dissociation",
    );
    ok(
        send(
            g.put(&base)
                .json(&json!({"namespace": ns, "display_name": "Renamed"})),
        )
        .await,
        "namespace update",
    );
    ok(send(g.delete(&format!("{base}/objects"))).await, "objects");
    ok(
        send(g.delete(&format!("{base}/properties"))).await,
        "properties",
    );
    ok(send(g.delete(&format!("{base}/tags"))).await, "tags");
    ok(send(g.delete(&base)).await, "namespace delete");

    let got = listener
        .wait_for(&[
            ("metadef_namespace.create", &ns),
            ("metadef_resource_type.create", &ns),
            ("metadef_object.create", &ns),
            ("metadef_object.update", &ns),
            ("metadef_object.delete", &ns),
            ("metadef_property.create", &ns),
            ("metadef_property.update", &ns),
            ("metadef_property.delete", &ns),
            ("metadef_tag.create", &ns),
            ("metadef_tag.update", &ns),
            ("metadef_tag.delete", &ns),
            ("metadef_resource_type.delete", &ns),
            ("metadef_namespace.update", &ns),
            ("metadef_namespace.delete_objects", &ns),
            ("metadef_namespace.delete_properties", &ns),
            ("metadef_namespace.delete_tags", &ns),
            ("metadef_namespace.delete", &ns),
        ])
        .await;
    let ours: Vec<&str> = got
        .iter()
        .filter(|m| m["payload"]["namespace"] == ns.as_str())
        .map(|m| m["event_type"].as_str().unwrap())
        .collect();
    // The creation's events in Glance's order: the namespace, then associations, objects, tags
    // and properties.
    assert_eq!(
        ours[..5],
        [
            "metadef_namespace.create",
            "metadef_resource_type.create",
            "metadef_object.create",
            "metadef_tag.create",
            "metadef_property.create",
        ],
        "{ours:?}"
    );
    assert_eq!(ours.last(), Some(&"metadef_namespace.delete"), "{ours:?}");

    let associated = all(&got, "metadef_resource_type.create", &ns);
    assert_eq!(keys(associated[0]), set(ASSOCIATION_KEYS));
    assert_eq!(associated[0]["name"], "OS::Glance::Image");
    assert_eq!(associated[0]["prefix"], "hw_");
    assert_eq!(associated[1]["name"], "OS::Nova::Flavor");
    let dissociated = all(&got, "metadef_resource_type.delete", &ns);
    assert_eq!(dissociated[0]["name"], "OS::Nova::Flavor");
    assert_eq!(dissociated[0]["properties_target"], "x");
    assert_eq!(dissociated[0]["deleted"], true);

    let objects = all(&got, "metadef_object.create", &ns);
    assert_eq!(keys(objects[0]), set(OBJECT_KEYS));
    assert_eq!(objects[0]["required"], json!(["p"]));
    // An object's properties as a list; false values (the minimum of 0) read as missing.
    let p = &objects[0]["properties"][0];
    assert_eq!(
        keys(p),
        set(&[&["name"][..], PROPERTY_SCHEMA_KEYS].concat())
    );
    assert_eq!(p["name"], "p");
    assert_eq!(p["type"], "integer");
    assert_eq!(p["title"], "P");
    assert_eq!(p["minimum"], Value::Null);
    assert_eq!(objects[1]["name"], "o2");
    assert_eq!(objects[1]["properties"], json!([]));
    let renamed = &all(&got, "metadef_object.update", &ns)[0];
    assert_eq!(
        (&renamed["name"], &renamed["name_old"]),
        (&json!("o3"), &json!("o2"))
    );
    let deleted = &all(&got, "metadef_object.delete", &ns)[0];
    assert_eq!(deleted["name"], "o3");
    assert_eq!(deleted["deleted"], true);
    assert!(deleted["deleted_at"].as_str().unwrap().ends_with('Z'));

    let properties = all(&got, "metadef_property.create", &ns);
    let property_keys = [
        &["namespace", "name", "name_old"][..],
        PROPERTY_SCHEMA_KEYS,
        &["deleted", "deleted_at"],
    ]
    .concat();
    assert_eq!(keys(properties[0]), set(&property_keys));
    assert_eq!(properties[0]["name"], "speed");
    assert_eq!(properties[0]["enum"], json!(["a", "b"]));
    assert_eq!(properties[1]["name"], "size");
    let renamed = &all(&got, "metadef_property.update", &ns)[0];
    assert_eq!(
        (&renamed["name"], &renamed["name_old"]),
        (&json!("bulk"), &json!("size"))
    );
    assert_eq!(all(&got, "metadef_property.delete", &ns)[0]["name"], "bulk");

    let tags = all(&got, "metadef_tag.create", &ns);
    assert_eq!(keys(tags[0]), set(TAG_KEYS));
    let names: Vec<_> = tags.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["t1", "t2", "t4", "t5"]);
    let renamed = &all(&got, "metadef_tag.update", &ns)[0];
    assert_eq!(
        (&renamed["name"], &renamed["name_old"]),
        (&json!("t3"), &json!("t2"))
    );
    assert_eq!(all(&got, "metadef_tag.delete", &ns)[0]["name"], "t3");

    let updated = &all(&got, "metadef_namespace.update", &ns)[0];
    assert_eq!(updated["display_name"], "Renamed");
    assert_eq!(updated["namespace_old"], ns.as_str());
    for event in [
        "metadef_namespace.delete_objects",
        "metadef_namespace.delete_properties",
        "metadef_namespace.delete_tags",
    ] {
        assert_eq!(all(&got, event, &ns)[0]["deleted"], false, "{event}");
    }
}
