//! Swift's multi-tenant mode end to end: a Glint with Keystone authentication over a swift store
//! with `multi_tenant = true`, against the real Keystone and the default Swift in Keystone mode.
//! Each image lands in its owner's own account, written with the owner's token; sharing it sets
//! the container's read ACL so that the member project reads the object with its own token;
//! unsharing and deleting take that away. Everything is checked with Swift's own answers.

mod backends;

use std::sync::OnceLock;

use glint_blackbox::{Client, Glint, StatusCode, md5_hex, pattern};
use serde_json::{Value, json};

/// Keystone's URL and region, after Keystone and the Keystone-mode Swift are up.
struct Cloud {
    keystone_url: String,
    region: String,
    admin_password: String,
}

fn cloud() -> &'static Cloud {
    static CLOUD: OnceLock<Cloud> = OnceLock::new();
    CLOUD.get_or_init(|| {
        let keystone = backends::run_script("keystone-up.sh", &[]);
        let keystone_url = keystone["KEYSTONE_URL"].clone();
        let swift = backends::run_script("swift-up.sh", &[("SWIFT_KEYSTONE_URL", &keystone_url)]);
        let account = swift.get("SWIFT_ACCOUNT_URL").cloned().unwrap_or_default();
        assert!(
            !account.contains("/AUTH_test"),
            "the Swift on 8080 runs without Keystone ({account}); stop it with swift-down.sh so \
             that this test starts it in Keystone mode"
        );
        Cloud {
            keystone_url,
            region: keystone["KEYSTONE_REGION"].clone(),
            admin_password: keystone
                .get("KEYSTONE_ADMIN_PASSWORD")
                .cloned()
                .unwrap_or_else(|| "password".into()),
        }
    })
}

/// A project-scoped token with its project and its object-store URL.
struct Caller {
    token: String,
    project_id: String,
    swift_url: String,
}

