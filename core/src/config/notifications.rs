//! `[notifications]`: events sent to a message broker in the format and
//! places Glance's notifier (oslo.messaging, messagingv2) uses, under
//! Glance's option names. Off until `transport_url` is set. Every default is
//! in `config/defaults.toml`, as for the other sections.

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The broker, as oslo.messaging spells it:
    /// `rabbit://user:password@host:5672/vhost`. Unset: no notifications.
    #[serde(default)]
    pub transport_url: Option<Secret>,
    /// Topics each notification goes to; the routing key is
    /// `<topic>.<priority>` (oslo.messaging's `topics`).
    pub topics: Vec<String>,
    /// The exchange notifications are published to (Glance's `control_exchange`).
    pub control_exchange: String,
    /// The `publisher_id` of every message (Glance's `default_publisher_id`).
    pub default_publisher_id: String,
    /// Events not sent: an event type (`image.update`) or a group, the part
    /// before the first dot (`image`, `task`, `metadef_tag`).
    pub disabled_notifications: Vec<String>,
    /// Declare the exchange and the topic queues durable (oslo.messaging's
    /// `amqp_durable_queues`); must match what listeners declare.
    pub amqp_durable_queues: bool,
    /// Notifications published per unit of work of the delivery job.
    pub batch_size: u32,
    /// Seconds the delivery job waits between looks at an empty outbox, and
    /// before it tries an unreachable broker again.
    pub interval_secs: u64,
    /// Seconds to wait for the broker to confirm a batch before trying again.
    pub confirm_timeout_secs: u64,
}

impl NotificationsConfig {
    /// Whether notifications are on.
    pub fn enabled(&self) -> bool {
        self.transport_url.is_some()
    }

    /// Whether `event_type` is sent: neither it nor its group is disabled.
    pub fn is_enabled(&self, event_type: &str) -> bool {
        let group = event_type.split('.').next().unwrap_or(event_type);
        self.enabled()
            && !self
                .disabled_notifications
                .iter()
                .any(|d| d == event_type || d == group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_disabled(disabled: &[&str]) -> NotificationsConfig {
        NotificationsConfig {
            transport_url: Some(serde_json::from_str("\"rabbit://h\"").unwrap()),
            disabled_notifications: disabled.iter().map(|s| s.to_string()).collect(),
            ..NotificationsConfig::default()
        }
    }

    #[test]
    fn nothing_is_sent_without_a_transport_url() {
        assert!(!NotificationsConfig::default().is_enabled("image.create"));
        assert!(with_disabled(&[]).is_enabled("image.create"));
    }

    #[test]
    fn an_event_or_its_group_disables_it() {
        let config = with_disabled(&["image.update", "task", "metadef_tag"]);
        assert!(!config.is_enabled("image.update"));
        assert!(config.is_enabled("image.create"));
        // The group is the part before the first dot only: `image` would
        // also cover `image.member.*`, `image.member` covers nothing.
        assert!(config.is_enabled("image.member.create"));
        assert!(!config.is_enabled("task.success"));
        assert!(!config.is_enabled("metadef_tag.create"));
        assert!(config.is_enabled("metadef_namespace.create"));
    }
}
