//! Metadata definitions: namespaces, resource types and their associations,
//! and the objects, properties and tags a namespace holds.
//!
//! Rows inside a namespace are addressed by the namespace's name and their
//! own; each write resolves the namespace inside its transaction, so a
//! namespace deleted meanwhile is a `NotFound`, never a broken row.
//!
//! One file per concern: `namespaces` (the namespace rows and the documents
//! they are created from), `resource_types` (types and associations),
//! `content` (the items of a namespace, one generic path for every kind),
//! `load` (definitions documents: parsing and loading them), `rows` (what
//! each kind stores and how rows read back).

mod content;
mod load;
mod namespaces;
mod resource_types;
mod rows;

use sqlx::{AnyConnection, Row};

pub use load::{DEFAULT_OWNER, DocumentError, LoadMode, Loaded, parse_document};
pub use rows::{MetadefContent, MetadefItem};

use super::sql::{Sql, Value};
use super::{Backend, DbError};
use crate::domain::SortDir;

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

/// Deletes the rows of `table` that belong to namespace `namespace_id`.
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

/// The columns a list orders by, as Glance's do: the sort key, then the
/// creation time, then the order rows were added (`seq`); the name alone
/// when it is the sort key, as it is unique.
fn sort_keys(
    key: &'static str,
    created: &'static str,
    name: &'static str,
    seq: &'static str,
) -> Vec<&'static str> {
    if key == name {
        return vec![name];
    }
    let mut keys = vec![key];
    for tie in [created, seq] {
        if !keys.contains(&tie) {
            keys.push(tie);
        }
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
