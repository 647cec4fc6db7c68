//! Metadata definitions: namespaces, resource types and their associations,
//! and the objects, properties and tags a namespace holds.
//!
//! Rows inside a namespace are addressed by the namespace's name and their
//! own; each write resolves the namespace inside its transaction, so a
//! namespace deleted meanwhile is a `NotFound`, never a broken row.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::codec::{boolean, flag, invalid, micros, now, timestamp};
use super::error::is_unique_violation;
use super::sql::{Sql, Value};
use super::{Backend, Database, DbError};
use crate::domain::SortDir;
use crate::domain::metadefs::{
    Association, MetadefObject, MetadefSortKey, Namespace, NamespaceDocument, NamespaceQuery,
    NamespaceVisibility, Property, ResourceType, Tag, TagQuery,
};

const NAMESPACE_COLUMNS: &str = "n.namespace, n.display_name, n.description, n.visibility, \
     n.protected, n.owner, n.created_at, n.updated_at";

/// The kinds of rows a namespace holds by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadefContent {
    Objects,
    Properties,
    Tags,
}

impl MetadefContent {
    fn table(self) -> &'static str {
        match self {
            MetadefContent::Objects => "metadef_objects",
            MetadefContent::Properties => "metadef_properties",
            MetadefContent::Tags => "metadef_tags",
        }
    }

    /// The columns besides namespace_id, name and the timestamps.
    fn columns(self) -> &'static [&'static str] {
        match self {
            MetadefContent::Objects => &["description", "required", "properties"],
            MetadefContent::Properties => &["json_schema"],
            MetadefContent::Tags => &[],
        }
    }
}

/// What loading a definitions document does with a namespace of the same
/// name that is already there (Glance's `load_metadefs` options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadMode {
    /// Leave it as it is.
    #[default]
    Skip,
    /// Add the objects, properties, tags and associations it lacks.
    Merge,
    /// As `Merge`, and rewrite its fields and the items both have from the document.
    PreferNew,
    /// Replace it and everything in it with the document.
    Overwrite,
}

/// What loading a definitions document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    Created,
    Merged,
    Replaced,
    /// The namespace was there and `LoadMode::Skip` left it alone.
    Skipped,
}

/// One row inside a namespace, in the shape every content table shares.
struct ContentRow {
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    values: Vec<Value>,
}

impl From<&MetadefObject> for ContentRow {
    fn from(o: &MetadefObject) -> Self {
        ContentRow {
            name: o.name.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            values: vec![
                Value::Text(o.description.clone()),
                Value::Text(Some(Json::from(o.required.clone()).to_string())),
                Value::Text(Some(Json::Object(o.properties.clone()).to_string())),
            ],
        }
    }
}

impl From<&Property> for ContentRow {
    fn from(p: &Property) -> Self {
        ContentRow {
            name: p.name.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            values: vec![Value::Text(Some(
                Json::Object(p.schema.clone()).to_string(),
            ))],
        }
    }
}

impl From<&Tag> for ContentRow {
    fn from(t: &Tag) -> Self {
        ContentRow {
            name: t.name.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            values: Vec::new(),
        }
    }
}

