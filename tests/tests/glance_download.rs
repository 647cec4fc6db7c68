//! The glance-download import method against a real Keystone and two real
//! Glint servers: the "remote region" is registered in Keystone's catalog as
//! an image service endpoint of a region made for the test, and the local
//! server imports from it with the caller's token.

use std::time::Duration;

use futures::FutureExt;
use glint_blackbox::keystone::{demo_token, keystone_admin, start_glint};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::{Value, json};

/// What the test added to Keystone's catalog, removed at the end.
struct Registration {
    region: String,
    endpoint: String,
    /// The image service, when the test had to create it.
    service: Option<String>,
}

/// Register `url` as the public image endpoint of a new region.
async fn register_remote(url: &str) -> Registration {
    let region = format!("RegionTwo-{}", uuid::Uuid::new_v4().simple());
    keystone_admin(
        reqwest::Method::POST,
        "/regions",
        Some(json!({"region": {"id": region, "description": "glance-download test"}})),
    )
    .await;
    let services = keystone_admin(reqwest::Method::GET, "/services?type=image", None).await;
    let (service_id, created) = match services["services"][0]["id"].as_str() {
        Some(id) => (id.to_owned(), false),
        None => {
            let created = keystone_admin(
                reqwest::Method::POST,
                "/services",
                Some(json!({"service": {"type": "image", "name": "glance-download-test"}})),
            )
            .await;
            (created["service"]["id"].as_str().unwrap().to_owned(), true)
        }
    };
    let endpoint = keystone_admin(
        reqwest::Method::POST,
        "/endpoints",
        Some(json!({"endpoint": {
            "service_id": service_id, "interface": "public", "region_id": region, "url": url}})),
    )
    .await["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Registration {
        region,
        endpoint,
        service: created.then_some(service_id),
    }
}

async fn unregister(reg: &Registration) {
    keystone_admin(
        reqwest::Method::DELETE,
        &format!("/endpoints/{}", reg.endpoint),
        None,
    )
    .await;
    keystone_admin(
        reqwest::Method::DELETE,
        &format!("/regions/{}", reg.region),
        None,
    )
    .await;
    if let Some(service) = &reg.service {
        keystone_admin(
            reqwest::Method::DELETE,
            &format!("/services/{service}"),
            None,
        )
        .await;
    }
}

