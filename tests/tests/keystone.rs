//! Keystone authentication against a real Keystone: started with the shared
//! harness's keystone-up.sh when nothing answers on KEYSTONE_PORT (5000).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glint_blackbox::keystone::{
    admin_system_token, demo_token, keystone, keystone_admin, project_scope, start_glint, token,
};
use glint_blackbox::{Client, Glint, StatusCode};
use serde_json::{Value, json};

/// Glint with Keystone auth, caching validated tokens for one second.
async fn glint() -> Glint {
    start_glint(&[("GLINT_AUTH__KEYSTONE__TOKEN_CACHE_SECONDS", "1")]).await
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_with_the_keystone_challenge() {
    let g = glint().await;
    let expected_uri = format!(
        "Keystone uri=\"{}\"",
        keystone().url.trim_end_matches("/v3")
    );
    for token in [None, Some("garbage"), Some("")] {
        let mut req = g.get("/v2/images").header("accept", "application/json");
        if let Some(token) = token {
            req = req.header("x-auth-token", token);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "token {token:?}");
        assert_eq!(r.headers()["www-authenticate"], expected_uri.as_str());
        assert!(r.headers().contains_key("x-openstack-request-id"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "401 Unauthorized");
    }
    let r = g.get("/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES);
    assert!(!g.log().contains("garbage"), "tokens never reach the log");
}

#[tokio::test]
async fn images_belong_to_the_token_project_and_stay_private_to_it() {
    let g = glint().await;
    let demo = demo_token().await;
    let r = g
        .post("/v2/images")
        .header("x-auth-token", &demo)
        .json(&json!({"name": "demo-private", "disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let image: Value = r.json().await.unwrap();
    let id = image["id"].as_str().unwrap();

    let projects = keystone_admin(reqwest::Method::GET, "/projects?name=demo", None).await;
    let demo_project = projects["projects"][0]["id"].as_str().unwrap();
    assert_eq!(image["owner"], demo_project);
    assert_eq!(image["visibility"], "shared");

    let list: Value = g
        .get("/v2/images")
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id)
    );

    // A member of another project: created for this test, removed after it.
    let name = format!("glint-test-{}", uuid::Uuid::new_v4().simple());
    let other_project = keystone_admin(
        reqwest::Method::POST,
        "/projects",
        Some(json!({"project": {"name": name, "domain_id": "default"}})),
    )
    .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = keystone_admin(
        reqwest::Method::POST,
        "/users",
        Some(json!({"user": {"name": name, "password": "other-secret", "domain_id": "default"}})),
    )
    .await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = keystone_admin(reqwest::Method::GET, "/roles?name=member", None).await;
    let member = roles["roles"][0]["id"].as_str().unwrap();
    keystone_admin(
        reqwest::Method::PUT,
        &format!("/projects/{other_project}/users/{user}/roles/{member}"),
        None,
    )
    .await;
    let other = token(
        &name,
        "other-secret",
        json!({"project": {"id": other_project}}),
    )
    .await;

    let r = g
        .get(&format!("/v2/images/{id}"))
        .header("x-auth-token", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list: Value = g
        .get("/v2/images")
        .header("x-auth-token", &other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !list["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id)
    );

    // A project administrator sees every project's images; a system-scoped
    // token does not pass Glance's project-scoped rules, and the image is hidden.
    let project_admin = token("admin", &keystone().admin_password, project_scope("admin")).await;
    let r = g
        .get(&format!("/v2/images/{id}"))
        .header("x-auth-token", project_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = g
        .get(&format!("/v2/images/{id}"))
        .header("x-auth-token", admin_system_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    keystone_admin(reqwest::Method::DELETE, &format!("/users/{user}"), None).await;
    keystone_admin(
        reqwest::Method::DELETE,
        &format!("/projects/{other_project}"),
        None,
    )
    .await;
}

#[tokio::test]
async fn a_revoked_token_stops_working_once_its_cache_entry_expires() {
    let g = glint().await;
    let demo = demo_token().await;
    let list = || g.get("/v2/images").header("x-auth-token", &demo).send();
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);

    let r = Client::new()
        .delete(format!("{}/auth/tokens", keystone().url))
        .header("x-auth-token", &demo)
        .header("x-subject-token", &demo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(list().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// A TCP link to Keystone that the test can cut, as a network partition would: open
/// connections are dropped and new ones are closed at once.
struct Link {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Link {
    async fn to_keystone() -> Link {
        let url = reqwest::Url::parse(&keystone().url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let link = Link {
            port: listener.local_addr().unwrap().port(),
            cut: Arc::default(),
            open: Arc::default(),
        };
        let (cut, open) = (link.cut.clone(), link.open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(target).await?;
                    tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                });
                open.lock().unwrap().push(forward.abort_handle());
            }
        });
        link
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.port)
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for forward in self.open.lock().unwrap().drain(..) {
            forward.abort();
        }
    }
}

#[tokio::test]
async fn a_refused_token_is_answered_from_the_cache_without_asking_keystone_again() {
    let link = Link::to_keystone().await;
    let g = start_glint(&[("GLINT_AUTH__KEYSTONE__AUTH_URL", &link.url())]).await;
    let list = |token: &'static str| g.get("/v2/images").header("x-auth-token", token).send();
    assert_eq!(
        list("made-up-token-1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    link.cut();
    // Keystone is out of reach now: a token it never saw cannot be checked...
    assert_eq!(
        list("made-up-token-2").await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // ...but the one it refused is still refused, from the cache.
    let r = list("made-up-token-1").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    // An unreachable Keystone's failure was not remembered as a refusal.
    assert_eq!(
        list("made-up-token-2").await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        !g.log().contains("made-up-token"),
        "tokens never reach the log"
    );
}

#[tokio::test]
async fn an_unreachable_keystone_gives_503_not_500() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let g = Glint::start_with(&[
        ("GLINT_AUTH__STRATEGY", "keystone"),
        (
            "GLINT_AUTH__KEYSTONE__AUTH_URL",
            &format!("http://127.0.0.1:{closed}/v3"),
        ),
        ("GLINT_AUTH__KEYSTONE__USERNAME", "glance"),
        ("GLINT_AUTH__KEYSTONE__PASSWORD", "glance-password"),
        ("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service"),
    ])
    .await;
    let r = g
        .get("/v2/images")
        .header("x-auth-token", "any")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!g.log().contains("glance-password"));
}

#[tokio::test]
async fn project_quotas_refuse_with_413_and_usage_reports_them() {
    let g = start_glint(&[
        ("GLINT_QUOTAS__ENABLED", "true"),
        ("GLINT_QUOTAS__IMAGE_COUNT_TOTAL", "2"),
        ("GLINT_QUOTAS__IMAGE_SIZE_TOTAL", "1"),
    ])
    .await;
    let demo = demo_token().await;
    let create = || async {
        g.post("/v2/images")
            .header("x-auth-token", &demo)
            .json(&json!({"disk_format": "raw", "container_format": "bare"}))
            .send()
            .await
            .unwrap()
    };
    let first: Value = create().await.json().await.unwrap();
    let second: Value = create().await.json().await.unwrap();
    let third = create().await;
    assert_eq!(third.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = third.text().await.unwrap();
    assert!(body.contains("image_count_total"), "{body}");

    let upload = |id: String, len: usize| {
        let demo = demo.clone();
        let g = &g;
        async move {
            g.put(&format!("/v2/images/{id}/file"))
                .header("x-auth-token", &demo)
                .header("content-type", "application/octet-stream")
                .body(vec![7u8; len])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Under the 1 MiB limit before the upload: allowed, and now 2 MiB are used.
    let id1 = first["id"].as_str().unwrap().to_owned();
    let id2 = second["id"].as_str().unwrap().to_owned();
    assert_eq!(upload(id1, 2 << 20).await, StatusCode::NO_CONTENT);
    assert_eq!(upload(id2.clone(), 10).await, StatusCode::PAYLOAD_TOO_LARGE);
    let image: Value = g
        .get(&format!("/v2/images/{id2}"))
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        image["status"], "queued",
        "a refused upload leaves the image queued"
    );

    let usage: Value = g
        .get("/v2/info/usage")
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        usage["usage"]["image_count_total"],
        json!({"limit": 2, "usage": 2})
    );
    assert_eq!(
        usage["usage"]["image_size_total"],
        json!({"limit": 1, "usage": 2})
    );
    assert_eq!(
        usage["usage"]["image_count_uploading"],
        json!({"limit": -1, "usage": 0})
    );
}

#[tokio::test]
async fn property_protections_hide_and_refuse_by_role() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("property-protections.conf");
    std::fs::write(
        &file,
        "[^x_admin_]\ncreate = admin\nread = admin\nupdate = admin\ndelete = admin\n\n\
         [^x_frozen$]\ncreate = @\nread = @\nupdate = !\ndelete = !\n\n\
         [.*]\ncreate = @\nread = @\nupdate = @\ndelete = @\n",
    )
    .unwrap();
    let g = start_glint(&[(
        "GLINT_API__PROPERTY_PROTECTION_FILE",
        file.to_str().unwrap(),
    )])
    .await;
    let demo = demo_token().await;
    let admin = token("admin", &keystone().admin_password, project_scope("admin")).await;

    let r = g
        .post("/v2/images")
        .header("x-auth-token", &demo)
        .json(&json!({"x_admin_code": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("x_admin_code"));

    let image: Value = g
        .post("/v2/images")
        .header("x-auth-token", &demo)
        .json(&json!({"x_frozen": "a", "x_open": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/v2/images/{}", image["id"].as_str().unwrap());
    let patch = |token: &str, ops: Value| {
        g.patch(&path, ops)
            .header("x-auth-token", token.to_owned())
            .send()
    };
    let r = patch(
        &demo,
        json!([{"op": "replace", "path": "/x_frozen", "value": "c"}]),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no one may update x_frozen"
    );
    let r = patch(
        &admin,
        json!([{"op": "add", "path": "/x_admin_code", "value": "42"}]),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["x_admin_code"], "42");

    // The member no longer sees the property, and its own changes keep it.
    let r = patch(
        &demo,
        json!([{"op": "replace", "path": "/x_open", "value": "d"}]),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = r.json().await.unwrap();
    assert!(seen.get("x_admin_code").is_none(), "{seen}");
    assert_eq!(seen["x_open"], "d");
    let as_admin: Value = g
        .get(&path)
        .header("x-auth-token", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_admin["x_admin_code"], "42");
    assert_eq!(as_admin["x_open"], "d");
}
