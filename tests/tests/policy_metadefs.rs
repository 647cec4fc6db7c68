//! The metadefs policy against a real Keystone: what an administrator, a
//! member, a reader, a member of another project and a system-scoped
//! administrator may read and change. Keystone is started with the shared
//! harness's keystone-up.sh when nothing answers on KEYSTONE_PORT (5000).

use std::process::Command;

use glint_blackbox::keystone::{
    admin_system_token, glint_env, keystone, keystone_admin_as, project_scope, token,
};
use glint_blackbox::{Glint, StatusCode, target_dir};
use reqwest::Method;
use serde_json::{Value, json};

/// Tokens of each persona, and what to remove from Keystone afterwards.
struct Personas {
    /// admin, on project admin.
    admin: String,
    /// demo: member (and so reader) of project demo.
    member: String,
    /// A user with only the reader role on project demo.
    reader: String,
    /// A member of a project of its own.
    outsider: String,
    /// admin, system-scoped.
    system: String,
    demo_project: String,
    users: Vec<String>,
    projects: Vec<String>,
}

impl Personas {
    async fn new() -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let system = admin_system_token().await;
        let id_of = |v: &Value, key: &str| v[key]["id"].as_str().unwrap().to_owned();
        let admin_token = &system;
        let role = |name: &'static str| async move {
            let roles = keystone_admin_as(
                admin_token,
                Method::GET,
                &format!("/roles?name={name}"),
                None,
            )
            .await;
            roles["roles"][0]["id"].as_str().unwrap().to_owned()
        };
        let demo = keystone_admin_as(&system, Method::GET, "/projects?name=demo", None).await;
        let demo_project = demo["projects"][0]["id"].as_str().unwrap().to_owned();

        let reader_name = format!("glint-reader-{suffix}");
        let reader_user = id_of(
            &keystone_admin_as(
                &system,
                Method::POST,
                "/users",
                Some(json!({"user": {"name": reader_name, "password": "reader-secret", "domain_id": "default"}})),
            )
            .await,
            "user",
        );
        let reader_role = role("reader").await;
        keystone_admin_as(
            &system,
            Method::PUT,
            &format!("/projects/{demo_project}/users/{reader_user}/roles/{reader_role}"),
            None,
        )
        .await;

        let outsider_name = format!("glint-outsider-{suffix}");
        let outsider_project = id_of(
            &keystone_admin_as(
                &system,
                Method::POST,
                "/projects",
                Some(json!({"project": {"name": outsider_name, "domain_id": "default"}})),
            )
            .await,
            "project",
        );
        let outsider_user = id_of(
            &keystone_admin_as(
                &system,
                Method::POST,
                "/users",
                Some(json!({"user": {"name": outsider_name, "password": "outsider-secret", "domain_id": "default"}})),
            )
            .await,
            "user",
        );
        let member_role = role("member").await;
        keystone_admin_as(
            &system,
            Method::PUT,
            &format!("/projects/{outsider_project}/users/{outsider_user}/roles/{member_role}"),
            None,
        )
        .await;

        Personas {
            admin: token("admin", &keystone().admin_password, project_scope("admin")).await,
            member: token("demo", "demo-secret", project_scope("demo")).await,
            reader: token(&reader_name, "reader-secret", project_scope("demo")).await,
            outsider: token(
                &outsider_name,
                "outsider-secret",
                json!({"project": {"id": outsider_project}}),
            )
            .await,
            system,
            demo_project,
            users: vec![reader_user, outsider_user],
            projects: vec![outsider_project],
        }
    }

    async fn remove(self) {
        let system = &self.system;
        for user in &self.users {
            keystone_admin_as(system, Method::DELETE, &format!("/users/{user}"), None).await;
        }
        for project in &self.projects {
            keystone_admin_as(
                system,
                Method::DELETE,
                &format!("/projects/{project}"),
                None,
            )
            .await;
        }
    }
}