impl Database {
    /// Stores a namespace with everything it embeds, in one transaction.
    /// Resource types named by its associations are created when missing,
    /// `protected` as given. A taken namespace name is a `Duplicate`.
    pub async fn create_namespace(
        &self,
        doc: &NamespaceDocument,
        protect_new_resource_types: bool,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        insert_document(&mut tx, self.backend, doc, protect_new_resource_types).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads a definitions document in one transaction, treating a namespace
    /// of the same name as `mode` says. Resource types it creates are
    /// protected, as seeded ones are.
    pub async fn load_namespace(
        &self,
        doc: &NamespaceDocument,
        mode: LoadMode,
    ) -> Result<Loaded, DbError> {
        let mut tx = self.begin_write().await?;
        let existing = find_namespace_id(&mut tx, self.backend, &doc.namespace.namespace).await?;
        let loaded = match (existing, mode) {
            (None, _) => {
                insert_document(&mut tx, self.backend, doc, true).await?;
                Loaded::Created
            }
            (Some(_), LoadMode::Skip) => return Ok(Loaded::Skipped),
            (Some(id), LoadMode::Overwrite) => {
                delete_namespace_rows(&mut tx, self.backend, id).await?;
                insert_document(&mut tx, self.backend, doc, true).await?;
                Loaded::Replaced
            }
            (Some(id), LoadMode::Merge | LoadMode::PreferNew) => {
                merge_document(&mut tx, self.backend, id, doc, mode == LoadMode::PreferNew).await?;
                Loaded::Merged
            }
        };
        tx.commit().await?;
        Ok(loaded)
    }

    /// Deletes every namespace, everything in them and every resource type.
    pub async fn delete_all_metadefs(&self) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        for table in [
            "metadef_objects",
            "metadef_properties",
            "metadef_tags",
            "metadef_namespace_resource_types",
            "metadef_namespaces",
            "metadef_resource_types",
        ] {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM ").push(table);
            sql.build()?.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The namespace with this name, whoever owns it.
    pub async fn get_namespace(&self, name: &str) -> Result<Option<Namespace>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(NAMESPACE_COLUMNS)
            .push(" FROM metadef_namespaces n WHERE n.namespace = ")
            .bind(name);
        let row = sql.build()?.fetch_optional(&self.reader).await?;
        row.as_ref().map(namespace_from_row).transpose()
    }

    /// A page of the namespaces `query.scope` may see, after `query.marker`.
    /// Ties are broken by creation time, then name, in the same direction.
    pub async fn list_namespaces(&self, query: &NamespaceQuery) -> Result<Vec<Namespace>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(NAMESPACE_COLUMNS)
            .push(" FROM metadef_namespaces n WHERE 1 = 1");
        if !query.scope.is_admin {
            sql.push(" AND (n.visibility = ").push_word("public");
            if let Some(project) = &query.scope.project_id {
                sql.push(" OR n.owner = ").bind(project.as_str());
            }
            sql.push(")");
        }
        if let Some(visibility) = query.visibility {
            sql.push(" AND n.visibility = ").bind(visibility.as_str());
        }
        if let Some(names) = &query.resource_types {
            sql.push(
                " AND n.id IN (SELECT a.namespace_id FROM metadef_namespace_resource_types a \
                 JOIN metadef_resource_types r ON r.id = a.resource_type_id WHERE ",
            )
            .push_in("r.name", names.iter().map(String::as_str))
            .push(")");
        }
        let key = match query.sort_key {
            MetadefSortKey::Name => "n.namespace",
            MetadefSortKey::CreatedAt => "n.created_at",
            MetadefSortKey::UpdatedAt => "n.updated_at",
        };
        let keys = sort_keys(key, "n.created_at", "n.namespace");
        if let Some(marker) = &query.marker {
            let value = |column: &str| match column {
                "n.namespace" => Value::Text(Some(marker.namespace.clone())),
                "n.created_at" => Value::Int(Some(micros(marker.created_at))),
                _ => Value::Int(Some(micros(marker.updated_at))),
            };
            push_after(&mut sql, &keys, query.sort_dir, value);
        }
        push_order(&mut sql, &keys, query.sort_dir, query.limit);
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(namespace_from_row).collect()
    }

