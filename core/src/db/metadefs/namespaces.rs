//! Namespaces: their own rows, the documents they are created from (a
//! namespace with everything it embeds), and their deletion with all they hold.

use sqlx::AnyConnection;

use super::content::insert_content;
use super::resource_types::insert_association;
use super::rows::{
    MetadefContent, NAMESPACE_COLUMNS, document_rows, namespace_from_row, updated_micros,
};
use super::{delete_rows, find_namespace_id, namespace_id, push_after, push_order, sort_keys};
use crate::db::codec::{flag, micros, now};
use crate::db::error::is_unique_violation;
use crate::db::notifications::insert_notifications;
use crate::db::sql::{Sql, Value};
use crate::db::{Backend, Database, DbError, NewNotification};
use crate::domain::metadefs::{MetadefSortKey, Namespace, NamespaceDocument, NamespaceQuery};

impl Database {
    /// Stores a namespace with everything it embeds, in one transaction.
    /// Resource types named by its associations are created when missing,
    /// `protected` as given. A taken namespace name is a `Duplicate`.
    pub async fn create_namespace(
        &self,
        doc: &NamespaceDocument,
        protect_new_resource_types: bool,
    ) -> Result<(), DbError> {
        self.create_namespace_noting(doc, protect_new_resource_types, &[])
            .await
    }

    /// [`Database::create_namespace`] with the notifications it causes,
    /// written in the same transaction.
    pub async fn create_namespace_noting(
        &self,
        doc: &NamespaceDocument,
        protect_new_resource_types: bool,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_namespace_noting", async {
            let mut tx = self.begin_write().await?;
            insert_document(&mut tx, self.backend, doc, protect_new_resource_types).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// Deletes every namespace, everything in them and every resource type.
    pub async fn delete_all_metadefs(&self) -> Result<(), DbError> {
        retrying!(self, "delete_all_metadefs", async {
            let mut tx = self.begin_write().await?;
            let content = MetadefContent::ALL.map(MetadefContent::table);
            let rest = [
                "metadef_namespace_resource_types",
                "metadef_namespaces",
                "metadef_resource_types",
            ];
            for table in content.into_iter().chain(rest) {
                let mut sql = Sql::new(self.backend);
                sql.push("DELETE FROM ").push(table);
                sql.build()?.execute(&mut *tx).await?;
            }
            self.commit(tx).await?;
            Ok(())
        })
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
    /// Ties are broken by creation time, then the order they were added, in
    /// the same direction, as Glance breaks them. `MarkerNotFound` when the
    /// marker namespace is gone.
    pub async fn list_namespaces(&self, query: &NamespaceQuery) -> Result<Vec<Namespace>, DbError> {
        let mut conn = self.reader.acquire().await?;
        let marker_id = match &query.marker {
            Some(marker) => Some(
                find_namespace_id(&mut conn, self.backend, &marker.namespace)
                    .await?
                    .ok_or(DbError::MarkerNotFound)?,
            ),
            None => None,
        };
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
        let keys = sort_keys(key, "n.created_at", "n.namespace", "n.id");
        if let Some(marker) = &query.marker {
            let value = |column: &str| match column {
                "n.namespace" => Value::Text(Some(marker.namespace.clone())),
                "n.created_at" => Value::Int(Some(micros(marker.created_at))),
                "n.id" => Value::Int(marker_id),
                _ => Value::Int(Some(updated_micros(marker.updated_at))),
            };
            push_after(&mut sql, &keys, query.sort_dir, value);
        }
        push_order(&mut sql, &keys, query.sort_dir, query.limit);
        let rows = sql.build()?.fetch_all(&mut *conn).await?;
        rows.iter().map(namespace_from_row).collect()
    }

    /// Replaces the fields of namespace `name` (possibly renaming it), keeps
    /// its creation time and sets `updated_at` to now. Returns it as saved.
    pub async fn update_namespace(&self, name: &str, ns: &Namespace) -> Result<Namespace, DbError> {
        self.update_namespace_noting(name, ns, |_| Vec::new()).await
    }

    /// [`Database::update_namespace`] with the notifications it causes,
    /// made by `notes` from the namespace as saved, written in the same
    /// transaction.
    pub async fn update_namespace_noting(
        &self,
        name: &str,
        ns: &Namespace,
        notes: impl Fn(&Namespace) -> Vec<NewNotification> + Send + Sync,
    ) -> Result<Namespace, DbError> {
        retrying!(self, "update_namespace_noting", async {
            let mut tx = self.begin_write().await?;
            let Some(current) = fetch_namespace(&mut tx, self.backend, name).await? else {
                return Err(DbError::NotFound);
            };
            let saved = Namespace {
                created_at: current.created_at,
                updated_at: Some(now()),
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
                .bind(updated_micros(saved.updated_at))
                .push(" WHERE namespace = ")
                .bind(name);
            match sql.build()?.execute(&mut *tx).await {
                Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
                result => result?,
            };
            insert_notifications(&mut tx, self.backend, &notes(&saved)).await?;
            self.commit(tx).await?;
            Ok(saved)
        })
    }

    /// Deletes a namespace and everything it holds; resource types stay.
    pub async fn delete_namespace(&self, name: &str) -> Result<(), DbError> {
        self.delete_namespace_noting(name, &[]).await
    }

    /// [`Database::delete_namespace`] with the notifications it causes,
    /// written in the same transaction.
    pub async fn delete_namespace_noting(
        &self,
        name: &str,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "delete_namespace_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, name).await?;
            delete_namespace_rows(&mut tx, self.backend, id).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }
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

/// Inserts a namespace and everything it embeds. A taken name is a `Duplicate`.
pub(super) async fn insert_document(
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
            .bind(updated_micros(ns.updated_at));
    });
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
        result => result?,
    };
    let id = namespace_id(conn, backend, &ns.namespace).await?;
    for association in &doc.associations {
        insert_association(conn, backend, id, association, protect_new_resource_types).await?;
    }
    for (content, rows) in document_rows(doc) {
        for row in &rows {
            insert_content(conn, backend, content, id, row).await?;
        }
    }
    Ok(())
}

/// Deletes namespace `id` and everything it holds. The cascade is spelled
/// out: it does not depend on each backend's foreign-key enforcement being
/// switched on.
pub(super) async fn delete_namespace_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> Result<(), DbError> {
    let content = MetadefContent::ALL.map(MetadefContent::table);
    for table in content
        .into_iter()
        .chain(["metadef_namespace_resource_types"])
    {
        delete_rows(conn, backend, table, id).await?;
    }
    let mut sql = Sql::new(backend);
    sql.push("DELETE FROM metadef_namespaces WHERE id = ")
        .bind(id);
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}
