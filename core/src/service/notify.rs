//! Notifications: the payloads and message fields of Glance's notifier under
//! oslo.messaging's messagingv2 driver, so existing listeners read them
//! unchanged.
//!
//! The functions here only make messages ([`Notes`]; none when
//! notifications are off or the event is disabled). The step that changes
//! something hands them to the database write that stores the change, which
//! puts them in the outbox in the same transaction (`db::notifications`);
//! the delivery job publishes them. Events no stored change causes (an
//! image sent, an upload about to start) are written on their own by
//! [`record`].

use std::task::Poll;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use glint_sdk::DataStream;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::app::App;
use crate::config::NotificationsConfig;
use crate::context::RequestContext;
use crate::db::{Database, NewNotification};
use crate::domain::metadefs::{Association, MetadefObject, Namespace, Property, Tag};
use crate::domain::{Image, ImageStatus, Member, Task, TaskStatus, Visibility};

/// Glance's `isotime`: whole seconds, `Z`.
fn isotime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Glance's `isotime` of a time that may be unset: `isotime(None)` is the
/// time now (what a definitions load made has no `updated_at`).
fn isotime_or_now(t: Option<DateTime<Utc>>) -> String {
    isotime(t.unwrap_or_else(Utc::now))
}

/// The message's `timestamp`: Python's `str()` of a naive UTC datetime, as
/// oslo.messaging writes it (`2026-12-06 22:30:25.123456`; no fraction when
/// the microseconds are zero).
fn message_timestamp(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// The message body oslo.messaging's notifier builds (and its driver's
/// `_unique_id`), as JSON text.
fn message(
    config: &NotificationsConfig,
    event_type: &str,
    priority: &str,
    payload: Value,
) -> String {
    json!({
        "message_id": Uuid::new_v4().to_string(),
        "publisher_id": config.default_publisher_id,
        "event_type": event_type,
        "priority": priority.to_ascii_uppercase(),
        "payload": payload,
        "timestamp": message_timestamp(Utc::now()),
        "_unique_id": Uuid::new_v4().simple().to_string(),
    })
    .to_string()
}

/// The outbox rows of the events of one change, in the order they happened.
pub type Notes = Vec<NewNotification>;

/// The row of one event: none when notifications are off or `event_type`
/// is disabled.
fn note(config: &NotificationsConfig, event_type: &str, priority: &str, payload: Value) -> Notes {
    if !config.is_enabled(event_type) {
        return Vec::new();
    }
    vec![NewNotification {
        priority: priority.to_owned(),
        message: message(config, event_type, priority, payload),
    }]
}

fn info(app: &App, event_type: &str, payload: Value) -> Notes {
    note(&app.config.notifications, event_type, "info", payload)
}

/// Writes notes that no stored change carries, in a transaction of their
/// own. Never fails the request: a failed write is logged.
pub async fn record(app: &App, notes: Notes) {
    record_to(&app.db, notes).await;
}

async fn record_to(db: &Database, notes: Notes) {
    if notes.is_empty() {
        return;
    }
    if let Err(e) = db.add_notifications(&notes).await {
        tracing::error!(error = %e, "could not record a notification; it is lost");
    }
}

/// An info notification about an image (`image.create`, `image.update`, ...).
pub fn image(app: &App, event_type: &str, image: &Image) -> Notes {
    info(app, event_type, image_payload(image))
}

/// `image.delete`: the image as it was, in the `status` the delete left it
/// in, marked deleted now.
pub fn image_deleted(app: &App, image: &Image, status: ImageStatus) -> Notes {
    let mut payload = image_payload(image);
    payload["status"] = json!(status.as_str());
    payload["deleted"] = json!(true);
    payload["deleted_at"] = json!(isotime(Utc::now()));
    info(app, "image.delete", payload)
}

/// An upload step (`image.prepare`, `image.upload`): the image, its import
/// bookkeeping properties as lists, and, for `image.prepare` only (as in
/// Glance), the target store.
pub fn image_data(app: &App, event_type: &str, image: &Image, backend: Option<&str>) -> Notes {
    let mut payload = image_payload(image);
    let list = |key: &str| -> Vec<String> {
        image
            .properties
            .get(key)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    payload["os_glance_importing_to_stores"] = json!(list("os_glance_importing_to_stores"));
    payload["os_glance_failed_import"] = json!(list("os_glance_failed_import"));
    if let Some(backend) = backend {
        payload["backend"] = json!(backend);
    }
    info(app, event_type, payload)
}

/// A failed upload: `image.upload` at error priority, the reason as payload.
pub fn image_upload_failed(app: &App, reason: &str) -> Notes {
    note(
        &app.config.notifications,
        "image.upload",
        "error",
        json!(reason),
    )
}

/// `image.send`: `data` with a notification once all of it went to the
/// caller (the HTTP layer may stop polling after the last byte, so the
/// notification is sent when the stream goes, not at its end); error
/// priority when the stream ended short of `expected` bytes. A stream
/// dropped early (the client went away) sends none, as in Glance.
pub fn image_sent(
    app: &App,
    ctx: &RequestContext,
    image: &Image,
    expected: u64,
    data: DataStream,
) -> DataStream {
    let config = &app.config.notifications;
    if !config.is_enabled("image.send") {
        return data;
    }
    let (db, config) = (app.db.clone(), config.clone());
    let payload = json!({
        "image_id": image.id,
        "owner_id": image.owner,
        "receiver_tenant_id": ctx.project_id,
        "receiver_user_id": ctx.user_id,
    });
    let mut report = SendReport {
        db,
        config,
        payload: Some(payload),
        expected,
        sent: 0,
        ended: false,
    };
    let mut data = data;
    futures::stream::poll_fn(move |cx| {
        // The whole report moves into the closure (not copies of its
        // fields), so it is dropped with the stream.
        let report = &mut report;
        let next = data.poll_next_unpin(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) => report.sent += chunk.len() as u64,
            Poll::Ready(None) => report.ended = true,
            _ => {}
        }
        next
    })
    .boxed()
}

/// What an image download has sent so far; the notification goes when the
/// stream is dropped.
struct SendReport {
    db: Database,
    config: NotificationsConfig,
    payload: Option<Value>,
    expected: u64,
    sent: u64,
    ended: bool,
}

impl Drop for SendReport {
    fn drop(&mut self) {
        let priority = if self.sent == self.expected {
            "info"
        } else if self.ended {
            "error"
        } else {
            return;
        };
        let (Some(mut payload), Ok(runtime)) =
            (self.payload.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        payload["bytes_sent"] = json!(self.sent);
        let (db, config) = (self.db.clone(), self.config.clone());
        runtime.spawn(async move {
            record_to(&db, note(&config, "image.send", priority, payload)).await;
        });
    }
}

/// `image.member.create`, `.update` or `.delete`.
pub fn member(app: &App, event_type: &str, member: &Member) -> Notes {
    let deleted = event_type.ends_with(".delete");
    let payload = json!({
        "image_id": member.image_id,
        "member_id": member.member,
        "status": member.status.as_str(),
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
        "deleted": deleted,
        "deleted_at": deleted.then(|| isotime(Utc::now())),
    });
    info(app, event_type, payload)
}

/// `task.create`, `task.processing`, `task.success`, `task.failure`, ...
/// The task's input is left out: it may hold credentials.
pub fn task(app: &App, event_type: &str, task: &Task) -> Notes {
    let payload = json!({
        "id": task.id,
        "type": task.kind,
        "status": task.status.as_str(),
        "result": null,
        "owner": task.owner,
        "message": null,
        "expires_at": task.expires_at.map(isotime),
        "created_at": isotime(task.created_at),
        "updated_at": isotime(task.updated_at),
        "deleted": false,
        "deleted_at": null,
    });
    info(app, event_type, payload)
}

/// `task.run`: Glance sends it when the executor returns, after the task's
/// end, with the task as the request that created it still holds it
/// (`pending`, never updated).
pub fn task_run(app: &App, task: &Task) -> Notes {
    let as_created = Task {
        status: TaskStatus::Pending,
        updated_at: task.created_at,
        expires_at: None,
        ..task.clone()
    };
    self::task(app, "task.run", &as_created)
}

/// `metadef_namespace.create`, `.update` (with the name it had), and the
/// deletions of one kind of content (`.delete_objects`, ...).
pub fn namespace(app: &App, event_type: &str, ns: &Namespace, old_name: Option<&str>) -> Notes {
    let mut payload = namespace_payload(ns);
    if let Some(old_name) = old_name {
        payload["namespace_old"] = json!(old_name);
    }
    info(app, event_type, payload)
}

/// `metadef_namespace.delete`: the namespace as it was, marked deleted now.
pub fn namespace_deleted(app: &App, ns: &Namespace) -> Notes {
    let mut payload = namespace_payload(ns);
    mark_deleted(&mut payload);
    info(app, "metadef_namespace.delete", payload)
}

fn namespace_payload(ns: &Namespace) -> Value {
    json!({
        "namespace": ns.namespace,
        "namespace_old": ns.namespace,
        "display_name": ns.display_name,
        "protected": ns.protected,
        "visibility": ns.visibility.as_str(),
        "owner": ns.owner,
        "description": ns.description,
        "created_at": isotime(ns.created_at),
        "updated_at": isotime_or_now(ns.updated_at),
        "deleted": false,
        "deleted_at": null,
    })
}

/// What Glance's delete notifications add to the payload.
fn mark_deleted(payload: &mut Value) {
    payload["deleted"] = json!(true);
    payload["deleted_at"] = json!(isotime(Utc::now()));
}

/// An object, property or tag of a namespace, as its notifications show it.
pub trait MetadefEvent {
    /// The event's resource: `metadef_object`, `metadef_property`, `metadef_tag`.
    const RESOURCE: &'static str;

    /// Glance's payload for the item in `namespace`.
    fn payload(&self, namespace: &str) -> Value;
}

/// The schema keys Glance's property notifications carry, in its order.
const PROPERTY_KEYS: [&str; 16] = [
    "type",
    "title",
    "description",
    "default",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "confidential",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
];

impl MetadefEvent for MetadefObject {
    const RESOURCE: &'static str = "metadef_object";

    fn payload(&self, namespace: &str) -> Value {
        // Glance reads an object's properties through its property type, where
        // any false value (0, "", false, []) reads as missing.
        let properties: Vec<Value> = self
            .properties
            .iter()
            .map(|(name, schema)| {
                let mut out = Map::new();
                out.insert("name".into(), json!(name));
                for key in PROPERTY_KEYS {
                    let value = schema.get(key).filter(|v| truthy(v)).cloned();
                    out.insert(key.into(), value.unwrap_or(Value::Null));
                }
                Value::Object(out)
            })
            .collect();
        json!({
            "namespace": namespace,
            "name": self.name,
            "name_old": self.name,
            "properties": properties,
            "required": (!self.required.is_empty()).then_some(&self.required),
            "description": self.description,
            "created_at": isotime(self.created_at),
            "updated_at": isotime_or_now(self.updated_at),
            "deleted": false,
            "deleted_at": null,
        })
    }
}

impl MetadefEvent for Property {
    const RESOURCE: &'static str = "metadef_property";

    fn payload(&self, namespace: &str) -> Value {
        let mut out = Map::new();
        out.insert("namespace".into(), json!(namespace));
        out.insert("name".into(), json!(self.name));
        out.insert("name_old".into(), json!(self.name));
        for key in PROPERTY_KEYS {
            let value = self.schema.get(key).cloned();
            out.insert(key.into(), value.unwrap_or(Value::Null));
        }
        out.insert("deleted".into(), json!(false));
        out.insert("deleted_at".into(), Value::Null);
        Value::Object(out)
    }
}

impl MetadefEvent for Tag {
    const RESOURCE: &'static str = "metadef_tag";

    fn payload(&self, namespace: &str) -> Value {
        json!({
            "namespace": namespace,
            "name": self.name,
            "name_old": self.name,
            "created_at": isotime(self.created_at),
            "updated_at": isotime_or_now(self.updated_at),
            "deleted": false,
            "deleted_at": null,
        })
    }
}

impl MetadefEvent for Association {
    const RESOURCE: &'static str = "metadef_resource_type";

    fn payload(&self, namespace: &str) -> Value {
        json!({
            "namespace": namespace,
            "name": self.name,
            "name_old": self.name,
            "prefix": self.prefix,
            "properties_target": self.properties_target,
            "created_at": isotime(self.created_at),
            "updated_at": isotime_or_now(self.updated_at),
            "deleted": false,
            "deleted_at": null,
        })
    }
}

/// Python's truth value of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `<resource>.create` of each item, in the order given.
pub fn metadefs_created<C: MetadefEvent>(app: &App, namespace: &str, items: &[C]) -> Notes {
    let event = format!("{}.create", C::RESOURCE);
    items
        .iter()
        .flat_map(|item| info(app, &event, item.payload(namespace)))
        .collect()
}

/// `<resource>.update` of an item that was called `old_name`.
pub fn metadef_updated<C: MetadefEvent>(
    app: &App,
    namespace: &str,
    item: &C,
    old_name: &str,
) -> Notes {
    let mut payload = item.payload(namespace);
    payload["name_old"] = json!(old_name);
    info(app, &format!("{}.update", C::RESOURCE), payload)
}

/// `<resource>.delete` of an item as it was, marked deleted now.
pub fn metadef_deleted<C: MetadefEvent>(app: &App, namespace: &str, item: &C) -> Notes {
    let mut payload = item.payload(namespace);
    mark_deleted(&mut payload);
    info(app, &format!("{}.delete", C::RESOURCE), payload)
}

/// Glance's image payload: no locations (they may hold credentials).
fn image_payload(image: &Image) -> Value {
    let properties: Map<String, Value> = image
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "id": image.id,
        "name": image.name,
        "status": image.status.as_str(),
        "created_at": isotime(image.created_at),
        "updated_at": isotime(image.updated_at),
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "protected": image.protected,
        "checksum": image.checksum,
        "owner": image.owner,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "is_public": image.visibility == Visibility::Public,
        "visibility": image.visibility.as_str(),
        "properties": properties,
        "tags": image.tags,
        "deleted": false,
        "deleted_at": null,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_written_as_glance_and_oslo_write_them() {
        let t = Utc.with_ymd_and_hms(2026, 12, 6, 22, 30, 25).unwrap();
        assert_eq!(isotime(t), "2026-12-06T22:30:25Z");
        assert_eq!(message_timestamp(t), "2026-12-06 22:30:25");
        let t = t + chrono::Duration::microseconds(1234);
        assert_eq!(isotime(t), "2026-12-06T22:30:25Z");
        assert_eq!(message_timestamp(t), "2026-12-06 22:30:25.001234");
    }
}
