//! How metadefs are stored: the kinds of item a namespace holds and the
//! columns each kind keeps, and namespaces read back from their rows.
//!
//! Everything one kind of item needs to be stored is its [`MetadefItem`]
//! impl: adding a kind is a [`MetadefContent`] variant, its table and
//! columns, and one impl here. The repository's content operations are
//! generic over it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::DbError;
use crate::db::codec::{boolean, invalid, micros, timestamp};
use crate::domain::metadefs::{
    MetadefObject, Namespace, NamespaceDocument, NamespaceVisibility, Property, Tag,
};

/// The columns of `metadef_namespaces n`, as [`namespace_from_row`] reads them.
pub(super) const NAMESPACE_COLUMNS: &str = "n.namespace, n.display_name, n.description, \
     n.visibility, n.protected, n.owner, n.created_at, n.updated_at";

/// The kinds of item a namespace holds by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadefContent {
    Objects,
    Properties,
    Tags,
}

impl MetadefContent {
    /// Every kind, in the order a namespace's deletion clears them.
    pub const ALL: [MetadefContent; 3] = [
        MetadefContent::Objects,
        MetadefContent::Properties,
        MetadefContent::Tags,
    ];

    pub(super) fn table(self) -> &'static str {
        match self {
            MetadefContent::Objects => "metadef_objects",
            MetadefContent::Properties => "metadef_properties",
            MetadefContent::Tags => "metadef_tags",
        }
    }

    /// The columns besides namespace_id, name and the timestamps, in the
    /// order of [`MetadefItem::values`]. All of them hold text.
    pub(super) fn columns(self) -> &'static [&'static str] {
        match self {
            MetadefContent::Objects => &["description", "required", "properties"],
            MetadefContent::Properties => &["json_schema"],
            MetadefContent::Tags => &[],
        }
    }
}

/// One kind of item in a namespace, as the repository stores it: named
/// uniquely within the namespace, with its creation and update times and
/// the text of its kind's own columns.
pub trait MetadefItem: Clone + Send + Sync + Unpin + 'static {
    /// The kind, which says where its rows live.
    const KIND: MetadefContent;

    fn name(&self) -> &str;
    fn created_at(&self) -> DateTime<Utc>;
    fn updated_at(&self) -> Option<DateTime<Utc>>;
    /// The item with these times (as a write saved it).
    fn with_times(self, created_at: DateTime<Utc>, updated_at: Option<DateTime<Utc>>) -> Self;
    /// The values of `KIND.columns()`, in order.
    fn values(&self) -> Vec<Option<String>>;
    /// The item of a row carrying `name`, the timestamps and `KIND.columns()`.
    fn from_row(row: &AnyRow) -> Result<Self, DbError>;
    /// The items of this kind in a namespace document.
    fn in_document(doc: &NamespaceDocument) -> &[Self];
}

impl MetadefItem for MetadefObject {
    const KIND: MetadefContent = MetadefContent::Objects;

    fn name(&self) -> &str {
        &self.name
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn with_times(self, created_at: DateTime<Utc>, updated_at: Option<DateTime<Utc>>) -> Self {
        MetadefObject {
            created_at,
            updated_at,
            ..self
        }
    }
    fn values(&self) -> Vec<Option<String>> {
        vec![
            self.description.clone(),
            Some(Json::from(self.required.clone()).to_string()),
            Some(Json::Object(self.properties.clone()).to_string()),
        ]
    }
    fn from_row(row: &AnyRow) -> Result<Self, DbError> {
        let required: String = row.try_get("required")?;
        Ok(MetadefObject {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            required: serde_json::from_str(&required)
                .map_err(|_| invalid("required", &required))?,
            properties: json_object(row, "properties")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: updated_at(row)?,
        })
    }
    fn in_document(doc: &NamespaceDocument) -> &[Self] {
        &doc.objects
    }
}

impl MetadefItem for Property {
    const KIND: MetadefContent = MetadefContent::Properties;

    fn name(&self) -> &str {
        &self.name
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn with_times(self, created_at: DateTime<Utc>, updated_at: Option<DateTime<Utc>>) -> Self {
        Property {
            created_at,
            updated_at,
            ..self
        }
    }
    fn values(&self) -> Vec<Option<String>> {
        vec![Some(Json::Object(self.schema.clone()).to_string())]
    }
    fn from_row(row: &AnyRow) -> Result<Self, DbError> {
        Ok(Property {
            name: row.try_get("name")?,
            schema: json_object(row, "json_schema")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: updated_at(row)?,
        })
    }
    fn in_document(doc: &NamespaceDocument) -> &[Self] {
        &doc.properties
    }
}

impl MetadefItem for Tag {
    const KIND: MetadefContent = MetadefContent::Tags;

