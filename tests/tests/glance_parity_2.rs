//! Wire parity, round two: routing, version negotiation, CORS, content types and bodies Glance 33
//! accepts, each expectation being what the reference Glance answered.

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

fn method(name: &str) -> reqwest::Method {
    reqwest::Method::from_bytes(name.as_bytes()).unwrap()
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn version_negotiation_places_paths_outside_v2() {
    let g = Glint::start().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects.get(g.url("/v2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/v2/");

    let r = g.get("/nope").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["versions"].is_array());

    for verb in ["PUT", "POST", "DELETE"] {
        let r = g
            .client
            .request(method(verb), g.url("/versions"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{verb}");
        let doc: Value = r.json().await.unwrap();
        assert!(doc["versions"].is_array(), "{verb}");
    }

    let versioned = "application/vnd.openstack.images-v2+json";
    let r = g
        .get("/images")
        .header("accept", versioned)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    assert!(list["images"].is_array());
    let r = g
        .get("/schemas/member")
        .header("accept", "application/vnd.openstack.images-v2.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let schema: Value = r.json().await.unwrap();
    assert_eq!(schema["name"], "member");
    let r = g
        .get("/images")
        .header("accept", "application/vnd.openstack.images-v9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES);
}

#[tokio::test]
async fn an_unknown_method_on_a_route_is_405_with_allow_and_elsewhere_501() {
    let g = Glint::start().await;
    for verb in ["FOO", "TRACE"] {
        let r = g
            .client
            .request(method(verb), g.url("/v2/images"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{verb}");
        assert_eq!(r.headers()["allow"], "GET, POST");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["message"],
            format!("The method {verb} is not allowed for this resource. <br /><br />\n")
        );
    }
    let r = g
        .client
        .request(method("FOO"), g.url("/v2/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn bodies_glance_ignores_are_accepted_and_refused_only_where_it_refuses_them() {
    let g = Glint::start().await;
    let image = g
        .create(json!({"name": "p", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap();

    // The image list takes no body but ignores one; showing an image refuses it.
    let r = g.get("/v2/images").body("{}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = g
        .get(&format!("/v2/images/{id}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let g_shared = g
        .patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "replace", "path": "/visibility", "value": "shared"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(g_shared.status(), StatusCode::OK);
    let r = g
        .post(&format!("/v2/images/{id}/members"))
        .json(&json!({"member": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let member: Value = r.json().await.unwrap();
    assert_eq!(member["member_id"], "5");

    // `/` names the property "": Glance adds it.
    let r = g
        .patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "add", "path": "/", "value": "x"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// The raw answer to a `GET` of `path` sent without any `Accept` header.
fn without_accept(g: &Glint, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = g.url("").trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn answers_without_a_body_and_errors_take_webobs_content_types() {
    let g = Glint::start().await;
    let image = g
        .create(json!({"name": "p", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap();
    let r = g
        .put(&format!("/v2/images/{id}/tags/t1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(content_type(&r), "text/html; charset=UTF-8");

    // No Accept (reqwest always sends one, so the request is written by hand): webob offers
    // neither HTML nor JSON, so the error is text.
    let raw = without_accept(&g, "/v2/images/not-an-id");
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-type: text/plain; charset=utf-8\r\n"),
        "{raw}"
    );
    assert!(raw.contains("\r\n\r\n404 Not Found\n\n"), "{raw}");

    let r = g
        .client
        .head(g.url("/v2/images"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type(&r), "text/html; charset=UTF-8");
}

#[tokio::test]
async fn the_task_list_filters_only_the_tasks_apis_own_type() {
    let g = Glint::start().await;
    let r = g
        .get("/v2/tasks?type=api_image_import")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Invalid type value: api_image_import<br /><br />\n\n\n"
    );
    let r = g.get("/v2/tasks?type=import").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_namespaces_property_list_keys_properties_by_name_and_one_property_names_itself() {
    let g = Glint::start().await;
    let r = g
        .post("/v2/metadefs/namespaces")
        .json(&json!({"namespace": "Parity2::NS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = g
        .post("/v2/metadefs/namespaces/Parity2::NS/properties")
        .json(&json!({"name": "cpu", "title": "CPU", "type": "string"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let list: Value = g
        .get("/v2/metadefs/namespaces/Parity2::NS/properties")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The reference Glance 33 keys the list by name and does not repeat it inside.
    assert!(list["properties"]["cpu"].get("name").is_none(), "{list}");
    assert_eq!(list["properties"]["cpu"]["title"], "CPU");
    let one: Value = g
        .get("/v2/metadefs/namespaces/Parity2::NS/properties/cpu")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], "cpu");
}

#[tokio::test]
async fn cors_answers_an_allowed_preflight_before_authentication_and_decorates_answers() {
    let g = Glint::start_with(&[("GLINT_CORS__ALLOWED_ORIGIN", r#"["http://ui.example"]"#)]).await;
    let preflight = |origin: &str, headers: &str| {
        g.client
            .request(reqwest::Method::OPTIONS, g.url("/v2/images"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
    };
    let r = preflight("http://ui.example", "X-Auth-Token,Content-Type")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "http://ui.example");
    assert_eq!(h["access-control-allow-methods"], "POST");
    assert_eq!(
        h["access-control-allow-headers"],
        "X-Auth-Token,Content-Type"
    );
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "3600");
    assert_eq!(h["vary"], "Origin");
    assert_eq!(r.bytes().await.unwrap().len(), 0);

    for (origin, headers) in [
        ("http://other.example", "X-Auth-Token"),
        ("http://ui.example", "X-Not-Allowed"),
    ] {
        let r = preflight(origin, headers).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }

    let r = g
        .get("/v2/images")
        .header("origin", "http://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://ui.example"
    );
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "X-Image-Meta-Checksum,X-Auth-Token,X-Subject-Token,X-Service-Token,X-OpenStack-Request-ID"
    );
    let r = g
        .get("/v2/images")
        .header("origin", "http://other.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_cors_settings_no_cors_header_is_sent() {
    let g = Glint::start().await;
    let r = g
        .client
        .request(reqwest::Method::OPTIONS, g.url("/v2/images"))
        .header("origin", "http://ui.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

/// The `message` of a JSON error answer, after checking its status.
async fn refusal(request: reqwest::RequestBuilder, status: StatusCode) -> String {
    let r = request
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), status);
    let body: Value = r.json().await.unwrap();
    body["message"].as_str().unwrap().to_owned()
}

/// Glance's one-line answer: the explanation and an empty detail.
fn said(explanation: &str) -> String {
    format!("{explanation}<br /><br />\n\n\n")
}

#[tokio::test]
async fn image_refusals_are_worded_as_glance_words_them() {
    let g = Glint::start().await;
    let nobody = uuid::Uuid::new_v4();
    let r = g.delete(&format!("/v2/images/{nobody}"));
    assert_eq!(
        refusal(r, StatusCode::NOT_FOUND).await,
        said(&format!("Failed to find image {nobody} to delete"))
    );
    for r in [
        g.put(&format!("/v2/images/{nobody}/tags/x")),
        g.delete(&format!("/v2/images/{nobody}/tags/x")),
    ] {
        assert_eq!(
            refusal(r, StatusCode::NOT_FOUND).await,
            said(&format!("Image {nobody} not found."))
        );
    }

    let image = g
        .create(json!({"name": "p", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap();
    let r = g.post("/v2/images").json(&json!({"id": id}));
    assert_eq!(
        refusal(r, StatusCode::CONFLICT).await,
        said(&format!("Image ID {id} already exists!"))
    );

    let file = format!("/v2/images/{id}/file");
    // No Content-Type at all: webob's template keeps its placeholder, the detail says None.
    let r = g.put(&file).body("abc");
    assert_eq!(
        refusal(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "The request media type ${CONTENT_TYPE} is not supported by this server.\n<br /><br />\nInvalid content type None"
    );
    let octets = |body: &'static str| {
        g.put(&file)
            .header("content-type", "application/octet-stream")
            .body(body)
    };
    let r = octets("abc").header("x-image-meta-store", "bogus");
    assert_eq!(
        refusal(r, StatusCode::BAD_REQUEST).await,
        said("Store for identifier bogus not found")
    );
    let r = octets("abcdef").header("x-openstack-image-size", "3");
    assert_eq!(
        refusal(r, StatusCode::BAD_REQUEST).await,
        said("Size exceeds: expected 3 bytes, got 6 bytes")
    );
    let r = octets("abc").header("x-openstack-image-size", "6");
    assert_eq!(
        refusal(r, StatusCode::BAD_REQUEST).await,
        said("Size mismatch: expected 6 bytes, got 3 bytes")
    );
    assert_eq!(g.show(id).await["status"], "queued");

    let qcow2 = g
        .create(json!({"name": "q", "disk_format": "qcow2", "container_format": "bare"}))
        .await;
    let r = g
        .put(&format!(
            "/v2/images/{}/file",
            qcow2["id"].as_str().unwrap()
        ))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 4096]);
    assert_eq!(
        refusal(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "The request media type application/octet-stream is not supported by this server.\n<br /><br />\nImage disk_format qcow2 does not match stream data raw"
    );
}

#[tokio::test]
async fn a_task_cannot_be_deleted_and_glance_says_why() {
    let g = Glint::start().await;
    let r = g
        .delete(&format!("/v2/tasks/{}", uuid::Uuid::new_v4()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property."
    );
}

#[tokio::test]
async fn a_missing_namespace_is_worded_by_what_was_asked_of_it() {
    let g = Glint::start().await;
    let ns = "/v2/metadefs/namespaces/Nope::X";
    let missing = said("Namespace Nope::X not found");
    for r in [
        g.delete(ns),
        g.put(ns).json(&json!({"namespace": "Nope::X"})),
        g.get(&format!("{ns}/properties")),
        g.get(&format!("{ns}/objects")),
        g.get(&format!("{ns}/tags")),
        g.delete(&format!("{ns}/objects")),
    ] {
        assert_eq!(refusal(r, StatusCode::NOT_FOUND).await, missing);
    }
    assert_eq!(
        refusal(g.get(ns), StatusCode::NOT_FOUND).await,
        said("Metadata definition namespace=Nope::X was not found.")
    );
}

#[tokio::test]
async fn refusals_to_another_project_are_worded_as_glance_words_them() {
    use glint_blackbox::keystone::{
        demo_token, keystone, keystone_admin, project_scope, start_glint, token,
    };
    let g = start_glint(&[]).await;
    let admin = token("admin", &keystone().admin_password, project_scope("admin")).await;
    let demo = demo_token().await;
    let projects = keystone_admin(reqwest::Method::GET, "/projects?name=demo", None).await;
    let demo_project = projects["projects"][0]["id"].as_str().unwrap().to_owned();
    let as_admin = |r: reqwest::RequestBuilder| r.header("x-auth-token", admin.as_str());
    let as_demo = |r: reqwest::RequestBuilder| r.header("x-auth-token", demo.as_str());

    let created = |body: Value| {
        let r = as_admin(g.post("/v2/images")).json(&body);
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let image: Value = r.json().await.unwrap();
            image["id"].as_str().unwrap().to_owned()
        }
    };
    let shared = created(json!({"name": "s", "visibility": "shared"})).await;
    let r = as_admin(g.post(&format!("/v2/images/{shared}/members")))
        .json(&json!({"member": demo_project}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let r = as_demo(g.put(&format!("/v2/images/{shared}/members/{demo_project}")))
        .json(&json!({"status": "maybe"}));
    assert_eq!(
        refusal(r, StatusCode::BAD_REQUEST).await,
        said(r#"Incorrect request: Status must be "pending", "accepted" or "rejected"."#)
    );
    // A member may change neither the image nor its visibility; the visibility rule is met first.
    let r = as_demo(g.patch(
        &format!("/v2/images/{shared}"),
        json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
    ));
    assert_eq!(
        refusal(r, StatusCode::FORBIDDEN).await,
        said("You are not authorized to complete communitize_image action.")
    );
    let r = as_demo(g.put(&format!("/v2/images/{shared}/tags/x")));
    assert_eq!(
        refusal(r, StatusCode::FORBIDDEN).await,
        said("You are not authorized to complete modify_image action.")
    );

    let r = as_demo(g.post("/v2/images")).json(&json!({"name": "o", "owner": "someoneelse"}));
    assert_eq!(
        refusal(r, StatusCode::FORBIDDEN).await,
        "Access was denied to this resource.<br /><br />\nYou are not permitted to create images owned by 'someoneelse'\n\n"
    );

    // A private image of another project: each API words its absence its own way.
    let private = created(json!({"name": "p"})).await;
    for (r, wording) in [
        (
            as_demo(g.put(&format!("/v2/images/{private}/tags/x"))),
            format!("Image {private} not found."),
        ),
        (
            as_demo(g.delete(&format!("/v2/images/{private}"))),
            format!("Failed to find image {private} to delete"),
        ),
        (
            as_demo(g.get(&format!("/v2/images/{private}"))),
            format!("No image found with ID {private}"),
        ),
    ] {
        assert_eq!(refusal(r, StatusCode::NOT_FOUND).await, said(&wording));
    }
}

#[tokio::test]
async fn allow_lists_a_routes_methods_in_glances_order() {
    let g = Glint::start().await;
    let img = g.create(json!({"name": "allow"})).await;
    let id = img["id"].as_str().unwrap();
    for (path, allow) in [
        (format!("/v2/images/{id}"), "GET, PATCH, DELETE"),
        (format!("/v2/images/{id}/tags/t"), "PUT, DELETE"),
        (format!("/v2/images/{id}/members/p"), "GET, PUT, DELETE"),
        (format!("/v2/images/{id}/file"), "GET, PUT"),
        (format!("/v2/cache/{id}"), "DELETE, PUT"),
        ("/v2/metadefs/namespaces/n".to_owned(), "GET, PUT, DELETE"),
        (
            "/v2/metadefs/namespaces/n/tags/t".to_owned(),
            "GET, POST, PUT, DELETE",
        ),
    ] {
        let r = g
            .client
            .request(method("FOO"), g.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(r.headers()["allow"], allow, "{path}");
    }
}

#[tokio::test]
async fn metadefs_come_back_in_the_order_they_were_added() {
    let g = Glint::start().await;
    let body = json!({
        "namespace": "OS::Order",
        "resource_type_associations": [
            {"name": "OS::Nova::Server", "prefix": "s_"},
            {"name": "OS::Cinder::Volume"},
        ],
        "tags": [{"name": "zt"}, {"name": "at"}, {"name": "mt"}],
        "objects": [{"name": "zo"}, {"name": "ao"}],
    });
    let r = g
        .post("/v2/metadefs/namespaces")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    // The 201 shows the associations as the request wrote them.
    assert_eq!(
        created["resource_type_associations"],
        json!([{"name": "OS::Nova::Server", "prefix": "s_"}, {"name": "OS::Cinder::Volume"}])
    );

    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = async |path: &str| -> Value {
        let r = g.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    };
    let shown = get("/v2/metadefs/namespaces/OS::Order").await;
    assert_eq!(
        names(&shown["resource_type_associations"]),
        ["OS::Nova::Server", "OS::Cinder::Volume"]
    );
    // Tags newest first, as Glance's tag repository lists them (ties by the order added).
    assert_eq!(names(&shown["tags"]), ["mt", "at", "zt"]);
    assert_eq!(names(&shown["objects"]), ["zo", "ao"]);
    let associations = get("/v2/metadefs/namespaces/OS::Order/resource_types").await;
    assert_eq!(
        names(&associations["resource_type_associations"]),
        ["OS::Nova::Server", "OS::Cinder::Volume"]
    );
    let tags = get("/v2/metadefs/namespaces/OS::Order/tags").await;
    assert_eq!(names(&tags["tags"]), ["mt", "at", "zt"]);
    let oldest_first = get("/v2/metadefs/namespaces/OS::Order/tags?sort_dir=asc").await;
    assert_eq!(names(&oldest_first["tags"]), ["zt", "at", "mt"]);
    let objects = get("/v2/metadefs/namespaces/OS::Order/objects").await;
    assert_eq!(names(&objects["objects"]), ["zo", "ao"]);
    let types = get("/v2/metadefs/resource_types").await;
    assert_eq!(
        names(&types["resource_types"]),
        ["OS::Nova::Server", "OS::Cinder::Volume"]
    );
}
