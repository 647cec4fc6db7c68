//! The notification outbox on SQLite, PostgreSQL and MySQL/MariaDB, each in
//! a database of its own: rows come back in the order they were written,
//! whole, and go only when removed by id.

mod support;

use support::run;

db_test_suite!(
    notifications_come_back_in_order_and_go_by_id,
    large_messages_survive_unchanged,
);

mod cases {
    use glint_core::db::{Database, NewNotification};

    fn row(priority: &str, message: &str) -> NewNotification {
        NewNotification {
            priority: priority.into(),
            message: message.into(),
        }
    }

    pub async fn notifications_come_back_in_order_and_go_by_id(db: Database) {
        assert!(db.next_notifications(10).await.unwrap().is_empty());
        db.add_notifications(&[row("info", "{\"n\":1}"), row("error", "{\"n\":2}")])
            .await
            .unwrap();
        db.add_notifications(&[row("info", "{\"n\":3}")])
            .await
            .unwrap();

        let first = db.next_notifications(2).await.unwrap();
        let seen: Vec<_> = first
            .iter()
            .map(|n| (n.priority.as_str(), n.message.as_str()))
            .collect();
        assert_eq!(seen, [("info", "{\"n\":1}"), ("error", "{\"n\":2}")]);
        assert!(first[0].id < first[1].id);

        // Removing the first batch leaves the third row, and nothing else.
        db.remove_notifications(&first.iter().map(|n| n.id).collect::<Vec<_>>())
            .await
            .unwrap();
        let rest = db.next_notifications(10).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].message, "{\"n\":3}");
        assert!(rest[0].id > first[1].id);
        db.remove_notifications(&[]).await.unwrap();
        assert_eq!(db.next_notifications(10).await.unwrap().len(), 1);
    }

    pub async fn large_messages_survive_unchanged(db: Database) {
        // An image with many properties makes a long message; non-ASCII too.
        let message = format!("{{\"payload\":\"{}é✓\"}}", "x".repeat(200_000));
        db.add_notifications(&[row("info", &message)])
            .await
            .unwrap();
        let got = db.next_notifications(1).await.unwrap();
        assert_eq!(got[0].message, message);
    }
}
