//! Which image attributes a client may set, and what values they accept:
//! Glance's image schema and its read-only and reserved lists, as code.

use serde_json::Value;

use super::{Image, Visibility};

/// Attributes a client may never write.
pub const READ_ONLY: &[&str] = &[
    "checksum",
    "created_at",
    "direct_url",
    "file",
    "id",
    "os_hash_algo",
    "os_hash_value",
    "schema",
    "self",
    "size",
    "status",
    "stores",
    "updated_at",
    "virtual_size",
];

/// Attributes no client may use at all.
pub const RESERVED: &[&str] = &["deleted", "deleted_at", "location", "locations"];

/// Prefix of properties the service keeps for itself.
pub const RESERVED_PREFIX: &str = "os_glance";

/// Base attributes a client may set.
pub const WRITABLE_BASE: &[&str] = &[
    "container_format",
    "disk_format",
    "min_disk",
    "min_ram",
    "name",
    "os_hidden",
    "owner",
    "protected",
    "tags",
    "visibility",
];

pub const MAX_STRING: usize = 255;
/// Longest extra property value, in bytes: what every database's column holds
/// (MySQL's `TEXT`).
pub const MAX_PROPERTY_VALUE: usize = 65535;

/// How a key may be used, before looking at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    ReadOnly,
    Reserved,
    Base,
    Extra,
}

pub fn classify(key: &str) -> KeyClass {
    if READ_ONLY.contains(&key) {
        KeyClass::ReadOnly
    } else if RESERVED.contains(&key) || key.starts_with(RESERVED_PREFIX) {
        KeyClass::Reserved
    } else if WRITABLE_BASE.contains(&key) {
        KeyClass::Base
    } else {
        KeyClass::Extra
    }
}

/// The formats an operator allows.
#[derive(Debug, Clone)]
pub struct Formats {
    pub container: Vec<String>,
    pub disk: Vec<String>,
}

/// A value that breaks the schema, phrased like Glance's validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaViolation {
    /// Against the image schema.
    Schema(String),
    /// One of Glance's own value checks, which come after the schema's and speak for
    /// themselves.
    Value(String),
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Schema(m) => write!(f, "Provided object does not match schema 'image': {m}"),
            Self::Value(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SchemaViolation {}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn type_error(key: &str, v: &Value, expected: &str) -> SchemaViolation {
    SchemaViolation::Schema(format!(
        "{} is not of type {expected}. Failed validating 'type' in schema['properties']['{key}']",
        describe(v)
    ))
}

fn opt_string(key: &str, v: &Value) -> Result<Option<String>, SchemaViolation> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() > MAX_STRING => Err(SchemaViolation::Schema(
            format!("'{key}' is too long (at most {MAX_STRING} characters)"),
        )),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(type_error(key, other, "'null', 'string'")),
    }
}

fn boolean(key: &str, v: &Value) -> Result<bool, SchemaViolation> {
    v.as_bool().ok_or_else(|| type_error(key, v, "'boolean'"))
}

fn non_negative(key: &str, v: &Value) -> Result<i64, SchemaViolation> {
    match v.as_i64() {
        Some(n) if n >= 0 => Ok(n),
        Some(n) => Err(SchemaViolation::Value(format!(
            "Invalid value '{n}' for parameter '{key}': Cannot be a negative value"
        ))),
        None => Err(type_error(key, v, "'integer'")),
    }
}

fn format_value(
    key: &str,
    v: &Value,
    allowed: &[String],
) -> Result<Option<String>, SchemaViolation> {
    let value = opt_string(key, v)?;
    match &value {
        Some(f) if !allowed.iter().any(|a| a == f) => Err(SchemaViolation::Schema(format!(
            "'{f}' is not one of {allowed:?}. Failed validating 'enum' in schema['properties']['{key}']"
        ))),
        _ => Ok(value),
    }
}

/// Parse a tags value: a list of strings, each at most 255 characters.
pub fn tags(v: &Value) -> Result<Vec<String>, SchemaViolation> {
    let Value::Array(items) = v else {
        return Err(type_error("tags", v, "'array'"));
    };
    items
        .iter()
        .map(|t| match t {
            Value::String(s) if s.chars().count() <= MAX_STRING => Ok(s.clone()),
            Value::String(_) => Err(SchemaViolation::Schema(format!(
                "tag is too long (at most {MAX_STRING} characters)"
            ))),
            other => Err(type_error("tags", other, "'string'")),
        })
        .collect()
}

/// Check a single tag given in a URL.
pub fn tag(t: &str) -> Result<(), SchemaViolation> {
    if t.chars().count() > MAX_STRING {
        return Err(SchemaViolation::Schema(format!(
            "tag is too long (at most {MAX_STRING} characters)"
        )));
    }
    Ok(())
}

