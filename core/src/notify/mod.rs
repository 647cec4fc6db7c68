//! The message broker side of notifications: publishes finished messages to
//! RabbitMQ where oslo.messaging's rabbit driver puts them, so listeners
//! written for Glance receive them unchanged.
//!
//! Where: a topic exchange named `control_exchange`, routing key
//! `<topic>.<priority>`, and a queue of that name bound to it (declared on
//! first use, as the rabbit driver does, so that nothing published before a
//! listener starts is lost). What: the messagingv2 envelope,
//! `{"oslo.version": "2.0", "oslo.message": "<the message as JSON text>"}`,
//! persistent, `application/json`.
//!
//! Every publish waits for the broker's confirm (publisher confirms): a batch
//! counts as delivered only when all of it is acknowledged. Any failure drops
//! the connection; the next batch connects again.

use std::collections::HashSet;
use std::time::Duration;

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use crate::config::NotificationsConfig;

/// The version field of oslo.messaging's message envelope.
pub const OSLO_VERSION: &str = "2.0";

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Holds no URL: it may carry a password.
    #[error("notifications.transport_url is not a rabbit:// or amqp:// URL")]
    BadUrl,
    #[error("message broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the message broker refused notification {0}")]
    Nacked(i64),
    #[error("the message broker did not confirm within {0:?}")]
    Timeout(Duration),
}

/// A message to publish: its outbox id, priority and body.
pub struct Outgoing<'a> {
    pub id: i64,
    pub priority: &'a str,
    pub message: &'a str,
}

/// One connection to the broker, opened when needed.
pub struct Publisher {
    config: NotificationsConfig,
    open: Option<Open>,
}

struct Open {
    /// Kept so the connection lives as long as its channel.
    _connection: Connection,
    channel: Channel,
    /// Routing keys whose queue this connection declared.
    declared: HashSet<String>,
}

impl Publisher {
    pub fn new(config: NotificationsConfig) -> Publisher {
        Publisher { config, open: None }
    }

    /// Publishes `batch` in order and waits until the broker has confirmed
    /// every message of it.
    pub async fn publish(&mut self, batch: &[Outgoing<'_>]) -> Result<(), PublishError> {
        let timeout = Duration::from_secs(self.config.confirm_timeout_secs.max(1));
        let outcome = tokio::time::timeout(timeout, self.publish_confirmed(batch)).await;
        let result = outcome.unwrap_or(Err(PublishError::Timeout(timeout)));
        if result.is_err() {
            // A connection that failed once is not trusted again.
            self.open = None;
        }
        result
    }

    async fn publish_confirmed(&mut self, batch: &[Outgoing<'_>]) -> Result<(), PublishError> {
        if self
            .open
            .as_ref()
            .is_none_or(|o| !o.channel.status().connected())
        {
            self.open = Some(self.connect().await?);
        }
        let durable = self.config.amqp_durable_queues;
        let exchange = self.config.control_exchange.clone();
        let topics = self.config.topics.clone();
        let open = self.open.as_mut().expect("connected above");
        let mut confirms = Vec::with_capacity(batch.len() * topics.len());
        for item in batch {
            let body = serde_json::json!({
                "oslo.version": OSLO_VERSION,
                "oslo.message": item.message,
            })
            .to_string();
            for topic in &topics {
                let key = format!("{topic}.{}", item.priority);
                if !open.declared.contains(&key) {
                    declare_queue(&open.channel, &exchange, &key, durable).await?;
                    open.declared.insert(key.clone());
                }
                let confirm = open
                    .channel
                    .basic_publish(
                        exchange.as_str().into(),
                        key.as_str().into(),
                        BasicPublishOptions::default(),
                        body.as_bytes(),
                        BasicProperties::default()
                            .with_content_type("application/json".into())
                            .with_content_encoding("utf-8".into())
                            // Persistent, as kombu publishes by default.
                            .with_delivery_mode(2),
                    )
                    .await?;
                confirms.push((item.id, confirm));
            }
        }
        for (id, confirm) in confirms {
            if !confirm.await?.is_ack() {
                return Err(PublishError::Nacked(id));
            }
        }
        Ok(())
    }

    async fn connect(&self) -> Result<Open, PublishError> {
        let url = self
            .config
            .transport_url
            .as_ref()
            .ok_or(PublishError::BadUrl)?;
        let mut last = PublishError::BadUrl;
        for uri in amqp_uris(url.expose()).ok_or(PublishError::BadUrl)? {
            match Connection::connect(&uri, ConnectionProperties::default()).await {
                Ok(connection) => {
                    let channel = connection.create_channel().await?;
                    channel
                        .confirm_select(ConfirmSelectOptions::default())
                        .await?;
                    let exchange = self.config.control_exchange.as_str();
                    channel
                        .exchange_declare(
                            exchange.into(),
                            ExchangeKind::Topic,
                            ExchangeDeclareOptions {
                                durable: self.config.amqp_durable_queues,
                                ..ExchangeDeclareOptions::default()
                            },
                            FieldTable::default(),
                        )
                        .await?;
                    return Ok(Open {
                        _connection: connection,
                        channel,
                        declared: HashSet::new(),
                    });
                }
                Err(e) => last = e.into(),
            }
        }
        Err(last)
    }
}

/// The queue named after the routing key, bound to the exchange with it:
/// messages published before any listener exists wait there.
async fn declare_queue(
    channel: &Channel,
    exchange: &str,
    key: &str,
    durable: bool,
) -> Result<(), PublishError> {
    channel
        .queue_declare(
            key.into(),
            QueueDeclareOptions {
                durable,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            key.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// The AMQP URIs of an oslo.messaging transport URL, one per host, in order:
/// `rabbit://u:p@h1:5672,u:p@h2:5672/vhost`. A missing or `/` virtual host is
/// RabbitMQ's default, `/`.
pub fn amqp_uris(transport_url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = transport_url.split_once("://")?;
    if !matches!(scheme, "rabbit" | "amqp" | "kombu") {
        return None;
    }
    let (hosts, vhost) = match rest.split_once('/') {
        Some((hosts, vhost)) => (hosts, vhost.split('?').next().unwrap_or("")),
        None => (rest, ""),
    };
    let vhost = if vhost.is_empty() { "%2f" } else { vhost };
    let uris: Vec<String> = hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|host| format!("amqp://{host}/{vhost}"))
        .collect();
    (!uris.is_empty()).then_some(uris)
}

#[cfg(test)]
mod tests {
    use super::amqp_uris;

    #[test]
    fn transport_urls_become_amqp_uris() {
        assert_eq!(
            amqp_uris("rabbit://guest:guest@127.0.0.1:5672/").unwrap(),
            ["amqp://guest:guest@127.0.0.1:5672/%2f"]
        );
        assert_eq!(
            amqp_uris("rabbit://a:b@h1:5672,a:b@h2:5673/glance").unwrap(),
            ["amqp://a:b@h1:5672/glance", "amqp://a:b@h2:5673/glance"]
        );
        assert_eq!(amqp_uris("rabbit://h").unwrap(), ["amqp://h/%2f"]);
        assert_eq!(amqp_uris("kafka://h:9092/"), None);
        assert_eq!(amqp_uris("rabbit:///"), None);
    }
}
