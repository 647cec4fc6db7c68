//! Answers where Glance 33 does something other than the obvious, found by sending the same
//! requests to the reference Glance and to Glint: which status, which wording, which layout of
//! the error body, which schema. Each expectation here was Glance's answer.

use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

async fn queued_image(g: &Glint) -> String {
    let image = g
        .create(json!({"name": "p", "disk_format": "raw", "container_format": "bare"}))
        .await;
    image["id"].as_str().unwrap().to_owned()
}

/// The message `request` is refused with (as JSON), after checking the status.
async fn refused(request: reqwest::RequestBuilder, status: StatusCode) -> String {
    let r = request
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    message(r, status).await
}

/// `message` of a JSON error answer, after checking its status.
async fn message(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn deactivate_and_reactivate_move_only_between_active_and_deactivated() {
    let g = Glint::start().await;
    let id = queued_image(&g).await;
    for action in ["reactivate", "deactivate"] {
        assert_eq!(
            refused(
                g.post(&format!("/v2/images/{id}/actions/{action}")),
                StatusCode::FORBIDDEN
            )
            .await,
            format!("Not allowed to {action} image in status 'queued'<br /><br />\n\n\n")
        );
        assert_eq!(g.show(&id).await["status"], "queued", "after {action}");
    }
}

#[tokio::test]
async fn some_refusals_are_worded_as_a_detail_under_the_stock_explanation() {
    let g = Glint::start().await;
    let id = queued_image(&g).await;
    let remove_name = || {
        g.patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "remove", "path": "/name"}]),
        )
    };
    assert_eq!(
        refused(remove_name(), StatusCode::FORBIDDEN).await,
        "Access was denied to this resource.<br /><br />\nProperty name may not be removed.\n\n"
    );
    let r = remove_name()
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "403 Forbidden\n\nAccess was denied to this resource.\n\n Property name may not be removed.  "
    );
    assert_eq!(
        refused(
            g.patch(
                &format!("/v2/images/{id}"),
                json!([{"op": "remove", "path": "/nonexistent"}]),
            ),
            StatusCode::CONFLICT
        )
        .await,
        "There was a conflict when trying to complete your request.<br /><br />\nProperty nonexistent does not exist.\n\n"
    );
    // Most messages are the explanation itself.
    assert_eq!(
        refused(
            g.patch(
                &format!("/v2/images/{id}"),
                json!([{"op": "replace", "path": "/status", "value": "active"}]),
            ),
            StatusCode::FORBIDDEN
        )
        .await,
        "Attribute 'status' is read-only.<br /><br />\n\n\n"
    );
}

#[tokio::test]
async fn wrong_methods_and_media_types_name_what_was_sent() {
    let g = Glint::start().await;
    let id = queued_image(&g).await;
    let r = g
        .delete("/v2/images")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, POST");
    assert_eq!(
        message(r, StatusCode::METHOD_NOT_ALLOWED).await,
        "The method DELETE is not allowed for this resource. <br /><br />\n"
    );

    let r = g
        .client
        .patch(g.url(&format!("/v2/images/{id}")))
        .json(&json!([{"op": "replace", "path": "/name", "value": "x"}]))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let expected = "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch";
    assert_eq!(r.headers()["accept-patch"], expected);
    assert!(
        r.text().await.unwrap().ends_with(&format!(
            "  The request media type application/json is not supported by this server.\n<br /><br />\nImage PATCH expects Content-Type one of: {expected}\n </body>\n</html>"
        ))
    );

    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "text/plain")
        .header("accept", "text/plain")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        r.text().await.unwrap(),
        "415 Unsupported Media Type\n\nThe request media type text/plain is not supported by this server. \n\n Invalid content type text/plain"
    );
}

