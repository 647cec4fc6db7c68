//! Keys, passwords and tokens never reach the host's logs, even at debug level (own test binary:
//! it installs a global subscriber before the plugin is loaded).

mod support;

use std::sync::{Arc, Mutex};

use glint_sdk::tracing::field::{Field, Visit};
use glint_sdk::tracing::span::{Attributes, Id, Record};
use glint_sdk::tracing::{self, Event, Metadata, Subscriber};
use glint_sdk_testkit::{collect, odd_chunks, random_bytes};
use serde_json::json;
use support::{Account, open, options, runtime, swift};

/// Records `target level field=value…` for every event up to debug.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::DEBUG
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("{}", event.metadata().level()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn secrets_never_reach_the_logs() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(Arc::clone(&events))).unwrap();
    let swift = swift();
    let good = options(&std::env::temp_dir().join("logs"));
    let mut wrong = good.clone();
    wrong["key"] = json!("wrong-key-for-the-logs");
    let store = open(&good);
    // The refused credentials are checked (and logged about) while the store opens.
    let refused = glint_sdk::host::load_store_plugin(&support::plugin())
        .unwrap()
        .open("swift", &wrong)
        .unwrap_err();
    assert!(
        !refused.message.contains("wrong-key-for-the-logs"),
        "{refused}"
    );
    let token = runtime().block_on(async {
        let data = random_bytes(300_000, 81);
        let outcome = store
            .put(
                "7a5e0b1c-0301-4000-8000-000000000001",
                None,
                odd_chunks(&data),
            )
            .await
            .unwrap();
        assert!(collect(store.get(&outcome.location, None).await.unwrap().data).await == data);
        store.delete(&outcome.location).await.unwrap();
        // tempauth hands out the user's current token again: the one the store used.
        Account::connect(swift).await.token
    });
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|event| event.contains("swift store opened")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|event| event.contains("segment written")),
        "debug events are captured: {events:?}"
    );
    for event in events.iter() {
        for secret in [swift.key.as_str(), "wrong-key-for-the-logs", token.as_str()] {
            assert!(!event.contains(secret), "{secret:?} logged: {event}");
        }
    }
}
