//! Loading and exporting definitions files (`glint metadefs load/export`),
//! against SQLite, PostgreSQL and MySQL/MariaDB (servers as for
//! `db_repository.rs`). The bundled definitions are read from
//! `shared/reference/metadefs` beside the clone.

mod support;

use support::run;

use std::path::{Path, PathBuf};

use glint_core::db::{Database, LoadMode, Loaded};
use glint_core::domain::SortDir;
use glint_core::domain::metadefs::{MetadefObject, MetadefSortKey, Property, Tag, TagQuery};
use glint_core::service::metadefs::load::{self, FileError};
use serde_json::{Value, json};

db_test_suite!(
    bundled_files_load_with_all_their_content,
    existing_namespace_is_skipped_merged_updated_or_replaced,
    bad_file_loads_nothing_and_others_still_load,
    export_round_trips_through_load,
);

// ---------------------------------------------------------------------------
// Helpers

const BUNDLED_COUNT: usize = 32;

fn bundled_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/metadefs");
    assert!(
        dir.is_dir(),
        "the bundled definitions are missing: expected {} (shared/ beside the clone)",
        dir.display()
    );
    dir
}

/// Every bundled file, parsed as plain JSON, by file name.
fn bundled_files() -> Vec<(String, Value)> {
    let mut files: Vec<(String, Value)> = std::fs::read_dir(bundled_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(files.len(), BUNDLED_COUNT, "bundled definitions files");
    files
}

fn write(dir: &Path, file: &str, body: Value) {
    std::fs::write(dir.join(file), body.to_string()).unwrap();
}

fn all_tags() -> TagQuery {
    TagQuery {
        sort_key: MetadefSortKey::Name,
        sort_dir: SortDir::Asc,
        marker: None,
        limit: 1000,
    }
}

/// A namespace's content in the file format, arrays sorted by name so that
/// the order rows come back in does not matter.
fn exported(dir: &Path, namespace: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{namespace}.json")))
        .unwrap_or_else(|err| panic!("{namespace}.json: {err}"));
    sorted(load::document_json(&load::parse(&text).unwrap()))
}

fn sorted(mut doc: Value) -> Value {
    for key in ["objects", "tags", "resource_type_associations"] {
        if let Some(items) = doc.get_mut(key).and_then(Value::as_array_mut) {
            items.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
    }
    doc
}

fn count(file: &Value, key: &str) -> usize {
    match &file[key] {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------
// Cases

mod cases {
    use super::*;

    pub async fn bundled_files_load_with_all_their_content(db: Database) {
        let report = load::load(&db, &bundled_dir(), LoadMode::Skip)
            .await
            .unwrap();
        let failures: Vec<String> = report
            .files
            .iter()
            .filter_map(|f| {
                f.outcome
                    .as_ref()
                    .err()
                    .map(|e| format!("{}: {e}", f.file.display()))
            })
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(report.loaded(), BUNDLED_COUNT);

        for (file, body) in bundled_files() {
            let name = body["namespace"].as_str().unwrap();
            let ns = db.get_namespace(name).await.unwrap().expect(name);
            assert_eq!(ns.owner.as_deref(), Some(load::DEFAULT_OWNER), "{file}");
            assert_eq!(ns.protected, body["protected"] == true, "{file}");
            let objects = db.list_items::<MetadefObject>(name).await.unwrap();
            let properties = db.list_items::<Property>(name).await.unwrap();
            let tags = db.list_tags(name, &all_tags()).await.unwrap();
            let associations = db.list_associations(name).await.unwrap();
            assert_eq!(objects.len(), count(&body, "objects"), "{file} objects");
            assert_eq!(
                properties.len(),
                count(&body, "properties"),
                "{file} properties"
            );
            assert_eq!(tags.len(), count(&body, "tags"), "{file} tags");
            assert_eq!(
                associations.len(),
                count(&body, "resource_type_associations"),
                "{file} associations"
            );
        }
        let hypervisor = db
            .get_item::<Property>("OS::Compute::Hypervisor", "hypervisor_type")
            .await
            .unwrap()
            .expect("hypervisor_type");
        assert_eq!(hypervisor.schema["type"], "string");
        // Resource types seeded by a load are protected.
        let types = db.list_resource_types().await.unwrap();
        assert!(types.iter().any(|t| t.name == "OS::Glance::Image"));
        assert!(types.iter().all(|t| t.protected));

        // A second plain load leaves every namespace alone.
        let again = load::load(&db, &bundled_dir(), LoadMode::Skip)
            .await
            .unwrap();
        assert_eq!(
            (again.loaded(), again.skipped(), again.failed()),
            (0, BUNDLED_COUNT, 0)
        );
    }

    pub async fn existing_namespace_is_skipped_merged_updated_or_replaced(db: Database) {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.json");
        let second = dir.path().join("second.json");
        write(
            dir.path(),
            "first.json",
            json!({
                "namespace": "OS::Test", "display_name": "Old",
                "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "old_"}],
                "properties": {"a": {"title": "A", "type": "string"}},
                "objects": [{"name": "o1", "properties": {}}],
                "tags": [{"name": "t1"}],
            }),
        );
        write(
            dir.path(),
            "second.json",
            json!({
                "namespace": "OS::Test", "display_name": "New",
                "resource_type_associations": [
                    {"name": "OS::Glance::Image", "prefix": "new_"},
                    {"name": "OS::Nova::Flavor"},
                ],
                "properties": {
                    "a": {"title": "A2", "type": "string"},
                    "b": {"title": "B", "type": "integer"},
                },
                "objects": [{"name": "o2", "properties": {}}],
                "tags": [{"name": "t2"}],
            }),
        );
        let load_file = |file: PathBuf, mode| {
            let db = db.clone();
            async move { load::load_file(&db, &file, mode).await.unwrap() }
        };
        let state = || async {
            let ns = db.get_namespace("OS::Test").await.unwrap().unwrap();
            let names = |v: Vec<String>| v.join(",");
            let props = db.list_items::<Property>("OS::Test").await.unwrap();
            let a_title = props
                .iter()
                .find(|p| p.name == "a")
                .map(|p| p.schema["title"].clone());
            let associations = db.list_associations("OS::Test").await.unwrap();
            json!({
                "display_name": ns.display_name,
                "properties": names(props.iter().map(|p| p.name.clone()).collect()),
                "a": a_title,
                "objects": names(db.list_items::<MetadefObject>("OS::Test").await.unwrap().into_iter().map(|o| o.name).collect()),
                "tags": names(db.list_tags("OS::Test", &all_tags()).await.unwrap().into_iter().map(|t| t.name).collect()),
                "associations": associations.iter().map(|a| json!([a.name, a.prefix])).collect::<Vec<_>>(),
            })
        };

        assert_eq!(
            load_file(first.clone(), LoadMode::Skip).await,
            Loaded::Created
        );
        let created = state().await;
        // What a load makes was never updated, as in Glance (null `updated_at`).
        let ns = db.get_namespace("OS::Test").await.unwrap().unwrap();
        assert_eq!(ns.updated_at, None);
        let tags = db.list_items::<Tag>("OS::Test").await.unwrap();
        assert_eq!(tags[0].updated_at, None);
        let associations = db.list_associations("OS::Test").await.unwrap();
        assert_eq!(associations[0].updated_at, None);
        assert_eq!(db.list_resource_types().await.unwrap()[0].updated_at, None);
        assert_eq!(
            load_file(second.clone(), LoadMode::Skip).await,
            Loaded::Skipped
        );
        assert_eq!(state().await, created);

        assert_eq!(
            load_file(second.clone(), LoadMode::Merge).await,
            Loaded::Merged
        );
        assert_eq!(
            state().await,
            json!({
                "display_name": "Old", "properties": "a,b", "a": "A",
                "objects": "o1,o2", "tags": "t1,t2",
                "associations": [["OS::Glance::Image", "old_"], ["OS::Nova::Flavor", null]],
            })
        );

        assert_eq!(
            load_file(second.clone(), LoadMode::PreferNew).await,
            Loaded::Merged
        );
        assert_eq!(
            state().await,
            json!({
                "display_name": "New", "properties": "a,b", "a": "A2",
                "objects": "o1,o2", "tags": "t1,t2",
                "associations": [["OS::Glance::Image", "new_"], ["OS::Nova::Flavor", null]],
            })
        );
        // Preferring the new document updates what both have.
        assert!(
            db.get_namespace("OS::Test")
                .await
                .unwrap()
                .unwrap()
                .updated_at
                .is_some()
        );
        let props = db.list_items::<Property>("OS::Test").await.unwrap();
        assert!(props.iter().all(|p| p.updated_at.is_some()));
        let objects = db.list_items::<MetadefObject>("OS::Test").await.unwrap();
        let updated: Vec<_> = objects
            .iter()
            .map(|o| (o.name.as_str(), o.updated_at.is_some()))
            .collect();
        assert_eq!(updated, [("o1", false), ("o2", true)]);

        assert_eq!(
            load_file(first.clone(), LoadMode::Overwrite).await,
            Loaded::Replaced
        );
        assert_eq!(state().await, created);
    }

    pub async fn bad_file_loads_nothing_and_others_still_load(db: Database) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a-good.json", json!({"namespace": "OS::Good"}));
        // Valid up to its last property: none of it may be stored.
        write(
            dir.path(),
            "b-bad.json",
            json!({
                "namespace": "OS::Bad",
                "resource_type_associations": [{"name": "OS::Bad::Type"}],
                "properties": {
                    "fine": {"title": "Fine", "type": "string"},
                    "wrong": {"title": "Wrong", "type": "text"},
                },
            }),
        );
        std::fs::write(dir.path().join("c-broken.json"), "{\"namespace\": ").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a definitions file").unwrap();

        let report = load::load(&db, dir.path(), LoadMode::Skip).await.unwrap();
        assert_eq!(report.to_string(), "1 loaded, 0 skipped, 2 failed");
        let files: Vec<_> = report
            .files
            .iter()
            .map(|f| f.file.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, ["a-good.json", "b-bad.json", "c-broken.json"]);
        let Err(FileError::Invalid(bad)) = &report.files[1].outcome else {
            panic!("b-bad.json: {:?}", report.files[1].outcome);
        };
        assert!(
            bad.to_string().contains("'type' of property 'wrong'"),
            "{bad}"
        );
        assert!(matches!(report.files[2].outcome, Err(FileError::Json(_))));

        assert!(db.get_namespace("OS::Good").await.unwrap().is_some());
        assert!(db.get_namespace("OS::Bad").await.unwrap().is_none());
        let types = db.list_resource_types().await.unwrap();
        assert!(types.iter().all(|t| t.name != "OS::Bad::Type"));

        let empty = tempfile::tempdir().unwrap();
        let err = load::load(&db, empty.path(), LoadMode::Skip)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no *.json"), "{err}");
    }

    pub async fn export_round_trips_through_load(db: Database) {
        load::load(&db, &bundled_dir(), LoadMode::Skip)
            .await
            .unwrap();
        let first = tempfile::tempdir().unwrap();
        let written = load::export(&db, first.path()).await.unwrap();
        assert_eq!(written.len(), BUNDLED_COUNT);

        // Every exported file holds what its source file holds.
        for (file, body) in bundled_files() {
            let name = body["namespace"].as_str().unwrap();
            let source = load::parse(&body.to_string()).unwrap();
            assert_eq!(
                exported(first.path(), name),
                sorted(load::document_json(&source)),
                "{file}"
            );
        }

        // Unload, load the export, export again: the same files.
        db.delete_all_metadefs().await.unwrap();
        assert!(db.list_resource_types().await.unwrap().is_empty());
        let report = load::load(&db, first.path(), LoadMode::Skip).await.unwrap();
        assert_eq!(report.loaded(), BUNDLED_COUNT, "{report}");
        let second = tempfile::tempdir().unwrap();
        load::export(&db, second.path()).await.unwrap();
        for path in written {
            let file = path.file_name().unwrap();
            let read = |dir: &Path| {
                serde_json::from_str::<Value>(&std::fs::read_to_string(dir.join(file)).unwrap())
                    .unwrap()
            };
            assert_eq!(read(second.path()), read(first.path()), "{file:?}");
        }
    }
}