async fn show(g: &Glint, token: &str, id: &str) -> Value {
    let r = g
        .get(&format!("/v2/images/{id}"))
        .header("x-auth-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn create(g: &Glint, token: &str, body: Value) -> String {
    let r = g
        .post("/v2/images")
        .header("x-auth-token", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let image: Value = r.json().await.unwrap();
    image["id"].as_str().unwrap().to_owned()
}

async fn import(g: &Glint, token: &str, id: &str, method: Value) -> reqwest::Response {
    g.post(&format!("/v2/images/{id}/import"))
        .header("x-auth-token", token)
        .json(&json!({ "method": method }))
        .send()
        .await
        .unwrap()
}

/// The image's last task, once it has finished.
async fn finished_task(g: &Glint, token: &str, id: &str) -> Value {
    for _ in 0..300 {
        let r = g
            .get(&format!("/v2/images/{id}/tasks"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        if let Some(task) = body["tasks"].as_array().and_then(|t| t.first())
            && (task["status"] == "success" || task["status"] == "failure")
        {
            return task.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import task of image {id} did not finish");
}

fn staged(g: &Glint) -> Vec<String> {
    std::fs::read_dir(g.data_dir.path().join("staging"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn glance_download_imports_an_image_of_another_region() {
    let remote = start_glint(&[]).await;
    let port = remote.url.rsplit(':').next().unwrap().to_owned();
    let ports = format!("[80, 443, {port}]");
    let local = start_glint(&[
        (
            "GLINT_IMPORT__METHODS",
            r#"["glance-direct", "web-download", "copy-image", "glance-download"]"#,
        ),
        ("GLINT_IMPORT_FILTERING__ALLOWED_HOSTS", r#"["127.0.0.1"]"#),
        ("GLINT_IMPORT_FILTERING__ALLOWED_PORTS", &ports),
    ])
    .await;
    let reg = register_remote(&remote.url).await;
    let outcome = std::panic::AssertUnwindSafe(scenario(&remote, &local, &reg.region))
        .catch_unwind()
        .await;
    unregister(&reg).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn scenario(remote: &Glint, local: &Glint, region: &str) {
    let demo = demo_token().await;

    // The remote image: data, formats and properties, some of them copied.
    let data = pattern(3 * 1024 * 1024 + 17, 41);
    let remote_id = create(
        remote,
        &demo,
        json!({"name": "remote", "disk_format": "raw", "container_format": "bare",
               "hw_disk_bus": "scsi", "os_distro": "debian", "color": "blue"}),
    )
    .await;
    let r = remote
        .put(&format!("/v2/images/{remote_id}/file"))
        .header("x-auth-token", &demo)
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(show(remote, &demo, &remote_id).await["status"], "active");

    // The method is offered only where it is enabled.
    let queued = create(
        remote,
        &demo,
        json!({"name": "q", "disk_format": "raw", "container_format": "bare"}),
    )
    .await;
    let r = import(
        remote,
        &demo,
        &queued,
        json!({"name": "glance-download", "glance_image_id": remote_id, "glance_region": region}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let info: Value = local
        .get("/v2/info/import")
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        info["import-methods"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "glance-download"),
        "{info}"
    );

    // Import into a queued local image with other formats.
    let id = create(
        local,
        &demo,
        json!({"name": "local", "disk_format": "qcow2", "container_format": "ovf"}),
    )
    .await;

    // Body checks: 400s.
    for (method, why) in [
        (
            json!({"name": "glance-download", "glance_image_id": remote_id}),
            "glance_region",
        ),
        (
            json!({"name": "glance-download", "glance_region": region}),
            "glance_image_id",
        ),
        (
            json!({"name": "glance-download", "glance_region": region, "glance_image_id": "not-a-uuid"}),
            "UUID",
        ),
    ] {
        let r = import(local, &demo, &id, method.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{method}");
        let body = r.text().await.unwrap();
        assert!(body.contains(why), "{method}: {body}");
    }
    assert_eq!(show(local, &demo, &id).await["status"], "queued");

    let r = import(
        local,
        &demo,
        &id,
        json!({"name": "glance-download", "glance_image_id": remote_id, "glance_region": region}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let task = finished_task(local, &demo, &id).await;
    assert_eq!(task["status"], "success", "{task}");
    assert_eq!(
        task["input"]["import_req"]["method"]["glance_service_interface"],
        "public"
    );

    let image = show(local, &demo, &id).await;
    assert_eq!(image["status"], "active", "{image}");
    assert_eq!(image["disk_format"], "raw");
    assert_eq!(image["container_format"], "bare");
    assert_eq!(image["hw_disk_bus"], "scsi");
    assert_eq!(image["os_distro"], "debian");
    assert!(
        image.get("color").is_none(),
        "only the extra_properties are copied"
    );
    assert_eq!(image["size"], data.len());
    assert_eq!(image["checksum"], md5_hex(&data).as_str());
    let r = local
        .get(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.bytes().await.unwrap().as_ref() == data.as_slice(),
        "bytes differ"
    );
    assert!(staged(local).is_empty(), "staging is cleared");

    // An active image cannot be imported into again.
    let r = import(
        local,
        &demo,
        &id,
        json!({"name": "glance-download", "glance_image_id": remote_id, "glance_region": region}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A remote image that does not exist, and a region with no image
    // service: the task fails, the image stays queued as it was.
    for (remote_image, region, why) in [
        (uuid::Uuid::new_v4().to_string(), region.to_owned(), "404"),
        (remote_id.clone(), "NoSuchRegion".to_owned(), "NoSuchRegion"),
    ] {
        let id = create(
            local,
            &demo,
            json!({"name": "failing", "disk_format": "qcow2", "container_format": "bare"}),
        )
        .await;
        let r = import(
            local,
            &demo,
            &id,
            json!({"name": "glance-download", "glance_image_id": remote_image, "glance_region": region}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let task = finished_task(local, &demo, &id).await;
        assert_eq!(task["status"], "failure", "{task}");
        let message = task["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
        let image = show(local, &demo, &id).await;
        assert_eq!(image["status"], "queued", "{image}");
        assert_eq!(image["disk_format"], "qcow2");
        assert!(image.get("hw_disk_bus").is_none());
        assert!(image["size"].is_null());
        assert!(image.get("os_glance_import_task").is_none(), "{image}");
        assert!(staged(local).is_empty(), "nothing staged");
    }

    assert!(
        !local.log().contains(&demo) && !remote.log().contains(&demo),
        "tokens never reach the logs"
    );
}

/// `qemu-img <args>` in `dir`.
fn qemu_img(args: &[&str], dir: &std::path::Path) {
    let out = std::process::Command::new("qemu-img")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("qemu-img");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Glance runs the import plugins on glance-download too: a qcow2 image of the remote
/// region, imported where `image_conversion` is on, lands as raw with its record updated,
/// while the remote image stays as it was.
#[tokio::test]
async fn glance_download_runs_the_import_plugins() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut raw = pattern(3 << 19, 43);
    raw.resize(4 << 20, 0);
    std::fs::write(dir.join("src.raw"), &raw).unwrap();
    qemu_img(
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "src.raw",
            "img.qcow2",
        ],
        dir,
    );
    qemu_img(
        &[
            "convert",
            "-f",
            "qcow2",
            "-O",
            "raw",
            "img.qcow2",
            "expected.raw",
        ],
        dir,
    );
    let qcow2 = std::fs::read(dir.join("img.qcow2")).unwrap();
    let expected = std::fs::read(dir.join("expected.raw")).unwrap();
    assert_ne!(qcow2, expected);

    // Keystone shares a loaded machine with the other tests' servers: a token check
    // may take longer than the default 10 s.
    let patient = ("GLINT_AUTH__KEYSTONE__TIMEOUT_SECS", "60");
    let remote = start_glint(&[patient]).await;
    let port = remote.url.rsplit(':').next().unwrap().to_owned();
    let ports = format!("[80, 443, {port}]");
    let local = start_glint(&[
        patient,
        (
            "GLINT_IMPORT__METHODS",
            r#"["glance-direct", "web-download", "copy-image", "glance-download"]"#,
        ),
        ("GLINT_IMPORT_FILTERING__ALLOWED_HOSTS", r#"["127.0.0.1"]"#),
        ("GLINT_IMPORT_FILTERING__ALLOWED_PORTS", &ports),
        (
            "GLINT_IMAGE_IMPORT_OPTS__IMAGE_IMPORT_PLUGINS",
            r#"["image_conversion"]"#,
        ),
        ("GLINT_IMAGE_CONVERSION__OUTPUT_FORMAT", "raw"),
    ])
    .await;
    let reg = register_remote(&remote.url).await;
    let outcome = std::panic::AssertUnwindSafe(converted_on_arrival(
        &remote,
        &local,
        &reg.region,
        &qcow2,
        &expected,
    ))
    .catch_unwind()
    .await;
    unregister(&reg).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn converted_on_arrival(
    remote: &Glint,
    local: &Glint,
    region: &str,
    qcow2: &[u8],
    expected: &[u8],
) {
    let demo = demo_token().await;
    let remote_id = create(
        remote,
        &demo,
        json!({"name": "remote-qcow2", "disk_format": "qcow2", "container_format": "bare"}),
    )
    .await;
    let r = remote
        .put(&format!("/v2/images/{remote_id}/file"))
        .header("x-auth-token", &demo)
        .header("content-type", "application/octet-stream")
        .body(qcow2.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let id = create(
        local,
        &demo,
        json!({"name": "local", "disk_format": "qcow2", "container_format": "bare"}),
    )
    .await;
    let r = import(
        local,
        &demo,
        &id,
        json!({"name": "glance-download", "glance_image_id": remote_id, "glance_region": region}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let task = finished_task(local, &demo, &id).await;
    assert_eq!(task["status"], "success", "{task}\n{}", local.log());

    let image = show(local, &demo, &id).await;
    assert_eq!(image["status"], "active", "{image}");
    assert_eq!(image["disk_format"], "raw", "{image}");
    assert_eq!(image["container_format"], "bare");
    assert_eq!(image["size"], expected.len());
    assert_eq!(image["virtual_size"], 4u64 << 20);
    assert_eq!(image["checksum"], md5_hex(expected).as_str());
    assert_eq!(image["os_hash_algo"], "sha512");
    assert_eq!(image["os_hash_value"], sha512_hex(expected).as_str());
    let r = local
        .get(&format!("/v2/images/{id}/file"))
        .header("x-auth-token", &demo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.bytes().await.unwrap().as_ref() == expected,
        "the stored bytes are qemu-img's raw conversion"
    );
    assert!(staged(local).is_empty(), "staging is cleared");

    // The remote image is untouched.
    let remote_image = show(remote, &demo, &remote_id).await;
    assert_eq!(remote_image["disk_format"], "qcow2");
    assert_eq!(remote_image["size"], qcow2.len());
    assert_eq!(remote_image["checksum"], md5_hex(qcow2).as_str());
}
