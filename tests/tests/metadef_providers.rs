//! Metadef providers: the real binary with the `dir` provider plugin serving
//! Glance's bundled definitions files (read from `shared/reference/metadefs`
//! beside the clone), compared with the same files loaded into the database
//! by `glint metadefs load`.

use std::path::{Path, PathBuf};
use std::process::Command;

use glint_blackbox::{Glint, StatusCode, target_dir};
use serde_json::{Value, json};

const BUNDLED_COUNT: usize = 32;

fn bundled_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/metadefs");
    assert!(
        dir.is_dir(),
        "the bundled definitions are missing: expected {} (shared/ beside the clone)",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

/// A configuration with one `dir` provider named `bundled` serving `path`.
fn provider_config(path: &Path, extra: &str) -> String {
    format!(
        "[metadefs.providers.bundled]\ndriver = \"dir\"\noptions = {{ path = {:?}{extra} }}\n",
        path.to_str().unwrap()
    )
}

async fn with_provider(path: &Path) -> Glint {
    Glint::start_with_metadefs(tempfile::tempdir().unwrap(), &provider_config(path, "")).await
}

/// Loads the definitions files at `path` into the database of `data_dir`
/// with `glint metadefs load`.
fn load_into(data_dir: &Path, path: &Path) {
    let out = Command::new(target_dir().join("glint"))
        .args(["metadefs", "load"])
        .arg(path)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run glint metadefs load");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server whose database holds the bundled files, loaded by `glint metadefs load`.
async fn with_loaded_files() -> Glint {
    let data_dir = tempfile::tempdir().unwrap();
    load_into(data_dir.path(), &bundled_dir());
    Glint::start_in(data_dir).await
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(g: &Glint, path: &str) -> Value {
    let (status, body) = send(g.get(path)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The body without its timestamps, which say when each copy was made.
fn without_timestamps(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("created_at");
            map.remove("updated_at");
            for value in map.values_mut() {
                *value = without_timestamps(value.take());
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = without_timestamps(item.take());
            }
        }
        _ => {}
    }
    v
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {list}"))
        .iter()
        .map(|item| {
            item.get("namespace")
                .or_else(|| item.get("name"))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Every page of a namespace list, following `next`.
async fn walk(g: &Glint, first: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = get(g, &path).await;
        all.extend(names(&page, "namespaces"));
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => return all,
        }
    }
}

#[tokio::test]
async fn provided_namespaces_read_exactly_like_loaded_ones() {
    let provided = with_provider(&bundled_dir()).await;
    let loaded = with_loaded_files().await;

    let by_name = "/v2/metadefs/namespaces?limit=100&sort_key=namespace&sort_dir=asc";
    let provided_names = names(&get(&provided, by_name).await, "namespaces");
    let loaded_names = names(&get(&loaded, by_name).await, "namespaces");
    assert_eq!(provided_names.len(), BUNDLED_COUNT);
    assert_eq!(provided_names, loaded_names);

    for name in &provided_names {
        for suffix in [
            "",
            "/objects",
            "/properties",
            "/tags",
            "/resource_types",
            "?resource_type=OS::Glance::Image",
        ] {
            let path = format!("/v2/metadefs/namespaces/{name}{suffix}");
            let (a, b) = (get(&provided, &path).await, get(&loaded, &path).await);
            assert_eq!(without_timestamps(a), without_timestamps(b), "{path}");
        }
    }
    // Single items, by their names in the show document.
    let ns = "OS::Software::DBMS";
    let doc = get(&provided, &format!("/v2/metadefs/namespaces/{ns}")).await;
    let object = doc["objects"][0]["name"].as_str().unwrap();
    for path in [
        format!("/v2/metadefs/namespaces/{ns}/objects/{object}"),
        "/v2/metadefs/namespaces/OS::Compute::Hypervisor/properties/hypervisor_type".to_owned(),
    ] {
        let (a, b) = (get(&provided, &path).await, get(&loaded, &path).await);
        assert_eq!(without_timestamps(a), without_timestamps(b), "{path}");
    }
    // Provided timestamps are well-formed, like stored ones.
    assert!(doc["created_at"].as_str().unwrap().ends_with('Z'));

    // Filters select the same namespaces from either source.
    for query in [
        "resource_types=OS::Nova::Flavor",
        "resource_types=OS::Cinder::Volume,OS::Glance::Image",
        "visibility=public",
        "visibility=private",
    ] {
        let path = format!("{by_name}&{query}");
        assert_eq!(
            names(&get(&provided, &path).await, "namespaces"),
            names(&get(&loaded, &path).await, "namespaces"),
            "{query}"
        );
    }

    // Paging walks every provided namespace once, in order, in both directions.
    let paged = walk(
        &provided,
        "/v2/metadefs/namespaces?limit=7&sort_key=namespace&sort_dir=asc",
    )
    .await;
    assert_eq!(paged, provided_names);
    let newest_first = walk(&provided, "/v2/metadefs/namespaces?limit=5").await;
    let mut sorted = newest_first.clone();
    sorted.sort();
    assert_eq!(sorted, provided_names, "the default order pages completely");

    // Resource types count the provided namespaces' associations.
    assert_eq!(
        names(
            &get(&provided, "/v2/metadefs/resource_types").await,
            "resource_types"
        ),
        names(
            &get(&loaded, "/v2/metadefs/resource_types").await,
            "resource_types"
        )
    );
}

#[tokio::test]
async fn writes_to_provided_namespaces_are_refused() {
    let g = with_provider(&bundled_dir()).await;
    let ns = "/v2/metadefs/namespaces/OS::Compute::Hypervisor";
    let doc = get(&g, ns).await;
    let property = json!({"name": "p", "title": "P", "type": "string"});
    let writes = [
        g.put(ns)
            .json(&json!({"namespace": "OS::Compute::Hypervisor"})),
        g.delete(ns),
        g.post(&format!("{ns}/objects")).json(&json!({"name": "o"})),
        g.put(&format!("{ns}/objects/o"))
            .json(&json!({"name": "o"})),
        g.delete(&format!("{ns}/objects/o")),
        g.delete(&format!("{ns}/objects")),
        g.post(&format!("{ns}/properties")).json(&property),
        g.put(&format!("{ns}/properties/hypervisor_type"))
            .json(&property),
        g.delete(&format!("{ns}/properties/hypervisor_type")),
        g.delete(&format!("{ns}/properties")),
        g.post(&format!("{ns}/tags/new-tag")),
        g.post(&format!("{ns}/tags"))
            .json(&json!({"tags": [{"name": "a"}]})),
        g.put(&format!("{ns}/tags/a")).json(&json!({"name": "b"})),
        g.delete(&format!("{ns}/tags/a")),
        g.delete(&format!("{ns}/tags")),
        g.post(&format!("{ns}/resource_types"))
            .json(&json!({"name": "OS::Nova::Flavor"})),
        g.delete(&format!("{ns}/resource_types/OS::Glance::Image")),
    ];
    for request in writes {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let r = g.client.execute(request).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{what}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("namespace=OS::Compute::Hypervisor is read-only")
                && body.contains("'bundled'"),
            "{what}: {body}"
        );
    }
    // Glance's error shape.
    let (_, body) = send(g.delete(ns).header("accept", "application/json")).await;
    assert_eq!(body["code"], "403 Forbidden", "{body}");
    // Nothing changed.
    assert_eq!(get(&g, ns).await, doc);

    // The name is taken: a database namespace of that name cannot be created.
    let (status, body) = send(
        g.post("/v2/metadefs/namespaces")
            .json(&json!({"namespace": "OS::Compute::Hypervisor"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn database_namespaces_work_beside_provided_ones() {
    // A database namespace loaded before the provider existed, with a name
    // the provider serves: hidden while the provider serves that name.
    let data_dir = tempfile::tempdir().unwrap();
    let file = data_dir.path().join("hypervisor-copy.json");
    std::fs::write(
        &file,
        r#"{"namespace": "OS::Compute::Hypervisor", "description": "database copy"}"#,
    )
    .unwrap();
    load_into(data_dir.path(), &file);

    let g = Glint::start_with_metadefs(data_dir, &provider_config(&bundled_dir(), "")).await;
    let hypervisor = get(&g, "/v2/metadefs/namespaces/OS::Compute::Hypervisor").await;
    assert_eq!(hypervisor["display_name"], "Hypervisor Selection");
    assert!(
        g.log().contains(
            "the database namespace OS::Compute::Hypervisor is hidden: metadef provider bundled"
        ),
        "{}",
        g.log()
    );

    // A database namespace: created, read, changed and deleted as before.
    let (status, body) = send(g.post("/v2/metadefs/namespaces").json(&json!({
        "namespace": "Glint::Db", "visibility": "public",
        "properties": {"speed": {"title": "Speed", "type": "integer"}},
        "resource_type_associations": [{"name": "Glint::Thing"}],
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let all = walk(&g, "/v2/metadefs/namespaces?limit=10").await;
    assert_eq!(all.len(), BUNDLED_COUNT + 1, "{all:?}");
    assert!(all.contains(&"Glint::Db".to_owned()));
    let (status, _) = send(
        g.post("/v2/metadefs/namespaces/Glint::Db/objects")
            .json(&json!({"name": "box"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    get(&g, "/v2/metadefs/namespaces/Glint::Db/objects/box").await;
    let types = names(
        &get(&g, "/v2/metadefs/resource_types").await,
        "resource_types",
    );
    assert!(types.contains(&"Glint::Thing".to_owned()));
    assert!(types.contains(&"OS::Nova::Flavor".to_owned()));
    // Renaming a database namespace to a provided name is refused.
    let (status, _) = send(
        g.put("/v2/metadefs/namespaces/Glint::Db")
            .json(&json!({"namespace": "OS::Compute::Libvirt"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(g.delete("/v2/metadefs/namespaces/Glint::Db")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(g.get("/v2/metadefs/namespaces/Glint::Db")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bad_file_is_skipped_with_a_log_line() {
    let files = tempfile::tempdir().unwrap();
    std::fs::copy(
        bundled_dir().join("compute-hypervisor.json"),
        files.path().join("compute-hypervisor.json"),
    )
    .unwrap();
    std::fs::write(files.path().join("broken.json"), "{ not json").unwrap();
    // Well-formed JSON that breaks a rule of `glint metadefs load`.
    std::fs::write(
        files.path().join("untitled.json"),
        r#"{"namespace": "OS::Untitled", "properties": {"p": {"type": "string"}}}"#,
    )
    .unwrap();
    let g = with_provider(files.path()).await;
    let list = get(&g, "/v2/metadefs/namespaces").await;
    assert_eq!(names(&list, "namespaces"), ["OS::Compute::Hypervisor"]);
    let (status, _) = send(g.get("/v2/metadefs/namespaces/OS::Untitled")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let log = g.log();
    let line = |file: &str| {
        log.lines()
            .find(|line| line.contains(file))
            .unwrap_or_else(|| panic!("no log line names {file}:\n{log}"))
            .to_owned()
    };
    assert!(line("broken.json").contains("not valid JSON"), "{log}");
    assert!(
        line("untitled.json").contains("'title' is a required property"),
        "{log}"
    );
}

#[tokio::test]
async fn a_metadef_plugin_listed_in_plugin_paths_is_loaded_as_one() {
    let data_dir = tempfile::tempdir().unwrap();
    let file = data_dir.path().join("glint.toml");
    std::fs::write(&file, provider_config(&bundled_dir(), "")).unwrap();
    let paths = format!(
        "[{:?}, {:?}]",
        glint_sdk_testkit::cdylib_path("glint-store-file"),
        glint_sdk_testkit::cdylib_path("glint-metadef-dir")
    );
    let g = Glint::start_in_with(
        data_dir,
        &[
            ("GLINT_CONFIG", file.to_str().unwrap()),
            ("GLINT_PLUGINS__PATHS", &paths),
        ],
    )
    .await;
    let list = get(&g, "/v2/metadefs/namespaces?limit=100").await;
    assert_eq!(names(&list, "namespaces").len(), BUNDLED_COUNT);
    // The store registry leaves it alone: no refusal is logged.
    assert!(!g.log().contains("is not a Glint"), "{}", g.log());
}

#[tokio::test]
async fn a_name_served_by_two_providers_belongs_to_the_first_by_name() {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(
        files.path().join("hypervisor.json"),
        r#"{"namespace": "OS::Compute::Hypervisor", "display_name": "second copy"}"#,
    )
    .unwrap();
    std::fs::write(
        files.path().join("extra.json"),
        r#"{"namespace": "Glint::Extra", "visibility": "public"}"#,
    )
    .unwrap();
    let config = format!(
        "{}[metadefs.providers.zeta]\ndriver = \"dir\"\noptions = {{ path = {:?}, owner = \"p1\" }}\n",
        provider_config(&bundled_dir(), ""),
        files.path().to_str().unwrap()
    );
    let g = Glint::start_with_metadefs(tempfile::tempdir().unwrap(), &config).await;
    let hypervisor = get(&g, "/v2/metadefs/namespaces/OS::Compute::Hypervisor").await;
    assert_eq!(hypervisor["display_name"], "Hypervisor Selection");
    let extra = get(&g, "/v2/metadefs/namespaces/Glint::Extra").await;
    assert_eq!(extra["owner"], "p1", "the owner option applies");
    let all = walk(&g, "/v2/metadefs/namespaces?limit=50").await;
    assert_eq!(all.len(), BUNDLED_COUNT + 1);
    assert!(
        g.log()
            .contains("namespace OS::Compute::Hypervisor is already served by provider bundled"),
        "{}",
        g.log()
    );
    // Each provider names itself in its refusals.
    let r = g
        .delete("/v2/metadefs/namespaces/Glint::Extra")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("'zeta'"));
}
