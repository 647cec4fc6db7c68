//! A glance-direct import (or a delete) of an image staged on another node is forwarded to the
//! node its `os_glance_stage_host` names. When the nodes' `worker_self_reference_url` settings
//! disagree with where they are reached, the node at that URL does not take it for its own and
//! would forward the request again, to itself, for ever: a forwarded request is marked, and a
//! node that gets a marked import it would forward again refuses it (502), a marked delete it
//! would forward again it carries out itself.
//!
//! Two nodes on one PostgreSQL database, each with its own file store and staging area:
//! B has no `worker_self_reference_url` (every stage host is another node to it) and A is
//! misconfigured with B's URL as its own, so what A stages names B as its stage host.

use std::time::{Duration, Instant};

use glint_blackbox::postgres::PgDatabase;
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern};
use serde_json::{Value, json};

const MARK: &str = "x-glint-forwarded-to-stage-host";
const FORWARDING: &str = "forwarding the import to the node that staged the data";

async fn staged(a: &Glint, name: &str, data: &[u8]) -> String {
    let image = a
        .create(json!({"name": name, "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().expect("id").to_owned();
    let r = a
        .put(&format!("/v2/images/{id}/stage"))
        .header("content-type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .await
        .expect("stage");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    id
}

fn glance_direct(node: &Glint, id: &str) -> reqwest::RequestBuilder {
    node.post(&format!("/v2/images/{id}/import"))
        .header("accept", "application/json")
        .json(&json!({"method": {"name": "glance-direct"}}))
}

async fn message(r: reqwest::Response) -> String {
    let body: Value = r.json().await.expect("an error body in JSON");
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_is_not_forwarded_again() {
    let db = PgDatabase::create("glint_stage_loop");
    let b = Glint::start_with(&[("GLINT_DATABASE__URL", db.url.as_str())]).await;
    let a = Glint::start_with(&[
        ("GLINT_DATABASE__URL", db.url.as_str()),
        ("GLINT_WORKER_SELF_REFERENCE_URL", b.url.as_str()),
    ])
    .await;
    let data = pattern(1 << 20, 21);
    let id = staged(&a, "loop", &data).await;
    assert_eq!(b.show(&id).await["os_glance_stage_host"], b.url.as_str());

    // B forwards the import to the stage host, itself; there it is refused, not forwarded
    // again, and B relays the refusal.
    let asked = Instant::now();
    let r = glance_direct(&b, &id).send().await.expect("import");
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let relayed = message(r).await;
    assert!(relayed.starts_with("Bad Gateway"), "{relayed}");
    println!("import refused after {:?}", asked.elapsed());
    let log = b.log();
    assert_eq!(
        log.matches(FORWARDING).count(),
        1,
        "B forwarded more than once:\n{log}"
    );
    assert!(
        log.contains(&format!(
            "image {id} was forwarded here as to its stage host {}, but this node's own URL is not set",
            b.url
        )),
        "B did not say why it refused:\n{log}"
    );

    // The refusal itself, as the stage host answers it: Glance's error shape, naming the
    // setting to check and neither node's URL.
    let r = glance_direct(&b, &id)
        .header(MARK, b.url.as_str())
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let text = message(r).await;
    assert!(text.contains("worker_self_reference_url"), "{text}");
    assert!(!text.contains(&b.url) && !text.contains(&a.url), "{text}");

    // Nothing changed: the image is still staged, and the node that takes the stage host's
    // URL for its own (A) imports it.
    assert_eq!(b.show(&id).await["status"], "uploading");
    let r = glance_direct(&a, &id).send().await.expect("import");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let image = b.show(&id).await;
        if image["status"] == "active" {
            assert_eq!(image["checksum"], md5_hex(&data));
            break;
        }
        assert!(Instant::now() < deadline, "not imported: {image}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A delete of a staged image through B: forwarded once, then carried out where it landed.
    let gone = staged(&a, "loop-delete", &pattern(4096, 22)).await;
    let r = b
        .delete(&format!("/v2/images/{gone}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = a
        .get(&format!("/v2/images/{gone}"))
        .send()
        .await
        .expect("show");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let log = b.log();
    assert!(
        log.contains("deleting here a delete forwarded as to the stage host"),
        "B did not say it deleted the forwarded delete itself:\n{log}"
    );
}
