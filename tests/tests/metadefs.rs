//! Metadata definitions: namespaces, objects, properties, tags and resource
//! types, over HTTP against the real binary (noauth: an administrator).

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create_namespace(g: &Glint, body: Value) -> Value {
    let (status, v) = send(g.post("/v2/metadefs/namespaces").json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {v}");
    v
}

#[tokio::test]
async fn namespace_create_show_update_delete() {
    let g = Glint::start().await;
    let r = g
        .post("/v2/metadefs/namespaces")
        .json(&json!({
            "namespace": "OS::Test", "display_name": "Test", "visibility": "public",
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "t_"}],
            "properties": {"speed": {"title": "Speed", "type": "integer", "minimum": 1}},
            "objects": [{"name": "Box", "required": ["size"], "properties": {"size": {"title": "Size", "type": "string"}}}],
            "tags": [{"name": "fast"}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["location"],
        g.url("/v2/metadefs/namespaces/OS::Test").as_str()
    );
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["self"], "/v2/metadefs/namespaces/OS::Test");
    assert_eq!(created["schema"], "/v2/schemas/metadefs/namespace");
    assert_eq!(created["protected"], false);
    // Unset fields are left out, as Glance leaves them out.
    assert!(created.get("description").is_none() && created.get("owner").is_none());

    let (status, shown) = send(g.get("/v2/metadefs/namespaces/OS::Test")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["properties"]["speed"]["minimum"], 1);
    assert_eq!(shown["objects"][0]["name"], "Box");
    assert_eq!(
        shown["objects"][0]["self"],
        "/v2/metadefs/namespaces/OS::Test/objects/Box"
    );
    assert_eq!(shown["tags"], json!([{"name": "fast"}]));
    assert_eq!(shown["resource_type_associations"][0]["prefix"], "t_");

    // The association's prefix applies to property names on request.
    let (_, prefixed) =
        send(g.get("/v2/metadefs/namespaces/OS::Test?resource_type=OS::Glance::Image")).await;
    assert!(prefixed["properties"].get("t_speed").is_some());
    assert_eq!(prefixed["objects"][0]["required"], json!(["t_size"]));

    // PUT replaces: what is left out takes its default.
    let (status, updated) = send(
        g.put("/v2/metadefs/namespaces/OS::Test")
            .json(&json!({"namespace": "OS::Renamed", "description": "d"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["visibility"], "private");
    assert!(updated.get("display_name").is_none());
    let (status, _) = send(g.get("/v2/metadefs/namespaces/OS::Test")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, objects) = send(g.get("/v2/metadefs/namespaces/OS::Renamed/objects")).await;
    assert_eq!(objects["objects"][0]["name"], "Box");

    let (status, _) = send(g.delete("/v2/metadefs/namespaces/OS::Renamed")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(g.delete("/v2/metadefs/namespaces/OS::Renamed")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Resource types outlive the namespaces that named them.
    let (_, types) = send(g.get("/v2/metadefs/resource_types")).await;
    assert_eq!(types["resource_types"][0]["name"], "OS::Glance::Image");
}

#[tokio::test]
async fn bad_requests_get_glance_statuses() {
    let g = Glint::start().await;
    create_namespace(&g, json!({"namespace": "a"})).await;
    for (body, expected) in [
        (json!({"namespace": "a"}), StatusCode::CONFLICT),
        (
            json!({"namespace": "b", "self": "/x"}),
            StatusCode::FORBIDDEN,
        ),
        (
            json!({"namespace": "b", "created_at": "x"}),
            StatusCode::FORBIDDEN,
        ),
        (json!({"display_name": "no name"}), StatusCode::BAD_REQUEST),
        (
            json!({"namespace": "b", "protected": "yes"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"namespace": "b", "visibility": "shared"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"namespace": "b", "unknown": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"namespace": "b", "properties": {"p": {"type": "string"}}}),
            StatusCode::BAD_REQUEST,
        ),
        (json!([]), StatusCode::BAD_REQUEST),
    ] {
        let (status, v) = send(g.post("/v2/metadefs/namespaces").json(&body)).await;
        assert_eq!(status, expected, "{body}: {v}");
    }
    let (status, _) = send(
        g.post("/v2/metadefs/namespaces")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for query in [
        "limit=x",
        "limit=-1",
        "sort_dir=up",
        "sort_key=owner",
        "visibility=shared",
    ] {
        let (status, _) = send(g.get(&format!("/v2/metadefs/namespaces?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
    }
    let (status, _) = send(g.get("/v2/metadefs/namespaces?marker=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing was created by the refused requests.
    let (_, list) = send(g.get("/v2/metadefs/namespaces")).await;
    assert_eq!(list["namespaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let g = Glint::start().await;
    for (name, visibility, rt) in [
        ("n1", "public", "OS::Nova::Flavor"),
        ("n2", "private", "OS::Glance::Image"),
        ("n3", "public", "OS::Glance::Image"),
    ] {
        create_namespace(
            &g,
            json!({"namespace": name, "visibility": visibility, "resource_type_associations": [{"name": rt}]}),
        )
        .await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["namespace"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = send(g.get("/v2/metadefs/namespaces?sort_key=namespace&sort_dir=asc")).await;
    assert_eq!(names(&all), ["n1", "n2", "n3"]);
    assert_eq!(all["schema"], "/v2/schemas/metadefs/namespaces");
    assert_eq!(
        all["first"],
        "/v2/metadefs/namespaces?sort_key=namespace&sort_dir=asc"
    );
    assert!(all.get("next").is_none());
    assert_eq!(
        all["namespaces"][0]["resource_type_associations"][0]["name"],
        "OS::Nova::Flavor"
    );

    let (_, public) =
        send(g.get("/v2/metadefs/namespaces?visibility=public&sort_key=namespace&sort_dir=asc"))
            .await;
    assert_eq!(names(&public), ["n1", "n3"]);
    let (_, images) = send(g.get("/v2/metadefs/namespaces?resource_types=OS::Glance::Image,OS::Cinder::Volume&sort_key=namespace&sort_dir=asc")).await;
    assert_eq!(names(&images), ["n2", "n3"]);

    let mut walked = Vec::new();
    let mut path = "/v2/metadefs/namespaces?limit=2&sort_key=namespace&sort_dir=desc".to_owned();
    loop {
        let (status, page) = send(g.get(&path)).await;
        assert_eq!(status, StatusCode::OK);
        walked.extend(names(&page));
        match page.get("next").and_then(Value::as_str) {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, ["n3", "n2", "n1"]);
}

#[tokio::test]
async fn objects_properties_and_associations() {
    let g = Glint::start().await;
    create_namespace(&g, json!({"namespace": "ns"})).await;
    let base = "/v2/metadefs/namespaces/ns";

    let object = json!({"name": "o", "description": "d", "properties": {"p": {"title": "P", "type": "string"}}});
    let (status, created) = send(g.post(&format!("{base}/objects")).json(&object)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["schema"], "/v2/schemas/metadefs/object");
    // The answer holds what was written; `required` was not.
    assert_eq!(created.get("required"), None);
    let (status, _) = send(g.post(&format!("{base}/objects")).json(&object)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, renamed) = send(
        g.put(&format!("{base}/objects/o"))
            .json(&json!({"name": "o2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["self"], "/v2/metadefs/namespaces/ns/objects/o2");
    let (status, _) = send(g.get(&format!("{base}/objects/o"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = send(g.get(&format!("{base}/objects"))).await;
    assert_eq!(list["objects"][0]["name"], "o2");

    let property = json!({"name": "cpu", "title": "CPU", "type": "string", "enum": ["a", "b"]});
    let (status, created) = send(g.post(&format!("{base}/properties")).json(&property)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created, property);
    let (status, _) = send(
        g.post(&format!("{base}/properties"))
            .json(&json!({"name": "x", "title": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, props) = send(g.get(&format!("{base}/properties"))).await;
    assert_eq!(props["properties"]["cpu"]["enum"], json!(["a", "b"]));
    let (status, shown) = send(g.get(&format!("{base}/properties/cpu"))).await;
    assert_eq!((status, shown), (StatusCode::OK, property));

    let (status, assoc) = send(g.post(&format!("{base}/resource_types")).json(
        &json!({"name": "OS::Cinder::Volume", "prefix": "c_", "properties_target": "image"}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(assoc["properties_target"], "image");
    let (status, _) = send(
        g.post(&format!("{base}/resource_types"))
            .json(&json!({"name": "OS::Cinder::Volume"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, assocs) = send(g.get(&format!("{base}/resource_types"))).await;
    assert_eq!(assocs["resource_type_associations"][0]["prefix"], "c_");
    let (status, _) = send(g.delete(&format!("{base}/resource_types/OS::Cinder::Volume"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(g.delete(&format!("{base}/resource_types/OS::Cinder::Volume"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for path in ["objects", "properties"] {
        let (status, _) = send(g.delete(&format!("{base}/{path}"))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (_, shown) = send(g.get(base)).await;
    assert!(shown.get("objects").is_none() && shown.get("properties").is_none());
    let (status, _) = send(g.get("/v2/metadefs/namespaces/missing/objects")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tags_replace_append_and_rename() {
    let g = Glint::start().await;
    create_namespace(&g, json!({"namespace": "ns", "tags": [{"name": "old"}]})).await;
    let tags = "/v2/metadefs/namespaces/ns/tags";
    let names = async |query: &str| -> Vec<String> {
        let (_, v) = send(g.get(&format!("{tags}{query}"))).await;
        v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, created) = send(
        g.post(tags)
            .json(&json!({"tags": [{"name": "a"}, {"name": "b"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created, json!({"tags": [{"name": "a"}, {"name": "b"}]}));
    assert_eq!(names("?sort_key=name&sort_dir=asc").await, ["a", "b"]);
    let (status, _) = send(
        g.post(tags)
            .header("X-Openstack-Append", "True")
            .json(&json!({"tags": [{"name": "c"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(names("?sort_key=name&sort_dir=asc").await, ["a", "b", "c"]);
    assert_eq!(
        names("?sort_key=name&sort_dir=asc&limit=1&marker=a").await,
        ["b"]
    );
    let (status, _) = send(
        g.post(tags)
            .header("X-Openstack-Append", "True")
            .json(&json!({"tags": [{"name": "c"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, one) = send(g.post(&format!("{tags}/d"))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(one["name"], "d");
    assert!(one["created_at"].is_string());
    let (status, renamed) = send(g.put(&format!("{tags}/d")).json(&json!({"name": "e"}))).await;
    assert_eq!(
        (status, renamed["name"].clone()),
        (StatusCode::OK, json!("e"))
    );
    let (status, _) = send(g.get(&format!("{tags}/d"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(g.delete(&format!("{tags}/e"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(g.delete(tags)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(names("").await.is_empty());
}

#[tokio::test]
async fn protected_namespaces_keep_their_content() {
    let g = Glint::start().await;
    create_namespace(
        &g,
        json!({"namespace": "p", "protected": true, "tags": [{"name": "t"}],
               "objects": [{"name": "o"}], "resource_type_associations": [{"name": "R"}]}),
    )
    .await;
    let base = "/v2/metadefs/namespaces/p";
    for path in [
        "",
        "/objects",
        "/objects/o",
        "/tags",
        "/tags/t",
        "/properties",
        "/resource_types/R",
    ] {
        let (status, _) = send(g.delete(&format!("{base}{path}"))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, shown) = send(g.get(base)).await;
    assert_eq!(shown["tags"], json!([{"name": "t"}]));
    let (status, _) = send(
        g.put(base)
            .json(&json!({"namespace": "p", "protected": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(g.delete(base)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn schemas_are_served() {
    let g = Glint::start().await;
    for name in [
        "namespace",
        "namespaces",
        "object",
        "objects",
        "property",
        "properties",
        "resource_type",
        "resource_types",
        "tag",
        "tags",
    ] {
        let (status, v) = send(g.get(&format!("/v2/schemas/metadefs/{name}"))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let expected = match name {
            "resource_type" => "resource_type_association",
            "resource_types" => "resource_type_associations",
            other => other,
        };
        assert_eq!(v["name"], expected);
    }
    let (status, _) = send(g.get("/v2/schemas/metadefs/nothing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
