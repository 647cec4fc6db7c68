//! The auditor's rows and reads on SQLite, PostgreSQL and MySQL/MariaDB,
//! each in a database of its own: one row per check and location, the time
//! a location first failed kept while it keeps failing, damaged copies for
//! the download path, orphans handed to the reaper in one transaction, the
//! walk over active images, and the pruning of rows nothing names any more.

mod support;

use support::run;

db_test_suite!(
    a_check_replaces_its_row_and_keeps_when_it_first_failed,
    damaged_locations_are_the_failed_copies_of_that_image,
    orphans_are_handed_over_with_their_work_rows,
    the_walk_visits_active_images_in_id_order,
    rows_of_gone_locations_are_pruned,
);

mod cases {
    use chrono::Utc;
    use glint_core::db::{AuditKind, Database, NewAuditResult, NewWork, WorkKind};
    use glint_core::domain::{Image, ImageStatus, Location};
    use uuid::Uuid;

    fn image(id: Uuid, status: ImageStatus, urls: &[&str]) -> Image {
        let mut image = Image::new(id, Some("p".into()), Utc::now());
        image.status = status;
        image.disk_format = Some("raw".into());
        image.container_format = Some("bare".into());
        for url in urls {
            let mut metadata = serde_json::Map::new();
            metadata.insert("store".into(), "file".into());
            image.locations.push(Location {
                url: (*url).to_owned(),
                metadata,
                status: "active".into(),
            });
        }
        image
    }

    fn check(kind: AuditKind, image: Uuid, url: &str, outcome: &str) -> NewAuditResult {
        NewAuditResult {
            kind,
            image_id: image,
            store: "file".into(),
            url: url.into(),
            outcome: outcome.into(),
            expected: "10 bytes".into(),
            found: format!("{outcome} found"),
        }
    }

