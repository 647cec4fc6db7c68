//! How domain values are stored: the shapes the `Any` driver carries on every backend.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::sql::Sql;
use super::{Backend, DbError};
use crate::domain::{Image, ImageStatus, Location, Visibility};

/// The base columns of `images i`, in the order [`image_from_row`] reads them.
pub(crate) const IMAGE_COLUMNS: &str = "i.id, i.name, i.status, i.visibility, i.protected, i.os_hidden, \
     i.checksum, i.os_hash_algo, i.os_hash_value, i.owner, i.size, i.virtual_size, \
     i.container_format, i.disk_format, i.min_disk, i.min_ram, i.created_at, i.updated_at";

/// The same columns without the table, in the same order.
const IMAGE_FIELDS: [&str; 18] = [
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "min_disk",
    "min_ram",
    "created_at",
    "updated_at",
];

/// The three aggregates that read an image's children: its tags as a JSON
/// array, its properties as an object, its locations as an array of
/// `[position, url, metadata, status]`, over `image_tags t`,
/// `image_properties p` and `image_locations l`. Where an image has none of
/// a kind, SQLite gives an empty array or object and the others NULL.
fn child_aggregates(backend: Backend) -> [&'static str; 3] {
    match backend {
        Backend::Sqlite => [
            "json_group_array(t.value)",
            "json_group_object(p.name, p.value)",
            "json_group_array(json_array(l.position, l.url, l.metadata, l.status))",
        ],
        Backend::Postgres => [
            "json_agg(t.value)",
            "json_object_agg(p.name, p.value)",
            "json_agg(json_build_array(l.position, l.url, l.metadata, l.status))",
        ],
        // MariaDB builds these on GROUP_CONCAT, whose length limit the
        // connection lifts (`mysql_setup`).
        Backend::MySql => [
            "JSON_ARRAYAGG(t.value)",
            "JSON_OBJECTAGG(p.name, p.value)",
            "JSON_ARRAYAGG(JSON_ARRAY(l.position, l.url, l.metadata, l.status))",
        ],
    }
}

/// How a child aggregate is written: as a text column of its own, or as a
/// JSON value inside a larger JSON document.
#[derive(Clone, Copy, PartialEq)]
enum Children {
    Columns,
    Embedded,
}

/// Writes the children of the image row `of` (its `id` column): as three
/// more columns `tags_json`, `properties_json` and `locations_json` of JSON
/// text, or as three more JSON values separated by commas.
fn push_children<'s>(sql: &'s mut Sql, of: &str, how: Children) -> &'s mut Sql {
    let backend = sql.backend();
    let (open, close) = match (backend, how) {
        (Backend::Sqlite, Children::Embedded) => ("json((SELECT ", "))"),
        (Backend::Postgres, Children::Columns) => ("(SELECT ", ")::text"),
        (Backend::MySql, Children::Columns) => ("CAST((SELECT ", ") AS CHAR)"),
        _ => ("(SELECT ", ")"),
    };
    let tables = [
        ("image_tags t", "t", "tags_json"),
        ("image_properties p", "p", "properties_json"),
        ("image_locations l", "l", "locations_json"),
    ];
    for (aggregate, (table, alias, column)) in child_aggregates(backend).into_iter().zip(tables) {
        sql.push(", ")
            .push(open)
            .push(aggregate)
            .push(" FROM ")
            .push(table)
            .push(" WHERE ")
            .push(alias)
            .push(".image_id = ")
            .push(of)
            .push(".id")
            .push(close);
        if how == Children::Columns {
            sql.push(" AS ").push(column);
        }
    }
    sql
}

/// Writes the select list of a page of images as one row and one column,
/// `page`: a JSON array with one element per row of the derived table
/// `page`, which has the columns of [`IMAGE_COLUMNS`] and `n`, the row's
/// place in the page. An element is `[n, [the columns], tags, properties,
/// locations]`. [`images_from_page`] reads it. The page's rows and
/// their children cross from the database as one value: a thousand images
/// cost one row's handling, not a thousand rows' and their children's.
pub(crate) fn push_page_select(sql: &mut Sql) -> &mut Sql {
    let (open, close) = match sql.backend() {
        Backend::Sqlite => ("SELECT json_group_array(json_array(", "))"),
        Backend::Postgres => ("SELECT json_agg(json_build_array(", "))::text"),
        Backend::MySql => ("SELECT CAST(JSON_ARRAYAGG(JSON_ARRAY(", ")) AS CHAR)"),
    };
    let (row_open, row_close) = match sql.backend() {
        Backend::Sqlite => (", json_array(", ")"),
        Backend::Postgres => (", json_build_array(", ")"),
        Backend::MySql => (", JSON_ARRAY(", ")"),
    };
    sql.push(open).push("page.n").push(row_open);
    for (n, field) in IMAGE_FIELDS.into_iter().enumerate() {
        sql.push(if n == 0 { "page." } else { ", page." })
            .push(field);
    }
    sql.push(row_close);
    push_children(sql, "page", Children::Embedded);
    sql.push(close).push(" AS page")
}