async fn glint(extra: &[(&'static str, String)]) -> Glint {
    let mut env = glint_env();
    env.extend(extra.iter().cloned());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Glint::start_with(&env).await
}

/// The status of one request made with `token`.
async fn status(g: &Glint, token: &str, method: Method, path: &str, body: Option<Value>) -> u16 {
    let mut req = g
        .client
        .request(method, g.url(path))
        .header("x-auth-token", token)
        .header("accept", "application/json");
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Asserts one status per persona: (label, token, expected).
async fn expect(
    g: &Glint,
    what: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    cases: &[(&str, &str, u16)],
) {
    for (who, token, expected) in cases {
        let got = status(g, token, method.clone(), path, body.clone()).await;
        assert_eq!(got, *expected, "{what} as {who}: {method} {path}");
    }
}

#[tokio::test]
async fn namespaces_by_persona() {
    let g = glint(&[]).await;
    let p = Personas::new().await;
    let name = |n: &str| format!("OS::Glint::{n}-{}", uuid::Uuid::new_v4().simple());
    let demo_ns = name("Demo");
    let public_ns = name("Public");

    // Only an administrator of a project creates namespaces.
    let create = |ns: &str| json!({"namespace": ns, "visibility": "private"});
    let probe = name("Probe");
    expect(
        &g,
        "create",
        Method::POST,
        "/v2/metadefs/namespaces",
        Some(create(&probe)),
        &[
            ("member", &p.member, 403),
            ("reader", &p.reader, 403),
            ("system admin", &p.system, 403),
        ],
    )
    .await;
    let body = json!({"namespace": demo_ns, "visibility": "private", "owner": p.demo_project});
    assert_eq!(
        status(
            &g,
            &p.admin,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(body)
        )
        .await,
        201
    );
    let body = json!({"namespace": public_ns, "visibility": "public"});
    assert_eq!(
        status(
            &g,
            &p.admin,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(body)
        )
        .await,
        201
    );

    // Forbidden bodies name the rule, as Glance's do.
    let r = g
        .post("/v2/metadefs/namespaces")
        .header("x-auth-token", &p.member)
        .header("accept", "application/json")
        .json(&create(&probe))
        .send()
        .await
        .unwrap();
    let err: Value = r.json().await.unwrap();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("You are not authorized to complete add_metadef_namespace action."),
        "{err}"
    );

    // A private namespace is seen by its project only; others get 404.
    let demo_path = format!("/v2/metadefs/namespaces/{demo_ns}");
    expect(
        &g,
        "show private",
        Method::GET,
        &demo_path,
        None,
        &[
            ("admin", &p.admin, 200),
            ("member", &p.member, 200),
            ("reader", &p.reader, 200),
            ("outsider", &p.outsider, 404),
            ("system admin", &p.system, 404),
        ],
    )
    .await;
    // Changing it: 403 for those who see it, 404 for those who do not.
    let update = json!({"namespace": demo_ns, "visibility": "private", "owner": p.demo_project, "description": "changed"});
    expect(
        &g,
        "update private",
        Method::PUT,
        &demo_path,
        Some(update.clone()),
        &[
            ("member", &p.member, 403),
            ("reader", &p.reader, 403),
            ("outsider", &p.outsider, 404),
        ],
    )
    .await;
    expect(
        &g,
        "update private",
        Method::PUT,
        &demo_path,
        Some(update),
        &[("admin", &p.admin, 200)],
    )
    .await;

    // A public namespace is seen by every project, changed by none of them.
    let public_path = format!("/v2/metadefs/namespaces/{public_ns}");
    expect(
        &g,
        "show public",
        Method::GET,
        &public_path,
        None,
        &[
            ("outsider", &p.outsider, 200),
            ("reader", &p.reader, 200),
            ("system admin", &p.system, 404),
        ],
    )
    .await;
    expect(
        &g,
        "delete public",
        Method::DELETE,
        &public_path,
        None,
        &[("outsider", &p.outsider, 403), ("member", &p.member, 403)],
    )
    .await;

    // Lists: readers of a project list; each sees what it may see.
    let names = |token: String| {
        let g = &g;
        async move {
            let r = g
                .get("/v2/metadefs/namespaces?limit=1000")
                .header("x-auth-token", token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let body: Value = r.json().await.unwrap();
            body["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["namespace"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let seen = names(p.reader.clone()).await;
    assert!(seen.contains(&demo_ns) && seen.contains(&public_ns));
    let seen = names(p.outsider.clone()).await;
    assert!(!seen.contains(&demo_ns) && seen.contains(&public_ns));
    expect(
        &g,
        "list",
        Method::GET,
        "/v2/metadefs/namespaces",
        None,
        &[("system admin", &p.system, 403)],
    )
    .await;

    expect(
        &g,
        "delete",
        Method::DELETE,
        &demo_path,
        None,
        &[
            ("outsider", &p.outsider, 404),
            ("member", &p.member, 403),
            ("admin", &p.admin, 204),
        ],
    )
    .await;
    p.remove().await;
}

#[tokio::test]
async fn namespace_content_by_persona() {
    let g = glint(&[]).await;
    let p = Personas::new().await;
    let ns = format!("OS::Glint::Content-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"namespace": ns, "visibility": "private", "owner": p.demo_project});
    assert_eq!(
        status(
            &g,
            &p.admin,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(body)
        )
        .await,
        201
    );
    let base = format!("/v2/metadefs/namespaces/{ns}");

    let object = json!({"name": "obj", "properties": {"a": {"title": "A", "type": "string"}}});
    expect(
        &g,
        "add object",
        Method::POST,
        &format!("{base}/objects"),
        Some(object.clone()),
        &[
            ("member", &p.member, 403),
            ("outsider", &p.outsider, 404),
            ("admin", &p.admin, 201),
        ],
    )
    .await;
    expect(
        &g,
        "read objects",
        Method::GET,
        &format!("{base}/objects/obj"),
        None,
        &[
            ("reader", &p.reader, 200),
            ("outsider", &p.outsider, 404),
            ("system admin", &p.system, 404),
        ],
    )
    .await;
    let property = json!({"name": "prop", "title": "P", "type": "integer"});
    expect(
        &g,
        "add property",
        Method::POST,
        &format!("{base}/properties"),
        Some(property),
        &[("reader", &p.reader, 403), ("admin", &p.admin, 201)],
    )
    .await;
    expect(
        &g,
        "list properties",
        Method::GET,
        &format!("{base}/properties"),
        None,
        &[("reader", &p.reader, 200), ("outsider", &p.outsider, 404)],
    )
    .await;
    expect(
        &g,
        "add tag",
        Method::POST,
        &format!("{base}/tags/t1"),
        None,
        &[("member", &p.member, 403), ("admin", &p.admin, 201)],
    )
    .await;
    expect(
        &g,
        "replace tags",
        Method::POST,
        &format!("{base}/tags"),
        Some(json!({"tags": [{"name": "t2"}]})),
        &[("member", &p.member, 403), ("outsider", &p.outsider, 404)],
    )
    .await;
    expect(
        &g,
        "list tags",
        Method::GET,
        &format!("{base}/tags"),
        None,
        &[("reader", &p.reader, 200), ("outsider", &p.outsider, 404)],
    )
    .await;
    expect(
        &g,
        "delete tags",
        Method::DELETE,
        &format!("{base}/tags"),
        None,
        &[("member", &p.member, 403), ("outsider", &p.outsider, 404)],
    )
    .await;
    let association = json!({"name": "OS::Glance::Image", "prefix": "glint_"});
    expect(
        &g,
        "associate",
        Method::POST,
        &format!("{base}/resource_types"),
        Some(association),
        &[("member", &p.member, 403), ("admin", &p.admin, 201)],
    )
    .await;
    expect(
        &g,
        "list associations",
        Method::GET,
        &format!("{base}/resource_types"),
        None,
        &[("reader", &p.reader, 200), ("outsider", &p.outsider, 404)],
    )
    .await;
    expect(
        &g,
        "list resource types",
        Method::GET,
        "/v2/metadefs/resource_types",
        None,
        &[
            ("reader", &p.reader, 200),
            ("outsider", &p.outsider, 200),
            ("system admin", &p.system, 403),
        ],
    )
    .await;
    expect(
        &g,
        "dissociate",
        Method::DELETE,
        &format!("{base}/resource_types/OS::Glance::Image"),
        None,
        &[("reader", &p.reader, 403), ("admin", &p.admin, 204)],
    )
    .await;
    expect(
        &g,
        "delete object",
        Method::DELETE,
        &format!("{base}/objects/obj"),
        None,
        &[("member", &p.member, 403), ("admin", &p.admin, 204)],
    )
    .await;
    assert_eq!(status(&g, &p.admin, Method::DELETE, &base, None).await, 204);
    p.remove().await;
}

#[tokio::test]
async fn an_operator_file_changes_the_rules_and_a_bad_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(
        &file,
        "# members may create namespaces; nobody lists tags\n\
         add_metadef_namespace: \"rule:namespace_creators\"\n\
         namespace_creators: \"role:member and project_id:%(project_id)s\"\n\
         get_metadef_tags: \"!\"\n",
    )
    .unwrap();
    let g = glint(&[("GLINT_POLICY__FILE", file.display().to_string())]).await;
    let p = Personas::new().await;
    let ns = format!("OS::Glint::ByMember-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"namespace": ns, "visibility": "private"});
    expect(
        &g,
        "create (member allowed)",
        Method::POST,
        "/v2/metadefs/namespaces",
        Some(body),
        &[("reader", &p.reader, 403), ("member", &p.member, 201)],
    )
    .await;
    expect(
        &g,
        "list tags (nobody)",
        Method::GET,
        &format!("/v2/metadefs/namespaces/{ns}/tags"),
        None,
        &[("admin", &p.admin, 403), ("member", &p.member, 403)],
    )
    .await;
    // The namespace the member created belongs to its project: its reader
    // sees inside it, another project does not see it at all. Showing the
    // whole namespace includes its tags, so nobody may now.
    let ns_path = format!("/v2/metadefs/namespaces/{ns}");
    expect(
        &g,
        "objects of the member's namespace",
        Method::GET,
        &format!("{ns_path}/objects"),
        None,
        &[("reader", &p.reader, 200), ("outsider", &p.outsider, 404)],
    )
    .await;
    expect(
        &g,
        "show (includes tags)",
        Method::GET,
        &ns_path,
        None,
        &[("member", &p.member, 403), ("outsider", &p.outsider, 404)],
    )
    .await;
    p.remove().await;

    // A rule that does not parse: the server refuses to start and says which.
    std::fs::write(&file, "get_metadef_namespace: \"role:reader and (\"\n").unwrap();
    let out = Command::new(target_dir().join("glint"))
        .args(["serve", "--bind", "127.0.0.1:1", "--data-dir"])
        .arg(dir.path())
        .env("GLINT_POLICY__FILE", &file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("policy rule 'get_metadef_namespace'"),
        "{stderr}"
    );
}