    pub async fn a_check_replaces_its_row_and_keeps_when_it_first_failed(db: Database) {
        let id = Uuid::new_v4();
        let first = db
            .record_audit(&check(AuditKind::Presence, id, "file:///a", "missing"))
            .await
            .unwrap();
        let since = first.first_failed_at.expect("a failure has a first time");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let again = db
            .record_audit(&check(
                AuditKind::Presence,
                id,
                "file:///a",
                "size_mismatch",
            ))
            .await
            .unwrap();
        assert_eq!(
            again.first_failed_at,
            Some(since),
            "still failing since then"
        );
        // Another kind of check on the same URL is another row.
        db.record_audit(&check(AuditKind::Content, id, "file:///a", "ok"))
            .await
            .unwrap();
        let failures = db.audit_results(false, Some(id)).await.unwrap();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            (failures[0].outcome.as_str(), failures[0].found.as_str()),
            ("size_mismatch", "size_mismatch found")
        );
        assert_eq!(db.audit_results(true, Some(id)).await.unwrap().len(), 2);
        // Healthy again: the failure time goes, and so does the row from the failures.
        let healed = db
            .record_audit(&check(AuditKind::Presence, id, "file:///a", "ok"))
            .await
            .unwrap();
        assert_eq!(healed.first_failed_at, None);
        assert!(db.audit_results(false, Some(id)).await.unwrap().is_empty());
        assert!(
            db.audit_results(false, Some(Uuid::new_v4()))
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn damaged_locations_are_the_failed_copies_of_that_image(db: Database) {
        let (id, other) = (Uuid::new_v4(), Uuid::new_v4());
        for (kind, image, url, outcome) in [
            (AuditKind::Content, id, "file:///bad", "checksum_mismatch"),
            (AuditKind::Presence, id, "file:///good", "ok"),
            // A store that could not be asked proves nothing.
            (AuditKind::Presence, id, "file:///slow", "unreadable"),
            (AuditKind::Presence, other, "file:///other", "missing"),
        ] {
            db.record_audit(&check(kind, image, url, outcome))
                .await
                .unwrap();
        }
        let urls = [
            "file:///bad",
            "file:///good",
            "file:///slow",
            "file:///other",
        ];
        let damaged = db.damaged_locations(id, &urls).await.unwrap();
        assert_eq!(damaged.into_iter().collect::<Vec<_>>(), ["file:///bad"]);
        assert!(db.damaged_locations(id, &[]).await.unwrap().is_empty());
    }

    pub async fn orphans_are_handed_over_with_their_work_rows(db: Database) {
        let url = "file:///images/stray";
        let seen = db
            .record_audit(&check(AuditKind::Orphan, Uuid::nil(), url, "orphan"))
            .await
            .unwrap();
        let mut handed = check(AuditKind::Orphan, Uuid::nil(), url, "handed_to_reaper");
        handed.found = "3 bytes named by no location".into();
        let work = NewWork {
            kind: WorkKind::DeleteData,
            image_id: Uuid::nil(),
            store: Some("file".into()),
            url: url.into(),
            reason: "orphan".into(),
        };
        db.hand_over_orphans(&[(work, handed)]).await.unwrap();
        let rows = db.audit_results(false, None).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, "handed_to_reaper");
        assert_eq!(
            rows[0].first_failed_at, seen.first_failed_at,
            "first seen is kept"
        );
        let pending = db.list_work().await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].kind, pending[0].url.as_str()),
            (WorkKind::DeleteData, url)
        );
        // Pending work and locations name their URLs: neither is an orphan.
        let live = image(
            Uuid::new_v4(),
            ImageStatus::Active,
            &["file:///images/live"],
        );
        db.create_image(&live).await.unwrap();
        let asked: Vec<String> = [url, "file:///images/live", "file:///images/none"]
            .map(String::from)
            .to_vec();
        let mut named: Vec<String> = db.named_urls(&asked).await.unwrap().into_iter().collect();
        named.sort();
        assert_eq!(named, ["file:///images/live", url]);
        db.hand_over_orphans(&[]).await.unwrap();
    }

    pub async fn the_walk_visits_active_images_in_id_order(db: Database) {
        let mut ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        ids.sort();
        for (n, id) in ids.iter().enumerate() {
            let status = if n == 2 {
                ImageStatus::Queued
            } else {
                ImageStatus::Active
            };
            let url = format!("file:///images/{id}");
            let urls: Vec<&str> = if n == 2 { vec![] } else { vec![url.as_str()] };
            db.create_image(&image(*id, status, &urls)).await.unwrap();
        }
        let first = db.active_images_after(None, 2).await.unwrap();
        assert_eq!(
            first.iter().map(|i| i.id).collect::<Vec<_>>(),
            [ids[0], ids[1]]
        );
        assert_eq!(first[0].locations.len(), 1, "with their locations");
        let rest = db.active_images_after(Some(ids[1]), 2).await.unwrap();
        assert_eq!(
            rest.iter().map(|i| i.id).collect::<Vec<_>>(),
            [ids[3], ids[4]]
        );
        assert!(
            db.active_images_after(Some(ids[4]), 2)
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn rows_of_gone_locations_are_pruned(db: Database) {
        let id = Uuid::new_v4();
        let kept = format!("file:///images/{id}");
        db.create_image(&image(id, ImageStatus::Active, &[&kept]))
            .await
            .unwrap();
        for url in [kept.as_str(), "file:///images/replaced"] {
            db.record_audit(&check(AuditKind::Presence, id, url, "missing"))
                .await
                .unwrap();
        }
        db.record_audit(&check(
            AuditKind::Orphan,
            Uuid::nil(),
            "file:///x",
            "orphan",
        ))
        .await
        .unwrap();
        assert_eq!(db.prune_audit().await.unwrap(), 1);
        let left: Vec<String> = db
            .audit_results(true, None)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.url)
            .collect();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&kept) && left.contains(&"file:///x".to_owned()));
        // A deleted image's rows go too.
        db.delete_image(id).await.unwrap();
        assert_eq!(db.prune_audit().await.unwrap(), 1);
    }
}
