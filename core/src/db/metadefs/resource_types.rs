//! Resource types, and a namespace's associations with them.

use sqlx::{AnyConnection, Row};

use super::namespace_id;
use super::rows::{updated_at, updated_micros};
use crate::db::codec::{boolean, flag, micros, timestamp};
use crate::db::error::is_unique_violation;
use crate::db::notifications::insert_notifications;
use crate::db::sql::Sql;
use crate::db::{Backend, Database, DbError, NewNotification};
use crate::domain::metadefs::{Association, ResourceType};

impl Database {
    /// Every resource type, in the order they were created, as Glance lists them.
    pub async fn list_resource_types(&self) -> Result<Vec<ResourceType>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY id",
        );
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(ResourceType {
                    name: row.try_get("name")?,
                    protected: boolean(row, "protected")?,
                    created_at: timestamp(row, "created_at")?,
                    updated_at: updated_at(row)?,
                })
            })
            .collect()
    }

    /// The resource-type associations of a namespace, in the order they were made.
    pub async fn list_associations(&self, namespace: &str) -> Result<Vec<Association>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(
            "SELECT r.name, a.prefix, a.properties_target, a.created_at, a.updated_at \
             FROM metadef_namespace_resource_types a \
             JOIN metadef_resource_types r ON r.id = a.resource_type_id \
             JOIN metadef_namespaces n ON n.id = a.namespace_id WHERE n.namespace = ",
        )
        .bind(namespace)
        .push(" ORDER BY a.seq");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(Association {
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    properties_target: row.try_get("properties_target")?,
                    created_at: timestamp(row, "created_at")?,
                    updated_at: updated_at(row)?,
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
        self.create_association_noting(namespace, association, &[])
            .await
    }

    /// [`Database::create_association`] with the notifications it causes,
    /// written in the same transaction.
    pub async fn create_association_noting(
        &self,
        namespace: &str,
        association: &Association,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_association_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            insert_association(&mut tx, self.backend, id, association, false).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// Removes an association; `false` when there was none.
    pub async fn delete_association(
        &self,
        namespace: &str,
        resource_type: &str,
    ) -> Result<bool, DbError> {
        self.delete_association_noting(namespace, resource_type, &[])
            .await
    }

    /// [`Database::delete_association`] with the notifications it causes,
    /// written in the same transaction (none when there was no such association).
    pub async fn delete_association_noting(
        &self,
        namespace: &str,
        resource_type: &str,
        notes: &[NewNotification],
    ) -> Result<bool, DbError> {
        retrying!(self, "delete_association_noting", async {
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
            if deleted {
                insert_notifications(&mut tx, self.backend, notes).await?;
            }
            self.commit(tx).await?;
            Ok(deleted)
        })
    }
}

/// Associates namespace `namespace_id` with a resource type, creating the
/// type (`protected` as given) when missing. An existing association is a `Duplicate`.
pub(super) async fn insert_association(
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
        .bind(updated_micros(association.updated_at))
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
    .bind(updated_micros(association.updated_at))
    .push(" FROM metadef_resource_types WHERE name = ")
    .bind(association.name.as_str());
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => Err(DbError::Duplicate),
        result => result.map(drop).map_err(DbError::from),
    }
}
