//! The repository suite: every case runs against SQLite, PostgreSQL and
//! MySQL/MariaDB, each in a database of its own.
//!
//! Servers: `GLINT_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `GLINT_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`). These are admin URLs: each
//! test creates `glint_t_<random>` there and drops it afterwards. A missing
//! server fails the test; it is never skipped.

mod support;

use support::run;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as Elapsed, Instant};

use chrono::{DateTime, Duration, Utc};
use glint_core::db::{Backend, Database, DbError, MemberStatus};
use glint_core::domain::{
    CmpOp, Image, ImageStatus, ListQuery, Location, Scope, SortDir, SortKey, Task, TaskStatus,
    Visibility, VisibilityFilter,
};
use uuid::Uuid;

db_test_suite!(
    every_field_round_trips,
    minimal_image_round_trips,
    duplicate_id_is_rejected_even_after_delete,
    missing_and_deleted_images_are_not_found,
    update_writes_every_field_and_replaces_children,
    update_compare_and_set,
    tags_add_is_idempotent_and_remove_reports_absence,
    soft_delete_hides_the_image_and_returns_it,
    count_images_counts_live_images_per_owner,
    killed_and_deleted_images_are_never_listed,
    list_filters_on_base_fields,
    list_filters_on_tags_and_properties,
    list_filters_on_dates,
    hidden_images_are_listed_only_when_asked,
    visibility_matrix,
    marker_must_exist_and_be_visible,
    sort_by_every_key_in_both_directions,
    pagination_walks_every_image_once_in_order,
    limit_caps_the_page,
    analyze_keeps_lists_working,
    list_queries_are_served_by_indexes,
    members_add_and_answer,
    members_list_show_and_delete,
    member_status_filter_lists_pending_shares,
    tasks_round_trip_and_list_by_image,
    task_progress_is_written_only_while_the_task_runs,
    usage_counts_per_owner_and_status,
    concurrent_creates_and_updates_all_succeed,
    concurrent_compare_and_set_has_one_winner,
    #[ignore = "timing: 10,000 images; run with --ignored --nocapture"]
    timing_over_10k_images,
);

#[tokio::test]
async fn unsupported_url_is_refused_without_echoing_it() {
    let err = Database::connect("oracle://scott:tiger@db/x")
        .await
        .unwrap_err();
    assert!(matches!(&err, DbError::UnsupportedUrl(scheme) if scheme == "oracle"));
    assert!(!err.to_string().contains("tiger"));
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    let image = new_image(Some("p"));
    db.create_image(&image).await.unwrap();
    assert_eq!(db.get_image(image.id).await.unwrap(), Some(image));
}

// ---------------------------------------------------------------------------
// Helpers

async fn create(db: &Database, image: Image) -> Image {
    db.create_image(&image).await.unwrap();
    image
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

fn new_image(owner: Option<&str>) -> Image {
    Image::new(Uuid::new_v4(), owner.map(str::to_owned), t0())
}

fn admin() -> Scope {
    Scope {
        is_admin: true,
        project_id: Some("admin-project".into()),
    }
}

fn noauth() -> Scope {
    Scope {
        is_admin: true,
        project_id: None,
    }
}

fn user(project: &str) -> Scope {
    Scope {
        is_admin: false,
        project_id: Some(project.into()),
    }
}

/// The access type MySQL's JSON plan gives the table `alias`, wherever it sits in the plan.
fn find_access(plan: &serde_json::Value, alias: &str) -> Option<String> {
    match plan {
        serde_json::Value::Object(map) => {
            if map.get("table_name").and_then(|n| n.as_str()) == Some(alias) {
                return map
                    .get("access_type")
                    .and_then(|a| a.as_str())
                    .map(str::to_owned);
            }
            map.values().find_map(|v| find_access(v, alias))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_access(v, alias)),
        _ => None,
    }
}

fn query(scope: Scope) -> ListQuery {
    ListQuery::new(scope, 1000)
}

async fn listed(db: &Database, query: &ListQuery) -> Vec<Uuid> {
    db.list_images(query)
        .await
        .unwrap()
        .into_iter()
        .map(|image| image.id)
        .collect()
}

async fn listed_set(db: &Database, query: &ListQuery) -> BTreeSet<Uuid> {
    listed(db, query).await.into_iter().collect()
}

fn set<'a>(images: impl IntoIterator<Item = &'a Image>) -> BTreeSet<Uuid> {
    images.into_iter().map(|image| image.id).collect()
}

fn location(url: &str, store: &str) -> Location {
    let mut metadata = serde_json::Map::new();
    metadata.insert("store".into(), store.into());
    Location {
        url: url.into(),
        metadata,
        status: "active".into(),
    }
}

/// A sort key's value as the database orders it: `None` (NULL) first.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum KeyValue {
    Text(Option<String>),
    Int(Option<i64>),
}

fn key_value(image: &Image, key: SortKey) -> KeyValue {
    match key {
        SortKey::Name => KeyValue::Text(image.name.clone()),
        SortKey::Status => KeyValue::Text(Some(image.status.as_str().into())),
        SortKey::ContainerFormat => KeyValue::Text(image.container_format.clone()),
        SortKey::DiskFormat => KeyValue::Text(image.disk_format.clone()),
        SortKey::Size => KeyValue::Int(image.size),
        SortKey::Id => KeyValue::Text(Some(image.id.to_string())),
        SortKey::CreatedAt => KeyValue::Int(Some(image.created_at.timestamp_micros())),
        SortKey::UpdatedAt => KeyValue::Int(Some(image.updated_at.timestamp_micros())),
    }
}