#[tokio::test]
async fn locations_cannot_be_patched_while_they_are_hidden() {
    let g = Glint::start().await;
    let id = queued_image(&g).await;
    let patch = |ops: Value| {
        g.patch(&format!("/v2/images/{id}"), ops)
            .header("accept", "application/json")
            .send()
    };
    let location = json!({"url": "http://127.0.0.1/x", "metadata": {}});
    let r = patch(json!([{"op": "add", "path": "/locations/-", "value": location}]))
        .await
        .unwrap();
    assert_eq!(
        message(r, StatusCode::FORBIDDEN).await,
        "It's not allowed to add locations if locations are invisible.<br /><br />\n\n\n"
    );
    let r = patch(json!([{"op": "replace", "path": "/locations", "value": []}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = patch(json!([{"op": "add", "path": "/locations", "value": location}]))
        .await
        .unwrap();
    assert_eq!(
        message(r, StatusCode::BAD_REQUEST).await,
        "Invalid JSON pointer for this resource: '/locations'<br /><br />\n\n\n"
    );
    assert_eq!(g.show(&id).await["status"], "queued");
}

#[tokio::test]
async fn list_and_create_accept_what_glance_accepts() {
    let g = Glint::start().await;
    let id = queued_image(&g).await;
    // A sort key given twice, and a sort key without a direction.
    for query in ["sort=name:asc,name:desc", "sort=name:"] {
        let r = g.get(&format!("/v2/images?{query}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{query}");
    }
    // Hash fields on create are checked against the schema, then dropped.
    let created = g
        .create(json!({"name": "h", "os_hash_algo": "sha512", "os_hash_value": "abc"}))
        .await;
    assert_eq!(created["os_hash_algo"], Value::Null);
    assert_eq!(created["os_hash_value"], Value::Null);
    let r = g
        .post("/v2/images")
        .header("accept", "application/json")
        .json(&json!({"os_hash_algo": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Filters that cannot be read.
    for (query, wording) in [
        (
            "created_at=gt:yesterday",
            "Bad \"created_at\" query filter format. Use ISO 8601 DateTime notation.",
        ),
        (
            "created_at=near:2020-01-01T00:00:00Z",
            "Unable to filter on a unknown operator.",
        ),
        (
            "size_min=big",
            "Unable to filter on a range with a non-numeric value.",
        ),
        ("marker=nope", "No image found with ID nope"),
    ] {
        assert_eq!(
            refused(
                g.get(&format!("/v2/images?{query}")),
                StatusCode::BAD_REQUEST
            )
            .await,
            format!("{wording}<br /><br />\n\n\n"),
            "{query}"
        );
    }
    assert_eq!(
        refused(
            g.get(&format!("/v2/images/{}/members", uuid_of(&id))),
            StatusCode::NOT_FOUND
        )
        .await,
        format!("Image {} not found.<br /><br />\n\n\n", uuid_of(&id))
    );
}

/// Another image id than `id`, for a lookup that must miss.
fn uuid_of(id: &str) -> String {
    let mut other: Vec<char> = id.chars().collect();
    other[0] = if other[0] == '0' { '1' } else { '0' };
    other.into_iter().collect()
}

#[tokio::test]
async fn schemas_are_glances_documents() {
    let g = &Glint::start().await;
    let get = |path: &'static str| async move {
        g.get(path)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let image = get("/v2/schemas/image").await;
    assert_eq!(image["properties"]["min_ram"].get("minimum"), None);
    let validation = &image["properties"]["locations"]["items"]["properties"]["validation_data"];
    assert_eq!(
        validation["required"],
        json!(["os_hash_algo", "os_hash_value"])
    );
    assert_eq!(validation["writeOnly"], true);

    let tasks = get("/v2/schemas/tasks").await;
    assert_eq!(
        tasks["links"],
        json!([{"rel": "describedby", "href": "{schema}"}])
    );
    assert_eq!(tasks["properties"].as_object().unwrap().len(), 2);

    // Metadef schemas share their parts through `definitions`.
    let namespace = get("/v2/schemas/metadefs/namespace").await;
    assert_eq!(
        namespace["properties"]["properties"],
        json!({"$ref": "#/definitions/property"})
    );
    assert_eq!(
        namespace["definitions"]["property"]["additionalProperties"]["required"],
        json!(["title", "type"])
    );
    let property = get("/v2/schemas/metadefs/property").await;
    assert_eq!(property["required"], json!(["type", "title", "name"]));
    assert_eq!(property["definitions"]["stringArray"]["minItems"], 1);
    let properties = get("/v2/schemas/metadefs/properties").await;
    assert_eq!(
        properties["properties"]["properties"]["additionalProperties"]["required"],
        json!(["type", "title"])
    );
    assert_eq!(properties["definitions"], property["definitions"]);
}

#[tokio::test]
async fn legacy_import_tasks_check_the_source_now_and_the_rest_when_they_run() {
    let g = Glint::start().await;
    let create = |input: Value| {
        g.post("/v2/tasks")
            .header("accept", "application/json")
            .json(&json!({"type": "import", "input": input}))
            .send()
    };
    for (input, wording) in [
        (json!({}), "Invalid location: None"),
        (
            json!({"import_from": "file:///etc/passwd"}),
            "File based imports are not allowed. Please use a non-local source of image data.",
        ),
        (
            json!({"import_from": "ftp://example.com/x"}),
            "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']",
        ),
    ] {
        let r = create(input.clone()).await.unwrap();
        assert_eq!(
            message(r, StatusCode::BAD_REQUEST).await,
            format!("{wording}<br /><br />\n\n\n"),
            "{input}"
        );
    }
    // A source that passes, without the rest of the input: the task exists, and failed.
    let r = create(json!({"import_from": "http://93.184.215.14/image"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let task: Value = r.json().await.unwrap();
    assert_eq!(task["status"], "failure");
    assert_eq!(
        task["message"],
        "Input does not contain 'import_from_format' field"
    );
    assert_eq!(task["image_id"], Value::Null);
    let images: Value = g
        .get("/v2/images")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(images["images"], json!([]), "no image was made");
}

#[tokio::test]
async fn locations_are_absolute_and_ranges_are_refused_in_glances_words() {
    let g = Glint::start().await;
    let r = g
        .post("/v2/images")
        .json(&json!({"name": "r", "disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = g
        .post("/v2/images")
        .json(&json!({"name": "l"}))
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let other = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, g.url(&format!("/v2/images/{other}")));

    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for (range, status, wording) in [
        (
            "bytes=100-",
            StatusCode::RANGE_NOT_SATISFIABLE,
            "The Range requested is not available.<br /><br />\nInvalid start position in Range header. Start position MUST be in the inclusive range [0, 99].\n\n",
        ),
        (
            "bytes=9-1",
            StatusCode::RANGE_NOT_SATISFIABLE,
            "The Range requested is not available.<br /><br />\nInvalid Range header.\n\n",
        ),
        (
            "bytes=0-1,5-6",
            StatusCode::BAD_REQUEST,
            "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.<br /><br />\n\n\n",
        ),
    ] {
        let r = g
            .get(&format!("/v2/images/{id}/file"))
            .header("range", range)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(message(r, status).await, wording, "{range}");
    }
    let r = g
        .post(&format!("/v2/images/{id}/import"))
        .header("accept", "application/json")
        .json(&json!({"method": {"name": "copy-image"}, "stores": ["nowhere"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        message(r, StatusCode::CONFLICT).await,
        "Store for identifier nowhere not found<br /><br />\n\n\n"
    );
}

#[tokio::test]
async fn metadef_writes_answer_with_what_was_written() {
    let g = Glint::start().await;
    let r = g
        .post("/v2/metadefs/namespaces")
        .json(&json!({
            "namespace": "Parity::NS",
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "pfx_"}],
            "properties": {"size": {"title": "Size", "type": "integer"}},
            "objects": [{"name": "bare"}, {"name": "full", "required": [], "properties": {}}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        created["objects"],
        json!([{"name": "bare"}, {"name": "full", "required": [], "properties": {}}])
    );
    // Stored, an object has every field.
    let stored: Value = g
        .get("/v2/metadefs/namespaces/Parity::NS/objects/bare")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["required"], json!([]));
    let r = g
        .put("/v2/metadefs/namespaces/Parity::NS/objects/bare")
        .json(&json!({"name": "bare", "description": "d"}))
        .send()
        .await
        .unwrap();
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["description"], "d");
    assert!(updated.get("properties").is_none() && updated.get("required").is_none());

    // A property asked for with its resource type's prefix.
    let prefixed = |name: &str| {
        g.get(&format!(
            "/v2/metadefs/namespaces/Parity::NS/properties/{name}?resource_type=OS::Glance::Image"
        ))
        .header("accept", "application/json")
        .send()
    };
    let found: Value = prefixed("pfx_size").await.unwrap().json().await.unwrap();
    assert_eq!(found["name"], "size");
    let r = prefixed("size").await.unwrap();
    assert_eq!(
        message(r, StatusCode::NOT_FOUND).await,
        "Property size does not start with the expected resource type association prefix of 'pfx_'.<br /><br />\n\n\n"
    );

    // A tag given twice in one batch is the conflict of a name already taken.
    let r = g
        .post("/v2/metadefs/namespaces/Parity::NS/tags")
        .header("accept", "application/json")
        .json(&json!({"tags": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        message(r, StatusCode::CONFLICT).await,
        "A metadata tag with name=a already exists in namespace=Parity::NS. (Please note that metadata tag names are case insensitive).<br /><br />\n\n\n"
    );
}

#[tokio::test]
async fn options_is_answered_empty_before_authentication_and_task_pages_keep_their_query() {
    let g = Glint::start().await;
    let r = g
        .client
        .request(reqwest::Method::OPTIONS, g.url("/v2/images"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), 0);

    let list: Value = g
        .get("/v2/tasks?limit=1&type=import")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["first"], "/v2/tasks?limit=1&type=import");
    assert_eq!(
        refused(
            g.get("/v2/tasks/7a5e0b1c-0001-4000-8000-000000000001"),
            StatusCode::NOT_FOUND
        )
        .await,
        "Could not find task 7a5e0b1c-0001-4000-8000-000000000001<br /><br />\n\n\n"
    );
}

#[tokio::test]
async fn head_is_not_a_route_except_for_version_discovery() {
    let g = Glint::start().await;
    let r = g.client.head(g.url("/v2/images")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let r = g.client.head(g.url("/v2/bogus")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = g.client.head(g.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MULTIPLE_CHOICES);
}

#[tokio::test]
async fn an_upload_names_every_format_still_missing() {
    let g = Glint::start().await;
    let upload = |id: &str| {
        g.put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .body("data")
    };
    let bare = g.create(json!({"name": "none"})).await;
    let bare = bare["id"].as_str().unwrap();
    assert_eq!(
        refused(upload(bare), StatusCode::BAD_REQUEST).await,
        "Properties disk_format, container_format must be set prior to saving data.<br /><br />\n\n\n"
    );
    let half = g.create(json!({"name": "half", "disk_format": "raw"})).await;
    let half = half["id"].as_str().unwrap();
    assert_eq!(
        refused(upload(half), StatusCode::BAD_REQUEST).await,
        "Property container_format must be set prior to saving data.<br /><br />\n\n\n"
    );
    assert_eq!(g.show(bare).await["status"], "queued");
    assert_eq!(g.show(half).await["status"], "queued");
}
