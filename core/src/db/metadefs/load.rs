//! Definitions documents (Glance's metadefs files, one namespace each): what
//! one says, checked as a namespace create request is, and loading it into
//! the database beside what is already there.
//!
//! Parsing lives here, below the services, because both `glint metadefs
//! load` and the metadef providers read documents, and the providers are
//! infrastructure that must not depend on a service.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::Value as Json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::content::{insert_content, overwrite_content};
use super::find_namespace_id;
use super::namespaces::{delete_namespace_rows, insert_document};
use super::resource_types::insert_association;
use super::rows::{ContentRow, document_rows};
use crate::db::codec::{flag, micros, now};
use crate::db::sql::Sql;
use crate::db::{Backend, Database, DbError};
use crate::domain::metadefs::{self, Invalid, NamespaceDocument};

/// The owner of a loaded namespace whose document names none, as in Glance.
pub const DEFAULT_OWNER: &str = "admin";

/// Why a definitions document is refused.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A definitions document's namespace, checked as a create request is; a
/// document that names no owner is owned by [`DEFAULT_OWNER`]. Nothing in
/// it has an `updated_at` yet, as in what Glance's load makes.
pub fn parse_document(text: &str) -> Result<NamespaceDocument, DocumentError> {
    let body: Json = serde_json::from_str(text)?;
    let mut doc = metadefs::namespace_document(&body, Utc::now())?;
    doc.namespace
        .owner
        .get_or_insert_with(|| DEFAULT_OWNER.to_owned());
    doc.namespace.updated_at = None;
    for a in &mut doc.associations {
        a.updated_at = None;
    }
    for o in &mut doc.objects {
        o.updated_at = None;
    }
    for p in &mut doc.properties {
        p.updated_at = None;
    }
    for t in &mut doc.tags {
        t.updated_at = None;
    }
    Ok(doc)
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

impl Database {
    /// Loads a definitions document in one transaction, treating a namespace
    /// of the same name as `mode` says. Resource types it creates are
    /// protected, as seeded ones are.
    pub async fn load_namespace(
        &self,
        doc: &NamespaceDocument,
        mode: LoadMode,
    ) -> Result<Loaded, DbError> {
        retrying!(self, "load_namespace", async {
            let mut tx = self.begin_write().await?;
            let existing =
                find_namespace_id(&mut tx, self.backend, &doc.namespace.namespace).await?;
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
                    merge_document(&mut tx, self.backend, id, doc, mode == LoadMode::PreferNew)
                        .await?;
                    Loaded::Merged
                }
            };
            self.commit(tx).await?;
            Ok(loaded)
        })
    }
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
            .bind(micros(now()))
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
                .bind(micros(now()))
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

    for (content, rows) in document_rows(doc) {
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
                let row = ContentRow {
                    updated_at: Some(now()),
                    ..row
                };
                overwrite_content(conn, backend, content, id, row).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_defaults_the_owner_and_keeps_a_given_one() {
        let doc = parse_document(r#"{"namespace": "OS::X"}"#).unwrap();
        assert_eq!(doc.namespace.owner.as_deref(), Some(DEFAULT_OWNER));
        let doc = parse_document(r#"{"namespace": "OS::X", "owner": "p1"}"#).unwrap();
        assert_eq!(doc.namespace.owner.as_deref(), Some("p1"));
    }

    #[test]
    fn parse_reports_the_first_problem() {
        assert!(matches!(parse_document("{"), Err(DocumentError::Json(_))));
        let text = r#"{"namespace": "OS::X", "properties": {"p": {"type": "string"}}}"#;
        let err = parse_document(text).unwrap_err();
        assert!(matches!(err, DocumentError::Invalid(_)));
        assert!(
            err.to_string().contains("'title' is a required property"),
            "{err}"
        );
    }
}