    /// Replaces the fields of namespace `name` (possibly renaming it), keeps
    /// its creation time and sets `updated_at` to now. Returns it as saved.
    pub async fn update_namespace(&self, name: &str, ns: &Namespace) -> Result<Namespace, DbError> {
        let mut tx = self.begin_write().await?;
        let Some(current) = fetch_namespace(&mut tx, self.backend, name).await? else {
            return Err(DbError::NotFound);
        };
        let saved = Namespace {
            created_at: current.created_at,
            updated_at: now(),
            ..ns.clone()
        };
        let mut sql = Sql::new(self.backend);
        sql.push("UPDATE metadef_namespaces SET namespace = ")
            .bind(saved.namespace.as_str())
            .push(", display_name = ")
            .bind(saved.display_name.clone())
            .push(", description = ")
            .bind(saved.description.clone())
            .push(", visibility = ")
            .bind(saved.visibility.as_str())
            .push(", protected = ")
            .bind(flag(saved.protected))
            .push(", owner = ")
            .bind(saved.owner.clone())
            .push(", updated_at = ")
            .bind(micros(saved.updated_at))
            .push(" WHERE namespace = ")
            .bind(name);
        match sql.build()?.execute(&mut *tx).await {
            Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
            result => result?,
        };
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes a namespace and everything it holds; resource types stay.
    pub async fn delete_namespace(&self, name: &str) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, name).await?;
        delete_namespace_rows(&mut tx, self.backend, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes every row of one kind in a namespace.
    pub async fn delete_content(
        &self,
        namespace: &str,
        content: MetadefContent,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        delete_rows(&mut tx, self.backend, content.table(), id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every resource type, by name.
    pub async fn list_resource_types(&self) -> Result<Vec<ResourceType>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY name",
        );
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(ResourceType {
                    name: row.try_get("name")?,
                    protected: boolean(row, "protected")?,
                    created_at: timestamp(row, "created_at")?,
                    updated_at: timestamp(row, "updated_at")?,
                })
            })
            .collect()
    }

    /// The resource-type associations of a namespace, oldest first.
    pub async fn list_associations(&self, namespace: &str) -> Result<Vec<Association>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "SELECT r.name, a.prefix, a.properties_target, a.created_at, a.updated_at \
             FROM metadef_namespace_resource_types a \
             JOIN metadef_resource_types r ON r.id = a.resource_type_id \
             JOIN metadef_namespaces n ON n.id = a.namespace_id WHERE n.namespace = ",
        )
        .bind(namespace)
        .push(" ORDER BY a.created_at, r.name");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(Association {
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    properties_target: row.try_get("properties_target")?,
                    created_at: timestamp(row, "created_at")?,
                    updated_at: timestamp(row, "updated_at")?,
                })
            })
            .collect()
    }

    /// Associates a namespace with a resource type, creating the type
    /// (unprotected) when missing. An existing association is a `Duplicate`.
    pub async fn create_association(
        &self,
        namespace: &str,
        association: &Association,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        insert_association(&mut tx, self.backend, id, association, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an association; `false` when there was none.
    pub async fn delete_association(
        &self,
        namespace: &str,
        resource_type: &str,
    ) -> Result<bool, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "DELETE FROM metadef_namespace_resource_types WHERE namespace_id = \
             (SELECT id FROM metadef_namespaces WHERE namespace = ",
        )
        .bind(namespace)
        .push(") AND resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = ")
        .bind(resource_type)
        .push(")");
        let mut tx = self.begin_write().await?;
        let deleted = sql.build()?.execute(&mut *tx).await?.rows_affected() > 0;
        tx.commit().await?;
        Ok(deleted)
    }

    pub async fn create_object(&self, namespace: &str, o: &MetadefObject) -> Result<(), DbError> {
        self.create_content(namespace, MetadefContent::Objects, o.into())
            .await
    }

    pub async fn create_property(&self, namespace: &str, p: &Property) -> Result<(), DbError> {
        self.create_content(namespace, MetadefContent::Properties, p.into())
            .await
    }

    /// Adds tags to a namespace, or with `replace` makes them its only tags,
    /// all or nothing. A name already there (and not replaced) is a `Duplicate`.
    pub async fn create_tags(
        &self,
        namespace: &str,
        tags: &[Tag],
        replace: bool,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        if replace {
            delete_rows(&mut tx, self.backend, MetadefContent::Tags.table(), id).await?;
        }
        for tag in tags {
            insert_content(&mut tx, self.backend, MetadefContent::Tags, id, &tag.into()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_object(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<MetadefObject>, DbError> {
        let rows = self
            .select_content(namespace, MetadefContent::Objects, Some(name))
            .await?;
        rows.first().map(object_from_row).transpose()
    }

    pub async fn get_property(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Property>, DbError> {
        let rows = self
            .select_content(namespace, MetadefContent::Properties, Some(name))
            .await?;
        rows.first().map(property_from_row).transpose()
    }

    pub async fn get_tag(&self, namespace: &str, name: &str) -> Result<Option<Tag>, DbError> {
        let rows = self
            .select_content(namespace, MetadefContent::Tags, Some(name))
            .await?;
        rows.first().map(tag_from_row).transpose()
    }

    /// A namespace's objects, oldest first.
    pub async fn list_objects(&self, namespace: &str) -> Result<Vec<MetadefObject>, DbError> {
        let rows = self
            .select_content(namespace, MetadefContent::Objects, None)
            .await?;
        rows.iter().map(object_from_row).collect()
    }

    /// A namespace's properties, oldest first.
    pub async fn list_properties(&self, namespace: &str) -> Result<Vec<Property>, DbError> {
        let rows = self
            .select_content(namespace, MetadefContent::Properties, None)
            .await?;
        rows.iter().map(property_from_row).collect()
    }

    /// A page of a namespace's tags, after `query.marker`; ties are broken by
    /// creation time, then name.
    pub async fn list_tags(&self, namespace: &str, query: &TagQuery) -> Result<Vec<Tag>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "SELECT t.name, t.created_at, t.updated_at FROM metadef_tags t \
             JOIN metadef_namespaces n ON n.id = t.namespace_id WHERE n.namespace = ",
        )
        .bind(namespace);
        let key = match query.sort_key {
            MetadefSortKey::Name => "t.name",
            MetadefSortKey::CreatedAt => "t.created_at",
            MetadefSortKey::UpdatedAt => "t.updated_at",
        };
        let keys = sort_keys(key, "t.created_at", "t.name");
        if let Some(marker) = &query.marker {
            let value = |column: &str| match column {
                "t.name" => Value::Text(Some(marker.name.clone())),
                "t.created_at" => Value::Int(Some(micros(marker.created_at))),
                _ => Value::Int(Some(micros(marker.updated_at))),
            };
            push_after(&mut sql, &keys, query.sort_dir, value);
        }
        push_order(&mut sql, &keys, query.sort_dir, query.limit);
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(tag_from_row).collect()
    }

    /// Replaces object `name` with `o` (possibly renamed); returns it as saved.
    pub async fn update_object(
        &self,
        namespace: &str,
        name: &str,
        o: &MetadefObject,
    ) -> Result<MetadefObject, DbError> {
        let times = self
            .update_content(namespace, MetadefContent::Objects, name, o.into())
            .await?;
        Ok(MetadefObject {
            created_at: times.0,
            updated_at: times.1,
            ..o.clone()
        })
    }

    /// Replaces property `name` with `p` (possibly renamed); returns it as saved.
    pub async fn update_property(
        &self,
        namespace: &str,
        name: &str,
        p: &Property,
    ) -> Result<Property, DbError> {
        let times = self
            .update_content(namespace, MetadefContent::Properties, name, p.into())
            .await?;
        Ok(Property {
            created_at: times.0,
            updated_at: times.1,
            ..p.clone()
        })
    }

    /// Renames tag `name`; returns it as saved.
    pub async fn update_tag(&self, namespace: &str, name: &str, t: &Tag) -> Result<Tag, DbError> {
        let times = self
            .update_content(namespace, MetadefContent::Tags, name, t.into())
            .await?;
        Ok(Tag {
            created_at: times.0,
            updated_at: times.1,
            ..t.clone()
        })
    }

    /// Deletes one row of a namespace; `false` when there was none.
    pub async fn delete_named(
        &self,
        namespace: &str,
        content: MetadefContent,
        name: &str,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        let mut sql = Sql::new(self.backend);
        sql.push("DELETE FROM ")
            .push(content.table())
            .push(" WHERE namespace_id = ")
            .bind(id)
            .push(" AND name = ")
            .bind(name);
        let deleted = sql.build()?.execute(&mut *tx).await?.rows_affected() > 0;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn create_content(
        &self,
        namespace: &str,
        content: MetadefContent,
        row: ContentRow,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        insert_content(&mut tx, self.backend, content, id, &row).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn select_content(
        &self,
        namespace: &str,
        content: MetadefContent,
        name: Option<&str>,
    ) -> Result<Vec<AnyRow>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT c.name, c.created_at, c.updated_at");
        for column in content.columns() {
            sql.push(", c.").push(column);
        }
        sql.push(" FROM ")
            .push(content.table())
            .push(" c JOIN metadef_namespaces n ON n.id = c.namespace_id WHERE n.namespace = ")
            .bind(namespace);
        if let Some(name) = name {
            sql.push(" AND c.name = ").bind(name);
        }
        sql.push(" ORDER BY c.created_at, c.name");
        Ok(sql.build()?.fetch_all(&self.reader).await?)
    }

    /// Rewrites one row; returns its (kept) creation and (new) update times.
    async fn update_content(
        &self,
        namespace: &str,
        content: MetadefContent,
        name: &str,
        row: ContentRow,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), DbError> {
        let mut tx = self.begin_write().await?;
        let id = namespace_id(&mut tx, self.backend, namespace).await?;
        let mut select = Sql::new(self.backend);
        select
            .push("SELECT created_at FROM ")
            .push(content.table())
            .push(" WHERE namespace_id = ")
            .bind(id)
            .push(" AND name = ")
            .bind(name);
        let Some(current) = select.build()?.fetch_optional(&mut *tx).await? else {
            return Err(DbError::NotFound);
        };
        let created_at = timestamp(&current, "created_at")?;
        let updated_at = now();
        let mut sql = Sql::new(self.backend);
        sql.push("UPDATE ")
            .push(content.table())
            .push(" SET name = ")
            .bind(row.name.as_str())
            .push(", updated_at = ")
            .bind(micros(updated_at));
        for (column, value) in content.columns().iter().zip(row.values) {
            sql.push(", ").push(column).push(" = ").bind_value(value);
        }
        sql.push(" WHERE namespace_id = ")
            .bind(id)
            .push(" AND name = ")
            .bind(name);
        match sql.build()?.execute(&mut *tx).await {
            Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
            result => result?,
        };
        tx.commit().await?;
        Ok((created_at, updated_at))
    }
}

/// `key` followed by the tie-breakers it does not already include.
fn sort_keys(key: &'static str, created: &'static str, name: &'static str) -> Vec<&'static str> {
    let mut keys = vec![key];
    for tie in [created, name] {
        if !keys.contains(&tie) {
            keys.push(tie);
        }
    }
    // The name is unique: nothing after it can break a tie.
    if key == name {
        keys.truncate(1);
    }
    keys
}

/// Writes ` AND (rows after the marker)` for keyset paging over `keys`.
fn push_after(sql: &mut Sql, keys: &[&str], dir: SortDir, value: impl Fn(&str) -> Value) {
    let cmp = match dir {
        SortDir::Asc => " > ",
        SortDir::Desc => " < ",
    };
    // k1 > v1 OR (k1 = v1 AND (k2 > v2 OR (k2 = v2 AND k3 > v3)))
    sql.push(" AND ");
    for (n, key) in keys.iter().enumerate() {
        sql.push("(").push(key).push(cmp).bind_value(value(key));
        if n + 1 < keys.len() {
            sql.push(" OR (")
                .push(key)
                .push(" = ")
                .bind_value(value(key))
                .push(" AND ");
        }
    }
    for n in 0..keys.len() {
        sql.push(if n + 1 < keys.len() { "))" } else { ")" });
    }
}

fn push_order(sql: &mut Sql, keys: &[&str], dir: SortDir, limit: u32) {
    let dir = match dir {
        SortDir::Asc => " ASC",
        SortDir::Desc => " DESC",
    };
    sql.push(" ORDER BY ");
    for (n, key) in keys.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.push(key).push(dir);
    }
    sql.push(" LIMIT ").bind(i64::from(limit));
}

async fn fetch_namespace(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &str,
) -> Result<Option<Namespace>, DbError> {
    let mut sql = Sql::new(backend);
    sql.push("SELECT ")
        .push(NAMESPACE_COLUMNS)
        .push(" FROM metadef_namespaces n WHERE n.namespace = ")
        .bind(name);
    let row = sql.build()?.fetch_optional(&mut *conn).await?;
    row.as_ref().map(namespace_from_row).transpose()
}

/// The surrogate key of namespace `name`, or `NotFound`.
async fn namespace_id(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &str,
) -> Result<i64, DbError> {
    find_namespace_id(conn, backend, name)
        .await?
        .ok_or(DbError::NotFound)
}

/// The surrogate key of namespace `name`, if there is one.
async fn find_namespace_id(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &str,
) -> Result<Option<i64>, DbError> {
    let mut sql = Sql::new(backend);
    sql.push("SELECT id FROM metadef_namespaces WHERE namespace = ")
        .bind(name);
    let row = sql.build()?.fetch_optional(&mut *conn).await?;
    Ok(row.map(|row| row.try_get("id")).transpose()?)
}

/// Inserts a namespace and everything it embeds. A taken name is a `Duplicate`.
async fn insert_document(
    conn: &mut AnyConnection,
    backend: Backend,
    doc: &NamespaceDocument,
    protect_new_resource_types: bool,
) -> Result<(), DbError> {
    let ns = &doc.namespace;
    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO metadef_namespaces (namespace, display_name, description, visibility, \
         protected, owner, created_at, updated_at) VALUES ",
    )
    .push_rows([ns], |row, ns| {
        row.bind(ns.namespace.as_str())
            .bind(ns.display_name.clone())
            .bind(ns.description.clone())
            .bind(ns.visibility.as_str())
            .bind(flag(ns.protected))
            .bind(ns.owner.clone())
            .bind(micros(ns.created_at))
            .bind(micros(ns.updated_at));
    });
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
        result => result?,
    };
    let id = namespace_id(conn, backend, &ns.namespace).await?;
    for association in &doc.associations {
        insert_association(conn, backend, id, association, protect_new_resource_types).await?;
    }
    for (content, rows) in content_rows(doc) {
        for row in &rows {
            insert_content(conn, backend, content, id, row).await?;
        }
    }
    Ok(())
}

/// The objects, properties and tags of a document, as rows.
fn content_rows(doc: &NamespaceDocument) -> [(MetadefContent, Vec<ContentRow>); 3] {
    [
        (
            MetadefContent::Objects,
            doc.objects.iter().map(ContentRow::from).collect(),
        ),
        (
            MetadefContent::Properties,
            doc.properties.iter().map(ContentRow::from).collect(),
        ),
        (
            MetadefContent::Tags,
            doc.tags.iter().map(ContentRow::from).collect(),
        ),
    ]
}

/// Adds what namespace `id` lacks from `doc`; with `prefer_new`, also
/// rewrites the namespace's fields and the rows both have (keeping their
/// creation times). Nothing the document leaves out is removed.
async fn merge_document(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    doc: &NamespaceDocument,
    prefer_new: bool,
) -> Result<(), DbError> {
    if prefer_new {
        let ns = &doc.namespace;
        let mut sql = Sql::new(backend);
        sql.push("UPDATE metadef_namespaces SET display_name = ")
            .bind(ns.display_name.clone())
            .push(", description = ")
            .bind(ns.description.clone())
            .push(", visibility = ")
            .bind(ns.visibility.as_str())
            .push(", protected = ")
            .bind(flag(ns.protected))
            .push(", owner = ")
            .bind(ns.owner.clone())
            .push(", updated_at = ")
            .bind(micros(ns.updated_at))
            .push(" WHERE id = ")
            .bind(id);
        sql.build()?.execute(&mut *conn).await?;
    }

    let mut select = Sql::new(backend);
    select
        .push(
            "SELECT r.name FROM metadef_namespace_resource_types a \
             JOIN metadef_resource_types r ON r.id = a.resource_type_id WHERE a.namespace_id = ",
        )
        .bind(id);
    let associated = names(select.build()?.fetch_all(&mut *conn).await?)?;
    for association in &doc.associations {
        if !associated.contains(&association.name) {
            insert_association(conn, backend, id, association, true).await?;
        } else if prefer_new {
            let mut sql = Sql::new(backend);
            sql.push("UPDATE metadef_namespace_resource_types SET prefix = ")
                .bind(association.prefix.clone())
                .push(", properties_target = ")
                .bind(association.properties_target.clone())
                .push(", updated_at = ")
                .bind(micros(association.updated_at))
                .push(" WHERE namespace_id = ")
                .bind(id)
                .push(
                    " AND resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = ",
                )
                .bind(association.name.as_str())
                .push(")");
            sql.build()?.execute(&mut *conn).await?;
        }
    }

    for (content, rows) in content_rows(doc) {
        let mut select = Sql::new(backend);
        select
            .push("SELECT name FROM ")
            .push(content.table())
            .push(" WHERE namespace_id = ")
            .bind(id);
        let present = names(select.build()?.fetch_all(&mut *conn).await?)?;
        for row in rows {
            if !present.contains(&row.name) {
                insert_content(conn, backend, content, id, &row).await?;
            } else if prefer_new {
                let mut sql = Sql::new(backend);
                sql.push("UPDATE ")
                    .push(content.table())
                    .push(" SET updated_at = ")
                    .bind(micros(row.updated_at));
                for (column, value) in content.columns().iter().zip(row.values) {
                    sql.push(", ").push(column).push(" = ").bind_value(value);
                }
                sql.push(" WHERE namespace_id = ")
                    .bind(id)
                    .push(" AND name = ")
                    .bind(row.name.as_str());
                sql.build()?.execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

fn names(rows: Vec<AnyRow>) -> Result<HashSet<String>, DbError> {
    Ok(rows
        .iter()
        .map(|row| row.try_get("name"))
        .collect::<Result<_, _>>()?)
}

/// Deletes namespace `id` and everything it holds. The cascade is spelled
/// out: it does not depend on each backend's foreign-key enforcement being
/// switched on.
async fn delete_namespace_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> Result<(), DbError> {
    for table in [
        "metadef_objects",
        "metadef_properties",
        "metadef_tags",
        "metadef_namespace_resource_types",
    ] {
        delete_rows(conn, backend, table, id).await?;
    }
    let mut sql = Sql::new(backend);
    sql.push("DELETE FROM metadef_namespaces WHERE id = ")
        .bind(id);
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}

async fn delete_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    namespace_id: i64,
) -> Result<(), DbError> {
    let mut sql = Sql::new(backend);
    sql.push("DELETE FROM ")
        .push(table)
        .push(" WHERE namespace_id = ")
        .bind(namespace_id);
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}

async fn insert_content(
    conn: &mut AnyConnection,
    backend: Backend,
    content: MetadefContent,
    namespace_id: i64,
    row: &ContentRow,
) -> Result<(), DbError> {
    let mut sql = Sql::new(backend);
    sql.push("INSERT INTO ")
        .push(content.table())
        .push(" (namespace_id, name, created_at, updated_at");
    for column in content.columns() {
        sql.push(", ").push(column);
    }
    sql.push(") VALUES ").push_rows([row], |binder, row| {
        binder
            .bind(namespace_id)
            .bind(row.name.as_str())
            .bind(micros(row.created_at))
            .bind(micros(row.updated_at));
        for value in &row.values {
            binder.bind_value(value.clone());
        }
    });
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => Err(DbError::Duplicate),
        result => result.map(drop).map_err(DbError::from),
    }
}

async fn insert_association(
    conn: &mut AnyConnection,
    backend: Backend,
    namespace_id: i64,
    association: &Association,
    protect_new_resource_type: bool,
) -> Result<(), DbError> {
    let mut insert = Sql::new(backend);
    insert
        .push(
            "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES (",
        )
        .bind(association.name.as_str())
        .push(", ")
        .bind(flag(protect_new_resource_type))
        .push(", ")
        .bind(micros(association.created_at))
        .push(", ")
        .bind(micros(association.created_at))
        .push(")")
        .push(match backend {
            Backend::Sqlite | Backend::Postgres => " ON CONFLICT DO NOTHING",
            Backend::MySql => " ON DUPLICATE KEY UPDATE name = name",
        });
    insert.build()?.execute(&mut *conn).await?;

    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO metadef_namespace_resource_types (namespace_id, resource_type_id, prefix, \
         properties_target, created_at, updated_at) SELECT ",
    )
    .bind(namespace_id)
    .push(", id, ")
    .bind(association.prefix.clone())
    .push(", ")
    .bind(association.properties_target.clone())
    .push(", ")
    .bind(micros(association.created_at))
    .push(", ")
    .bind(micros(association.updated_at))
    .push(" FROM metadef_resource_types WHERE name = ")
    .bind(association.name.as_str());
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => Err(DbError::Duplicate),
        result => result.map(drop).map_err(DbError::from),
    }
}

fn namespace_from_row(row: &AnyRow) -> Result<Namespace, DbError> {
    let visibility: String = row.try_get("visibility")?;
    Ok(Namespace {
        namespace: row.try_get("namespace")?,
        display_name: row.try_get("display_name")?,
        description: row.try_get("description")?,
        visibility: NamespaceVisibility::parse(&visibility)
            .ok_or_else(|| invalid("metadef_namespaces.visibility", &visibility))?,
        protected: boolean(row, "protected")?,
        owner: row.try_get("owner")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

fn json_object(row: &AnyRow, column: &'static str) -> Result<Map<String, Json>, DbError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| invalid(column, &text))
}

fn object_from_row(row: &AnyRow) -> Result<MetadefObject, DbError> {
    let required: String = row.try_get("required")?;
    Ok(MetadefObject {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        required: serde_json::from_str(&required).map_err(|_| invalid("required", &required))?,
        properties: json_object(row, "properties")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

fn property_from_row(row: &AnyRow) -> Result<Property, DbError> {
    Ok(Property {
        name: row.try_get("name")?,
        schema: json_object(row, "json_schema")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

fn tag_from_row(row: &AnyRow) -> Result<Tag, DbError> {
    Ok(Tag {
        name: row.try_get("name")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}
