//! Job leases, pending work and the deletion and purge statements behind
//! the reaper, on SQLite, PostgreSQL and MySQL/MariaDB, each in a database
//! of its own.

mod support;

use support::run;

db_test_suite!(
    a_lease_is_exclusive_until_released,
    an_expired_lease_passes_to_another_holder,
    concurrent_takes_have_one_winner,
    work_rows_wait_for_their_next_attempt,
    delete_writes_work_with_the_status_change,
    a_refused_delete_writes_no_work,
    delayed_delete_restore_and_scrub,
    purge_removes_old_deleted_rows_per_table,
    a_data_lease_is_taken_over_only_from_its_holder,
    expired_tasks_are_removed,
);

mod cases {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use chrono::Utc;
    use glint_core::db::{Database, DbError, NewWork, WorkKind};
    use glint_core::domain::{Image, ImageStatus, Location, Task};
    use uuid::Uuid;

    const LONG: Duration = Duration::from_secs(600);

    pub async fn a_lease_is_exclusive_until_released(db: Database) {
        assert!(db.take_lease("reaper", "a", LONG, "first").await.unwrap());
        assert!(!db.take_lease("reaper", "b", LONG, "").await.unwrap());
        // The holder renews; its status is recorded, its start time kept.
        let taken = db.leases().await.unwrap()[0].taken_at;
        assert!(db.take_lease("reaper", "a", LONG, "second").await.unwrap());
        let leases = db.leases().await.unwrap();
        assert_eq!(leases.len(), 1);
        assert_eq!(
            (leases[0].holder.as_str(), leases[0].status.as_str()),
            ("a", "second")
        );
        assert_eq!(leases[0].taken_at, taken);
        assert!(leases[0].expires_at > Utc::now() + chrono::Duration::seconds(500));
        // Another job's lease is another row.
        assert!(db.take_lease("purge", "b", LONG, "").await.unwrap());
        // Releasing by a non-holder changes nothing; by the holder, frees it.
        db.release_lease("reaper", "b").await.unwrap();
        assert!(!db.take_lease("reaper", "b", LONG, "").await.unwrap());
        db.release_lease("reaper", "a").await.unwrap();
        assert!(db.take_lease("reaper", "b", LONG, "").await.unwrap());
        assert!(!db.take_lease("reaper", "a", LONG, "").await.unwrap());
    }

    pub async fn a_data_lease_is_taken_over_only_from_its_holder(db: Database) {
        let id = Uuid::new_v4();
        let name = format!("{}{id}", glint_core::db::DATA_LEASE_PREFIX);
        assert!(
            db.take_lease(&name, "node#1", LONG, "writing")
                .await
                .unwrap()
        );
        assert!(db.take_lease("reaper", "node#1", LONG, "").await.unwrap());
        // Only data leases are listed as such.
        let data = db.data_leases().await.unwrap();
        assert_eq!(data.len(), 1);
        assert_eq!(data[0].name, name);
        // Unexpired: a take fails, a take-over from the named holder succeeds
        // once, and the old holder's renewal then fails.
        assert!(!db.take_lease(&name, "node#2", LONG, "").await.unwrap());
        assert!(
            !db.take_over_lease(&name, "node#9", "node#2", LONG)
                .await
                .unwrap()
        );
        assert!(
            db.take_over_lease(&name, "node#1", "node#2", LONG)
                .await
                .unwrap()
        );
        assert!(
            !db.take_over_lease(&name, "node#1", "node#3", LONG)
                .await
                .unwrap()
        );
        assert!(
            !db.take_lease(&name, "node#1", LONG, "writing")
                .await
                .unwrap()
        );
        assert_eq!(db.data_leases().await.unwrap()[0].holder, "node#2");
        db.release_lease(&name, "node#2").await.unwrap();
        assert!(db.data_leases().await.unwrap().is_empty());
    }

