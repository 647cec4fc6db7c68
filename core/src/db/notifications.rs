//! The notification outbox: one row per event waiting for the message
//! broker. A change that causes events writes their rows in its own
//! transaction (the `*_noting` writes take them), so an event exists exactly
//! when its change does: a change that rolls back leaves no row, and one
//! that commits leaves its rows even if the process dies the next instant.
//! The delivery job (`jobs::notify`) publishes rows in id order and removes
//! them once the broker has confirmed them. A broker that is down only lets
//! rows pile up here; no request waits for it.

use sqlx::{AnyConnection, Row};

use super::codec::{micros, now};
use super::sql::{Batch, Sql};
use super::{Backend, Database, DbError};

/// A notification to add: the finished message body and its priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Lower-case priority (`info`, `error`): the routing key's suffix.
    pub priority: String,
    /// The message as JSON text, published as is inside the envelope.
    pub message: String,
}

/// A row waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub priority: String,
    pub message: String,
}

impl Database {
    /// Adds notifications no stored change causes (`image.send`), in the
    /// order given.
    pub async fn add_notifications(&self, items: &[NewNotification]) -> Result<(), DbError> {
        retrying!(self, "add_notifications", async {
            if items.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            insert_notifications(&mut tx, self.backend, items).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// The oldest `limit` notifications, in the order they were written.
    pub async fn next_notifications(&self, limit: u32) -> Result<Vec<Notification>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT id, priority, message FROM notifications ORDER BY id LIMIT ")
            .bind(i64::from(limit));
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(Notification {
                    id: row.try_get("id")?,
                    priority: row.try_get("priority")?,
                    message: row.try_get("message")?,
                })
            })
            .collect()
    }

    /// The broker confirmed these: their rows go.
    pub async fn remove_notifications(&self, ids: &[i64]) -> Result<(), DbError> {
        retrying!(self, "remove_notifications", async {
            if ids.is_empty() {
                return Ok(());
            }
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM notifications WHERE ")
                .push_in("id", ids.iter().copied());
            sql.build()?.execute(&self.writer).await?;
            Ok::<_, DbError>(())
        })
    }
}

/// Writes `items` to the outbox on `conn`, inside the caller's transaction,
/// in one statement. Ids follow the order given.
pub(super) async fn insert_notifications(
    conn: &mut AnyConnection,
    backend: Backend,
    items: &[NewNotification],
) -> Result<(), DbError> {
    let mut batch = Batch::new(backend);
    push_notifications(&mut batch, items);
    batch.execute(conn).await?;
    Ok(())
}

/// The insert of `items`, if there are any, added to `batch`.
pub(super) fn push_notifications(batch: &mut Batch, items: &[NewNotification]) {
    if items.is_empty() {
        return;
    }
    let created_at = micros(now());
    batch
        .statement()
        .push("INSERT INTO notifications (priority, message, created_at) VALUES ")
        .push_rows(items, |row, item| {
            row.bind(item.priority.as_str())
                .bind(item.message.as_str())
                .bind(created_at);
        });
}
