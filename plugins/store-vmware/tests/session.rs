//! The API session against a vcsim of its own (two datastores): datastore choice by weight, and
//! a new login when the server has ended the driver's session. A separate test binary and
//! simulator, because ending every other session would disturb unrelated tests.

mod support;

use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use glint_sdk::host::Store;
use glint_sdk_testkit::{collect, odd_chunks, random_bytes};
use reqwest::Certificate;
use serde_json::json;
use support::{Vcsim, image_dir, open, runtime, start_vcsim};

/// This binary's simulator, started once per test process (the script must not run twice at once).
fn vcsim() -> &'static Vcsim {
    static VCSIM: OnceLock<Vcsim> = OnceLock::new();
    VCSIM.get_or_init(|| {
        let state = std::env::temp_dir().join("glance-backends/vcsim-glint-session");
        start_vcsim(&[
            ("VCSIM_PORT", "8991"),
            ("VCSIM_DATASTORES", "2"),
            ("VCSIM_STATE", state.to_str().expect("a UTF-8 temp dir")),
        ])
    })
}

/// A SOAP client of the test's own, to look at and end the server's sessions.
struct Admin {
    http: reqwest::Client,
    url: String,
    cookie: String,
}

impl Admin {
    async fn login(vcsim: &Vcsim) -> Admin {
        let pem = std::fs::read(&vcsim.ca_file).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let mut admin = Admin {
            http,
            url: vcsim.sdk_url(),
            cookie: String::new(),
        };
        let login = format!(
            "<userName>{}</userName><password>{}</password>",
            vcsim.user, vcsim.password
        );
        let response = admin.send("Login", &login).await;
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap();
        admin.cookie = cookie.split(';').next().unwrap().to_owned();
        admin
    }

    async fn send(&self, method: &str, arguments: &str) -> reqwest::Response {
        let body = format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope "#,
                r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#,
                r#"<{method} xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this>"#,
                "{arguments}</{method}></soapenv:Body></soapenv:Envelope>"
            ),
            method = method,
            arguments = arguments
        );
        let response = self
            .http
            .post(&self.url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"urn:vim25/6.5\"")
            .header("Cookie", &self.cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{method}: {}",
            response.status()
        );
        response
    }

    /// The keys of the server's sessions other than this client's.
    async fn other_sessions(&self) -> Vec<String> {
        let spec = concat!(
            "<specSet><propSet><type>SessionManager</type><pathSet>sessionList</pathSet>",
            "<pathSet>currentSession</pathSet></propSet><objectSet>",
            r#"<obj type="SessionManager">SessionManager</obj></objectSet></specSet>"#
        );
        let body = format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope "#,
                r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#,
                r#"<RetrieveProperties xmlns="urn:vim25">"#,
                r#"<_this type="PropertyCollector">propertyCollector</_this>{spec}"#,
                "</RetrieveProperties></soapenv:Body></soapenv:Envelope>"
            ),
            spec = spec
        );
        let text = self
            .http
            .post(&self.url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"urn:vim25/6.5\"")
            .header("Cookie", &self.cookie)
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let keys = |property: &str| -> Vec<String> {
            let start = text
                .find(&format!("<name>{property}</name>"))
                .unwrap_or_else(|| panic!("no {property} in {text}"));
            let rest = &text[start..];
            let end = rest.find("</propSet>").unwrap();
            rest[..end]
                .split("<key>")
                .skip(1)
                .map(|tail| tail.split("</key>").next().unwrap().to_owned())
                .collect()
        };
        let own = keys("currentSession");
        keys("sessionList")
            .into_iter()
            .filter(|key| !own.contains(key))
            .collect()
    }

    /// Ends every session but this client's; returns their keys.
    async fn end_other_sessions(&self) -> Vec<String> {
        let others = self.other_sessions().await;
        for key in &others {
            self.send("TerminateSession", &format!("<sessionId>{key}</sessionId>"))
                .await;
        }
        others
    }
}

/// The tests of this binary take turns: one ends every session but its own.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn put(store: &Store, image_id: &str, data: &Bytes) -> String {
    store
        .put(image_id, Some(data.len() as u64), odd_chunks(data))
        .await
        .unwrap_or_else(|err| panic!("put {image_id}: {err}"))
        .location
}

#[test]
fn the_heaviest_datastore_is_chosen() {
    let _turn = one_at_a_time();
    let vcsim = vcsim();
    let mut options = vcsim.options(&image_dir("weights"));
    let dc = &vcsim.datacenter;
    options["datastores"] = json!([format!("{dc}:LocalDS_0:1"), format!("{dc}:LocalDS_1:5")]);
    let store = open(&options);
    runtime().block_on(async {
        let data = random_bytes(100_000, 51);
        let location = put(&store, "6f2b5a6e-2001-4000-8000-000000000001", &data).await;
        assert!(location.ends_with("dsName=LocalDS_1"), "{location}");
        let read = collect(store.get(&location, None).await.unwrap().data).await;
        assert_eq!(read, data);
        store.delete(&location).await.unwrap();
    });
}

#[test]
fn an_ended_session_is_replaced_by_one_new_login() {
    let _turn = one_at_a_time();
    let vcsim = vcsim();
    let store = open(&vcsim.options(&image_dir("session")));
    runtime().block_on(async {
        let admin = Admin::login(vcsim).await;
        let first = random_bytes(300_000, 52);
        let first_location = put(&store, "6f2b5a6e-2002-4000-8000-000000000001", &first).await;

        // The server ends the driver's session: the next put (property reads, a file-manager
        // task) logs in again, once, even with several calls in flight.
        let ended = admin.end_other_sessions().await;
        assert!(!ended.is_empty(), "the driver's session was listed");
        let second = random_bytes(200_000, 53);
        let (a, b) = tokio::join!(
            put(&store, "6f2b5a6e-2002-4000-8000-000000000002", &second),
            put(&store, "6f2b5a6e-2002-4000-8000-000000000003", &second),
        );
        let now = admin.other_sessions().await;
        assert_eq!(now.len(), 1, "one new login, not one per call: {now:?}");
        assert!(!ended.contains(&now[0]), "a new session");

        // Again, this time found by a fault of the delete task.
        admin.end_other_sessions().await;
        store.delete(&first_location).await.unwrap();
        for location in [a, b] {
            let read = collect(store.get(&location, None).await.unwrap().data).await;
            assert_eq!(read, second);
            store.delete(&location).await.unwrap();
        }
        assert_eq!(admin.other_sessions().await.len(), 1);
    });
}
