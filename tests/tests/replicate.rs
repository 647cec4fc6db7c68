//! `glint replicate` between real services: a real Glance 33 (a private
//! noauth instance of the shared harness) as source and Glint as target,
//! Glint as source and Glance as target, Glint to a Glint with Keystone
//! auth, and dumps loaded back. Each checks what the target then holds:
//! ids, metadata, owners (mapped), members, visibility, the bytes and hashes.

use std::path::Path;
use std::process::Command;

use glint_blackbox::glance::Glance;
use glint_blackbox::keystone::{self, keystone_admin};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex, target_dir};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// Runs `glint replicate --json ARGS`; returns the exit code and the document.
fn replicate(args: &[&str]) -> (i32, Value) {
    let out = Command::new(target_dir().join("glint"))
        .arg("replicate")
        .arg("--json")
        .args(args)
        .output()
        .expect("run glint replicate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "glint replicate {args:?}: not one JSON document ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// `(id, action)` of each image a copy reported, sorted.
fn actions(doc: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn expect(pairs: &[(&Value, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(image, action)| (id(image).to_owned(), (*action).to_owned()))
        .collect();
    out.sort();
    out
}

fn id(image: &Value) -> &str {
    image["id"].as_str().unwrap()
}

async fn get(client: &Client, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = client.get(url);
    if let Some(token) = token {
        r = r.header("x-auth-token", token);
    }
    r.send().await.unwrap()
}

async fn show(client: &Client, base: &str, id: &str, token: Option<&str>) -> Value {
    let r = get(client, &format!("{base}/v2/images/{id}"), token).await;
    assert_eq!(r.status(), StatusCode::OK, "show {id} on {base}");
    r.json().await.unwrap()
}

async fn absent(client: &Client, base: &str, id: &str) -> bool {
    get(client, &format!("{base}/v2/images/{id}"), None)
        .await
        .status()
        == StatusCode::NOT_FOUND
}

async fn data(client: &Client, base: &str, id: &str, token: Option<&str>) -> Vec<u8> {
    let r = get(client, &format!("{base}/v2/images/{id}/file"), token).await;
    assert_eq!(r.status(), StatusCode::OK, "download {id} from {base}");
    r.bytes().await.unwrap().to_vec()
}

async fn members(
    client: &Client,
    base: &str,
    id: &str,
    token: Option<&str>,
) -> Vec<(String, String)> {
    let r = get(client, &format!("{base}/v2/images/{id}/members"), token).await;
    assert_eq!(r.status(), StatusCode::OK, "members of {id} on {base}");
    let body: Value = r.json().await.unwrap();
    let mut out: Vec<(String, String)> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member_id"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The target holds `bytes` under the source image's id, with the same
/// size and digests, and those digests are the bytes'.
async fn same_data(client: &Client, base: &str, source: &Value, bytes: &[u8], token: Option<&str>) {
    let copy = show(client, base, id(source), token).await;
    assert_eq!(copy["status"], "active", "{copy}");
    for field in ["size", "checksum", "os_hash_algo", "os_hash_value"] {
        assert_eq!(copy[field], source[field], "{field} of {}", id(source));
    }
    assert_eq!(copy["checksum"], md5_hex(bytes));
    assert_eq!(copy["os_hash_value"], sha512_hex(bytes));
    assert!(
        data(client, base, id(source), token).await == bytes,
        "bytes of {}",
        id(source)
    );
}

fn raw(name: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "disk_format": "raw", "container_format": "bare"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// Creates an image on Glint with `data`, as `raw` describes it.
async fn glint_image(g: &Glint, body: Value, bytes: &[u8]) -> Value {
    let image = g.create(body).await;
    let r = g
        .put(&format!("/v2/images/{}/file", id(&image)))
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    g.show(id(&image)).await
}

#[tokio::test]
async fn glance_to_glint_copies_once_then_only_what_changed() {
    let glance = Glance::start();
    let glint = Glint::start().await;
    let http = &glint.client;
    let (src, dst) = (glance.url.as_str(), glint.url.as_str());
    let map = [
        "--owner-map",
        "proj-a=proj-x",
        "--owner-map",
        "proj-b=proj-y",
    ];

    let a_data = pattern(3 << 20, 1);
    let a = glance
        .image(
            raw(
                "a",
                json!({"visibility": "private", "owner": "proj-a", "tags": ["x", "y"],
                "min_ram": 128, "hw_disk_bus": "scsi"}),
            ),
            Some(&a_data),
        )
        .await;
    let b_data = pattern(100_000, 2);
    let b = glance
        .image(
            raw("b", json!({"visibility": "shared", "owner": "proj-a"})),
            Some(&b_data),
        )
        .await;
    glance.share(id(&b), "proj-b", "accepted").await;
    glance.share(id(&b), "proj-c", "pending").await;
    let c_data = b"ten bytes!".to_vec();
    let c = glance
        .image(
            raw("c", json!({"visibility": "private", "owner": "proj-a", "os_hidden": true, "protected": true})),
            Some(&c_data),
        )
        .await;
    let d_data = pattern(5000, 4);
    let d = glance
        .image(
            raw("d", json!({"visibility": "community", "owner": "proj-d"})),
            Some(&d_data),
        )
        .await;
    let queued = glance.image(raw("q", json!({})), None).await;

    // Before: every active image is missing; the queued one is not counted.
    let (code, before) = replicate(&[&["compare", src, dst][..], &map[..]].concat());
    assert_eq!(code, 1, "{before}");
    assert_eq!(before["missing"], 4, "{before}");
    let (code, size) = replicate(&["size", src]);
    assert_eq!(code, 0);
    assert_eq!(size["images"], 4);
    let total = a_data.len() + b_data.len() + c_data.len() + d_data.len();
    assert_eq!(size["bytes"], total as u64);

    // Copy.
    let (code, first) = replicate(&[&["livecopy", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0, "{first}");
    assert_eq!(
        actions(&first),
        expect(&[
            (&a, "created"),
            (&b, "created"),
            (&c, "created"),
            (&d, "created")
        ])
    );
    assert_eq!(first["bytes"], total as u64);
    for (image, bytes) in [(&a, &a_data), (&b, &b_data), (&c, &c_data), (&d, &d_data)] {
        same_data(http, dst, image, bytes, None).await;
    }
    let a_copy = glint.show(id(&a)).await;
    assert_eq!(a_copy["visibility"], "private");
    assert_eq!(a_copy["owner"], "proj-x");
    assert_eq!(a_copy["hw_disk_bus"], "scsi");
    assert_eq!(a_copy["min_ram"], 128);
    let mut tags: Vec<&str> = a_copy["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["x", "y"]);
    assert_eq!(a_copy["name"], "a");
    let c_copy = glint.show(id(&c)).await;
    assert_eq!(
        (
            c_copy["visibility"].as_str(),
            c_copy["os_hidden"].as_bool(),
            c_copy["protected"].as_bool()
        ),
        (Some("private"), Some(true), Some(true))
    );
    assert_eq!(
        glint.show(id(&d)).await["owner"],
        "proj-d",
        "unmapped owners are kept"
    );
    assert_eq!(glint.show(id(&d)).await["visibility"], "community");
    assert_eq!(glint.show(id(&b)).await["visibility"], "shared");
    assert_eq!(
        members(http, dst, id(&b), None).await,
        [
            ("proj-c".to_owned(), "pending".to_owned()),
            ("proj-y".to_owned(), "accepted".to_owned())
        ]
    );
    assert!(
        absent(http, dst, id(&queued)).await,
        "only active images are copied"
    );

    // Same again: nothing to do.
    let (code, same) = replicate(&[&["compare", src, dst][..], &map[..]].concat());
    assert_eq!(
        (code, &same["missing"], &same["differing"]),
        (0, &json!(0), &json!(0)),
        "{same}"
    );
    let (code, second) = replicate(&[&["livecopy", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        actions(&second),
        expect(&[
            (&a, "unchanged"),
            (&b, "unchanged"),
            (&c, "unchanged"),
            (&d, "unchanged")
        ])
    );
    assert_eq!(second["bytes"], 0);

    // Changes on the source: a property changed and one added, a member's
    // status changed and one removed, a new image.
    glance
        .patch(
            id(&a),
            json!([
                {"op": "replace", "path": "/hw_disk_bus", "value": "virtio"},
                {"op": "add", "path": "/os_distro", "value": "debian"},
            ]),
        )
        .await;
    glance.share_status(id(&b), "proj-b", "rejected").await;
    glance.unshare(id(&b), "proj-c").await;
    let e_data = pattern(2048, 5);
    let e = glance
        .image(raw("e", json!({"visibility": "community"})), Some(&e_data))
        .await;
    let (code, diff) = replicate(&[&["compare", src, dst][..], &map[..]].concat());
    assert_eq!(
        (code, &diff["missing"], &diff["differing"]),
        (1, &json!(1), &json!(2)),
        "{diff}"
    );
    let (code, third) = replicate(&[&["livecopy", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0, "{third}");
    assert_eq!(
        actions(&third),
        expect(&[
            (&a, "updated"),
            (&b, "updated"),
            (&c, "unchanged"),
            (&d, "unchanged"),
            (&e, "created")
        ])
    );
    assert_eq!(
        third["bytes"],
        e_data.len() as u64,
        "only the new image's data is copied"
    );
    let a_copy = glint.show(id(&a)).await;
    assert_eq!(
        (&a_copy["hw_disk_bus"], &a_copy["os_distro"]),
        (&json!("virtio"), &json!("debian"))
    );
    assert_eq!(
        members(http, dst, id(&b), None).await,
        [("proj-y".to_owned(), "rejected".to_owned())]
    );
    same_data(http, dst, &e, &e_data, None).await;

    // --dry-run says what would change and changes nothing.
    glance
        .patch(
            id(&c),
            json!([{"op": "replace", "path": "/name", "value": "c2"}]),
        )
        .await;
    let (code, dry) = replicate(&[&["livecopy", "--dry-run", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0);
    assert_eq!(dry["dry_run"], true);
    let c_outcome = dry["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id(&c))
        .unwrap();
    assert_eq!(c_outcome["action"], "updated");
    assert_eq!(
        c_outcome["details"][0],
        "field name differs (source is c2, destination is c)"
    );
    assert_eq!(glint.show(id(&c)).await["name"], "c");

    // --metaonly creates nothing and copies no data, but corrects metadata.
    let f = glance.image(raw("f", json!({})), Some(b"f")).await;
    let (code, meta) = replicate(&[&["livecopy", "--metaonly", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0, "{meta}");
    let found = actions(&meta);
    assert!(
        found.contains(&(id(&f).to_owned(), "skipped".to_owned())),
        "{meta}"
    );
    assert!(
        found.contains(&(id(&c).to_owned(), "updated".to_owned())),
        "{meta}"
    );
    assert!(absent(http, dst, id(&f)).await);
    assert_eq!(glint.show(id(&c)).await["name"], "c2");

    // A copy cut short (the target's image created, its data not sent)
    // is taken up again.
    let g_data = pattern(1 << 20, 7);
    let g = glance.image(raw("g", json!({})), Some(&g_data)).await;
    glint.create(raw("stale", json!({"id": id(&g)}))).await;
    let (code, resumed) = replicate(&[&["livecopy", src, dst][..], &map[..]].concat());
    assert_eq!(code, 0, "{resumed}");
    let found = actions(&resumed);
    assert!(
        found.contains(&(id(&g).to_owned(), "resumed".to_owned())),
        "{resumed}"
    );
    assert!(
        found.contains(&(id(&f).to_owned(), "created".to_owned())),
        "{resumed}"
    );
    same_data(http, dst, &g, &g_data, None).await;
    assert_eq!(glint.show(id(&g)).await["name"], "g");
}

#[tokio::test]
async fn glint_to_glance_copies_and_dumps_and_loads() {
    let glint = Glint::start().await;
    let glance = Glance::start();
    let http = &glance.client;
    let (src, dst) = (glint.url.as_str(), glance.url.as_str());

    let a_data = pattern(2 << 20, 11);
    let a = glint_image(
        &glint,
        raw(
            "a",
            json!({"visibility": "community", "owner": "p1", "hw_rng_model": "virtio"}),
        ),
        &a_data,
    )
    .await;
    let b_data = pattern(70_000, 12);
    let b = glint_image(
        &glint,
        raw("b", json!({"visibility": "shared", "owner": "p1"})),
        &b_data,
    )
    .await;
    let r = glint
        .post(&format!("/v2/images/{}/members", id(&b)))
        .json(&json!({"member": "p2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = glint
        .put(&format!("/v2/images/{}/members/p2", id(&b)))
        .json(&json!({"status": "accepted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (code, first) = replicate(&["livecopy", src, dst]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(actions(&first), expect(&[(&a, "created"), (&b, "created")]));
    same_data(http, dst, &a, &a_data, None).await;
    same_data(http, dst, &b, &b_data, None).await;
    let a_copy = glance.show(id(&a)).await;
    assert_eq!(
        (
            &a_copy["visibility"],
            &a_copy["owner"],
            &a_copy["hw_rng_model"]
        ),
        (&json!("community"), &json!("p1"), &json!("virtio"))
    );
    assert_eq!(
        members(http, dst, id(&b), None).await,
        [("p2".to_owned(), "accepted".to_owned())]
    );

    let (code, second) = replicate(&["livecopy", src, dst]);
    assert_eq!(code, 0);
    assert_eq!(
        actions(&second),
        expect(&[(&a, "unchanged"), (&b, "unchanged")])
    );

    let r = glint
        .patch(
            &format!("/v2/images/{}", id(&b)),
            json!([{"op": "add", "path": "/os_version", "value": "12"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (code, third) = replicate(&["livecopy", src, dst]);
    assert_eq!(code, 0);
    assert_eq!(
        actions(&third),
        expect(&[(&a, "unchanged"), (&b, "updated")])
    );
    assert_eq!(glance.show(id(&b)).await["os_version"], "12");
    let (code, _) = replicate(&["compare", src, dst]);
    assert_eq!(code, 0);

    // Dump, dump again (nothing new), then a new image goes through a dump into Glance.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, dumped) = replicate(&["dump", src, path]);
    assert_eq!(code, 0, "{dumped}");
    assert_eq!(
        actions(&dumped),
        expect(&[(&a, "created"), (&b, "created")])
    );
    assert!(std::fs::read(dir.path().join(format!("{}.img", id(&a)))).unwrap() == a_data);
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(id(&a))).unwrap()).unwrap();
    assert_eq!(meta["checksum"], a["checksum"]);
    let saved: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("{}.members", id(&b)))).unwrap(),
    )
    .unwrap();
    assert_eq!(saved[0]["member_id"], "p2");
    let (code, again) = replicate(&["dump", src, path]);
    assert_eq!(code, 0);
    assert_eq!(
        actions(&again),
        expect(&[(&a, "unchanged"), (&b, "unchanged")])
    );
    assert_eq!(again["bytes"], 0);

    let c_data = pattern(300_000, 13);
    let c = glint_image(&glint, raw("c", json!({"visibility": "private"})), &c_data).await;
    let (code, dumped) = replicate(&["dump", src, path]);
    assert_eq!(code, 0);
    assert_eq!(
        actions(&dumped),
        expect(&[(&a, "unchanged"), (&b, "unchanged"), (&c, "created")])
    );
    let (code, loaded) = replicate(&["load", path, dst]);
    assert_eq!(code, 0, "{loaded}");
    assert_eq!(
        actions(&loaded),
        expect(&[(&a, "unchanged"), (&b, "unchanged"), (&c, "created")])
    );
    same_data(http, dst, &c, &c_data, None).await;
    let (code, _) = replicate(&["compare", src, dst]);
    assert_eq!(code, 0);
}

/// The id of the Keystone project `name`.
async fn project_id(name: &str) -> String {
    let found = keystone_admin(Method::GET, &format!("/projects?name={name}"), None).await;
    found["projects"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn glint_to_glint_with_keystone_and_a_dump_checked_against_its_hashes() {
    let source = Glint::start().await;
    let target = keystone::start_glint(&[]).await;
    let ks = keystone::keystone();
    let demo = project_id("demo").await;
    let a_data = pattern(1 << 20, 21);
    let a = glint_image(&source, raw("a", json!({"owner": "tenant-1"})), &a_data).await;
    let b_data = pattern(4096, 22);
    let b = glint_image(
        &source,
        raw("b", json!({"visibility": "public", "owner": "tenant-2"})),
        &b_data,
    )
    .await;

    let mapping = format!("tenant-1={demo}");
    let auth = [
        "--target-auth-url",
        ks.url.as_str(),
        "--target-username",
        "admin",
        "--target-password",
        ks.admin_password.as_str(),
        "--target-project",
        "admin",
        "--owner-map",
        mapping.as_str(),
    ];
    let (code, first) = replicate(
        &[
            &["livecopy", source.url.as_str(), target.url.as_str()][..],
            &auth[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{first}");
    assert_eq!(actions(&first), expect(&[(&a, "created"), (&b, "created")]));
    // The demo project owns its image on the target: its own token reads it.
    let token = keystone::demo_token().await;
    same_data(
        &target.client,
        target.url.as_str(),
        &a,
        &a_data,
        Some(&token),
    )
    .await;
    assert_eq!(
        show(&target.client, target.url.as_str(), id(&a), Some(&token)).await["owner"],
        demo.as_str()
    );
    let (code, second) = replicate(
        &[
            &["livecopy", source.url.as_str(), target.url.as_str()][..],
            &auth[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    assert_eq!(
        actions(&second),
        expect(&[(&a, "unchanged"), (&b, "unchanged")])
    );
    // Without credentials the target refuses, and nothing is claimed done.
    let (code, refused) = replicate(&["livecopy", source.url.as_str(), target.url.as_str()]);
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["counts"]["failed"], 2, "{refused}");

    // A dump whose data was damaged is refused by its own hashes: the
    // image stays queued on the target, then a repaired dump resumes it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _) = replicate(&["dump", source.url.as_str(), path]);
    assert_eq!(code, 0);
    let img = dir.path().join(format!("{}.img", id(&a)));
    let mut damaged = a_data.clone();
    damaged[1000] ^= 0xff;
    std::fs::write(&img, &damaged).unwrap();
    let third = Glint::start().await;
    let (code, loaded) = replicate(&["load", path, third.url.as_str()]);
    assert_eq!(code, 1, "{loaded}");
    assert_eq!(actions(&loaded), expect(&[(&a, "failed"), (&b, "created")]));
    let details = loaded["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id(&a))
        .unwrap()["details"]
        .to_string();
    assert!(details.contains("checksum is not"), "{details}");
    // The load broke its upload off: the target puts the image back once it sees the body end.
    eventually("the broken upload to be undone", || async {
        third.show(id(&a)).await["status"] == "queued"
    })
    .await;
    write_file(&img, &a_data);
    let (code, loaded) = replicate(&["load", path, third.url.as_str()]);
    assert_eq!(code, 0, "{loaded}");
    assert_eq!(
        actions(&loaded),
        expect(&[(&a, "resumed"), (&b, "unchanged")])
    );
    same_data(&third.client, third.url.as_str(), &a, &a_data, None).await;
    same_data(&third.client, third.url.as_str(), &b, &b_data, None).await;
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

/// Polls `check` every 200 ms for up to 60 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn the_replicate_job_keeps_a_target_in_sync() {
    let source = Glint::start().await;
    let target = Glint::start().await;
    let a_data = pattern(200_000, 31);
    let a = glint_image(
        &source,
        raw("a", json!({"owner": "p1", "visibility": "public"})),
        &a_data,
    )
    .await;
    let node = Glint::start_with(&[
        ("GLINT_JOBS__REPLICATE__ENABLED", "true"),
        ("GLINT_JOBS__REPLICATE__INTERVAL_SECS", "1"),
        ("GLINT_JOBS__REPLICATE__SOURCE", source.url.as_str()),
        ("GLINT_JOBS__REPLICATE__TARGET", target.url.as_str()),
        ("GLINT_JOBS__REPLICATE__OWNER_MAP", "{p1 = \"p9\"}"),
    ])
    .await;
    let http = &target.client;
    eventually("the image on the target", || async {
        get(http, &target.url(&format!("/v2/images/{}", id(&a))), None)
            .await
            .status()
            == StatusCode::OK
            && target.show(id(&a)).await["status"] == "active"
    })
    .await;
    same_data(http, &target.url, &a, &a_data, None).await;
    assert_eq!(target.show(id(&a)).await["owner"], "p9");

    // A change at the source reaches the target on a later pass.
    let r = source
        .patch(
            &format!("/v2/images/{}", id(&a)),
            json!([{"op": "add", "path": "/os_distro", "value": "arch"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually("the change on the target", || async {
        target.show(id(&a)).await["os_distro"] == "arch"
    })
    .await;
    assert!(
        node.log().contains("replication pass done"),
        "{}",
        node.log()
    );
}