async fn login(user: &str, password: &str, scope: Value) -> (String, Value) {
    let response = Client::new()
        .post(format!("{}/auth/tokens", cloud().keystone_url))
        .json(&json!({ "auth": {
            "identity": { "methods": ["password"], "password": { "user": {
                "name": user, "domain": { "id": "default" }, "password": password }}},
            "scope": scope,
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "token for {user}");
    let token = response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    (token, response.json().await.unwrap())
}

async fn caller(user: &str, password: &str, scope: Value) -> Caller {
    let (token, body) = login(user, password, scope).await;
    let swift_url = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "object-store")
        .flat_map(|entry| entry["endpoints"].as_array().unwrap().clone())
        .find(|endpoint| endpoint["interface"] == "public")
        .and_then(|endpoint| endpoint["url"].as_str().map(str::to_owned))
        .expect("an object-store endpoint in the catalog");
    Caller {
        token,
        project_id: body["token"]["project"]["id"].as_str().unwrap().to_owned(),
        swift_url,
    }
}

async fn admin(method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let (token, _) = login(
        "admin",
        &cloud().admin_password,
        json!({ "system": { "all": true } }),
    )
    .await;
    let mut request = Client::new()
        .request(method, format!("{}{path}", cloud().keystone_url))
        .header("x-auth-token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// Swift's answer to `token` for `url`, with the body.
async fn swift_get(url: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let response = Client::new()
        .get(url)
        .header("x-auth-token", token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn glint(container: &str) -> (Glint, tempfile::TempDir) {
    glint_with(container, "[cache]\nenabled = false\n").await
}

/// Glint over the multi-tenant store, with `extra` TOML sections (`[cache]` among them).
async fn glint_with(container: &str, extra: &str) -> (Glint, tempfile::TempDir) {
    let cloud = cloud();
    let options = json!({
        "multi_tenant": true,
        "auth_url": cloud.keystone_url,
        "region": cloud.region,
        "container": container,
        "large_object_size": 1 << 20,
        "large_object_chunk_size": 256 << 10,
    });
    let fields: Vec<String> = options
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    let config = format!(
        "default_store = \"swift\"\n\n{extra}\n[stores.swift]\ndriver = \"swift\"\noptions = {{ {} }}\n",
        fields.join(", ")
    );
    let config_dir = tempfile::tempdir().unwrap();
    let file = config_dir.path().join("glint.toml");
    std::fs::write(&file, config).unwrap();
    let glint = Glint::start_with(&[
        ("GLINT_CONFIG", file.to_str().unwrap()),
        (
            "GLINT_PLUGINS__PATHS",
            &backends::plugin_paths(&["glint-store-swift"]),
        ),
        ("GLINT_AUTH__STRATEGY", "keystone"),
        ("GLINT_AUTH__KEYSTONE__AUTH_URL", &cloud.keystone_url),
        ("GLINT_AUTH__KEYSTONE__USERNAME", "glance"),
        ("GLINT_AUTH__KEYSTONE__PASSWORD", "glance-password"),
        ("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service"),
        ("GLINT_LOG", "debug"),
    ])
    .await;
    (glint, config_dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn images_live_in_the_owners_account_and_sharing_sets_swift_read_acls() {
    let container = backends::container_name("mt");
    let (g, _config) = glint(&container).await;
    let demo = caller(
        "demo",
        "demo-secret",
        json!({ "project": { "name": "demo", "domain": { "id": "default" } } }),
    )
    .await;

    // Another project with a member user, for this test only.
    let name = format!("glint-t-{}-mt", std::process::id());
    let project_id = admin(
        reqwest::Method::POST,
        "/projects",
        Some(json!({ "project": { "name": name, "domain_id": "default" } })),
    )
    .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = admin(
        reqwest::Method::POST,
        "/users",
        Some(
            json!({ "user": { "name": name, "password": "other-secret", "domain_id": "default" } }),
        ),
    )
    .await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = admin(reqwest::Method::GET, "/roles?name=member", None).await;
    let member_role = roles["roles"][0]["id"].as_str().unwrap().to_owned();
    admin(
        reqwest::Method::PUT,
        &format!("/projects/{project_id}/users/{user_id}/roles/{member_role}"),
        None,
    )
    .await;
    let other = caller(
        &name,
        "other-secret",
        json!({ "project": { "id": project_id } }),
    )
    .await;

    // demo uploads a shared image of 1.5 MiB (a Static Large Object here).
    let created: Value = g
        .post("/v2/images")
        .header("x-auth-token", &demo.token)
        .json(&json!({ "name": "mt", "disk_format": "raw", "container_format": "bare", "visibility": "shared" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let data = pattern(3 << 19, 91);
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &demo.token)
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", g.log());

    // The object is in demo's account, in the image's own container: Swift says so to demo.
    assert!(
        demo.swift_url
            .ends_with(&format!("/AUTH_{}", demo.project_id))
    );
    let object = format!("{}/{container}_{id}/{id}", demo.swift_url);
    let (status, body) = swift_get(&object, &demo.token).await;
    assert_eq!(status, StatusCode::OK, "{object}");
    assert!(body == data, "Swift holds the uploaded bytes");

    // Glint serves it back to demo.
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &demo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap() == data);

    // The other project cannot read the object: not through Swift, not through Glint.
    let (status, _) = swift_get(&object, &other.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Shared and accepted: the other project reads the object from Swift with its own token.
    let r = g
        .post(&format!("/v2/images/{id}/members"))
        .header("x-auth-token", &demo.token)
        .json(&json!({ "member": other.project_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = g
        .put(&format!("/v2/images/{id}/members/{}", other.project_id))
        .header("x-auth-token", &other.token)
        .json(&json!({ "status": "accepted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = swift_get(&object, &other.token).await;
    assert_eq!(status, StatusCode::OK, "the member's read ACL");
    assert!(body == data);
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", g.log());
    assert!(r.bytes().await.unwrap() == data);

    // Unshared: the ACL is gone.
    let r = g
        .delete(&format!("/v2/images/{id}/members/{}", other.project_id))
        .header("x-auth-token", &demo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = swift_get(&object, &other.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Public (as administrators may make it): every project reads; private again: none.
    let project_admin = caller(
        "admin",
        &cloud().admin_password,
        json!({ "project": { "name": "admin", "domain": { "id": "default" } } }),
    )
    .await;
    for (visibility, expected) in [
        ("public", StatusCode::OK),
        ("private", StatusCode::FORBIDDEN),
    ] {
        let r = g
            .patch(
                &format!("/v2/images/{id}"),
                json!([{ "op": "replace", "path": "/visibility", "value": visibility }]),
            )
            .header(
                "x-auth-token",
                if visibility == "public" {
                    &project_admin.token
                } else {
                    &demo.token
                },
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{visibility}: {}", g.log());
        let (status, _) = swift_get(&object, &other.token).await;
        assert_eq!(status, expected, "{visibility}");
    }

    // Deleted: the object and its container are gone from demo's account.
    let r = g
        .delete(&format!("/v2/images/{id}"))
        .header("x-auth-token", &demo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = swift_get(&object, &demo.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = swift_get(&format!("{}/{container}_{id}", demo.swift_url), &demo.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No token reached the log, debug level included.
    let log = g.log();
    assert!(!log.contains(&demo.token) && !log.contains(&other.token));
    assert!(!log.contains(&project_admin.token));

    admin(reqwest::Method::DELETE, &format!("/users/{user_id}"), None).await;
    admin(
        reqwest::Method::DELETE,
        &format!("/projects/{project_id}"),
        None,
    )
    .await;
}

/// Serves `data` at `/image` over plain HTTP from a thread of its own, for the legacy import
/// task to fetch; one request per connection.
fn serve_once_per_connection(data: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                data.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&data);
        }
    });
    format!("http://127.0.0.1:{port}/image")
}

/// Polls `id` as `token` until `done` holds of it (or fails after a minute).
async fn wait_for(g: &Glint, id: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let image: Value = g
            .get(&format!("/v2/images/{id}"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&image) {
            return image;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("image {id} never got there:\n{}", g.log());
}

/// The store reads and writes as the caller, not as itself (it has no account of its own in
/// this mode), for the work that runs after the request: checking and hashing an added
/// location, a legacy import task, and the cache's prefetch.
#[tokio::test(flavor = "multi_thread")]
async fn background_work_reaches_swift_with_the_callers_token() {
    let container = backends::container_name("mtbg");
    let (g, _config) = glint_with(
        &container,
        "[cache]\nenabled = true\n\n[import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = []\n",
    )
    .await;
    let project =
        |name: &str| json!({ "project": { "name": name, "domain": { "id": "default" } } });
    let demo = caller("demo", "demo-secret", project("demo")).await;
    let (service_token, _) = login("glance", "glance-password", project("service")).await;
    let project_admin = caller("admin", &cloud().admin_password, project("admin")).await;

    // demo's image, in demo's account.
    let create = |name: &str| {
        g.post("/v2/images")
            .header("x-auth-token", &demo.token)
            .json(&json!({ "name": name, "disk_format": "raw", "container_format": "bare" }))
            .send()
    };
    let first: Value = create("first").await.unwrap().json().await.unwrap();
    let first_id = first["id"].as_str().unwrap().to_owned();
    let data = pattern(300 << 10, 17);
    let r = g
        .put(&format!("/v2/images/{first_id}/file"))
        .header("x-auth-token", &demo.token)
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", g.log());

    // A service acting for demo (demo's token, its own service token, as Nova sends them)
    // points a second image of demo's at the same object: Glint sizes it and hashes it in
    // the background, reading with demo's token.
    let as_service = |request: reqwest::RequestBuilder| {
        request
            .header("x-auth-token", &demo.token)
            .header("x-service-token", &service_token)
    };
    // (Listing locations is for services and administrators.)
    let r = g
        .get(&format!("/v2/images/{first_id}/locations"))
        .header("x-auth-token", &project_admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", g.log());
    let locations: Value = r.json().await.unwrap();
    let url = locations[0]["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("swift+{}/{container}_{first_id}/{first_id}", demo.swift_url)
    );
    let second: Value = create("second").await.unwrap().json().await.unwrap();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let r = as_service(g.post(&format!("/v2/images/{second_id}/locations")))
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", g.log());
    let second = wait_for(&g, &second_id, &demo.token, |image| {
        image["checksum"].is_string()
    })
    .await;
    assert_eq!(second["status"], "active");
    assert_eq!(second["size"], data.len());
    assert_eq!(second["checksum"], md5_hex(&data));

    // A legacy import task of the cloud's administrator writes into the administrator's
    // project's account, with its token.
    let source = pattern(200 << 10, 23);
    let r = g
        .post("/v2/tasks")
        .header("x-auth-token", &project_admin.token)
        .json(&json!({ "type": "import", "input": {
            "import_from": serve_once_per_connection(source.clone()),
            "import_from_format": "raw",
            "image_properties": { "name": "task", "disk_format": "raw", "container_format": "bare" },
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", g.log());
    let task: Value = r.json().await.unwrap();
    let task_id = task["id"].as_str().unwrap().to_owned();
    let mut task = task;
    for _ in 0..600 {
        if task["status"] != "pending" && task["status"] != "processing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        task = g
            .get(&format!("/v2/tasks/{task_id}"))
            .header("x-auth-token", &project_admin.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert_eq!(task["status"], "success", "{task}\n{}", g.log());
    let task_image = task["result"]["image_id"].as_str().unwrap().to_owned();
    let object = format!(
        "{}/{container}_{task_image}/{task_image}",
        project_admin.swift_url
    );
    assert!(object.contains(&format!("AUTH_{}", project_admin.project_id)));
    let (status, body) = swift_get(&object, &project_admin.token).await;
    assert_eq!(status, StatusCode::OK, "{object}");
    assert!(body == source);

    // The administrator queues demo's first image for the cache: the prefetch reads it with
    // the administrator's token (Swift lets a reseller administrator into every account).
    let r = g
        .put(&format!("/v2/cache/{first_id}"))
        .header("x-auth-token", &project_admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", g.log());
    let mut cached = false;
    for _ in 0..600 {
        let state: Value = g
            .get("/v2/cache")
            .header("x-auth-token", &project_admin.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if state["cached_images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["image_id"] == first_id.as_str())
        {
            cached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(cached, "the queued image was never cached:\n{}", g.log());

    let log = g.log();
    for token in [&demo.token, &service_token, &project_admin.token] {
        assert!(!log.contains(token.as_str()), "no token reaches the log");
    }
    for (id, token) in [
        (&second_id, &demo.token),
        (&first_id, &demo.token),
        (&task_image, &project_admin.token),
    ] {
        let r = g
            .delete(&format!("/v2/images/{id}"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{}", g.log());
    }
}
