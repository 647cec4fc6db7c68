//! Reads that span the database and the metadef providers, and the rules
//! for provided namespaces: each read below answers from the provider that
//! serves a namespace and from the database otherwise, and a provided
//! namespace is read-only.
//!
//! Lists of namespaces and tags are filtered, ordered and paged here the way
//! the database does it: by the sort key, then `created_at`, then the name,
//! all in the requested direction, and after the marker's values.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::db::{DbError, MetadefItem};
use crate::domain::SortDir;
use crate::domain::metadefs::{
    self, Association, MetadefSortKey, Namespace, NamespaceQuery, ResourceType, Tag, TagQuery,
};
use crate::metadef_providers::Provided;
use crate::service::{ServiceError, ServiceResult};

/// The provided namespace `name`, if a provider serves it.
pub fn provided<'a>(app: &'a App, name: &str) -> Option<&'a Provided> {
    app.metadef_providers.get(name)
}

/// Whether the policy rule `rule` guards a change. Glance's metadef rules
/// that only read start with `get_` or `list_`; every other one (`add_`,
/// `modify_`, `delete_`, `remove_`, `metadef_admin`, and any rule unknown
/// here) counts as a change, so a new rule can never write to a provider.
pub fn is_change(rule: &str) -> bool {
    !(rule.starts_with("get_") || rule.starts_with("list_"))
}

/// Refuses a change (an operation under policy `rule`, see [`is_change`]) to
/// a provided namespace: 403, naming it and its provider.
pub fn refuse_write(app: &App, name: &str, rule: &str) -> ServiceResult<()> {
    match provided(app, name).filter(|_| is_change(rule)) {
        Some(p) => Err(ServiceError::Forbidden(format!(
            "Metadata definition namespace={name} is read-only: it is served by the metadef \
             provider '{}' and cannot be changed through the API.",
            p.provider
        ))),
        None => Ok(()),
    }
}

/// Refuses to create a database namespace, or rename one, to a name a
/// provider serves: the name is taken.
pub fn refuse_taken(app: &App, name: &str) -> ServiceResult<()> {
    match provided(app, name) {
        Some(p) => Err(ServiceError::Conflict(format!(
            "The metadata definition namespace={name} already exists: it is served read-only by \
             the metadef provider '{}'.",
            p.provider
        ))),
        None => Ok(()),
    }
}

pub async fn get_namespace(app: &App, name: &str) -> Result<Option<Namespace>, DbError> {
    match provided(app, name) {
        Some(p) => Ok(Some(p.doc.namespace.clone())),
        None => app.db.get_namespace(name).await,
    }
}

pub async fn list_associations(app: &App, name: &str) -> Result<Vec<Association>, DbError> {
    match provided(app, name) {
        Some(p) => Ok(p.doc.associations.clone()),
        None => app.db.list_associations(name).await,
    }
}

/// Every item of one kind in a namespace, oldest first.
pub async fn list_items<C: MetadefItem>(app: &App, name: &str) -> Result<Vec<C>, DbError> {
    match provided(app, name) {
        Some(p) => Ok(C::in_document(&p.doc).to_vec()),
        None => app.db.list_items(name).await,
    }
}

/// One object, property or tag of a namespace.
pub async fn fetch<C: MetadefItem>(
    app: &App,
    namespace: &str,
    name: &str,
) -> Result<Option<C>, DbError> {
    match provided(app, namespace) {
        Some(p) => Ok(C::in_document(&p.doc)
            .iter()
            .find(|item| item.name() == name)
            .cloned()),
        None => app.db.get_item(namespace, name).await,
    }
}

/// A page of a namespace's tags.
pub async fn list_tags(app: &App, name: &str, query: &TagQuery) -> Result<Vec<Tag>, DbError> {
    let Some(p) = provided(app, name) else {
        return app.db.list_tags(name, query).await;
    };
    let key = |t: &Tag| SortValues::of(query.sort_key, &t.name, t.created_at, t.updated_at);
    let marker = query.marker.as_ref().map(key);
    let mut tags: Vec<Tag> = p
        .doc
        .tags
        .iter()
        .filter(|t| {
            marker
                .as_ref()
                .is_none_or(|m| after(&key(t), m, query.sort_dir))
        })
        .cloned()
        .collect();
    tags.sort_by(|a, b| in_order(&key(a), &key(b), query.sort_dir));
    tags.truncate(query.limit as usize);
    Ok(tags)
}

