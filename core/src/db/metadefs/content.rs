//! The items of a namespace (objects, properties, tags): one generic path
//! for every kind, keyed by its [`MetadefItem`] impl, plus what only tags
//! have (adding many at once, and paged lists).

use sqlx::{AnyConnection, Row};

use super::rows::{ContentRow, MetadefContent, MetadefItem, updated_micros};
use super::{delete_rows, namespace_id, push_after, push_order, sort_keys};
use crate::db::codec::{micros, now, timestamp};
use crate::db::error::is_unique_violation;
use crate::db::notifications::insert_notifications;
use crate::db::sql::{Sql, Value};
use crate::db::{Backend, Database, DbError, NewNotification};
use crate::domain::metadefs::{MetadefSortKey, Tag, TagQuery};

impl Database {
    /// Adds an item to a namespace. A name already there is a `Duplicate`.
    pub async fn create_item<C: MetadefItem>(
        &self,
        namespace: &str,
        item: &C,
    ) -> Result<(), DbError> {
        self.create_item_noting(namespace, item, &[]).await
    }

    /// [`Database::create_item`] with the notifications it causes, written
    /// in the same transaction.
    pub async fn create_item_noting<C: MetadefItem>(
        &self,
        namespace: &str,
        item: &C,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_item_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            insert_content(&mut tx, self.backend, C::KIND, id, &ContentRow::of(item)).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// Item `name` of a namespace.
    pub async fn get_item<C: MetadefItem>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<C>, DbError> {
        let rows = self.select_content(namespace, C::KIND, Some(name)).await?;
        rows.first().map(C::from_row).transpose()
    }

    /// Every item of one kind in a namespace, in the order they were added.
    pub async fn list_items<C: MetadefItem>(&self, namespace: &str) -> Result<Vec<C>, DbError> {
        let rows = self.select_content(namespace, C::KIND, None).await?;
        rows.iter().map(C::from_row).collect()
    }

    /// Replaces item `name` with `item` (possibly renamed), keeping its
    /// creation time; returns it as saved.
    pub async fn update_item<C: MetadefItem>(
        &self,
        namespace: &str,
        name: &str,
        item: &C,
    ) -> Result<C, DbError> {
        self.update_item_noting(namespace, name, item, |_| Vec::new())
            .await
    }

    /// [`Database::update_item`] with the notifications it causes, made by
    /// `notes` from the item as saved, written in the same transaction.
    pub async fn update_item_noting<C: MetadefItem>(
        &self,
        namespace: &str,
        name: &str,
        item: &C,
        notes: impl Fn(&C) -> Vec<NewNotification> + Send + Sync,
    ) -> Result<C, DbError> {
        let row = ContentRow::of(item);
        retrying!(self, "update_item_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            let table = C::KIND.table();
            let mut select = Sql::new(self.backend);
            select
                .push("SELECT created_at FROM ")
                .push(table)
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
                .push(table)
                .push(" SET name = ")
                .bind(row.name.as_str())
                .push(", updated_at = ")
                .bind(micros(updated_at));
            for (column, value) in C::KIND.columns().iter().zip(row.values.iter().cloned()) {
                sql.push(", ").push(column).push(" = ").bind(value);
            }
            sql.push(" WHERE namespace_id = ")
                .bind(id)
                .push(" AND name = ")
                .bind(name);
            match sql.build()?.execute(&mut *tx).await {
                Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
                result => result?,
            };
            let saved = item.clone().with_times(created_at, Some(updated_at));
            insert_notifications(&mut tx, self.backend, &notes(&saved)).await?;
            self.commit(tx).await?;
            Ok(saved)
        })
    }

    /// Deletes item `name` of a namespace; `false` when there was none.
    pub async fn delete_item<C: MetadefItem>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<bool, DbError> {
        self.delete_item_noting::<C>(namespace, name, &[]).await
    }

