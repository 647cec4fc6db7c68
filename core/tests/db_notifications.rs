//! The notification outbox on SQLite, PostgreSQL and MySQL/MariaDB, each in
//! a database of its own: rows come back in the order they were written,
//! whole, and go only when removed by id; a change and the notifications it
//! causes are written in one transaction, so they exist together or not at all.

mod support;

use support::run;

db_test_suite!(
    notifications_come_back_in_order_and_go_by_id,
    large_messages_survive_unchanged,
    a_change_commits_with_its_notifications_made_from_what_it_saved,
    a_refused_change_leaves_no_notification,
    a_change_whose_notifications_fail_is_not_made,
);

mod cases {
    use std::panic::AssertUnwindSafe;

    use chrono::Utc;
    use futures::FutureExt;
    use glint_core::db::{Database, DbError, NewNotification};
    use glint_core::domain::metadefs::{self, Tag};
    use glint_core::domain::{Image, ImageStatus};
    use serde_json::json;
    use uuid::Uuid;

    /// Every message waiting in the outbox.
    async fn outbox(db: &Database) -> Vec<String> {
        let rows = db.next_notifications(1000).await.unwrap();
        rows.into_iter().map(|n| n.message).collect()
    }

    /// A new image, its times at the database's precision.
    fn image() -> Image {
        let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        Image::new(Uuid::new_v4(), Some("p1".into()), now)
    }

    fn tag(name: &str) -> Tag {
        metadefs::tag_name(name, Utc::now()).unwrap()
    }

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

    pub async fn a_change_commits_with_its_notifications_made_from_what_it_saved(db: Database) {
        let img = image();
        db.create_image_noting(&img, &[row("info", "created")])
            .await
            .unwrap();
        assert_eq!(outbox(&db).await, ["created"]);

        // The notes are made from the row as saved: its new updated_at.
        let mut renamed = img.clone();
        renamed.name = Some("renamed".into());
        let saved = db
            .update_image_noting(&renamed, Some(ImageStatus::Queued), |saved| {
                vec![row(
                    "info",
                    &saved.updated_at.timestamp_micros().to_string(),
                )]
            })
            .await
            .unwrap();
        assert!(saved.updated_at > img.updated_at);
        let stored = db.get_image(img.id).await.unwrap().unwrap();
        assert_eq!(stored.updated_at, saved.updated_at);
        assert_eq!(
            outbox(&db).await[1],
            saved.updated_at.timestamp_micros().to_string()
        );

        // Several notes of one change keep their order.
        let member = db
            .add_member_noting(img.id, "p2", |m| {
                vec![row("info", &format!("{}-1", m.member)), row("info", "2")]
            })
            .await
            .unwrap();
        assert_eq!(member.member, "p2");
        assert_eq!(outbox(&db).await[2..], ["p2-1", "2"]);
        let mut when = None;
        db.add_tag_noting(img.id, "t", |updated_at| {
            when = Some(updated_at);
            vec![row("info", "tagged")]
        })
        .await
        .unwrap();
        let stored = db.get_image(img.id).await.unwrap().unwrap();
        assert_eq!(Some(stored.updated_at), when);
        assert!(stored.tags.contains("t"));
        assert_eq!(outbox(&db).await.len(), 5);
    }

    pub async fn a_refused_change_leaves_no_notification(db: Database) {
        let img = image();
        db.create_image(&img).await.unwrap();
        let refused = db
            .create_image_noting(&img, &[row("info", "duplicate")])
            .await;
        assert!(matches!(refused, Err(DbError::Duplicate)), "{refused:?}");

        // The stored status is no longer the one expected.
        let refused = db
            .update_image_noting(&img, Some(ImageStatus::Active), |_| {
                vec![row("info", "stale")]
            })
            .await;
        assert!(matches!(refused, Err(DbError::Conflict)), "{refused:?}");

        db.add_member(img.id, "p2").await.unwrap();
        let refused = db
            .add_member_noting(img.id, "p2", |_| vec![row("info", "member again")])
            .await;
        assert!(matches!(refused, Err(DbError::Duplicate)), "{refused:?}");

        let removed = db
            .remove_tag_noting(img.id, "absent", |_| vec![row("info", "untagged")])
            .await
            .unwrap();
        assert!(!removed);

        let doc =
            metadefs::namespace_document(&json!({"namespace": "OS::Outbox"}), Utc::now()).unwrap();
        db.create_namespace(&doc, false).await.unwrap();
        db.create_tags(&doc.namespace.namespace, &[tag("a")], false)
            .await
            .unwrap();
        // All or nothing: the second tag is taken, so neither tag nor note stays.
        let refused = db
            .create_tags_noting(
                &doc.namespace.namespace,
                &[tag("b"), tag("a")],
                false,
                &[row("info", "tags")],
            )
            .await;
        assert!(matches!(refused, Err(DbError::Duplicate)), "{refused:?}");
        let deleted = db
            .delete_item_noting::<Tag>(&doc.namespace.namespace, "absent", &[row("info", "gone")])
            .await
            .unwrap();
        assert!(!deleted);

        assert_eq!(outbox(&db).await, Vec::<String>::new());
        assert_eq!(db.get_image(img.id).await.unwrap().unwrap(), img);
    }

    pub async fn a_change_whose_notifications_fail_is_not_made(db: Database) {
        let img = image();
        db.create_image(&img).await.unwrap();
        let mut renamed = img.clone();
        renamed.name = Some("renamed".into());
        // Making the notes fails after the change's statements ran, inside its transaction.
        let failed = AssertUnwindSafe(db.update_image_noting(
            &renamed,
            Some(ImageStatus::Queued),
            |_| -> Vec<NewNotification> { panic!("no notes") },
        ))
        .catch_unwind()
        .await;
        assert!(failed.is_err());
        let stored = db.get_image(img.id).await.unwrap().unwrap();
        assert_eq!(stored.name, None);
        assert_eq!(stored.updated_at, img.updated_at);
        assert_eq!(outbox(&db).await, Vec::<String>::new());

        // The database is usable again, and the same change goes through with its notes.
        db.update_image_noting(&renamed, Some(ImageStatus::Queued), |_| {
            vec![row("info", "renamed")]
        })
        .await
        .unwrap();
        assert_eq!(outbox(&db).await, ["renamed"]);
    }
}