    pub async fn an_expired_lease_passes_to_another_holder(db: Database) {
        let short = Duration::from_millis(200);
        let started = Instant::now();
        assert!(db.take_lease("reaper", "dead", short, "").await.unwrap());
        // The node that took it stops renewing; the other takes it once it expires.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if db.take_lease("reaper", "alive", LONG, "").await.unwrap() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the expired lease was never taken over"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(started.elapsed() >= short, "taken over before it expired");
        let leases = db.leases().await.unwrap();
        assert_eq!(leases[0].holder, "alive");
        assert!(!db.take_lease("reaper", "dead", short, "").await.unwrap());
    }

    pub async fn concurrent_takes_have_one_winner(db: Database) {
        let db = Arc::new(db);
        let takes = (0..8).map(|n| {
            let db = Arc::clone(&db);
            tokio::spawn(async move {
                db.take_lease("reaper", &format!("node-{n}"), LONG, "")
                    .await
                    .unwrap()
            })
        });
        let won: Vec<bool> = futures::future::join_all(takes)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    }

    fn work(image: Uuid, url: &str) -> NewWork {
        NewWork {
            kind: WorkKind::DeleteData,
            image_id: image,
            store: Some("file".into()),
            url: url.into(),
            reason: "permission denied".into(),
        }
    }

