//! The repository's targeted location and digest changes, on SQLite,
//! PostgreSQL and MySQL/MariaDB, each in a database of its own.

mod support;

use support::run;

db_test_suite!(
    locations_append_in_order_and_respect_the_status,
    locations_are_removed_by_url,
    digests_change_alone,
);

mod cases {
    use chrono::Utc;
    use glint_core::db::{Database, DbError};
    use glint_core::domain::{Image, ImageStatus, Location};
    use uuid::Uuid;

    fn location(store: &str, url: &str) -> Location {
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), store.into());
        Location {
            url: url.into(),
            metadata,
            status: "active".into(),
        }
    }

    async fn active_image(db: &Database) -> Image {
        let mut image = Image::new(Uuid::new_v4(), Some("p".into()), Utc::now());
        image.status = ImageStatus::Active;
        image.name = Some("kept".into());
        image.locations = vec![location("fast", "file:///fast/x")];
        db.create_image(&image).await.unwrap();
        image
    }

    pub async fn locations_append_in_order_and_respect_the_status(db: Database) {
        let image = active_image(&db).await;
        let second = location("slow", "file:///slow/x");
        let after = db
            .append_location(image.id, &second, &[ImageStatus::Active])
            .await
            .unwrap();
        assert_eq!(
            after.locations,
            vec![image.locations[0].clone(), second.clone()]
        );
        assert_eq!(after.name.as_deref(), Some("kept"));
        assert!(after.updated_at >= image.updated_at);
        let third = location("web", "http://h/x");
        db.append_location(image.id, &third, &[ImageStatus::Active])
            .await
            .unwrap();
        let stored = db.get_image(image.id).await.unwrap().unwrap();
        let stores: Vec<_> = stored.locations.iter().filter_map(|l| l.store()).collect();
        assert_eq!(stores, ["fast", "slow", "web"]);

        // Wrong status: nothing changes.
        let err = db
            .append_location(image.id, &third, &[ImageStatus::Queued])
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict), "{err}");
        assert_eq!(
            db.get_image(image.id)
                .await
                .unwrap()
                .unwrap()
                .locations
                .len(),
            3
        );
        let err = db
            .append_location(Uuid::new_v4(), &third, &[ImageStatus::Active])
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err}");
    }

    pub async fn locations_are_removed_by_url(db: Database) {
        let image = active_image(&db).await;
        db.append_location(
            image.id,
            &location("slow", "file:///slow/x"),
            &[ImageStatus::Active],
        )
        .await
        .unwrap();
        assert!(
            db.remove_location(image.id, "file:///fast/x", &[ImageStatus::Active])
                .await
                .unwrap()
        );
        assert!(
            !db.remove_location(image.id, "file:///fast/x", &[ImageStatus::Active])
                .await
                .unwrap()
        );
        let stored = db.get_image(image.id).await.unwrap().unwrap();
        assert_eq!(stored.locations, vec![location("slow", "file:///slow/x")]);
        let err = db
            .remove_location(image.id, "file:///slow/x", &[ImageStatus::Queued])
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict), "{err}");
        // A location added after a removal still goes last.
        db.append_location(
            image.id,
            &location("fast", "file:///fast/y"),
            &[ImageStatus::Active],
        )
        .await
        .unwrap();
        let stored = db.get_image(image.id).await.unwrap().unwrap();
        let urls: Vec<_> = stored.locations.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, ["file:///slow/x", "file:///fast/y"]);
    }

    pub async fn digests_change_alone(db: Database) {
        let image = active_image(&db).await;
        db.set_image_digests(image.id, Some("m"), Some("sha256"), Some("v"))
            .await
            .unwrap();
        let stored = db.get_image(image.id).await.unwrap().unwrap();
        assert_eq!(stored.checksum.as_deref(), Some("m"));
        assert_eq!(stored.os_hash_algo.as_deref(), Some("sha256"));
        assert_eq!(stored.os_hash_value.as_deref(), Some("v"));
        assert_eq!(stored.name.as_deref(), Some("kept"));
        assert_eq!(stored.locations, image.locations);
        let err = db
            .set_image_digests(Uuid::new_v4(), None, None, None)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err}");
    }
}