    /// [`Database::delete_item`] with the notifications it causes, written
    /// in the same transaction (none when there was no such item).
    pub async fn delete_item_noting<C: MetadefItem>(
        &self,
        namespace: &str,
        name: &str,
        notes: &[NewNotification],
    ) -> Result<bool, DbError> {
        retrying!(self, "delete_item_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM ")
                .push(C::KIND.table())
                .push(" WHERE namespace_id = ")
                .bind(id)
                .push(" AND name = ")
                .bind(name);
            let deleted = sql.build()?.execute(&mut *tx).await?.rows_affected() > 0;
            if deleted {
                insert_notifications(&mut tx, self.backend, notes).await?;
            }
            self.commit(tx).await?;
            Ok(deleted)
        })
    }

    /// Deletes every item of one kind in a namespace.
    pub async fn delete_content(
        &self,
        namespace: &str,
        content: MetadefContent,
    ) -> Result<(), DbError> {
        self.delete_content_noting(namespace, content, &[]).await
    }

    /// [`Database::delete_content`] with the notifications it causes,
    /// written in the same transaction.
    pub async fn delete_content_noting(
        &self,
        namespace: &str,
        content: MetadefContent,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "delete_content_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            delete_rows(&mut tx, self.backend, content.table(), id).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// Adds tags to a namespace, or with `replace` makes them its only tags,
    /// all or nothing. A name already there (and not replaced) is a `Duplicate`.
    pub async fn create_tags(
        &self,
        namespace: &str,
        tags: &[Tag],
        replace: bool,
    ) -> Result<(), DbError> {
        self.create_tags_noting(namespace, tags, replace, &[]).await
    }

    /// [`Database::create_tags`] with the notifications it causes, written
    /// in the same transaction.
    pub async fn create_tags_noting(
        &self,
        namespace: &str,
        tags: &[Tag],
        replace: bool,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_tags_noting", async {
            let mut tx = self.begin_write().await?;
            let id = namespace_id(&mut tx, self.backend, namespace).await?;
            if replace {
                delete_rows(&mut tx, self.backend, Tag::KIND.table(), id).await?;
            }
            for tag in tags {
                insert_content(&mut tx, self.backend, Tag::KIND, id, &ContentRow::of(tag)).await?;
            }
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// A page of a namespace's tags, after `query.marker`; ties are broken by
    /// creation time, then the order they were added. `MarkerNotFound` when
    /// the marker is not (or no longer) a tag of the namespace.
    pub async fn list_tags(&self, namespace: &str, query: &TagQuery) -> Result<Vec<Tag>, DbError> {
        let mut conn = self.reader.acquire().await?;
        let marker_seq = match &query.marker {
            Some(marker) => {
                let mut sql = Sql::new(self.backend);
                sql.push(
                    "SELECT t.seq FROM metadef_tags t JOIN metadef_namespaces n \
                     ON n.id = t.namespace_id WHERE n.namespace = ",
                )
                .bind(namespace)
                .push(" AND t.name = ")
                .bind(marker.name.as_str());
                let row = sql.build()?.fetch_optional(&mut *conn).await?;
                let row = row.ok_or(DbError::MarkerNotFound)?;
                Some(row.try_get::<i64, _>("seq")?)
            }
            None => None,
        };
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
        let keys = sort_keys(key, "t.created_at", "t.name", "t.seq");
        if let Some(marker) = &query.marker {
            let value = |column: &str| match column {
                "t.name" => Value::Text(Some(marker.name.clone())),
                "t.created_at" => Value::Int(Some(micros(marker.created_at))),
                "t.seq" => Value::Int(marker_seq),
                _ => Value::Int(Some(updated_micros(marker.updated_at))),
            };
            push_after(&mut sql, &keys, query.sort_dir, value);
        }
        push_order(&mut sql, &keys, query.sort_dir, query.limit);
        let rows = sql.build()?.fetch_all(&mut *conn).await?;
        rows.iter().map(Tag::from_row).collect()
    }

    /// The rows of one kind in a namespace (only `name`'s, when given),
    /// in the order they were added.
    async fn select_content(
        &self,
        namespace: &str,
        content: MetadefContent,
        name: Option<&str>,
    ) -> Result<Vec<sqlx::any::AnyRow>, DbError> {
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
        // In the order they were added, as Glance lists them.
        sql.push(" ORDER BY c.seq");
        Ok(sql.build()?.fetch_all(&self.reader).await?)
    }
}

/// Inserts one item of namespace `namespace_id`. A taken name is a `Duplicate`.
pub(super) async fn insert_content(
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
            .bind(updated_micros(row.updated_at));
        for value in &row.values {
            binder.bind(value.clone());
        }
    });
    match sql.build()?.execute(&mut *conn).await {
        Err(err) if is_unique_violation(&err) => Err(DbError::Duplicate),
        result => result.map(drop).map_err(DbError::from),
    }
}

/// Rewrites the kind's columns and `updated_at` of the item `row` names in
/// namespace `namespace_id`, keeping its creation time.
pub(super) async fn overwrite_content(
    conn: &mut AnyConnection,
    backend: Backend,
    content: MetadefContent,
    namespace_id: i64,
    row: ContentRow,
) -> Result<(), DbError> {
    let mut sql = Sql::new(backend);
    sql.push("UPDATE ")
        .push(content.table())
        .push(" SET updated_at = ")
        .bind(updated_micros(row.updated_at));
    for (column, value) in content.columns().iter().zip(row.values.iter().cloned()) {
        sql.push(", ").push(column).push(" = ").bind(value);
    }
    sql.push(" WHERE namespace_id = ")
        .bind(namespace_id)
        .push(" AND name = ")
        .bind(row.name.as_str());
    sql.build()?.execute(&mut *conn).await?;
    Ok(())
}