    fn name(&self) -> &str {
        &self.name
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn with_times(self, created_at: DateTime<Utc>, updated_at: Option<DateTime<Utc>>) -> Self {
        Tag {
            created_at,
            updated_at,
            ..self
        }
    }
    fn values(&self) -> Vec<Option<String>> {
        Vec::new()
    }
    fn from_row(row: &AnyRow) -> Result<Self, DbError> {
        Ok(Tag {
            name: row.try_get("name")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: updated_at(row)?,
        })
    }
    fn in_document(doc: &NamespaceDocument) -> &[Self] {
        &doc.tags
    }
}

/// One item in the shape every content table shares: what inserts and
/// updates write, whatever the kind.
pub(super) struct ContentRow {
    pub(super) name: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: Option<DateTime<Utc>>,
    pub(super) values: Vec<Option<String>>,
}

impl ContentRow {
    pub(super) fn of<C: MetadefItem>(item: &C) -> Self {
        ContentRow {
            name: item.name().to_owned(),
            created_at: item.created_at(),
            updated_at: item.updated_at(),
            values: item.values(),
        }
    }
}

/// The items of every kind in a document, as rows.
pub(super) fn document_rows(doc: &NamespaceDocument) -> [(MetadefContent, Vec<ContentRow>); 3] {
    fn rows<C: MetadefItem>(doc: &NamespaceDocument) -> (MetadefContent, Vec<ContentRow>) {
        (
            C::KIND,
            C::in_document(doc).iter().map(ContentRow::of).collect(),
        )
    }
    [
        rows::<MetadefObject>(doc),
        rows::<Property>(doc),
        rows::<Tag>(doc),
    ]
}

pub(super) fn namespace_from_row(row: &AnyRow) -> Result<Namespace, DbError> {
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
        updated_at: updated_at(row)?,
    })
}

/// `updated_at` as the metadef tables keep it: 0 for a row never changed
/// (what a definitions load makes; Glance's null). SQLite cannot drop a
/// column's NOT NULL without rebuilding the table, so the value stands in for
/// NULL on every backend alike. It sorts first, as NULL does in Glance's
/// SQLite and MySQL.
pub(super) fn updated_micros(updated_at: Option<DateTime<Utc>>) -> i64 {
    updated_at.map_or(0, micros)
}

/// The `updated_at` column of a metadef row (see [`updated_micros`]).
pub(super) fn updated_at(row: &AnyRow) -> Result<Option<DateTime<Utc>>, DbError> {
    match row.try_get::<i64, _>("updated_at")? {
        0 => Ok(None),
        _ => timestamp(row, "updated_at").map(Some),
    }
}

fn json_object(row: &AnyRow, column: &'static str) -> Result<Map<String, Json>, DbError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| invalid(column, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts and updates zip a kind's columns with its item's values: a
    /// kind whose two lists differ in length would silently drop a column.
    #[test]
    fn each_kind_gives_a_value_for_each_of_its_columns() {
        fn check<C: MetadefItem>(item: C) {
            assert_eq!(
                item.values().len(),
                C::KIND.columns().len(),
                "{:?}",
                C::KIND
            );
        }
        let at = DateTime::from_timestamp(0, 0).unwrap();
        check(MetadefObject {
            name: "o".into(),
            description: None,
            required: Vec::new(),
            properties: Map::new(),
            created_at: at,
            updated_at: Some(at),
        });
        check(Property {
            name: "p".into(),
            schema: Map::new(),
            created_at: at,
            updated_at: Some(at),
        });
        check(Tag {
            name: "t".into(),
            created_at: at,
            updated_at: Some(at),
        });
        let doc = NamespaceDocument {
            namespace: Namespace {
                namespace: "n".into(),
                display_name: None,
                description: None,
                visibility: NamespaceVisibility::Public,
                protected: false,
                owner: None,
                created_at: at,
                updated_at: None,
            },
            associations: Vec::new(),
            objects: Vec::new(),
            properties: Vec::new(),
            tags: Vec::new(),
        };
        assert_eq!(
            document_rows(&doc).map(|(kind, _)| kind),
            MetadefContent::ALL,
            "a document's rows cover every kind once"
        );
    }
}
