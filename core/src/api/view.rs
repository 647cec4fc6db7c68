//! How an image looks on the wire, and the documented shapes of request and
//! response bodies for the spec.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde_json::{Map, Value, json};

use crate::domain::Image;

pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The image as Glance shows it: every base key (null when unset), extra
/// properties as strings, and the relative links.
pub fn image(img: &Image) -> Value {
    let id = img.id.to_string();
    let mut v = Map::new();
    for (k, val) in &img.properties {
        v.insert(k.clone(), Value::String(val.clone()));
    }
    let base = json!({
        "id": id,
        "name": img.name,
        "status": img.status.as_str(),
        "visibility": img.visibility.as_str(),
        "protected": img.protected,
        "os_hidden": img.os_hidden,
        "checksum": img.checksum,
        "os_hash_algo": img.os_hash_algo,
        "os_hash_value": img.os_hash_value,
        "owner": img.owner,
        "size": img.size,
        "virtual_size": img.virtual_size,
        "container_format": img.container_format,
        "disk_format": img.disk_format,
        "min_disk": img.min_disk,
        "min_ram": img.min_ram,
        "created_at": timestamp(&img.created_at),
        "updated_at": timestamp(&img.updated_at),
        "tags": img.tags,
        "self": format!("/v2/images/{id}"),
        "file": format!("/v2/images/{id}/file"),
        "schema": "/v2/schemas/image",
    });
    if let Value::Object(base) = base {
        v.extend(base);
    }
    let stores: Vec<&str> = img.locations.iter().filter_map(|l| l.store()).collect();
    if !stores.is_empty() {
        v.insert("stores".into(), Value::String(stores.join(",")));
    }
    Value::Object(v)
}

/// An image. Keys not listed here are extra properties with string values.
#[derive(Debug, Object)]
#[oai(rename = "Image")]
pub struct ImageDoc {
    pub id: uuid::Uuid,
    pub name: Option<String>,
    /// queued, saving, uploading, importing, active, killed, pending_delete, deactivated or deleted.
    pub status: String,
    /// public, private, shared or community.
    pub visibility: String,
    pub protected: bool,
    pub os_hidden: bool,
    /// md5 of the data, hex.
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub owner: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub container_format: Option<String>,
    pub disk_format: Option<String>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub created_at: String,
    pub updated_at: String,
    pub tags: Vec<String>,
    #[oai(rename = "self")]
    pub self_: String,
    pub file: String,
    pub schema: String,
    /// Stores holding the data, comma-separated.
    pub stores: Option<String>,
    #[oai(flatten)]
    pub properties: BTreeMap<String, String>,
}

/// A new image. Every key is optional; unknown keys become extra properties.
#[derive(Debug, Object)]
#[oai(rename = "ImageCreate")]
pub struct ImageCreateDoc {
    pub id: Option<uuid::Uuid>,
    pub name: Option<String>,
    pub visibility: Option<String>,
    pub protected: Option<bool>,
    pub os_hidden: Option<bool>,
    pub owner: Option<String>,
    pub container_format: Option<String>,
    pub disk_format: Option<String>,
    pub min_disk: Option<i64>,
    pub min_ram: Option<i64>,
    pub tags: Option<Vec<String>>,
    #[oai(flatten)]
    pub properties: BTreeMap<String, String>,
}

/// One page of images.
#[derive(Debug, Object)]
#[oai(rename = "Images")]
pub struct ImagesDoc {
    pub images: Vec<ImageDoc>,
    /// The first page of this query.
    pub first: String,
    /// The next page, when this one was full.
    pub next: Option<String>,
    pub schema: String,
}

/// One JSON-patch operation (`application/openstack-images-v2.1-json-patch`).
#[derive(Debug, Object)]
#[oai(rename = "ImagePatchOp")]
pub struct PatchOpDoc {
    /// add, replace or remove.
    pub op: String,
    /// A JSON pointer to a top-level attribute, e.g. `/name`.
    pub path: String,
    pub value: Option<serde_json::Value>,
}
