//! The metadefs repository suite: every case runs against SQLite, PostgreSQL
//! and MySQL/MariaDB, each in a database of its own (servers as for
//! `db_repository.rs`: `GLINT_TEST_POSTGRES_URL`, `GLINT_TEST_MYSQL_URL`).

mod support;

use support::run;

use chrono::{DateTime, Duration, Utc};
use glint_core::db::{Database, DbError, MetadefContent, MetadefItem};
use glint_core::domain::metadefs::{
    Association, MetadefObject, MetadefSortKey, Namespace, NamespaceDocument, NamespaceQuery,
    NamespaceVisibility, Property, Tag, TagQuery,
};
use glint_core::domain::{Scope, SortDir};
use serde_json::json;

db_test_suite!(
    namespace_document_round_trips,
    duplicate_names_are_rejected,
    update_renames_and_keeps_created_at,
    delete_cascades_but_keeps_resource_types,
    list_scope_filters_and_resource_types,
    list_sorts_and_pages_in_both_directions,
    content_rows_create_rename_delete,
    tags_replace_append_and_page,
    every_kind_goes_through_one_generic_path,
    associations_create_types_and_delete,
    embedded_items_and_resource_types_keep_the_order_they_were_added,
);

// ---------------------------------------------------------------------------
// Helpers

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap() + Duration::seconds(seconds)
}

fn namespace(name: &str, owner: Option<&str>, seconds: i64) -> Namespace {
    Namespace {
        namespace: name.into(),
        display_name: None,
        description: None,
        visibility: NamespaceVisibility::Private,
        protected: false,
        owner: owner.map(str::to_owned),
        created_at: at(seconds),
        updated_at: Some(at(seconds)),
    }
}

fn document(namespace: Namespace) -> NamespaceDocument {
    NamespaceDocument {
        namespace,
        associations: Vec::new(),
        objects: Vec::new(),
        properties: Vec::new(),
        tags: Vec::new(),
    }
}

fn association(name: &str, prefix: Option<&str>) -> Association {
    Association {
        name: name.into(),
        prefix: prefix.map(str::to_owned),
        properties_target: None,
        created_at: at(0),
        updated_at: Some(at(0)),
    }
}

fn tag(name: &str, seconds: i64) -> Tag {
    Tag {
        name: name.into(),
        created_at: at(seconds),
        updated_at: Some(at(seconds)),
    }
}

fn property(name: &str) -> Property {
    let schema = json!({"title": name, "type": "string", "enum": ["a", "b"]});
    Property {
        name: name.into(),
        schema: schema.as_object().unwrap().clone(),
        created_at: at(0),
        updated_at: Some(at(0)),
    }
}

fn object(name: &str) -> MetadefObject {
    MetadefObject {
        name: name.into(),
        description: Some("an object".into()),
        required: vec!["p".into()],
        properties: json!({"p": {"title": "P", "type": "integer", "minimum": 1}})
            .as_object()
            .unwrap()
            .clone(),
        created_at: at(0),
        updated_at: Some(at(0)),
    }
}

fn query(scope: Scope) -> NamespaceQuery {
    NamespaceQuery {
        scope,
        visibility: None,
        resource_types: None,
        sort_key: MetadefSortKey::CreatedAt,
        sort_dir: SortDir::Desc,
        marker: None,
        limit: 1000,
    }
}