/// The order the list must return: the requested keys, then created_at and
/// id in the last requested direction.
fn expected_order(images: &[Image], sort: &[(SortKey, SortDir)]) -> Vec<Uuid> {
    let mut keys = sort.to_vec();
    let last = keys.last().map_or(SortDir::Desc, |&(_, dir)| dir);
    for tie_breaker in [SortKey::CreatedAt, SortKey::Id] {
        if !keys.iter().any(|&(key, _)| key == tie_breaker) {
            keys.push((tie_breaker, last));
        }
    }
    let mut sorted: Vec<&Image> = images.iter().collect();
    sorted.sort_by(|a, b| {
        keys.iter()
            .map(|&(key, dir)| {
                let order = key_value(a, key).cmp(&key_value(b, key));
                if dir == SortDir::Desc {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    sorted.into_iter().map(|image| image.id).collect()
}

/// Images with repeated and missing values in every sortable column.
async fn sortable_images(db: &Database, count: usize) -> Vec<Image> {
    let names = [
        None,
        Some("alpha"),
        Some("Beta"),
        Some("alpha"),
        Some("ünï"),
        Some("Zeta 名"),
    ];
    let formats = [None, Some("raw"), Some("qcow2")];
    let statuses = [
        ImageStatus::Queued,
        ImageStatus::Active,
        ImageStatus::Deactivated,
    ];
    let mut images = Vec::new();
    for n in 0..count {
        let mut image = new_image(Some("p"));
        image.name = names[n % names.len()].map(str::to_owned);
        image.disk_format = formats[n % formats.len()].map(str::to_owned);
        image.container_format = formats[(n / 2) % formats.len()].map(str::to_owned);
        image.status = statuses[n % statuses.len()];
        image.size = (n % 4 != 0).then_some((n % 5) as i64 * 1000);
        // Groups of three share created_at, so id decides among them.
        image.created_at = at((n / 3) as i64);
        image.updated_at = at(100 - (n % 7) as i64);
        images.push(create(db, image).await);
    }
    images
}

const SORT_CASES: &[&[(SortKey, SortDir)]] = &[
    &[(SortKey::CreatedAt, SortDir::Desc)],
    &[
        (SortKey::Name, SortDir::Asc),
        (SortKey::Size, SortDir::Desc),
    ],
    &[
        (SortKey::Size, SortDir::Asc),
        (SortKey::Name, SortDir::Desc),
    ],
    &[
        (SortKey::Status, SortDir::Desc),
        (SortKey::Name, SortDir::Asc),
        (SortKey::Id, SortDir::Asc),
    ],
    &[
        (SortKey::DiskFormat, SortDir::Asc),
        (SortKey::UpdatedAt, SortDir::Desc),
    ],
    &[
        (SortKey::ContainerFormat, SortDir::Desc),
        (SortKey::CreatedAt, SortDir::Asc),
    ],
    &[(SortKey::Id, SortDir::Asc)],
];

// ---------------------------------------------------------------------------
// Cases

mod cases {
    use super::*;

    pub async fn every_field_round_trips(db: Database) {
        let mut image = new_image(Some("project-ü"));
        image.name = Some("Ünïcødé 名前 🚀".into());
        image.status = ImageStatus::Active;
        image.visibility = Visibility::Community;
        image.protected = true;
        image.os_hidden = true;
        image.checksum = Some("0123456789abcdef0123456789abcdef".into());
        image.os_hash_algo = Some("sha512".into());
        image.os_hash_value = Some("ab".repeat(64));
        image.size = Some(1 << 40);
        image.virtual_size = Some(5 << 40);
        image.container_format = Some("bare".into());
        image.disk_format = Some("qcow2".into());
        image.min_disk = 20;
        image.min_ram = 2048;
        // Nanoseconds are kept to the microsecond.
        image.created_at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        image.updated_at = image.created_at + Duration::seconds(5);
        // Children travel inside JSON documents: text that is, or looks
        // like, JSON must come back as the same text.
        image.tags = [
            "ünï",
            "b",
            "a tag with spaces",
            "\"quoted\" \\ back\tslash\n",
            "[1, {\"a\": null}]",
        ]
        .map(String::from)
        .into();
        image.properties = BTreeMap::from([
            ("os_distro".into(), "debian".into()),
            ("looks_like_json".into(), "{\"x\": [true]}".into()),
            ("quote\"d".into(), "null".into()),
            ("描述".into(), "値 ✓".into()),
            // Longer than PostgreSQL can index whole.
            ("description".into(), "x".repeat(10_000)),
            ("empty".into(), String::new()),
        ]);
        let mut second = location("rbd://fsid/pool/img/snap", "fast");
        second.metadata.insert(
            "nested".into(),
            serde_json::json!({"a": [1, 2.5, null, "ü"]}),
        );
        second.status = "pending_delete".into();
        image.locations = vec![location("file:///var/lib/glint/1", "local"), second];

        db.create_image(&image).await.unwrap();
        let mut expected = image.clone();
        expected.created_at = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        expected.updated_at = expected.created_at + Duration::seconds(5);
        assert_eq!(
            db.get_image(image.id).await.unwrap(),
            Some(expected.clone())
        );
        assert_eq!(
            db.list_images(&query(admin())).await.unwrap().len(),
            0,
            "hidden and community"
        );
        let mut all = query(user("project-ü"));
        all.os_hidden = None;
        assert_eq!(db.list_images(&all).await.unwrap(), vec![expected]);
    }

    pub async fn minimal_image_round_trips(db: Database) {
        let image = Image::new(Uuid::new_v4(), None, t0());
        db.create_image(&image).await.unwrap();
        assert_eq!(db.get_image(image.id).await.unwrap(), Some(image));
    }

    pub async fn duplicate_id_is_rejected_even_after_delete(db: Database) {
        let image = create(&db, new_image(Some("p"))).await;
        let mut again = new_image(Some("q"));
        again.id = image.id;
        again.tags.insert("t".into());
        assert!(matches!(
            db.create_image(&again).await,
            Err(DbError::Duplicate)
        ));
        db.delete_image(image.id).await.unwrap();
        assert!(matches!(
            db.create_image(&again).await,
            Err(DbError::Duplicate)
        ));
        // Nothing of the refused image was written.
        assert_eq!(db.count_images("q").await.unwrap(), 0);
    }

    pub async fn missing_and_deleted_images_are_not_found(db: Database) {
        assert_eq!(db.get_image(Uuid::new_v4()).await.unwrap(), None);
        let image = create(&db, new_image(Some("p"))).await;
        db.delete_image(image.id).await.unwrap();
        assert_eq!(db.get_image(image.id).await.unwrap(), None);
        assert!(matches!(
            db.delete_image(image.id).await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.add_tag(image.id, "t").await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.remove_tag(image.id, "t").await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.update_image(&image, None).await,
            Err(DbError::NotFound)
        ));
        let missing = new_image(Some("p"));
        assert!(matches!(
            db.update_image(&missing, None).await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.update_image(&missing, Some(ImageStatus::Queued)).await,
            Err(DbError::NotFound)
        ));
    }

    pub async fn update_writes_every_field_and_replaces_children(db: Database) {
        let mut image = new_image(Some("p"));
        image.tags = ["old", "kept"].map(String::from).into();
        image.properties = BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        image.locations = vec![location("file:///old", "local")];
        let created = create(&db, image).await;
        let id = created.id;

        let mut changed = created.clone();
        changed.name = Some("renamed".into());
        changed.status = ImageStatus::Active;
        changed.visibility = Visibility::Public;
        changed.protected = true;
        changed.os_hidden = true;
        changed.checksum = Some("c".repeat(32));
        changed.os_hash_algo = Some("sha256".into());
        changed.os_hash_value = Some("d".repeat(64));
        changed.owner = Some("q".into());
        changed.size = Some(42);
        changed.virtual_size = Some(84);
        changed.container_format = Some("ovf".into());
        changed.disk_format = Some("raw".into());
        changed.min_disk = 1;
        changed.min_ram = 2;
        changed.tags = ["kept", "new"].map(String::from).into();
        changed.properties = BTreeMap::from([("b".into(), "two".into()), ("c".into(), "3".into())]);
        changed.locations = vec![location("rbd://b", "fast"), location("file:///a", "local")];

        let saved = db.update_image(&changed, None).await.unwrap();
        assert!(saved.updated_at > created.updated_at);
        assert_eq!(
            saved,
            Image {
                updated_at: saved.updated_at,
                ..changed.clone()
            }
        );
        assert_eq!(db.get_image(id).await.unwrap(), Some(saved.clone()));

        // Clearing every optional field and child works too.
        let cleared = Image::new(id, None, created.created_at);
        let saved = db.update_image(&cleared, None).await.unwrap();
        assert_eq!(db.get_image(id).await.unwrap(), Some(saved));
    }

    pub async fn update_compare_and_set(db: Database) {
        let created = create(&db, new_image(Some("p"))).await;
        let saving = Image {
            status: ImageStatus::Saving,
            ..created.clone()
        };
        let saved = db
            .update_image(&saving, Some(ImageStatus::Queued))
            .await
            .unwrap();
        assert_eq!(saved.status, ImageStatus::Saving);

        let lost = Image {
            status: ImageStatus::Active,
            name: Some("late".into()),
            ..created.clone()
        };
        assert!(matches!(
            db.update_image(&lost, Some(ImageStatus::Queued)).await,
            Err(DbError::Conflict)
        ));
        assert_eq!(
            db.get_image(created.id).await.unwrap(),
            Some(saved.clone()),
            "nothing written"
        );

        let active = Image {
            status: ImageStatus::Active,
            ..saved
        };
        let saved = db
            .update_image(&active, Some(ImageStatus::Saving))
            .await
            .unwrap();
        assert_eq!(
            db.get_image(created.id).await.unwrap().unwrap().status,
            ImageStatus::Active
        );
        assert_eq!(saved.status, ImageStatus::Active);
    }

    pub async fn tags_add_is_idempotent_and_remove_reports_absence(db: Database) {
        let created = create(&db, new_image(Some("p"))).await;
        db.add_tag(created.id, "ü-tag").await.unwrap();
        db.add_tag(created.id, "ü-tag").await.unwrap();
        db.add_tag(created.id, "other").await.unwrap();
        let image = db.get_image(created.id).await.unwrap().unwrap();
        assert_eq!(image.tags, ["other", "ü-tag"].map(String::from).into());
        assert!(image.updated_at > created.updated_at);

        assert!(db.remove_tag(created.id, "ü-tag").await.unwrap());
        let before = db.get_image(created.id).await.unwrap().unwrap();
        assert!(!db.remove_tag(created.id, "ü-tag").await.unwrap());
        let after = db.get_image(created.id).await.unwrap().unwrap();
        assert_eq!(after, before, "removing an absent tag changes nothing");
        assert_eq!(after.tags, ["other"].map(String::from).into());
        assert!(matches!(
            db.add_tag(Uuid::new_v4(), "t").await,
            Err(DbError::NotFound)
        ));
    }

    pub async fn soft_delete_hides_the_image_and_returns_it(db: Database) {
        let mut image = new_image(Some("p"));
        image.status = ImageStatus::Active;
        image.visibility = Visibility::Public;
        image.tags.insert("t".into());
        image.properties.insert("k".into(), "v".into());
        image.locations = vec![location("file:///data", "local")];
        let created = create(&db, image).await;
        let other = create(&db, new_image(Some("p"))).await;

        assert_eq!(db.delete_image(created.id).await.unwrap(), created);
        assert_eq!(db.get_image(created.id).await.unwrap(), None);
        assert_eq!(listed(&db, &query(admin())).await, vec![other.id]);
        assert_eq!(db.count_images("p").await.unwrap(), 1);
    }

    pub async fn count_images_counts_live_images_per_owner(db: Database) {
        for owner in ["a", "a", "a", "b"] {
            create(&db, new_image(Some(owner))).await;
        }
        let gone = create(&db, new_image(Some("a"))).await;
        db.delete_image(gone.id).await.unwrap();
        assert_eq!(db.count_images("a").await.unwrap(), 3);
        assert_eq!(db.count_images("b").await.unwrap(), 1);
        assert_eq!(db.count_images("c").await.unwrap(), 0);
    }

    pub async fn killed_and_deleted_images_are_never_listed(db: Database) {
        let mut killed = new_image(Some("p"));
        killed.status = ImageStatus::Killed;
        create(&db, killed).await;
        let deleted = create(&db, new_image(Some("p"))).await;
        db.delete_image(deleted.id).await.unwrap();
        let mut pending = new_image(Some("p"));
        pending.status = ImageStatus::PendingDelete;
        let pending = create(&db, pending).await;

        for scope in [admin(), noauth(), user("p")] {
            let mut q = query(scope);
            q.visibility = Some(VisibilityFilter::All);
            q.os_hidden = None;
            assert_eq!(listed(&db, &q).await, vec![pending.id]);
            q.statuses = Some(vec![ImageStatus::Killed, ImageStatus::Deleted]);
            assert!(listed(&db, &q).await.is_empty());
        }
    }

    pub async fn list_filters_on_base_fields(db: Database) {
        let mut a = new_image(Some("alice"));
        a.name = Some("one".into());
        a.status = ImageStatus::Active;
        a.container_format = Some("bare".into());
        a.disk_format = Some("raw".into());
        a.size = Some(100);
        a.protected = true;
        a.checksum = Some("a".repeat(32));
        a.os_hash_value = Some("a".repeat(128));
        let mut b = new_image(Some("bob"));
        b.name = Some("two, with comma".into());
        b.container_format = Some("ovf".into());
        b.disk_format = Some("qcow2".into());
        b.size = Some(200);
        b.checksum = Some("b".repeat(32));
        b.os_hash_value = Some("b".repeat(128));
        let c = new_image(Some("alice"));
        let (a, b, c) = (
            create(&db, a).await,
            create(&db, b).await,
            create(&db, c).await,
        );

        let check = async |edit: &dyn Fn(&mut ListQuery), expected: &[&Image]| {
            let mut q = query(admin());
            edit(&mut q);
            assert_eq!(
                listed_set(&db, &q).await,
                set(expected.iter().copied()),
                "{q:?}"
            );
        };
        check(&|_| {}, &[&a, &b, &c]).await;
        check(
            &|q| q.ids = Some(vec![a.id, c.id, Uuid::new_v4()]),
            &[&a, &c],
        )
        .await;
        check(&|q| q.ids = Some(vec![]), &[]).await;
        check(
            &|q| q.names = Some(vec!["one".into(), "two, with comma".into()]),
            &[&a, &b],
        )
        .await;
        check(&|q| q.names = Some(vec!["ONE".into()]), &[]).await;
        check(&|q| q.statuses = Some(vec![ImageStatus::Queued]), &[&b, &c]).await;
        check(
            &|q| q.statuses = Some(vec![ImageStatus::Active, ImageStatus::Saving]),
            &[&a],
        )
        .await;
        check(&|q| q.container_formats = Some(vec!["ovf".into()]), &[&b]).await;
        check(
            &|q| q.disk_formats = Some(vec!["raw".into(), "qcow2".into()]),
            &[&a, &b],
        )
        .await;
        check(&|q| q.owner = Some("alice".into()), &[&a, &c]).await;
        check(&|q| q.size_min = Some(150), &[&b]).await;
        check(&|q| q.size_max = Some(150), &[&a]).await;
        check(
            &|q| (q.size_min, q.size_max) = (Some(100), Some(200)),
            &[&a, &b],
        )
        .await;
        check(&|q| q.protected = Some(true), &[&a]).await;
        check(&|q| q.protected = Some(false), &[&b, &c]).await;
        check(&|q| q.checksum = Some("b".repeat(32)), &[&b]).await;
        check(&|q| q.os_hash_value = Some("a".repeat(128)), &[&a]).await;
        check(
            &|q| (q.owner, q.protected) = (Some("alice".into()), Some(false)),
            &[&c],
        )
        .await;
    }

    pub async fn list_filters_on_tags_and_properties(db: Database) {
        let mut a = new_image(Some("p"));
        a.tags = ["x", "y"].map(String::from).into();
        a.properties = BTreeMap::from([
            ("os_distro".into(), "debian".into()),
            ("arch".into(), "x86_64".into()),
            ("long".into(), "é".repeat(3000)),
        ]);
        let mut b = new_image(Some("p"));
        b.tags = ["x"].map(String::from).into();
        b.properties = BTreeMap::from([("os_distro".into(), "debian".into())]);
        // Same long prefix, different end: the prefix index must not decide alone.
        b.properties.insert("long".into(), "é".repeat(2999) + "e");
        let (a, b) = (create(&db, a).await, create(&db, b).await);

        let check = async |tags: &[&str], properties: &[(&str, &str)], expected: &[&Image]| {
            let mut q = query(user("p"));
            q.tags = tags.iter().map(|t| t.to_string()).collect();
            q.properties = properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(
                listed_set(&db, &q).await,
                set(expected.iter().copied()),
                "{q:?}"
            );
        };
        check(&["x"], &[], &[&a, &b]).await;
        check(&["x", "y"], &[], &[&a]).await;
        check(&["y", "z"], &[], &[]).await;
        check(&[], &[("os_distro", "debian")], &[&a, &b]).await;
        check(&[], &[("os_distro", "debian"), ("arch", "x86_64")], &[&a]).await;
        check(&[], &[("os_distro", "Debian")], &[]).await;
        check(&[], &[("arch", "debian")], &[]).await;
        check(&[], &[("long", &"é".repeat(3000))], &[&a]).await;
        check(&["x"], &[("arch", "x86_64")], &[&a]).await;
        check(&["x"], &[("missing", "")], &[]).await;
    }

    pub async fn list_filters_on_dates(db: Database) {
        let mut images = Vec::new();
        for n in 0..3 {
            let mut image = new_image(Some("p"));
            image.created_at = at(n * 10);
            image.updated_at = at(100 - n * 10);
            images.push(create(&db, image).await);
        }
        let [a, b, c] = [&images[0], &images[1], &images[2]];
        let cases: [(CmpOp, &[&Image]); 6] = [
            (CmpOp::Eq, &[b]),
            (CmpOp::Neq, &[a, c]),
            (CmpOp::Gt, &[c]),
            (CmpOp::Gte, &[b, c]),
            (CmpOp::Lt, &[a]),
            (CmpOp::Lte, &[a, b]),
        ];
        for (op, expected) in cases {
            let mut q = query(admin());
            q.created_at = vec![(op, at(10))];
            assert_eq!(
                listed_set(&db, &q).await,
                set(expected.iter().copied()),
                "created_at {op:?}"
            );
        }
        let mut q = query(admin());
        q.updated_at = vec![(CmpOp::Gt, at(80)), (CmpOp::Lte, at(100))];
        assert_eq!(listed_set(&db, &q).await, set([a, b]));
        q.created_at = vec![(CmpOp::Gte, at(5))];
        assert_eq!(listed_set(&db, &q).await, set([b]));
    }

    pub async fn hidden_images_are_listed_only_when_asked(db: Database) {
        let shown = create(&db, new_image(Some("p"))).await;
        let mut hidden = new_image(Some("p"));
        hidden.os_hidden = true;
        let hidden = create(&db, hidden).await;
        let mut q = query(user("p"));
        assert_eq!(listed_set(&db, &q).await, set([&shown]));
        q.os_hidden = None;
        assert_eq!(listed_set(&db, &q).await, set([&shown, &hidden]));
        q.os_hidden = Some(true);
        assert_eq!(listed_set(&db, &q).await, set([&hidden]));
    }

    pub async fn visibility_matrix(db: Database) {
        let create = async |owner: Option<&str>, visibility| {
            let mut image = new_image(owner);
            image.visibility = visibility;
            create(&db, image).await
        };
        use Visibility::*;
        let a_public = create(Some("A"), Public).await;
        let a_private = create(Some("A"), Private).await;
        let a_shared_accepted = create(Some("A"), Shared).await;
        let a_shared_pending = create(Some("A"), Shared).await;
        let a_community = create(Some("A"), Community).await;
        let b_private = create(Some("B"), Private).await;
        let b_community = create(Some("B"), Community).await;
        let b_shared = create(Some("B"), Shared).await;
        let ownerless_public = create(None, Public).await;
        db.add_member(a_shared_accepted.id, "B").await.unwrap();
        db.set_member_status(a_shared_accepted.id, "B", MemberStatus::Accepted)
            .await
            .unwrap();
        db.add_member(a_shared_pending.id, "B").await.unwrap();
        // A rejected share and a share to someone else show nothing to B.
        db.add_member(b_shared.id, "C").await.unwrap();
        db.set_member_status(b_shared.id, "C", MemberStatus::Rejected)
            .await
            .unwrap();

        let everything = [
            &a_public,
            &a_private,
            &a_shared_accepted,
            &a_shared_pending,
            &a_community,
            &b_private,
            &b_community,
            &b_shared,
            &ownerless_public,
        ];
        let no_community: Vec<&Image> = everything
            .iter()
            .copied()
            .filter(|i| i.visibility != Community)
            .collect();
        let public = [&a_public, &ownerless_public];

        type Row<'a> = (Scope, Option<VisibilityFilter>, Vec<&'a Image>);
        let only = |v| Some(VisibilityFilter::Only(v));
        let all = Some(VisibilityFilter::All);
        let rows: Vec<Row> = vec![
            // No filter.
            (
                user("A"),
                None,
                vec![
                    &a_public,
                    &a_private,
                    &a_shared_accepted,
                    &a_shared_pending,
                    &a_community,
                    &ownerless_public,
                ],
            ),
            (
                user("B"),
                None,
                vec![
                    &a_public,
                    &a_shared_accepted,
                    &b_private,
                    &b_community,
                    &b_shared,
                    &ownerless_public,
                ],
            ),
            (user("C"), None, public.to_vec()),
            (admin(), None, no_community.clone()),
            (noauth(), None, no_community),
            // public
            (user("C"), only(Public), public.to_vec()),
            (admin(), only(Public), public.to_vec()),
            // private
            (user("A"), only(Private), vec![&a_private]),
            (user("B"), only(Private), vec![&b_private]),
            (user("C"), only(Private), vec![]),
            (admin(), only(Private), vec![&a_private, &b_private]),
            (noauth(), only(Private), vec![&a_private, &b_private]),
            // shared
            (
                user("A"),
                only(Shared),
                vec![&a_shared_accepted, &a_shared_pending],
            ),
            (user("B"), only(Shared), vec![&a_shared_accepted, &b_shared]),
            (user("C"), only(Shared), vec![]),
            (
                admin(),
                only(Shared),
                vec![&a_shared_accepted, &a_shared_pending, &b_shared],
            ),
            // community
            (user("C"), only(Community), vec![&a_community, &b_community]),
            (admin(), only(Community), vec![&a_community, &b_community]),
            (noauth(), only(Community), vec![&a_community, &b_community]),
            // all
            (
                user("A"),
                all,
                vec![
                    &a_public,
                    &a_private,
                    &a_shared_accepted,
                    &a_shared_pending,
                    &a_community,
                    &b_community,
                    &ownerless_public,
                ],
            ),
            (
                user("B"),
                all,
                vec![
                    &a_public,
                    &a_shared_accepted,
                    &a_community,
                    &b_private,
                    &b_community,
                    &b_shared,
                    &ownerless_public,
                ],
            ),
            (
                user("C"),
                all,
                vec![&a_public, &a_community, &b_community, &ownerless_public],
            ),
            (admin(), all, everything.to_vec()),
            (noauth(), all, everything.to_vec()),
        ];
        for (scope, visibility, expected) in rows {
            let mut q = query(scope.clone());
            q.visibility = visibility;
            assert_eq!(
                listed_set(&db, &q).await,
                set(expected),
                "{scope:?} visibility={visibility:?}"
            );
        }
    }

    pub async fn marker_must_exist_and_be_visible(db: Database) {
        let create = async |owner: Option<&str>, visibility| {
            let mut image = new_image(owner);
            image.visibility = visibility;
            create(&db, image).await
        };
        let private = create(Some("A"), Visibility::Private).await;
        let shared_pending = create(Some("A"), Visibility::Shared).await;
        let community = create(Some("A"), Visibility::Community).await;
        let ownerless = create(None, Visibility::Private).await;
        let deleted = create(Some("A"), Visibility::Public).await;
        db.delete_image(deleted.id).await.unwrap();
        db.add_member(shared_pending.id, "B").await.unwrap();

        let with_marker = |scope: Scope, marker: &Image| ListQuery {
            marker: Some(marker.id),
            ..query(scope)
        };
        let refused = async |q: ListQuery| match db.list_images(&q).await {
            Err(DbError::MarkerNotFound) => {}
            other => panic!("expected MarkerNotFound for {q:?}, got {other:?}"),
        };
        refused(ListQuery {
            marker: Some(Uuid::new_v4()),
            ..query(admin())
        })
        .await;
        refused(with_marker(admin(), &deleted)).await;
        refused(with_marker(user("C"), &private)).await;
        refused(with_marker(user("C"), &shared_pending)).await;
        refused(ListQuery {
            scope: Scope {
                is_admin: false,
                project_id: None,
            },
            ..with_marker(user("C"), &private)
        })
        .await;

        // Glance's per-image visibility: owner, admin, any membership,
        // public or community, or no owner at all.
        for (scope, marker) in [
            (user("A"), &private),
            (admin(), &private),
            (noauth(), &private),
            (user("B"), &shared_pending),
            (user("C"), &community),
            (user("C"), &ownerless),
        ] {
            db.list_images(&with_marker(scope, marker)).await.unwrap();
        }
    }

    pub async fn sort_by_every_key_in_both_directions(db: Database) {
        let images = sortable_images(&db, 24).await;
        for key in SortKey::ALL {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let q = ListQuery {
                    sort: vec![(key, dir)],
                    ..query(admin())
                };
                assert_eq!(
                    listed(&db, &q).await,
                    expected_order(&images, &q.sort),
                    "{key:?} {dir:?}"
                );
            }
        }
        for sort in SORT_CASES {
            let q = ListQuery {
                sort: sort.to_vec(),
                ..query(admin())
            };
            assert_eq!(
                listed(&db, &q).await,
                expected_order(&images, sort),
                "{sort:?}"
            );
        }
    }

    pub async fn pagination_walks_every_image_once_in_order(db: Database) {
        let images = sortable_images(&db, 40).await;
        for sort in SORT_CASES {
            for page_size in [1, 7] {
                let mut walked = Vec::new();
                let mut q = ListQuery {
                    sort: sort.to_vec(),
                    ..ListQuery::new(admin(), page_size)
                };
                loop {
                    let page = listed(&db, &q).await;
                    assert!(page.len() <= page_size as usize);
                    let Some(&last) = page.last() else { break };
                    walked.extend(page);
                    q.marker = Some(last);
                }
                assert_eq!(
                    walked,
                    expected_order(&images, sort),
                    "{sort:?} by {page_size}"
                );
            }
        }
    }

    pub async fn limit_caps_the_page(db: Database) {
        for _ in 0..5 {
            create(&db, new_image(Some("p"))).await;
        }
        assert_eq!(
            db.list_images(&ListQuery::new(admin(), 3))
                .await
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            db.list_images(&ListQuery::new(admin(), 10))
                .await
                .unwrap()
                .len(),
            5
        );
    }

    pub async fn analyze_keeps_lists_working(db: Database) {
        let images = sortable_images(&db, 12).await;
        db.analyze().await.unwrap();
        let sort = [(SortKey::Name, SortDir::Asc)];
        let q = ListQuery {
            sort: sort.to_vec(),
            ..query(admin())
        };
        assert_eq!(listed(&db, &q).await, expected_order(&images, &sort));
    }

    /// The common list queries never read the whole images table: each is
    /// served by an index, and the selective ones look rows up through it
    /// rather than walking every image in date order.
    pub async fn list_queries_are_served_by_indexes(db: Database) {
        const IMAGES: i64 = 1_200;
        for n in 0..IMAGES {
            let mut image = new_image(Some(&format!("p{}", n % 40)));
            image.name = Some(format!("image-{n:05}"));
            image.visibility = Visibility::ALL[((n / 40) % 4) as usize];
            image.status = if n % 100 == 0 {
                ImageStatus::Queued
            } else {
                ImageStatus::Active
            };
            image.created_at = at(n);
            image.updated_at = at(n);
            image.tags = [format!("t{}", n % 10), "common".into()].into();
            if n == 7 {
                image.tags.insert("rare".into());
            }
            image.properties = BTreeMap::from([
                ("os_distro".into(), "debian".into()),
                ("n".into(), n.to_string()),
            ]);
            image.locations = vec![location(&format!("file:///images/{n}"), "fast")];
            db.create_image(&image).await.unwrap();
        }
        db.analyze().await.unwrap();

        let base = ListQuery::new(admin(), 25);
        let selective = [
            (
                "status=queued",
                ListQuery {
                    statuses: Some(vec![ImageStatus::Queued]),
                    ..base.clone()
                },
            ),
            (
                "owner",
                ListQuery {
                    owner: Some("p7".into()),
                    ..base.clone()
                },
            ),
            (
                "name",
                ListQuery {
                    names: Some(vec!["image-00042".into()]),
                    ..base.clone()
                },
            ),
            (
                "a rare tag",
                ListQuery {
                    tags: vec!["rare".into()],
                    ..base.clone()
                },
            ),
            (
                "a property",
                ListQuery {
                    properties: vec![("n".into(), "10".into())],
                    ..base.clone()
                },
            ),
            (
                "created_at range",
                ListQuery {
                    created_at: vec![(CmpOp::Gte, at(IMAGES - 30))],
                    ..base.clone()
                },
            ),
        ];
        let walks = [
            ("admin, default order", base.clone()),
            (
                "a common tag",
                ListQuery {
                    tags: vec!["common".into()],
                    ..base.clone()
                },
            ),
            (
                "a common property",
                ListQuery {
                    properties: vec![("os_distro".into(), "debian".into())],
                    ..base.clone()
                },
            ),
            ("admin, 1000", ListQuery::new(admin(), 1000)),
            ("admin, a page of 1", ListQuery::new(admin(), 1)),
            ("admin, a page of 2", ListQuery::new(admin(), 2)),
            ("a project", ListQuery::new(user("p7"), 25)),
            (
                "visibility=public",
                ListQuery {
                    visibility: Some(VisibilityFilter::Only(Visibility::Public)),
                    ..base.clone()
                },
            ),
            (
                "by name",
                ListQuery {
                    sort: vec![(SortKey::Name, SortDir::Asc)],
                    ..base.clone()
                },
            ),
            (
                "by updated_at",
                ListQuery {
                    sort: vec![(SortKey::UpdatedAt, SortDir::Desc)],
                    ..base.clone()
                },
            ),
        ];
        let backend = db.backend();
        for (label, q, is_selective) in selective
            .iter()
            .map(|(l, q)| (l, q, true))
            .chain(walks.iter().map(|(l, q)| (l, q, false)))
        {
            let plan = db.explain_list_images(q).await.unwrap();
            let text = plan.join("\n");
            match backend {
                Backend::Sqlite => {
                    // `SCAN i` alone reads the table; `SCAN i USING INDEX` walks an
                    // index in the page's order and stops at the limit.
                    assert!(
                        !plan.iter().any(|l| l == "SCAN i"),
                        "{label}: a full scan\n{text}"
                    );
                    // Each image's tags (t), properties (p) and locations (l) are
                    // looked up by its id, never found by reading a whole table.
                    for child in ["t", "p", "l"] {
                        assert!(
                            !plan.iter().any(|l| l.starts_with(&format!("SCAN {child}"))),
                            "{label}: reads every row of a child table\n{text}"
                        );
                    }
                    if is_selective {
                        assert!(
                            !plan.iter().any(|l| l.starts_with("SCAN i ")),
                            "{label}: walks every image instead of looking up the few\n{text}"
                        );
                    } else {
                        assert!(
                            !text.contains("TEMP B-TREE FOR ORDER BY"),
                            "{label}: sorts the table instead of walking an index\n{text}"
                        );
                    }
                }
                Backend::Postgres => assert!(
                    !text.contains("Seq Scan"),
                    "{label}: no index serves it\n{text}"
                ),
                Backend::MySql => {
                    let plan_json: serde_json::Value = serde_json::from_str(&text).unwrap();
                    for child in ["t", "p", "l"] {
                        assert_ne!(
                            find_access(&plan_json, child).as_deref(),
                            Some("ALL"),
                            "{label}: reads every row of a child table\n{text}"
                        );
                    }
                    if is_selective {
                        let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
                        assert_ne!(
                            find_access(&plan, "i").as_deref(),
                            Some("ALL"),
                            "{label}: a full scan\n{text}"
                        );
                    }
                }
            }
            let page = db.list_images(q).await.unwrap();
            assert!(!page.is_empty(), "{label}: lists nothing");
            assert!(page.len() <= q.limit as usize, "{label}: over the limit");
        }
    }

    pub async fn members_add_and_answer(db: Database) {
        let mut image = new_image(Some("A"));
        image.visibility = Visibility::Shared;
        let image = create(&db, image).await;
        db.add_member(image.id, "B").await.unwrap();
        assert!(matches!(
            db.add_member(image.id, "B").await,
            Err(DbError::Duplicate)
        ));
        assert!(matches!(
            db.add_member(Uuid::new_v4(), "B").await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.set_member_status(image.id, "C", MemberStatus::Accepted)
                .await,
            Err(DbError::NotFound)
        ));
        let q = query(user("B"));
        assert!(
            listed(&db, &q).await.is_empty(),
            "pending shares are not listed"
        );
        db.set_member_status(image.id, "B", MemberStatus::Accepted)
            .await
            .unwrap();
        assert_eq!(listed(&db, &q).await, vec![image.id]);
        db.set_member_status(image.id, "B", MemberStatus::Rejected)
            .await
            .unwrap();
        assert!(listed(&db, &q).await.is_empty());
    }

    pub async fn members_list_show_and_delete(db: Database) {
        let mut image = new_image(Some("A"));
        image.visibility = Visibility::Shared;
        let image = create(&db, image).await;
        for member in ["B", "C"] {
            db.add_member(image.id, member).await.unwrap();
        }
        db.set_member_status(image.id, "C", MemberStatus::Accepted)
            .await
            .unwrap();
        let members = db.list_members(image.id).await.unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.member.as_str()).collect();
        assert_eq!(names, ["B", "C"]);
        assert_eq!(members[0].status, MemberStatus::Pending);
        assert_eq!(members[1].status, MemberStatus::Accepted);
        assert!(members[1].updated_at >= members[1].created_at);
        let c = db.get_member(image.id, "C").await.unwrap().unwrap();
        assert_eq!(c, members[1]);
        assert!(db.get_member(image.id, "D").await.unwrap().is_none());
        db.delete_member(image.id, "B").await.unwrap();
        assert!(matches!(
            db.delete_member(image.id, "B").await,
            Err(DbError::NotFound)
        ));
        assert_eq!(db.list_members(image.id).await.unwrap().len(), 1);
    }

    pub async fn member_status_filter_lists_pending_shares(db: Database) {
        let mut image = new_image(Some("A"));
        image.visibility = Visibility::Shared;
        let image = create(&db, image).await;
        db.add_member(image.id, "B").await.unwrap();
        let mut q = query(user("B"));
        q.visibility = Some(VisibilityFilter::Only(Visibility::Shared));
        assert!(listed(&db, &q).await.is_empty(), "accepted by default");
        q.member_status = Some("pending");
        assert_eq!(listed(&db, &q).await, vec![image.id]);
        q.member_status = None;
        assert_eq!(listed(&db, &q).await, vec![image.id], "member_status=all");
        q.member_status = Some("rejected");
        assert!(listed(&db, &q).await.is_empty());
    }

    pub async fn tasks_round_trip_and_list_by_image(db: Database) {
        let image = create(&db, new_image(Some("A"))).await;
        let mut input = serde_json::Map::new();
        input.insert("image_id".into(), serde_json::json!(image.id));
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        let mut first = Task::new("api_image_import", input.clone(), now);
        first.owner = Some("A".into());
        first.image_id = Some(image.id);
        first.request_id = Some("req-1".into());
        db.create_task(&first).await.unwrap();
        assert_eq!(db.get_task(first.id).await.unwrap().unwrap(), first);

        first.status = TaskStatus::Failure;
        first.message = "the store said no".into();
        first.result = Some(input.clone());
        first.expires_at = Some(now + Duration::hours(48));
        first.updated_at = now + Duration::seconds(1);
        db.update_task(&first).await.unwrap();
        assert_eq!(db.get_task(first.id).await.unwrap().unwrap(), first);

        let mut second = Task::new("api_image_import", input, now + Duration::seconds(2));
        second.image_id = Some(image.id);
        db.create_task(&second).await.unwrap();
        let ids: Vec<Uuid> = db
            .image_tasks(image.id)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, [second.id, first.id], "newest first");
        assert!(db.image_tasks(Uuid::new_v4()).await.unwrap().is_empty());
        let mut gone = second.clone();
        gone.id = Uuid::new_v4();
        assert!(matches!(
            db.update_task(&gone).await,
            Err(DbError::NotFound)
        ));
    }

    pub async fn task_progress_is_written_only_while_the_task_runs(db: Database) {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        let mut task = Task::new("api_image_import", serde_json::Map::new(), now);
        db.create_task(&task).await.unwrap();
        // Pending: not yet at work, nothing written.
        db.set_task_progress(task.id, "Copied 1 MiB", now)
            .await
            .unwrap();
        assert_eq!(db.get_task(task.id).await.unwrap().unwrap().message, "");

        task.status = TaskStatus::Processing;
        db.update_task(&task).await.unwrap();
        let later = now + Duration::seconds(60);
        db.set_task_progress(task.id, "Copied 7 MiB", later)
            .await
            .unwrap();
        let running = db.get_task(task.id).await.unwrap().unwrap();
        assert_eq!(running.message, "Copied 7 MiB");
        assert_eq!(running.updated_at, later);
        assert_eq!(running.status, TaskStatus::Processing);

        // Finished: a late report leaves the end's message alone.
        task.status = TaskStatus::Success;
        task.message = "Copied 9 MiB".into();
        db.update_task(&task).await.unwrap();
        db.set_task_progress(task.id, "Copied 8 MiB", later)
            .await
            .unwrap();
        assert_eq!(
            db.get_task(task.id).await.unwrap().unwrap().message,
            "Copied 9 MiB"
        );
    }

    pub async fn usage_counts_per_owner_and_status(db: Database) {
        for (status, size) in [
            (ImageStatus::Active, 3 << 20),
            (ImageStatus::Deactivated, 1 << 20),
            (ImageStatus::Uploading, 2 << 20),
            (ImageStatus::Saving, 0),
            (ImageStatus::Queued, 0),
        ] {
            let mut image = new_image(Some("U"));
            image.status = status;
            image.size = (size > 0).then_some(size);
            create(&db, image).await;
        }
        create(&db, new_image(Some("other"))).await;
        let usage = db.usage("U").await.unwrap();
        assert_eq!(usage.stored_bytes, 4 << 20);
        assert_eq!(usage.staged_bytes, 2 << 20);
        assert_eq!(usage.images, 5);
        assert_eq!(usage.uploading, 2);
        assert_eq!(db.usage("nobody").await.unwrap(), Default::default());
    }

    /// Many tasks writing at once: on SQLite they queue for the single writer
    /// and none of them sees SQLITE_BUSY.
    pub async fn concurrent_creates_and_updates_all_succeed(db: Database) {
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut image = new_image(Some("p"));
                    image.tags.insert(format!("t{n}"));
                    image.properties.insert("n".into(), n.to_string());
                    db.create_image(&image).await?;
                    let saving = Image {
                        status: ImageStatus::Saving,
                        ..image
                    };
                    let saving = db.update_image(&saving, Some(ImageStatus::Queued)).await?;
                    db.add_tag(saving.id, "done").await?;
                    let listed = db.list_images(&ListQuery::new(admin(), 25)).await?;
                    assert!(!listed.is_empty());
                    Ok::<_, DbError>(saving.id)
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap().unwrap());
        }
        assert_eq!(ids.len(), 64);
        let q = ListQuery {
            tags: vec!["done".into()],
            statuses: Some(vec![ImageStatus::Saving]),
            ..query(admin())
        };
        assert_eq!(listed_set(&db, &q).await, ids.into_iter().collect());
    }

    pub async fn concurrent_compare_and_set_has_one_winner(db: Database) {
        for _ in 0..3 {
            let image = create(&db, new_image(Some("p"))).await;
            let racers: Vec<_> = (0..16)
                .map(|n| {
                    let db = db.clone();
                    let saving = Image {
                        status: ImageStatus::Saving,
                        name: Some(format!("racer {n}")),
                        ..image.clone()
                    };
                    tokio::spawn(async move {
                        db.update_image(&saving, Some(ImageStatus::Queued)).await
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for racer in racers {
                match racer.await.unwrap() {
                    Ok(saved) => winners.push(saved),
                    Err(DbError::Conflict) => {}
                    Err(err) => panic!("a racer failed: {err}"),
                }
            }
            assert_eq!(winners.len(), 1);
            assert_eq!(
                db.get_image(image.id).await.unwrap().as_ref(),
                winners.first()
            );
        }
    }

    /// Prints how long lists and a burst of creates take over 10,000 images.
    pub async fn timing_over_10k_images(db: Database) {
        const IMAGES: usize = 10_000;
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let loaders: Vec<_> = (0..8)
            .map(|_| {
                let (db, next) = (db.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= IMAGES {
                            break;
                        }
                        let mut image = new_image(Some(&format!("p{}", n % 50)));
                        image.name = Some(format!("image-{n:05}"));
                        image.visibility = Visibility::ALL[n % 4];
                        image.status = ImageStatus::Active;
                        image.created_at = at(n as i64);
                        image.tags = [format!("t{}", n % 10), "all".into()].into();
                        image.properties = BTreeMap::from([
                            ("os_distro".into(), "debian".into()),
                            ("n".into(), n.to_string()),
                        ]);
                        image.locations = vec![location(&format!("file:///images/{n}"), "local")];
                        db.create_image(&image).await.unwrap();
                    }
                })
            })
            .collect();
        for loader in loaders {
            loader.await.unwrap();
        }
        let load = started.elapsed();
        db.analyze().await.unwrap();

        let started = Instant::now();
        let burst: Vec<_> = (0..64)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { db.create_image(&new_image(Some("burst"))).await })
            })
            .collect();
        for create in burst {
            create.await.unwrap().unwrap();
        }
        let burst = started.elapsed();

        let median = async |q: &ListQuery, runs: usize| {
            db.list_images(q).await.unwrap();
            let mut times = Vec::new();
            for _ in 0..runs {
                let started = Instant::now();
                let page = db.list_images(q).await.unwrap();
                times.push(started.elapsed());
                assert_eq!(page.len(), q.limit as usize);
            }
            times.sort();
            times[runs / 2]
        };
        let middle = listed(&db, &ListQuery::new(admin(), 1000)).await[500];
        let mut report = vec![format!(
            "{:?}: {IMAGES} creates {load:.1?}, 64 concurrent creates {burst:.1?}",
            db.backend()
        )];
        for (label, scope) in [("admin", admin()), ("user", user("p7"))] {
            for limit in [25, 1000] {
                let q = ListQuery::new(scope.clone(), limit);
                let first = median(&q, 21).await;
                let after = median(
                    &ListQuery {
                        marker: Some(middle),
                        ..q.clone()
                    },
                    21,
                )
                .await;
                let by_name = median(
                    &ListQuery {
                        sort: vec![(SortKey::Name, SortDir::Asc)],
                        ..q.clone()
                    },
                    21,
                )
                .await;
                let tagged = median(
                    &ListQuery {
                        tags: vec!["all".into()],
                        ..q
                    },
                    21,
                )
                .await;
                report.push(format!(
                    "  {label} limit {limit}: first page {}, after marker {}, by name {}, tag filter {}",
                    ms(first), ms(after), ms(by_name), ms(tagged)
                ));
            }
        }
        println!("{}", report.join("\n"));
    }

    fn ms(elapsed: Elapsed) -> String {
        format!("{:.2} ms", elapsed.as_secs_f64() * 1000.0)
    }
}
