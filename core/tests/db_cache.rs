//! The image cache index on SQLite, PostgreSQL and MySQL/MariaDB, each in a
//! database of its own: rows per node, hits, least recently used order,
//! deletion per image and per node.

mod support;

use support::run;

db_test_suite!(
    nodes_keep_separate_entries,
    hits_move_an_image_to_the_end_of_the_lru_order,
    a_refill_replaces_the_row,
);

mod cases {
    use chrono::{DateTime, Utc};
    use glint_core::db::Database;
    use uuid::Uuid;

    const A: &str = "http://api-a:9292";
    const B: &str = "http://api-b:9292";

    /// A fixed instant `secs` seconds (and `micros` microseconds) into a day
    /// in 2026: each case writes its own times, so orders never depend on how
    /// fast the clock moves between two calls.
    fn at(secs: i64, micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros((1_780_000_000 + secs) * 1_000_000 + micros).unwrap()
    }

    pub async fn nodes_keep_separate_entries(db: Database) {
        let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
        db.cache_insert(A, x, 10, Some("aa"), at(0, 1))
            .await
            .unwrap();
        db.cache_insert(A, y, 20, None, at(0, 2)).await.unwrap();
        db.cache_insert(B, x, 10, Some("aa"), at(0, 3))
            .await
            .unwrap();

        let on_a = db.cache_list(A).await.unwrap();
        let mut ids: Vec<Uuid> = on_a.iter().map(|c| c.image_id).collect();
        let mut expected = vec![x, y];
        expected.sort_by_key(|u| u.hyphenated().to_string());
        ids.sort_by_key(|u| u.hyphenated().to_string());
        assert_eq!(ids, expected);
        let row = on_a.iter().find(|c| c.image_id == x).unwrap();
        assert_eq!((row.size, row.hits), (10, 0));
        assert_eq!(row.checksum.as_deref(), Some("aa"));
        assert_eq!((row.last_accessed, row.last_modified), (at(0, 1), at(0, 1)));
        assert_eq!(db.cache_list(B).await.unwrap().len(), 1);
        assert_eq!(db.cache_nodes(x).await.unwrap(), [A, B]);
        assert_eq!(db.cache_nodes(y).await.unwrap(), [A]);

        assert!(db.cache_delete(B, x).await.unwrap());
        assert!(!db.cache_delete(B, x).await.unwrap());
        assert_eq!(db.cache_nodes(x).await.unwrap(), [A]);
        assert_eq!(db.cache_delete_all(A).await.unwrap(), 2);
        assert!(db.cache_list(A).await.unwrap().is_empty());
        assert!(db.cache_nodes(x).await.unwrap().is_empty());
    }

    pub async fn hits_move_an_image_to_the_end_of_the_lru_order(db: Database) {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        // Filled one microsecond apart, in reverse order of insertion, so
        // that the order comes from the times and not from the row ids.
        for (n, id) in ids.iter().enumerate() {
            db.cache_insert(A, *id, 1, None, at(10, 3 - n as i64))
                .await
                .unwrap();
        }
        db.cache_hit(A, ids[1], at(20, 0)).await.unwrap();
        db.cache_hit(A, ids[1], at(20, 1)).await.unwrap();
        // A hit on another node's copy changes nothing here.
        db.cache_insert(B, ids[2], 1, None, at(10, 0))
            .await
            .unwrap();
        db.cache_hit(B, ids[2], at(30, 0)).await.unwrap();
        let order: Vec<Uuid> = db
            .cache_least_recently_used(A)
            .await
            .unwrap()
            .iter()
            .map(|c| c.image_id)
            .collect();
        assert_eq!(order, [ids[2], ids[0], ids[1]]);
        let read = db
            .cache_list(A)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.image_id == ids[1])
            .unwrap();
        assert_eq!(read.hits, 2);
        assert_eq!(read.last_accessed, at(20, 1));
        assert_eq!(read.last_modified, at(10, 2));
    }

    pub async fn a_refill_replaces_the_row(db: Database) {
        let id = Uuid::new_v4();
        db.cache_insert(A, id, 5, Some("old"), at(0, 0))
            .await
            .unwrap();
        db.cache_hit(A, id, at(1, 0)).await.unwrap();
        db.cache_insert(A, id, 7, Some("new"), at(2, 0))
            .await
            .unwrap();
        let rows = db.cache_list(A).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].size, rows[0].hits), (7, 0));
        assert_eq!(rows[0].checksum.as_deref(), Some("new"));
        assert_eq!(
            (rows[0].last_accessed, rows[0].last_modified),
            (at(2, 0), at(2, 0))
        );
    }
}