/// Set one writable base attribute on `image` from a JSON value.
pub fn set_base(
    image: &mut Image,
    key: &str,
    v: &Value,
    formats: &Formats,
) -> Result<(), SchemaViolation> {
    match key {
        "name" => image.name = opt_string(key, v)?,
        "owner" => image.owner = opt_string(key, v)?,
        "visibility" => {
            image.visibility = v.as_str().and_then(Visibility::parse).ok_or_else(|| {
                SchemaViolation::Schema(format!(
                    "{} is not one of ['community', 'public', 'private', 'shared']. Failed validating 'enum' in schema['properties']['visibility']",
                    describe(v)
                ))
            })?
        }
        "protected" => image.protected = boolean(key, v)?,
        "os_hidden" => image.os_hidden = boolean(key, v)?,
        "min_disk" => image.min_disk = non_negative(key, v)?,
        "min_ram" => image.min_ram = non_negative(key, v)?,
        "container_format" => image.container_format = format_value(key, v, &formats.container)?,
        "disk_format" => image.disk_format = format_value(key, v, &formats.disk)?,
        "tags" => image.tags = tags(v)?.into_iter().collect(),
        _ => unreachable!("set_base called with non-base key {key}"),
    }
    Ok(())
}

/// Validate an extra property: its key length and a string value.
pub fn extra(key: &str, v: &Value) -> Result<String, SchemaViolation> {
    if key.chars().count() > MAX_STRING {
        return Err(SchemaViolation::Value(format!(
            "Custom property should not be greater than {MAX_STRING} characters."
        )));
    }
    match v {
        Value::String(s) if s.len() > MAX_PROPERTY_VALUE => Err(SchemaViolation::Value(format!(
            "Custom property value should not be greater than {MAX_PROPERTY_VALUE} bytes."
        ))),
        Value::String(s) => Ok(s.clone()),
        other => Err(type_error(key, other, "'string'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    fn formats() -> Formats {
        Formats {
            container: vec!["bare".into(), "ovf".into()],
            disk: vec!["raw".into(), "qcow2".into()],
        }
    }

    #[test]
    fn extra_values_fit_every_database() {
        assert!(extra("k", &json!("v".repeat(MAX_PROPERTY_VALUE))).is_ok());
        assert!(matches!(
            extra("k", &json!("v".repeat(MAX_PROPERTY_VALUE + 1))),
            Err(SchemaViolation::Value(_))
        ));
        // Bytes, not characters: the column's size is in bytes.
        assert!(extra("k", &json!("é".repeat(MAX_PROPERTY_VALUE / 2 + 1))).is_err());
    }

    #[test]
    fn keys_are_classified_like_glance() {
        assert_eq!(classify("status"), KeyClass::ReadOnly);
        assert_eq!(classify("os_glance_import_task"), KeyClass::Reserved);
        assert_eq!(classify("deleted_at"), KeyClass::Reserved);
        assert_eq!(classify("min_ram"), KeyClass::Base);
        assert_eq!(classify("hw_disk_bus"), KeyClass::Extra);
    }

    #[test]
    fn base_values_are_type_checked_strictly() {
        let mut img = Image::new(Uuid::nil(), None, Utc::now());
        let f = formats();
        assert!(set_base(&mut img, "name", &json!(123), &f).is_err());
        assert!(set_base(&mut img, "protected", &json!("true"), &f).is_err());
        assert!(set_base(&mut img, "min_ram", &json!(-1), &f).is_err());
        assert!(set_base(&mut img, "min_ram", &json!(1.5), &f).is_err());
        assert!(set_base(&mut img, "disk_format", &json!("vhd"), &f).is_err());
        assert!(set_base(&mut img, "visibility", &json!("everyone"), &f).is_err());
        assert!(set_base(&mut img, "name", &json!("x".repeat(256)), &f).is_err());
        set_base(&mut img, "name", &json!("ünïcode"), &f).unwrap();
        set_base(&mut img, "disk_format", &json!("qcow2"), &f).unwrap();
        set_base(&mut img, "visibility", &json!("community"), &f).unwrap();
        set_base(&mut img, "tags", &json!(["a", "b", "a"]), &f).unwrap();
        assert_eq!(img.name.as_deref(), Some("ünïcode"));
        assert_eq!(img.visibility, Visibility::Community);
        assert_eq!(img.tags.len(), 2);
        set_base(&mut img, "name", &json!(null), &f).unwrap();
        assert_eq!(img.name, None);
    }

    #[test]
    fn extra_properties_must_be_strings() {
        assert_eq!(extra("k", &json!("v")).unwrap(), "v");
        assert!(extra("k", &json!(1)).is_err());
        assert!(extra(&"k".repeat(256), &json!("v")).is_err());
    }
}
