//! Multi-tenant mode against the real Keystone and the default Swift in Keystone mode: each image
//! in its caller's account, with the caller's token; read ACLs on its container; locations that
//! name the account and never a token. Checked with Swift's own answers to each project's token.

mod support;

use glint_sdk::{Acl, ErrorKind, RequestContext};
use glint_sdk_testkit::{collect, odd_chunks, random_bytes, sha256};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{keystone_swift, open, runtime};

/// A project-scoped token as Keystone issues it: the token, its project and its catalog.
struct Caller {
    token: String,
    project_id: String,
    catalog: String,
}

impl Caller {
    fn context(&self) -> RequestContext {
        RequestContext::new(self.token.clone(), Some(self.project_id.clone()))
    }
}

async fn login(user: &str, password: &str, scope: Value) -> Caller {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", keystone_swift().keystone_url))
        .json(&json!({ "auth": {
            "identity": { "methods": ["password"], "password": { "user": {
                "name": user, "domain": { "id": "default" }, "password": password }}},
            "scope": scope,
        }}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{user}: {}",
        response.status()
    );
    let token = response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    Caller {
        token,
        project_id: body["token"]["project"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        catalog: body["token"]["catalog"].to_string(),
    }
}

async fn demo() -> Caller {
    login(
        "demo",
        "demo-secret",
        json!({ "project": { "name": "demo", "domain": { "id": "default" } } }),
    )
    .await
}

/// A project with a member user, made for one test and removed when dropped.
struct OtherProject {
    caller: Caller,
    user_id: String,
}

async fn admin_call(method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let admin_password =
        std::env::var("KEYSTONE_ADMIN_PASSWORD").unwrap_or_else(|_| "password".into());
    let admin = login(
        "admin",
        &admin_password,
        json!({ "system": { "all": true } }),
    )
    .await;
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", keystone_swift().keystone_url))
        .header("X-Auth-Token", admin.token);
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

impl OtherProject {
    async fn create(tag: &str) -> Self {
        let name = format!("glint-t-{}-{tag}", std::process::id());
        let project = admin_call(
            reqwest::Method::POST,
            "/projects",
            Some(json!({ "project": { "name": name, "domain_id": "default" } })),
        )
        .await["project"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user_id = admin_call(
            reqwest::Method::POST,
            "/users",
            Some(json!({ "user": { "name": name, "password": "other-secret", "domain_id": "default" } })),
        )
        .await["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let roles = admin_call(reqwest::Method::GET, "/roles?name=member", None).await;
        let member = roles["roles"][0]["id"].as_str().unwrap();
        admin_call(
            reqwest::Method::PUT,
            &format!("/projects/{project}/users/{user_id}/roles/{member}"),
            None,
        )
        .await;
        let caller = login(
            &name,
            "other-secret",
            json!({ "project": { "id": project } }),
        )
        .await;
        OtherProject { caller, user_id }
    }

    async fn remove(self) {
        admin_call(
            reqwest::Method::DELETE,
            &format!("/users/{}", self.user_id),
            None,
        )
        .await;
        admin_call(
            reqwest::Method::DELETE,
            &format!("/projects/{}", self.caller.project_id),
            None,
        )
        .await;
    }
}

/// The object a multi-tenant location names, as a plain URL.
fn object_url(location: &str) -> String {
    let rest = location
        .strip_prefix("swift+")
        .unwrap_or_else(|| panic!("{location}"));
    rest.to_owned()
}

/// What Swift answers `token` for a GET of `url`, with the body.
async fn swift_get(url: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

fn options(tag: &str) -> Value {
    let backends = keystone_swift();
    // No credentials of the store's own: callers bring their tokens. The storage URL comes from
    // each caller's catalog, asked of Keystone.
    json!({
        "multi_tenant": true,
        "auth_url": backends.keystone_url,
        "region": backends.region,
        "container": support::container_name(tag),
    })
}

#[test]
fn images_live_in_the_owners_account_and_acls_follow_sharing() {
    let options = options("mt");
    let store = open(&options);
    assert!(store.context_capabilities().per_request_context);
    assert!(store.context_capabilities().acls);
    runtime().block_on(async {
        let demo = demo().await;
        let other = OtherProject::create("mt-other").await;
        let image_id = "7a5e0b1c-0301-4000-8000-000000000001";
        let data = random_bytes(300 * 1024 + 7, 81);
        let outcome = store
            .with_caller(demo.context())
            .put(image_id, Some(data.len() as u64), odd_chunks(&data))
            .await
            .unwrap_or_else(|err| panic!("put: {err}"));
        // The location names demo's account and the image's own container, and no token.
        let container = format!("{}_{image_id}", options["container"].as_str().unwrap());
        assert!(
            outcome.location.starts_with("swift+http://127.0.0.1:")
                && outcome.location.ends_with(&format!(
                    "/v1/AUTH_{}/{container}/{image_id}",
                    demo.project_id
                )),
            "{}",
            outcome.location
        );
        assert!(!outcome.location.contains(&demo.token));

        // Swift itself, asked with demo's token, has the object in demo's account.
        let url = object_url(&outcome.location);
        let (status, body) = swift_get(&url, &demo.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(sha256(&body), sha256(&data));
        let got = store
            .with_caller(demo.context())
            .get(&outcome.location, None)
            .await
            .unwrap();
        assert_eq!(sha256(&collect(got.data).await), sha256(&data));
        assert_eq!(
            store
                .with_caller(demo.context())
                .size(&outcome.location)
                .await
                .unwrap(),
            data.len() as u64
        );

        // Another project can read it neither directly nor through the store...
        let (status, _) = swift_get(&url, &other.caller.token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let err = store
            .with_caller(other.caller.context())
            .get(&outcome.location, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");

        // ... until the image is shared with it; then again not, once unshared.
        let shared = Acl::new(false, vec![other.caller.project_id.clone()]);
        store
            .with_caller(demo.context())
            .set_acls(&outcome.location, &shared)
            .await
            .unwrap();
        let (status, body) = swift_get(&url, &other.caller.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(sha256(&body), sha256(&data));
        let got = store
            .with_caller(other.caller.context())
            .get(&outcome.location, None)
            .await
            .unwrap();
        assert_eq!(sha256(&collect(got.data).await), sha256(&data));
        // A member may read, not delete.
        let err = store
            .with_caller(other.caller.context())
            .delete(&outcome.location)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");

        store
            .with_caller(demo.context())
            .set_acls(&outcome.location, &Acl::default())
            .await
            .unwrap();
        let (status, _) = swift_get(&url, &other.caller.token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Public: every authenticated project reads.
        store
            .with_caller(demo.context())
            .set_acls(&outcome.location, &Acl::new(true, vec![]))
            .await
            .unwrap();
        let (status, _) = swift_get(&url, &other.caller.token).await;
        assert_eq!(status, StatusCode::OK);

        // Deleting removes the object and its container.
        store
            .with_caller(demo.context())
            .delete(&outcome.location)
            .await
            .unwrap();
        let (status, _) = swift_get(&url, &demo.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let container_url = url.rsplit_once('/').unwrap().0;
        let (status, _) = swift_get(container_url, &demo.token).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "the image's container is gone"
        );
        let err = store
            .with_caller(demo.context())
            .size(&outcome.location)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");

        other.remove().await;
    });
}

#[test]
fn large_images_use_segments_in_the_callers_account_with_the_hosts_catalog() {
    // The storage URL from an `endpoint` template here, and the catalog the host passes in the
    // next store: both paths lead to the same account.
    let backends = keystone_swift();
    runtime().block_on(async {
        let demo = demo().await;
        let swift_url = {
            let catalog: Vec<Value> = serde_json::from_str(&demo.catalog).unwrap();
            catalog
                .iter()
                .filter(|entry| entry["type"] == "object-store")
                .flat_map(|entry| entry["endpoints"].as_array().unwrap().clone())
                .find(|endpoint| endpoint["interface"] == "public")
                .map(|endpoint| endpoint["url"].as_str().unwrap().to_owned())
                .unwrap()
        };
        let origin = swift_url.split("/v1/").next().unwrap().to_owned();
        let template = json!({
            "multi_tenant": true,
            "endpoint": format!("{origin}/v1/AUTH_{{project_id}}"),
            "container": support::container_name("mt-template"),
            "large_object_size": 256 * 1024,
            "large_object_chunk_size": 100 * 1024,
        });
        let with_catalog = json!({
            "multi_tenant": true,
            "auth_url": "http://127.0.0.1:9/unused-when-the-host-passes-a-catalog",
            "region": backends.region,
            "container": support::container_name("mt-catalog"),
        });
        let data = random_bytes(700 * 1024, 82);
        for (options, ctx) in [
            (template, demo.context()),
            (
                with_catalog,
                demo.context().with_service_catalog(demo.catalog.clone()),
            ),
        ] {
            let store = open(&options);
            let image_id = "7a5e0b1c-0302-4000-8000-000000000001";
            let outcome = store
                .with_caller(ctx.clone())
                .put(image_id, None, odd_chunks(&data))
                .await
                .unwrap_or_else(|err| panic!("put {options}: {err}"));
            let url = object_url(&outcome.location);
            assert!(url.starts_with(&swift_url), "{url} in {swift_url}");
            let (status, body) = swift_get(&url, &demo.token).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(sha256(&body), sha256(&data));
            store
                .with_caller(ctx.clone())
                .delete(&outcome.location)
                .await
                .unwrap();
            let (status, _) = swift_get(&url, &demo.token).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
    });
}

#[test]
fn without_a_caller_or_on_another_host_nothing_is_sent() {
    let store = open(&options("mt-refusals"));
    runtime().block_on(async {
        let demo = demo().await;
        // A store without credentials of its own cannot act without a caller.
        let err = store
            .put(
                "7a5e0b1c-0303-4000-8000-000000000001",
                Some(1),
                odd_chunks(&"x".into()),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
        let location = format!(
            "swift+http://127.0.0.1:8080/v1/AUTH_{}/c/o",
            demo.project_id
        );
        let err = store.size(&location).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
        // A location on another host never receives the caller's token.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let elsewhere = format!(
            "swift+http://{}/v1/AUTH_{}/c/o",
            listener.local_addr().unwrap(),
            demo.project_id
        );
        let err = store
            .with_caller(demo.context())
            .get(&elsewhere, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
        listener.set_nonblocking(true).unwrap();
        assert!(
            listener.accept().is_err(),
            "nothing connected to the other host"
        );
        // A caller without a token is refused before anything is sent.
        let err = store
            .with_caller(RequestContext::default())
            .get(&location, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    });
}