/// The images of a page that [`push_page_select`] selected, in their order.
pub(crate) fn images_from_page(row: &AnyRow) -> Result<Vec<Image>, DbError> {
    let Some(text) = row.try_get::<Option<String>, _>("page")? else {
        return Ok(Vec::new());
    };
    let mut page: Vec<PageImage> = serde_json::from_str(&text).map_err(|e| invalid("page", e))?;
    page.sort_by_key(|image| image.0);
    page.into_iter().map(PageImage::into_image).collect()
}

/// One element of a page: its place, the image's row, its children.
#[derive(serde::Deserialize)]
struct PageImage(
    i64,
    StoredImage,
    #[serde(deserialize_with = "embedded")] BTreeSet<String>,
    #[serde(deserialize_with = "embedded")] BTreeMap<String, String>,
    #[serde(deserialize_with = "embedded")] Vec<StoredLocation>,
);

impl PageImage {
    fn into_image(self) -> Result<Image, DbError> {
        let PageImage(_, stored, tags, properties, stored_locations) = self;
        let mut image = stored.into_image()?;
        image.tags = tags;
        image.properties = properties;
        image.locations = locations(stored_locations)?;
        Ok(image)
    }
}

/// An image's row as stored: the columns of [`IMAGE_FIELDS`] in their
/// order (a JSON array in a page, or read from a row by name).
#[derive(serde::Deserialize)]
struct StoredImage {
    id: String,
    name: Option<String>,
    status: String,
    visibility: String,
    protected: i64,
    os_hidden: i64,
    checksum: Option<String>,
    os_hash_algo: Option<String>,
    os_hash_value: Option<String>,
    owner: Option<String>,
    size: Option<i64>,
    virtual_size: Option<i64>,
    container_format: Option<String>,
    disk_format: Option<String>,
    min_disk: i64,
    min_ram: i64,
    created_at: i64,
    updated_at: i64,
}

/// A location as the children's aggregate writes it.
type StoredLocation = (i64, String, String, String);

/// A child aggregate inside the page: JSON, JSON in a string (where the
/// server does not carry a subquery's JSON type over to the outer
/// document), or null for none.
fn embedded<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    use serde::Deserialize as _;
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(T::default()),
        serde_json::Value::String(text) => serde_json::from_str(&text).map_err(D::Error::custom),
        value => T::deserialize(value).map_err(D::Error::custom),
    }
}

impl StoredImage {
    /// The image, its children empty.
    fn into_image(self) -> Result<Image, DbError> {
        let at = |column: &'static str, value: i64| {
            DateTime::from_timestamp_micros(value).ok_or_else(|| invalid(column, value))
        };
        Ok(Image {
            id: parse_id("images.id", &self.id)?,
            name: self.name,
            status: ImageStatus::parse(&self.status)
                .ok_or_else(|| invalid("images.status", &self.status))?,
            visibility: Visibility::parse(&self.visibility)
                .ok_or_else(|| invalid("images.visibility", &self.visibility))?,
            protected: self.protected != 0,
            os_hidden: self.os_hidden != 0,
            checksum: self.checksum,
            os_hash_algo: self.os_hash_algo,
            os_hash_value: self.os_hash_value,
            owner: self.owner,
            size: self.size,
            virtual_size: self.virtual_size,
            container_format: self.container_format,
            disk_format: self.disk_format,
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            created_at: at("images.created_at", self.created_at)?,
            updated_at: at("images.updated_at", self.updated_at)?,
            tags: Default::default(),
            properties: Default::default(),
            locations: Vec::new(),
        })
    }
}

/// Locations in their stored order.
fn locations(mut stored: Vec<StoredLocation>) -> Result<Vec<Location>, DbError> {
    stored.sort_by_key(|(position, ..)| *position);
    stored
        .into_iter()
        .map(|(_, url, metadata, status)| {
            Ok(Location {
                url,
                metadata: metadata_from_text(&metadata)?,
                status,
            })
        })
        .collect()
}

