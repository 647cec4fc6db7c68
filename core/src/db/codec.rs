//! How domain values are stored: the shapes the `Any` driver carries on every backend.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::DbError;
use crate::domain::{Image, ImageStatus, Visibility};

/// The base columns of `images i`, in the order [`image_from_row`] reads them.
pub(crate) const IMAGE_COLUMNS: &str = "i.id, i.name, i.status, i.visibility, i.protected, i.os_hidden, \
     i.checksum, i.os_hash_algo, i.os_hash_value, i.owner, i.size, i.virtual_size, \
     i.container_format, i.disk_format, i.min_disk, i.min_ram, i.created_at, i.updated_at";

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
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let visibility: String = row.try_get("visibility")?;
    Ok(Image {
        id: parse_id("images.id", &id)?,
        name: row.try_get("name")?,
        status: ImageStatus::parse(&status).ok_or_else(|| invalid("images.status", &status))?,
        visibility: Visibility::parse(&visibility)
            .ok_or_else(|| invalid("images.visibility", &visibility))?,
        protected: boolean(row, "protected")?,
        os_hidden: boolean(row, "os_hidden")?,
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
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        tags: Default::default(),
        properties: Default::default(),
        locations: Vec::new(),
    })
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
