//! Hostile input: every bound on one request's input (`[api] max_*` and the quotas) answers
//! 400, 413, 414 or 431 in Glance's shape, never a 5xx, on SQLite, PostgreSQL and MariaDB.
//! A request just inside each bound still succeeds, so the bounds are ones every database
//! can serve.

use glint_blackbox::mariadb::MariaDatabase;
use glint_blackbox::postgres::PgDatabase;
use glint_blackbox::{Glint, StatusCode};
use serde_json::{Value, json};

/// Sends `req` asking for JSON errors and returns the status and the body.
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req
        .header("accept", "application/json")
        .send()
        .await
        .expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Writes `request` on a connection of its own, never finishes its body, and returns what
/// the server answers before it closes the connection (or within 30 s, if it never does).
async fn raw_exchange(g: &Glint, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(g.url.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A refusal in Glance's JSON error shape, with `words` in its message.
#[track_caller]
fn refused(answer: (StatusCode, Value), status: StatusCode, words: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{words:?} not in {body}");
    assert_eq!(body["code"].as_str(), Some(&*status.to_string()), "{body}");
}

#[track_caller]
fn served(answer: (StatusCode, Value), status: StatusCode) -> Value {
    assert_eq!(answer.0, status, "{}", answer.1);
    answer.1
}

fn list_path(pairs: impl Iterator<Item = String>) -> String {
    format!("/v2/images?{}", pairs.collect::<Vec<_>>().join("&"))
}

async fn drill(g: &Glint) {
    let image = g
        .create(json!({"name": "bounded", "disk_format": "raw", "container_format": "bare", "tags": ["t1"], "p1": "v"}))
        .await;
    let id = image["id"].as_str().unwrap();

    // Filters: 100 tags or property filters are served (and match); 101 are refused.
    let tags = |n| list_path((0..n).map(|_| "tag=t1".to_owned()));
    let found = served(send(g.get(&tags(100))).await, StatusCode::OK);
    assert_eq!(found["images"].as_array().unwrap().len(), 1, "{found}");
    refused(
        send(g.get(&tags(1000))).await,
        StatusCode::BAD_REQUEST,
        "Too many filters",
    );
    let props = |n| list_path((0..n).map(|i| format!("p{i}=v")));
    served(send(g.get(&props(100))).await, StatusCode::OK);
    refused(
        send(g.get(&props(101))).await,
        StatusCode::BAD_REQUEST,
        "at most 100",
    );

    // `in:` lists.
    let names = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        format!("/v2/images?name=in:bounded,{}", list.join(","))
    };
    let found = served(send(g.get(&names(999))).await, StatusCode::OK);
    assert_eq!(found["images"].as_array().unwrap().len(), 1, "{found}");
    refused(
        send(g.get(&names(1000))).await,
        StatusCode::BAD_REQUEST,
        "'in:' filter",
    );

    // Sort keys, in both syntaxes.
    let keys = |n| list_path((0..n).map(|_| "sort_key=name".to_owned()));
    served(send(g.get(&keys(10))).await, StatusCode::OK);
    refused(
        send(g.get(&keys(11))).await,
        StatusCode::BAD_REQUEST,
        "Too many sort keys",
    );
    let sort = format!("/v2/images?sort={}", vec!["name:asc"; 11].join(","));
    refused(
        send(g.get(&sort)).await,
        StatusCode::BAD_REQUEST,
        "Too many sort keys",
    );

    // JSON-patch operations.
    let ops = |n| {
        Value::Array(
            (0..n)
                .map(|i| json!({"op": "replace", "path": "/name", "value": format!("n{i}")}))
                .collect(),
        )
    };
    let path = format!("/v2/images/{id}");
    served(send(g.patch(&path, ops(500))).await, StatusCode::OK);
    refused(
        send(g.patch(&path, ops(10_000))).await,
        StatusCode::BAD_REQUEST,
        "at most 500",
    );
    let after = g.show(id).await;
    assert_eq!(after["name"], "n499", "a refused patch changes nothing");

    // JSON depth and size.
    let deep = format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40));
    let post = |body: String| {
        g.post("/v2/images")
            .header("content-type", "application/json")
            .body(body)
    };
    refused(
        send(post(deep)).await,
        StatusCode::BAD_REQUEST,
        "nested too deeply",
    );
    // A body somewhat over the bound is read and dropped before the answer, so a client
    // still sending it reads the 413 rather than a reset connection (on a client of its
    // own, as the server may close that connection).
    let big = json!({"name": "x".repeat(2 << 20)}).to_string();
    let alone = reqwest::Client::new()
        .post(g.url("/v2/images"))
        .header("content-type", "application/json")
        .body(big);
    let (status, _) = send(alone).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // One declared far larger is refused without waiting for a byte of it.
    let head = "POST /v2/images HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n";
    let answer = raw_exchange(g, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // The request target and the headers.
    let long = format!("/v2/images?name={}", "a".repeat(17_000));
    refused(
        send(g.get(&long)).await,
        StatusCode::URI_TOO_LONG,
        "at most 16384",
    );
    let fat = g.get("/v2/images").header("x-padding", "p".repeat(70_000));
    refused(
        send(fat).await,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "at most 65536",
    );

    // Values no database column holds.
    let members = format!("/v2/images/{id}/members");
    served(
        send(g.patch(
            &path,
            json!([{"op": "replace", "path": "/visibility", "value": "shared"}]),
        ))
        .await,
        StatusCode::OK,
    );
    let member = |m: String| g.post(&members).json(&json!({ "member": m }));
    served(send(member("m".repeat(255))).await, StatusCode::OK);
    refused(
        send(member("m".repeat(256))).await,
        StatusCode::BAD_REQUEST,
        "Member ID is too long",
    );
    let value = |n| g.post("/v2/images").json(&json!({ "k": "v".repeat(n) }));
    served(send(value(65_535)).await, StatusCode::CREATED);
    refused(
        send(value(65_536)).await,
        StatusCode::BAD_REQUEST,
        "65535 bytes",
    );

    // Quotas (Glance's own bounds) answer 413.
    let tags: Vec<String> = (0..129).map(|i| format!("t{i}")).collect();
    refused(
        send(g.post("/v2/images").json(&json!({ "tags": tags }))).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Allowed: 128",
    );

    // Nothing above broke the server.
    served(send(g.get("/v2/images")).await, StatusCode::OK);
    assert!(
        !g.log().contains(" status=5"),
        "a 5xx was answered:\n{}",
        g.log()
    );
}

#[tokio::test]
async fn sqlite_bounds_every_input() {
    drill(&Glint::start().await).await;
}

#[tokio::test]
async fn postgres_bounds_every_input() {
    let db = PgDatabase::create("limits");
    drill(&Glint::start_with(&[("GLINT_DATABASE__URL", &db.url)]).await).await;
}

#[tokio::test]
async fn mariadb_bounds_every_input() {
    let db = MariaDatabase::create("limits");
    drill(&Glint::start_with(&[("GLINT_DATABASE__URL", &db.url)]).await).await;
}
