//! Plugin log events reach the host's `tracing` (own test binary: it installs a global subscriber
//! before any plugin is loaded).

use std::sync::{Arc, Mutex};

use glint_sdk::host::load_store_plugin;
use glint_sdk::tracing::field::{Field, Visit};
use glint_sdk::tracing::span::{Attributes, Id, Record};
use glint_sdk::tracing::{self, Event, Metadata, Subscriber};
use glint_sdk_testkit::example_cdylib_path;

/// Records `target level field=value…` for every event.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::INFO
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!(
            "{} {}",
            event.metadata().target(),
            event.metadata().level()
        ));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn plugin_events_are_re_emitted_by_the_host() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(Arc::clone(&events))).unwrap();
    let plugin = load_store_plugin(&example_cdylib_path("store_memory")).unwrap();
    plugin.open("logged-store", &serde_json::json!({})).unwrap();
    let events = events.lock().unwrap();
    let opened = events
        .iter()
        .find(|event| event.contains("memory store opened"))
        .unwrap_or_else(|| panic!("no forwarded event in {events:?}"));
    assert!(opened.starts_with("glint::plugin INFO"), "{opened}");
    assert!(opened.contains("driver=\"memory\""), "{opened}");
    assert!(
        opened.contains("plugin_target=\"store_memory\""),
        "{opened}"
    );
    assert!(opened.contains("store=logged-store"), "{opened}");
}