/// A page of the namespaces the query selects, from the database and the
/// providers together.
pub async fn list_namespaces(app: &App, query: &NamespaceQuery) -> Result<Vec<Namespace>, DbError> {
    let providers = &app.metadef_providers;
    if providers.is_empty() {
        return app.db.list_namespaces(query).await;
    }
    // Hidden database namespaces are dropped below: ask for enough rows to
    // fill the page without them.
    let mut db_query = query.clone();
    db_query.limit = query
        .limit
        .saturating_add(u32::try_from(providers.len()).unwrap_or(u32::MAX));
    // A provided marker has no row the database could page after: its
    // namespaces (never many) are read from the start and paged here.
    let provided_marker = query
        .marker
        .as_ref()
        .is_some_and(|m| providers.get(&m.namespace).is_some());
    if provided_marker {
        db_query.marker = None;
        db_query.limit = u32::MAX;
    }
    let key = |ns: &Namespace| {
        SortValues::of(query.sort_key, &ns.namespace, ns.created_at, ns.updated_at)
    };
    let marker = query.marker.as_ref().map(key);
    let after_marker = |ns: &Namespace| {
        marker
            .as_ref()
            .is_none_or(|m| after(&key(ns), m, query.sort_dir))
    };
    let mut found: Vec<Namespace> = app
        .db
        .list_namespaces(&db_query)
        .await?
        .into_iter()
        .filter(|ns| providers.get(&ns.namespace).is_none())
        .filter(|ns| !provided_marker || after_marker(ns))
        .collect();
    found.extend(
        providers
            .iter()
            .filter(|p| selects(query, p))
            .map(|p| p.doc.namespace.clone())
            .filter(after_marker),
    );
    found.sort_by(|a, b| in_order(&key(a), &key(b), query.sort_dir));
    found.truncate(query.limit as usize);
    Ok(found)
}

/// Whether a namespace list query selects a provided namespace (before paging).
fn selects(query: &NamespaceQuery, p: &Provided) -> bool {
    let ns = &p.doc.namespace;
    metadefs::can_see(&query.scope, ns)
        && query.visibility.is_none_or(|v| ns.visibility == v)
        && query
            .resource_types
            .as_ref()
            .is_none_or(|wanted| p.doc.associations.iter().any(|a| wanted.contains(&a.name)))
}

/// Every resource type: the database's in the order they were created, then
/// those only provided namespaces are associated with (protected, as a
/// definitions load creates them).
pub async fn list_resource_types(app: &App) -> Result<Vec<ResourceType>, DbError> {
    let mut types = app.db.list_resource_types().await?;
    for p in app.metadef_providers.iter() {
        for a in &p.doc.associations {
            if !types.iter().any(|t| t.name == a.name) {
                types.push(ResourceType {
                    name: a.name.clone(),
                    protected: true,
                    created_at: a.created_at,
                    updated_at: a.updated_at,
                });
            }
        }
    }
    Ok(types)
}

/// What a list orders by: the sort key's value, then `created_at`, then the
/// name (the name alone when it is the sort key: it is unique).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SortValues {
    first: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    name: String,
}

impl SortValues {
    fn of(
        key: MetadefSortKey,
        name: &str,
        created_at: DateTime<Utc>,
        updated_at: Option<DateTime<Utc>>,
    ) -> Self {
        let (first, created_at) = match key {
            MetadefSortKey::Name => (None, None),
            MetadefSortKey::CreatedAt => (Some(created_at), None),
            // Never updated sorts first, as the database's 0 does.
            MetadefSortKey::UpdatedAt => (updated_at, Some(created_at)),
        };
        SortValues {
            first,
            created_at,
            name: name.to_owned(),
        }
    }
}

fn in_order(a: &SortValues, b: &SortValues, dir: SortDir) -> Ordering {
    match dir {
        SortDir::Asc => a.cmp(b),
        SortDir::Desc => b.cmp(a),
    }
}

/// Whether `item` comes strictly after `marker` in direction `dir`.
fn after(item: &SortValues, marker: &SortValues, dir: SortDir) -> bool {
    in_order(item, marker, dir) == Ordering::Greater
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn order_is_key_then_created_then_name_in_one_direction() {
        let a = SortValues::of(MetadefSortKey::UpdatedAt, "a", at(2), Some(at(5)));
        let b = SortValues::of(MetadefSortKey::UpdatedAt, "b", at(1), Some(at(5)));
        let c = SortValues::of(MetadefSortKey::UpdatedAt, "c", at(1), Some(at(6)));
        let mut list = [&a, &c, &b];
        list.sort_by(|x, y| in_order(x, y, SortDir::Asc));
        assert_eq!(list.map(|v| v.name.as_str()), ["b", "a", "c"]);
        list.sort_by(|x, y| in_order(x, y, SortDir::Desc));
        assert_eq!(list.map(|v| v.name.as_str()), ["c", "a", "b"]);
        assert!(after(&a, &b, SortDir::Asc) && after(&b, &a, SortDir::Desc));
        assert!(
            !after(&a, &a, SortDir::Asc),
            "the marker itself is not after it"
        );
    }

    #[test]
    fn only_reading_rules_leave_provided_namespaces_alone() {
        for rule in [
            "get_metadef_namespace",
            "get_metadef_objects",
            "get_metadef_tag",
            "list_metadef_resource_types",
        ] {
            assert!(!is_change(rule), "{rule}");
        }
        for rule in [
            "metadef_admin",
            "modify_metadef_namespace",
            "delete_metadef_namespace",
            "add_metadef_object",
            "modify_metadef_property",
            "remove_metadef_property",
            "add_metadef_tags",
            "delete_metadef_tag",
            "add_metadef_resource_type_association",
            "remove_metadef_resource_type_association",
            "some_future_rule",
        ] {
            assert!(is_change(rule), "{rule}");
        }
    }

    #[test]
    fn by_name_the_timestamps_do_not_count() {
        let a = SortValues::of(MetadefSortKey::Name, "a", at(9), Some(at(9)));
        let b = SortValues::of(MetadefSortKey::Name, "b", at(1), Some(at(1)));
        assert_eq!(in_order(&a, &b, SortDir::Asc), Ordering::Less);
    }
}
