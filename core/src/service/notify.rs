//! Emitting notifications: the service step that caused an event calls one
//! function here, which writes the finished message to the outbox
//! (`db::notifications`); the delivery job publishes it. Payloads and the
//! message fields are those of Glance's notifier under oslo.messaging's
//! messagingv2 driver, so existing listeners read them unchanged.
//!
//! Emitting never fails the request: the step's own change is already
//! saved, so an outbox write that fails is logged, not returned.

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
use crate::domain::metadefs::Namespace;
use crate::domain::{Image, ImageStatus, Member, Task, Visibility};

/// Glance's `isotime`: whole seconds, `Z`.
fn isotime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
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

/// Writes one notification to the outbox, unless notifications are off or
/// `event_type` is disabled.
async fn emit(app: &App, event_type: &str, priority: &str, payload: Value) {
    emit_to(
        &app.db,
        &app.config.notifications,
        event_type,
        priority,
        payload,
    )
    .await;
}

async fn emit_to(
    db: &Database,
    config: &NotificationsConfig,
    event_type: &str,
    priority: &str,
    payload: Value,
) {
    if !config.is_enabled(event_type) {
        return;
    }
    let row = NewNotification {
        priority: priority.to_owned(),
        message: message(config, event_type, priority, payload),
    };
    if let Err(e) = db.add_notifications(&[row]).await {
        tracing::error!(event_type, error = %e, "could not record a notification; it is lost");
    }
}

/// An info notification about an image (`image.create`, `image.update`, ...).
pub async fn image(app: &App, event_type: &str, image: &Image) {
    emit(app, event_type, "info", image_payload(image)).await;
}

/// `image.delete`: the image as it was, in the `status` the delete left it
/// in, marked deleted now.
pub async fn image_deleted(app: &App, image: &Image, status: ImageStatus) {
    let mut payload = image_payload(image);
    payload["status"] = json!(status.as_str());
    payload["deleted"] = json!(true);
    payload["deleted_at"] = json!(isotime(Utc::now()));
    emit(app, "image.delete", "info", payload).await;
}

/// An upload step (`image.prepare`, `image.upload`): the image, its import
/// bookkeeping properties as lists, and, for `image.prepare` only (as in
/// Glance), the target store.
pub async fn image_data(app: &App, event_type: &str, image: &Image, backend: Option<&str>) {
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
    emit(app, event_type, "info", payload).await;
}

/// A failed upload: `image.upload` at error priority, the reason as payload.
pub async fn image_upload_failed(app: &App, reason: &str) {
    emit(app, "image.upload", "error", json!(reason)).await;
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
            emit_to(&db, &config, "image.send", priority, payload).await;
        });
    }
}

/// `image.member.create`, `.update` or `.delete`.
pub async fn member(app: &App, event_type: &str, member: &Member) {
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
    emit(app, event_type, "info", payload).await;
}

/// `task.create`, `task.processing`, `task.success`, `task.failure`, ...
/// The task's input is left out: it may hold credentials.
pub async fn task(app: &App, event_type: &str, task: &Task) {
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
    emit(app, event_type, "info", payload).await;
}

/// `metadef_namespace.create`, `.update` (with the name it had), `.delete`.
pub async fn namespace(app: &App, event_type: &str, ns: &Namespace, old_name: Option<&str>) {
    let deleted = event_type == "metadef_namespace.delete";
    let payload = json!({
        "namespace": ns.namespace,
        "namespace_old": old_name.unwrap_or(&ns.namespace),
        "display_name": ns.display_name,
        "protected": ns.protected,
        "visibility": ns.visibility.as_str(),
        "owner": ns.owner,
        "description": ns.description,
        "created_at": isotime(ns.created_at),
        "updated_at": isotime(ns.updated_at),
        "deleted": deleted,
        "deleted_at": deleted.then(|| isotime(Utc::now())),
    });
    emit(app, event_type, "info", payload).await;
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