/// Writes `SELECT` and the columns [`image_with_children`] reads, of `images i`.
pub(crate) fn push_image_select(sql: &mut Sql) -> &mut Sql {
    sql.push("SELECT ").push(IMAGE_COLUMNS);
    push_children(sql, "i", Children::Columns)
}

/// Writes `SELECT i.id` and the children's columns, of `images i`.
pub(crate) fn push_children_select(sql: &mut Sql) -> &mut Sql {
    sql.push("SELECT i.id");
    push_children(sql, "i", Children::Columns)
}

/// An image with its tags, properties and locations, from a row that
/// [`push_image_select`] selected.
pub(crate) fn image_with_children(row: &AnyRow) -> Result<Image, DbError> {
    let mut image = image_from_row(row)?;
    children_from_row(row, &mut image)?;
    Ok(image)
}

/// Fills in `image`'s tags, properties and locations from the JSON columns
/// of [`push_children`].
pub(crate) fn children_from_row(row: &AnyRow, image: &mut Image) -> Result<(), DbError> {
    fn json<T: serde::de::DeserializeOwned + Default>(
        row: &AnyRow,
        column: &'static str,
    ) -> Result<T, DbError> {
        match row.try_get::<Option<String>, _>(column)? {
            Some(text) => serde_json::from_str(&text).map_err(|_| invalid(column, text)),
            None => Ok(T::default()),
        }
    }
    image.tags = json(row, "tags_json")?;
    image.properties = json(row, "properties_json")?;
    image.locations = locations(json(row, "locations_json")?)?;
    Ok(())
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The current time at the precision the database keeps.
pub(crate) fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// `t` at the precision the database keeps (microseconds).
pub(crate) fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

pub(crate) fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(crate) fn parse_id(column: &'static str, text: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(text).map_err(|_| invalid(column, text))
}

pub(crate) fn invalid(column: &'static str, value: impl ToString) -> DbError {
    DbError::InvalidRow {
        column,
        value: value.to_string(),
    }
}

pub(crate) fn timestamp(row: &AnyRow, column: &'static str) -> Result<DateTime<Utc>, DbError> {
    let value: i64 = row.try_get(column)?;
    DateTime::from_timestamp_micros(value).ok_or_else(|| invalid(column, value))
}

pub(crate) fn boolean(row: &AnyRow, column: &'static str) -> Result<bool, DbError> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// The base fields of an image; tags, properties and locations come empty.
pub(crate) fn image_from_row(row: &AnyRow) -> Result<Image, DbError> {
    StoredImage {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        visibility: row.try_get("visibility")?,
        protected: row.try_get("protected")?,
        os_hidden: row.try_get("os_hidden")?,
        checksum: row.try_get("checksum")?,
        os_hash_algo: row.try_get("os_hash_algo")?,
        os_hash_value: row.try_get("os_hash_value")?,
        owner: row.try_get("owner")?,
        size: row.try_get("size")?,
        virtual_size: row.try_get("virtual_size")?,
        container_format: row.try_get("container_format")?,
        disk_format: row.try_get("disk_format")?,
        min_disk: row.try_get("min_disk")?,
        min_ram: row.try_get("min_ram")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }
    .into_image()
}

/// Location metadata is stored as a JSON object in text.
pub(crate) fn metadata_from_text(
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, DbError> {
    serde_json::from_str(text).map_err(|_| invalid("image_locations.metadata", text))
}

pub(crate) fn metadata_to_text(metadata: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(metadata.clone()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_microseconds_only() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(truncate(t).timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(
            DateTime::from_timestamp_micros(micros(t)),
            Some(truncate(t))
        );
    }

    #[test]
    fn image_fields_are_the_image_columns() {
        let columns: Vec<String> = IMAGE_FIELDS.iter().map(|f| format!("i.{f}")).collect();
        let listed: Vec<&str> = IMAGE_COLUMNS.split(", ").collect();
        assert_eq!(columns, listed);
    }

    #[test]
    fn metadata_round_trips_through_text() {
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), "fast".into());
        metadata.insert("nested".into(), serde_json::json!({"ü": [1, 2]}));
        assert_eq!(
            metadata_from_text(&metadata_to_text(&metadata)).unwrap(),
            metadata
        );
        assert!(metadata_from_text("[]").is_err());
    }
}