fn admin() -> Scope {
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

async fn names(db: &Database, query: &NamespaceQuery) -> Vec<String> {
    db.list_namespaces(query)
        .await
        .unwrap()
        .into_iter()
        .map(|ns| ns.namespace)
        .collect()
}

// ---------------------------------------------------------------------------
// Cases

mod cases {
    use super::*;

    pub async fn namespace_document_round_trips(db: Database) {
        let mut ns = namespace("OS::Full", Some("p1"), 0);
        ns.display_name = Some("Full".into());
        ns.description = Some("ünïcode description".into());
        ns.visibility = NamespaceVisibility::Public;
        ns.protected = true;
        let doc = NamespaceDocument {
            namespace: ns.clone(),
            associations: vec![association("OS::Glance::Image", Some("hw_"))],
            objects: vec![object("o1")],
            properties: vec![property("p1"), property("p2")],
            tags: vec![tag("t1", 0)],
        };
        db.create_namespace(&doc, true).await.unwrap();
        assert_eq!(db.get_namespace("OS::Full").await.unwrap(), Some(ns));
        assert_eq!(db.get_namespace("OS::full").await.unwrap(), None);
        assert_eq!(
            db.list_associations("OS::Full").await.unwrap(),
            doc.associations
        );
        assert_eq!(
            db.list_items::<MetadefObject>("OS::Full").await.unwrap(),
            doc.objects
        );
        assert_eq!(
            db.list_items::<Property>("OS::Full").await.unwrap(),
            doc.properties
        );
        assert_eq!(
            db.get_item::<Property>("OS::Full", "p2").await.unwrap(),
            Some(property("p2"))
        );
        assert_eq!(
            db.get_item::<MetadefObject>("OS::Full", "o1")
                .await
                .unwrap(),
            Some(object("o1"))
        );
        assert_eq!(
            db.get_item::<Tag>("OS::Full", "t1").await.unwrap(),
            Some(tag("t1", 0))
        );
        let types = db.list_resource_types().await.unwrap();
        assert_eq!(types.len(), 1);
        assert!(types[0].protected && types[0].name == "OS::Glance::Image");
    }

    pub async fn duplicate_names_are_rejected(db: Database) {
        db.create_namespace(&document(namespace("a", None, 0)), false)
            .await
            .unwrap();
        let again = db
            .create_namespace(&document(namespace("a", Some("p"), 1)), false)
            .await;
        assert!(matches!(again, Err(DbError::Duplicate)));
        db.create_item("a", &object("o")).await.unwrap();
        assert!(matches!(
            db.create_item("a", &object("o")).await,
            Err(DbError::Duplicate)
        ));
        db.create_item("a", &property("p")).await.unwrap();
        assert!(matches!(
            db.create_item("a", &property("p")).await,
            Err(DbError::Duplicate)
        ));
        db.create_tags("a", &[tag("t", 0)], false).await.unwrap();
        assert!(matches!(
            db.create_tags("a", &[tag("t", 1)], false).await,
            Err(DbError::Duplicate)
        ));
        db.create_association("a", &association("R", None))
            .await
            .unwrap();
        assert!(matches!(
            db.create_association("a", &association("R", Some("x")))
                .await,
            Err(DbError::Duplicate)
        ));
        // A failed document leaves nothing behind.
        let mut doc = document(namespace("b", None, 0));
        doc.tags = vec![tag("t", 0), tag("t", 0)];
        assert!(matches!(
            db.create_namespace(&doc, false).await,
            Err(DbError::Duplicate)
        ));
        assert_eq!(db.get_namespace("b").await.unwrap(), None);
        // Writes into a missing namespace are NotFound.
        assert!(matches!(
            db.create_item("zz", &object("o")).await,
            Err(DbError::NotFound)
        ));
        assert!(matches!(
            db.create_tags("zz", &[], true).await,
            Err(DbError::NotFound)
        ));
    }

    pub async fn update_renames_and_keeps_created_at(db: Database) {
        db.create_namespace(&document(namespace("a", Some("p"), 0)), false)
            .await
            .unwrap();
        db.create_namespace(&document(namespace("b", Some("p"), 1)), false)
            .await
            .unwrap();
        db.create_tags("a", &[tag("t", 0)], false).await.unwrap();
        let mut changed = namespace("a2", Some("q"), 50);
        changed.visibility = NamespaceVisibility::Public;
        let saved = db.update_namespace("a", &changed).await.unwrap();
        assert_eq!(saved.created_at, at(0));
        assert!(saved.updated_at > Some(at(0)));
        assert_eq!(db.get_namespace("a2").await.unwrap(), Some(saved));
        assert_eq!(db.get_namespace("a").await.unwrap(), None);
        // The namespace's rows follow the rename.
        assert_eq!(
            db.get_item::<Tag>("a2", "t").await.unwrap(),
            Some(tag("t", 0))
        );
        let clash = db.update_namespace("a2", &namespace("b", None, 0)).await;
        assert!(matches!(clash, Err(DbError::Duplicate)));
        let missing = db.update_namespace("nope", &namespace("c", None, 0)).await;
        assert!(matches!(missing, Err(DbError::NotFound)));
    }

    pub async fn delete_cascades_but_keeps_resource_types(db: Database) {
        let mut doc = document(namespace("a", None, 0));
        doc.associations = vec![association("R", None)];
        doc.objects = vec![object("o")];
        doc.properties = vec![property("p")];
        doc.tags = vec![tag("t", 0)];
        db.create_namespace(&doc, false).await.unwrap();
        db.delete_content("a", MetadefContent::Tags).await.unwrap();
        assert!(db.list_tags("a", &tag_query()).await.unwrap().is_empty());
        assert_eq!(db.list_items::<MetadefObject>("a").await.unwrap().len(), 1);
        db.delete_namespace("a").await.unwrap();
        assert_eq!(db.get_namespace("a").await.unwrap(), None);
        assert!(matches!(
            db.delete_namespace("a").await,
            Err(DbError::NotFound)
        ));
        assert_eq!(db.list_resource_types().await.unwrap().len(), 1);
        // The same names can be used again.
        db.create_namespace(&doc, false).await.unwrap();
        assert_eq!(
            db.list_items::<MetadefObject>("a").await.unwrap(),
            doc.objects
        );
    }

    pub async fn list_scope_filters_and_resource_types(db: Database) {
        let mut public = namespace("public", Some("p2"), 0);
        public.visibility = NamespaceVisibility::Public;
        let mut doc = document(public);
        doc.associations = vec![association("R1", None)];
        db.create_namespace(&doc, false).await.unwrap();
        let mut doc = document(namespace("mine", Some("p1"), 1));
        doc.associations = vec![association("R2", None)];
        db.create_namespace(&doc, false).await.unwrap();
        db.create_namespace(&document(namespace("theirs", Some("p2"), 2)), false)
            .await
            .unwrap();
        db.create_namespace(&document(namespace("unowned", None, 3)), false)
            .await
            .unwrap();

        assert_eq!(
            names(&db, &query(admin())).await,
            ["unowned", "theirs", "mine", "public"]
        );
        assert_eq!(names(&db, &query(user("p1"))).await, ["mine", "public"]);
        let anonymous = Scope {
            is_admin: false,
            project_id: None,
        };
        assert_eq!(names(&db, &query(anonymous)).await, ["public"]);
        let private = NamespaceQuery {
            visibility: Some(NamespaceVisibility::Private),
            ..query(admin())
        };
        assert_eq!(names(&db, &private).await, ["unowned", "theirs", "mine"]);
        let typed = |types: &[&str]| NamespaceQuery {
            resource_types: Some(types.iter().map(|t| t.to_string()).collect()),
            ..query(admin())
        };
        assert_eq!(names(&db, &typed(&["R1"])).await, ["public"]);
        assert_eq!(names(&db, &typed(&["R1", "R2"])).await, ["mine", "public"]);
        assert!(names(&db, &typed(&["R3"])).await.is_empty());
    }

    pub async fn list_sorts_and_pages_in_both_directions(db: Database) {
        // Equal creation times are ordered as they were added, as in Glance (by its key).
        for (name, seconds) in [("c", 0), ("a", 0), ("b", 5), ("d", 5), ("e", 9)] {
            db.create_namespace(&document(namespace(name, None, seconds)), false)
                .await
                .unwrap();
        }
        for (key, dir, expected) in [
            (
                MetadefSortKey::CreatedAt,
                SortDir::Desc,
                ["e", "d", "b", "a", "c"],
            ),
            (
                MetadefSortKey::CreatedAt,
                SortDir::Asc,
                ["c", "a", "b", "d", "e"],
            ),
            (
                MetadefSortKey::Name,
                SortDir::Asc,
                ["a", "b", "c", "d", "e"],
            ),
            (
                MetadefSortKey::UpdatedAt,
                SortDir::Desc,
                ["e", "d", "b", "a", "c"],
            ),
        ] {
            let q = NamespaceQuery {
                sort_key: key,
                sort_dir: dir,
                ..query(admin())
            };
            assert_eq!(names(&db, &q).await, expected, "{key:?} {dir:?}");
            let mut walked = Vec::new();
            let mut marker = None;
            loop {
                let page = db
                    .list_namespaces(&NamespaceQuery {
                        marker: marker.clone(),
                        limit: 2,
                        ..q.clone()
                    })
                    .await
                    .unwrap();
                walked.extend(page.iter().map(|ns| ns.namespace.clone()));
                if page.len() < 2 {
                    break;
                }
                marker = page.last().cloned();
            }
            assert_eq!(walked, expected, "paged {key:?} {dir:?}");
        }
        assert!(
            names(
                &db,
                &NamespaceQuery {
                    limit: 0,
                    ..query(admin())
                }
            )
            .await
            .is_empty()
        );
    }

    pub async fn content_rows_create_rename_delete(db: Database) {
        db.create_namespace(&document(namespace("a", None, 0)), false)
            .await
            .unwrap();
        db.create_item("a", &object("o1")).await.unwrap();
        db.create_item("a", &object("o2")).await.unwrap();
        let mut renamed = object("o3");
        renamed.description = None;
        renamed.required = Vec::new();
        let saved = db.update_item("a", "o1", &renamed).await.unwrap();
        assert_eq!(saved.created_at, at(0));
        assert_eq!(
            db.get_item::<MetadefObject>("a", "o3").await.unwrap(),
            Some(saved)
        );
        assert_eq!(db.get_item::<MetadefObject>("a", "o1").await.unwrap(), None);
        assert!(matches!(
            db.update_item("a", "o3", &object("o2")).await,
            Err(DbError::Duplicate)
        ));
        assert!(matches!(
            db.update_item("a", "zz", &object("o9")).await,
            Err(DbError::NotFound)
        ));

        db.create_item("a", &property("p")).await.unwrap();
        let saved = db.update_item("a", "p", &property("q")).await.unwrap();
        assert_eq!(db.list_items::<Property>("a").await.unwrap(), [saved]);

        assert!(db.delete_item::<MetadefObject>("a", "o2").await.unwrap());
        assert!(!db.delete_item::<MetadefObject>("a", "o2").await.unwrap());
        assert!(db.delete_item::<Property>("a", "q").await.unwrap());
        assert_eq!(db.list_items::<MetadefObject>("a").await.unwrap().len(), 1);
        db.delete_content("a", MetadefContent::Objects)
            .await
            .unwrap();
        assert!(
            db.list_items::<MetadefObject>("a")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            db.delete_item::<Tag>("zz", "t").await,
            Err(DbError::NotFound)
        ));
    }

    fn tag_query() -> TagQuery {
        TagQuery {
            sort_key: MetadefSortKey::CreatedAt,
            sort_dir: SortDir::Asc,
            marker: None,
            limit: 1000,
        }
    }

    pub async fn tags_replace_append_and_page(db: Database) {
        db.create_namespace(&document(namespace("a", None, 0)), false)
            .await
            .unwrap();
        let listed = async |q: &TagQuery| -> Vec<String> {
            db.list_tags("a", q)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        db.create_tags("a", &[tag("x", 0), tag("y", 1)], false)
            .await
            .unwrap();
        db.create_tags("a", &[tag("z", 2)], false).await.unwrap();
        assert_eq!(listed(&tag_query()).await, ["x", "y", "z"]);
        // Tags made together are listed in the order given, as Glance lists them.
        db.create_tags("a", &[tag("b", 3), tag("a", 3)], true)
            .await
            .unwrap();
        assert_eq!(listed(&tag_query()).await, ["b", "a"]);
        let newest_first = TagQuery {
            sort_dir: SortDir::Desc,
            ..tag_query()
        };
        assert_eq!(listed(&newest_first).await, ["a", "b"]);
        assert_eq!(db.list_items::<Tag>("a").await.unwrap()[0].name, "b");
        // A replacement that fails keeps the old tags.
        assert!(
            db.create_tags("a", &[tag("c", 4), tag("c", 4)], true)
                .await
                .is_err()
        );
        assert_eq!(listed(&tag_query()).await, ["b", "a"]);
        let first = db
            .list_tags(
                "a",
                &TagQuery {
                    limit: 1,
                    ..tag_query()
                },
            )
            .await
            .unwrap();
        let rest = TagQuery {
            marker: first.last().cloned(),
            ..tag_query()
        };
        assert_eq!(listed(&rest).await, ["a"]);
        let by_name = TagQuery {
            sort_key: MetadefSortKey::Name,
            sort_dir: SortDir::Desc,
            ..tag_query()
        };
        assert_eq!(listed(&by_name).await, ["b", "a"]);
        let renamed = db.update_item("a", "a", &tag("c", 9)).await.unwrap();
        assert_eq!(renamed.created_at, at(3));
        assert!(matches!(
            db.update_item("a", "c", &tag("b", 9)).await,
            Err(DbError::Duplicate)
        ));
    }

    /// The same calls store, read, rename and delete every kind of item, and
    /// each kind keeps to its own table: a name may be an object, a property
    /// and a tag of one namespace at once.
    pub async fn every_kind_goes_through_one_generic_path(db: Database) {
        async fn round_trip<C>(db: &Database, item: C, renamed: C)
        where
            C: MetadefItem + PartialEq + std::fmt::Debug,
        {
            db.create_item("a", &item).await.unwrap();
            assert!(matches!(
                db.create_item("a", &item).await,
                Err(DbError::Duplicate)
            ));
            assert!(matches!(
                db.create_item("zz", &item).await,
                Err(DbError::NotFound)
            ));
            assert_eq!(
                db.get_item::<C>("a", item.name()).await.unwrap(),
                Some(item.clone())
            );
            assert_eq!(
                db.list_items::<C>("a").await.unwrap(),
                std::slice::from_ref(&item)
            );
            let saved = db.update_item("a", item.name(), &renamed).await.unwrap();
            assert_eq!(saved.created_at(), item.created_at());
            assert_eq!(saved.name(), renamed.name());
            assert_eq!(
                db.list_items::<C>("a").await.unwrap(),
                std::slice::from_ref(&saved)
            );
            assert!(db.delete_item::<C>("a", saved.name()).await.unwrap());
            assert!(!db.delete_item::<C>("a", saved.name()).await.unwrap());
            assert!(db.list_items::<C>("a").await.unwrap().is_empty());
        }

        db.create_namespace(&document(namespace("a", None, 0)), false)
            .await
            .unwrap();
        let shared = |name: &str| (object(name), property(name), tag(name, 1));
        let (o, p, t) = shared("same");
        db.create_item("a", &o).await.unwrap();
        db.create_item("a", &p).await.unwrap();
        db.create_item("a", &t).await.unwrap();
        assert_eq!(db.list_items::<MetadefObject>("a").await.unwrap(), [o]);
        assert_eq!(db.list_items::<Property>("a").await.unwrap(), [p]);
        assert_eq!(db.list_items::<Tag>("a").await.unwrap(), [t]);
        for content in [
            MetadefContent::Objects,
            MetadefContent::Properties,
            MetadefContent::Tags,
        ] {
            db.delete_content("a", content).await.unwrap();
        }

        round_trip(&db, object("o"), object("o2")).await;
        round_trip(&db, property("p"), property("p2")).await;
        round_trip(&db, tag("t", 2), tag("t2", 5)).await;
    }

    pub async fn associations_create_types_and_delete(db: Database) {
        db.create_namespace(&document(namespace("a", None, 0)), false)
            .await
            .unwrap();
        db.create_namespace(&document(namespace("b", None, 0)), false)
            .await
            .unwrap();
        db.create_association("a", &association("R", Some("r_")))
            .await
            .unwrap();
        db.create_association("b", &association("R", None))
            .await
            .unwrap();
        let types = db.list_resource_types().await.unwrap();
        assert_eq!(types.len(), 1);
        assert!(!types[0].protected);
        assert_eq!(
            db.list_associations("a").await.unwrap(),
            [association("R", Some("r_"))]
        );
        assert!(db.delete_association("a", "R").await.unwrap());
        assert!(!db.delete_association("a", "R").await.unwrap());
        assert!(db.list_associations("a").await.unwrap().is_empty());
        assert_eq!(db.list_associations("b").await.unwrap().len(), 1);
        assert!(matches!(
            db.create_association("zz", &association("R", None)).await,
            Err(DbError::NotFound)
        ));
    }

    /// Glance lists a namespace's associations, objects, properties and tags,
    /// and the resource types, in the order they were added, not by name.
    pub async fn embedded_items_and_resource_types_keep_the_order_they_were_added(db: Database) {
        let doc = NamespaceDocument {
            namespace: namespace("n", None, 0),
            associations: vec![
                association("OS::Nova::Server", None),
                association("OS::Cinder::Volume", None),
            ],
            objects: vec![object("zo"), object("ao")],
            properties: Vec::new(),
            tags: vec![tag("zt", 0), tag("at", 0), tag("mt", 0)],
        };
        db.create_namespace(&doc, false).await.unwrap();
        db.create_item("n", &property("zp")).await.unwrap();
        db.create_item("n", &property("ap")).await.unwrap();
        db.create_association("n", &association("OS::Glance::Image", None))
            .await
            .unwrap();

        let associations: Vec<_> = db
            .list_associations("n")
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            associations,
            [
                "OS::Nova::Server",
                "OS::Cinder::Volume",
                "OS::Glance::Image"
            ]
        );
        let types: Vec<_> = db
            .list_resource_types()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(types, associations);
        let objects: Vec<_> = db
            .list_items::<MetadefObject>("n")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(objects, ["zo", "ao"]);
        let properties: Vec<_> = db
            .list_items::<Property>("n")
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(properties, ["zp", "ap"]);
        let tags: Vec<_> = db
            .list_items::<Tag>("n")
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(tags, ["zt", "at", "mt"]);

        // Paging through tags of one creation time follows the same order.
        let mut walked = Vec::new();
        let mut marker = None;
        loop {
            let page = db
                .list_tags(
                    "n",
                    &TagQuery {
                        sort_key: MetadefSortKey::CreatedAt,
                        sort_dir: SortDir::Asc,
                        marker: marker.clone(),
                        limit: 2,
                    },
                )
                .await
                .unwrap();
            walked.extend(page.iter().map(|t| t.name.clone()));
            if page.len() < 2 {
                break;
            }
            marker = page.last().cloned();
        }
        assert_eq!(walked, tags);
        // A renamed item keeps its place.
        db.update_item("n", "zo", &object("bo")).await.unwrap();
        let objects: Vec<_> = db
            .list_items::<MetadefObject>("n")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(objects, ["bo", "ao"]);
    }
}