    pub async fn work_rows_wait_for_their_next_attempt(db: Database) {
        let image = Uuid::new_v4();
        db.add_work(&[work(image, "file:///a"), work(image, "file:///b")])
            .await
            .unwrap();
        let due = db.due_work(WorkKind::DeleteData, 10).await.unwrap();
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].url, "file:///a");
        assert_eq!((due[0].attempts, due[0].last_error.as_deref()), (0, None));
        assert_eq!(due[0].reason, "permission denied");
        assert_eq!(due[0].image_id, image);
        assert_eq!(db.due_work(WorkKind::DeleteData, 1).await.unwrap().len(), 1);

        let later = Utc::now() + chrono::Duration::hours(1);
        db.retry_work(due[0].id, "still denied", later)
            .await
            .unwrap();
        let due_now = db.due_work(WorkKind::DeleteData, 10).await.unwrap();
        assert_eq!(due_now.len(), 1);
        assert_eq!(due_now[0].url, "file:///b");
        let all = db.list_work().await.unwrap();
        assert_eq!(all.len(), 2);
        let retried = all.iter().find(|w| w.id == due[0].id).unwrap();
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.last_error.as_deref(), Some("still denied"));
        assert!(retried.next_attempt_at > Utc::now());

        db.finish_work(due[1].id).await.unwrap();
        assert_eq!(db.list_work().await.unwrap().len(), 1);
    }

    fn active_with_location(id: Uuid) -> Image {
        let mut image = Image::new(id, Some("p".into()), Utc::now());
        image.status = ImageStatus::Active;
        image.disk_format = Some("raw".into());
        image.container_format = Some("bare".into());
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), "file".into());
        image.locations.push(Location {
            url: format!("file:///images/{id}"),
            metadata,
            status: "active".into(),
        });
        image.tags.insert("t".into());
        image
    }

    pub async fn delete_writes_work_with_the_status_change(db: Database) {
        let image = active_with_location(Uuid::new_v4());
        db.create_image(&image).await.unwrap();
        let (_, change) = image.moved_to(ImageStatus::Deleted).unwrap();
        let left = work(image.id, &image.locations[0].url);
        db.delete_image_leaving(image.id, change, std::slice::from_ref(&left), &[])
            .await
            .unwrap();
        assert_eq!(db.get_image(image.id).await.unwrap(), None);
        assert_eq!(
            db.image_status_any(image.id).await.unwrap(),
            Some(ImageStatus::Deleted)
        );
        let rows = db.list_work().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].image_id, rows[0].url.as_str()),
            (image.id, left.url.as_str())
        );
        // A deleted image is not found a second time, and writes nothing.
        let again = db
            .delete_image_leaving(image.id, change, &[left], &[])
            .await;
        assert!(matches!(again, Err(DbError::NotFound)), "{again:?}");
        assert_eq!(db.list_work().await.unwrap().len(), 1);
    }

    pub async fn a_refused_delete_writes_no_work(db: Database) {
        let image = active_with_location(Uuid::new_v4());
        db.create_image(&image).await.unwrap();
        // A change read from a stale copy: the stored status is not `saving`.
        let mut stale = image.clone();
        stale.status = ImageStatus::Saving;
        let (_, change) = stale.moved_to(ImageStatus::Deleted).unwrap();
        let refused = db
            .delete_image_leaving(image.id, change, &[work(image.id, "file:///x")], &[])
            .await;
        assert!(matches!(refused, Err(DbError::Conflict)), "{refused:?}");
        assert!(db.list_work().await.unwrap().is_empty());
        assert_eq!(
            db.get_image(image.id).await.unwrap().unwrap().status,
            ImageStatus::Active
        );
    }

    pub async fn delayed_delete_restore_and_scrub(db: Database) {
        let image = active_with_location(Uuid::new_v4());
        db.create_image(&image).await.unwrap();
        let (_, change) = image.moved_to(ImageStatus::PendingDelete).unwrap();
        db.delete_image_leaving(image.id, change, &[], &[])
            .await
            .unwrap();
        // Pending deletion hides the image as deletion does.
        assert_eq!(db.get_image(image.id).await.unwrap(), None);
        let waiting = db.pending_deletes(Utc::now(), 10).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].locations[0].status, "pending_delete");
        // Not yet due for a cutoff before its deletion.
        let early = Utc::now() - chrono::Duration::hours(1);
        assert!(db.pending_deletes(early, 10).await.unwrap().is_empty());

        let pending = db.pending_delete_image(image.id).await.unwrap().unwrap();
        let (_, restore) = pending.moved_to(ImageStatus::Active).unwrap();
        db.end_pending_delete(image.id, restore, &[]).await.unwrap();
        let back = db.get_image(image.id).await.unwrap().unwrap();
        assert_eq!(back.status, ImageStatus::Active);
        assert_eq!(back.locations[0].status, "active");
        assert_eq!(back.tags, image.tags);
        assert!(db.pending_delete_image(image.id).await.unwrap().is_none());
        // Restoring twice is refused.
        assert!(matches!(
            db.end_pending_delete(image.id, restore, &[]).await,
            Err(DbError::Conflict)
        ));

        db.delete_image_leaving(image.id, change, &[], &[])
            .await
            .unwrap();
        let pending = db.pending_delete_image(image.id).await.unwrap().unwrap();
        let (_, scrub) = pending.moved_to(ImageStatus::Deleted).unwrap();
        let left = work(image.id, &image.locations[0].url);
        db.end_pending_delete(image.id, scrub, &[left])
            .await
            .unwrap();
        assert!(db.pending_deletes(Utc::now(), 10).await.unwrap().is_empty());
        assert_eq!(
            db.image_status_any(image.id).await.unwrap(),
            Some(ImageStatus::Deleted)
        );
        assert_eq!(db.get_image(image.id).await.unwrap(), None);
        assert_eq!(db.list_work().await.unwrap().len(), 1);
    }

    pub async fn expired_tasks_are_removed(db: Database) {
        let now = Utc::now();
        let mut expired = Task::new("api_image_import", Default::default(), now);
        expired.expires_at = Some(now - chrono::Duration::minutes(1));
        db.create_task(&expired).await.unwrap();
        let mut current = Task::new("api_image_import", Default::default(), now);
        current.expires_at = Some(now + chrono::Duration::hours(48));
        db.create_task(&current).await.unwrap();
        let running = Task::new("api_image_import", Default::default(), now);
        db.create_task(&running).await.unwrap();

        assert_eq!(db.expire_tasks(now).await.unwrap(), 1);
        assert!(db.get_task(expired.id).await.unwrap().is_none());
        assert!(db.get_task(current.id).await.unwrap().is_some());
        assert!(db.get_task(running.id).await.unwrap().is_some());
        assert_eq!(db.expire_tasks(now).await.unwrap(), 0, "removed once");
        // Its row stays for `glint db purge`, dated by its removal.
        let cutoff = now + chrono::Duration::seconds(1);
        let purged = db.purge_deleted(cutoff, Some(100)).await.unwrap();
        assert!(purged.contains(&("tasks", 1)), "{purged:?}");
    }

    pub async fn purge_removes_old_deleted_rows_per_table(db: Database) {
        // Deleted, with three tags, a property, a location and a member.
        let gone = {
            let mut image = active_with_location(Uuid::new_v4());
            image.tags.extend(["u".to_owned(), "v".to_owned()]);
            image.properties.insert("k".into(), "v".into());
            image
        };
        db.create_image(&gone).await.unwrap();
        db.add_member(gone.id, "friend").await.unwrap();
        let (_, change) = gone.moved_to(ImageStatus::Deleted).unwrap();
        db.delete_image_leaving(gone.id, change, &[], &[])
            .await
            .unwrap();
        // Alive, and waiting in pending_delete: both keep everything.
        let alive = active_with_location(Uuid::new_v4());
        db.create_image(&alive).await.unwrap();
        let waiting = active_with_location(Uuid::new_v4());
        db.create_image(&waiting).await.unwrap();
        let (_, change) = waiting.moved_to(ImageStatus::PendingDelete).unwrap();
        db.delete_image_leaving(waiting.id, change, &[], &[])
            .await
            .unwrap();
        // An expired task, and one that has not expired.
        let mut expired = Task::new("import", Default::default(), Utc::now());
        expired.expires_at = Some(Utc::now() - chrono::Duration::days(40));
        db.create_task(&expired).await.unwrap();
        let mut current = Task::new("import", Default::default(), Utc::now());
        current.expires_at = Some(Utc::now() + chrono::Duration::days(2));
        db.create_task(&current).await.unwrap();

        // Nothing is older than 30 days but the expired task.
        let cutoff = Utc::now() - chrono::Duration::days(30);
        let purged = db.purge_deleted(cutoff, Some(100)).await.unwrap();
        assert_eq!(
            purged,
            [
                ("image_members", 0),
                ("image_properties", 0),
                ("image_tags", 0),
                ("image_locations", 0),
                ("tasks", 1)
            ]
        );

        // With the cutoff in the future, the deleted image's rows go, two per table and run.
        let cutoff = Utc::now() + chrono::Duration::days(1);
        assert_eq!(
            db.purge_images_table(cutoff, None).await.unwrap(),
            [("images", 0)],
            "an image with child rows stays"
        );
        let purged = db.purge_deleted(cutoff, Some(2)).await.unwrap();
        assert_eq!(
            purged,
            [
                ("image_members", 1),
                ("image_properties", 1),
                ("image_tags", 2),
                ("image_locations", 1),
                ("tasks", 0)
            ]
        );
        let purged = db.purge_deleted(cutoff, None).await.unwrap();
        assert_eq!(purged[2], ("image_tags", 1));
        assert_eq!(purged.iter().map(|(_, n)| n).sum::<u64>(), 1);
        assert_eq!(
            db.purge_images_table(cutoff, Some(10)).await.unwrap(),
            [("images", 1)]
        );
        assert_eq!(db.image_status_any(gone.id).await.unwrap(), None);
        // The others kept everything.
        let kept = db.get_image(alive.id).await.unwrap().unwrap();
        assert_eq!((kept.tags, kept.locations), (alive.tags, alive.locations));
        let back = db.pending_delete_image(waiting.id).await.unwrap().unwrap();
        assert_eq!(back.locations.len(), 1);
        assert_eq!(back.tags, waiting.tags);
        assert!(db.get_task(current.id).await.unwrap().is_some());
    }
}
