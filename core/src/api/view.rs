//! How an image looks on the wire, and the documented shapes of request and
//! response bodies for the spec.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde_json::Value;

use super::documented::{ContainerFormat, DiskFormat, ImageStatus, ImageVisibility, TaskStatus};
use crate::domain::Image;

pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The image as Glance shows it: every base key (null when unset), extra
/// properties as strings, and the relative links (see [`ImageView`]).
pub fn image(img: &Image) -> Value {
    // Writing a map of strings, numbers and lists to a `Value` cannot fail.
    serde_json::to_value(ImageView(img)).expect("an image view is valid JSON")
}

/// The keys every image shows, sorted; an extra property of the same name is
/// hidden by them.
const BASE_KEYS: [&str; 22] = [
    "checksum",
    "container_format",
    "created_at",
    "disk_format",
    "file",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
    "owner",
    "protected",
    "schema",
    "self",
    "size",
    "status",
    "tags",
    "updated_at",
    "virtual_size",
    "visibility",
];

/// The image as Glance shows it, its keys in sorted order, written straight
/// to the serializer: a page of 1000 images is written without building a
/// `Value` per image.
pub struct ImageView<'a>(pub &'a Image);

enum Field<'a> {
    Text(Option<&'a str>),
    Owned(String),
    Int(Option<i64>),
    Bool(bool),
    Tags(&'a std::collections::BTreeSet<String>),
}

impl serde::Serialize for Field<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Text(text) => text.serialize(s),
            Field::Owned(text) => s.serialize_str(text),
            Field::Int(int) => int.serialize(s),
            Field::Bool(b) => s.serialize_bool(*b),
            Field::Tags(tags) => s.collect_seq(tags.iter()),
        }
    }
}

impl serde::Serialize for ImageView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;

        let img = self.0;
        let id = img.id.to_string();
        let stores: Vec<&str> = img.locations.iter().filter_map(|l| l.store()).collect();
        let mut fields: Vec<(&str, Field<'_>)> = Vec::with_capacity(24 + img.properties.len());
        fields.extend([
            ("checksum", Field::Text(img.checksum.as_deref())),
            (
                "container_format",
                Field::Text(img.container_format.as_deref()),
            ),
            ("created_at", Field::Owned(timestamp(&img.created_at))),
            ("disk_format", Field::Text(img.disk_format.as_deref())),
            ("file", Field::Owned(format!("/v2/images/{id}/file"))),
            ("min_disk", Field::Int(Some(img.min_disk))),
            ("min_ram", Field::Int(Some(img.min_ram))),
            ("name", Field::Text(img.name.as_deref())),
            ("os_hash_algo", Field::Text(img.os_hash_algo.as_deref())),
            ("os_hash_value", Field::Text(img.os_hash_value.as_deref())),
            ("os_hidden", Field::Bool(img.os_hidden)),
            ("owner", Field::Text(img.owner.as_deref())),
            ("protected", Field::Bool(img.protected)),
            ("schema", Field::Text(Some("/v2/schemas/image"))),
            ("self", Field::Owned(format!("/v2/images/{id}"))),
            ("size", Field::Int(img.size)),
            ("status", Field::Text(Some(img.status.as_str()))),
            ("tags", Field::Tags(&img.tags)),
            ("updated_at", Field::Owned(timestamp(&img.updated_at))),
            ("virtual_size", Field::Int(img.virtual_size)),
            ("visibility", Field::Text(Some(img.visibility.as_str()))),
        ]);
        if !stores.is_empty() {
            fields.push(("stores", Field::Owned(stores.join(","))));
        }
        fields.push(("id", Field::Owned(id)));
        for (key, value) in &img.properties {
            let hidden = BASE_KEYS.binary_search(&key.as_str()).is_ok()
                || (key == "stores" && !stores.is_empty());
            if !hidden {
                fields.push((key, Field::Text(Some(value))));
            }
        }
        fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut map = s.serialize_map(Some(fields.len()))?;
        for (key, value) in &fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// An image. Keys not listed here are extra properties with string values; an attribute
/// that is not set is `null`.
#[derive(Debug, Object)]
#[oai(rename = "Image")]
pub struct ImageDoc {
    pub id: uuid::Uuid,
    #[oai(nullable)]
    pub name: Option<String>,
    pub status: ImageStatus,
    pub visibility: ImageVisibility,
    /// A protected image cannot be deleted.
    pub protected: bool,
    /// Hidden images are left out of lists unless `os_hidden=true` is asked for.
    pub os_hidden: bool,
    /// md5 of the data, hex.
    #[oai(nullable)]
    pub checksum: Option<String>,
    /// The algorithm of `os_hash_value` (`sha512` by default).
    #[oai(nullable)]
    pub os_hash_algo: Option<String>,
    /// The secure hash of the data, hex.
    #[oai(nullable)]
    pub os_hash_value: Option<String>,
    /// The owning project's id.
    #[oai(nullable)]
    pub owner: Option<String>,
    /// Size of the data in bytes.
    #[oai(nullable)]
    pub size: Option<i64>,
    /// Size of the virtual disk in bytes, when the format tells it.
    #[oai(nullable)]
    pub virtual_size: Option<i64>,
    #[oai(nullable)]
    pub container_format: Option<String>,
    #[oai(nullable)]
    pub disk_format: Option<String>,
    /// Disk space needed to boot the image, in GiB.
    pub min_disk: i64,
    /// RAM needed to boot the image, in MiB.
    pub min_ram: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tags: Vec<String>,
    /// This image's path.
    #[oai(rename = "self")]
    pub self_: String,
    /// The path of this image's data.
    pub file: String,
    /// The path of the image schema.
    pub schema: String,
    /// Stores holding the data, comma-separated.
    pub stores: Option<String>,
    #[oai(flatten)]
    pub properties: BTreeMap<String, String>,
}

/// A new image. Every key is optional; unknown keys become extra properties (strings).
#[derive(Debug, Object)]
#[oai(rename = "ImageCreate")]
pub struct ImageCreateDoc {
    /// The id to give the image; a new UUID when absent.
    pub id: Option<uuid::Uuid>,
    #[oai(nullable)]
    pub name: Option<String>,
    pub visibility: Option<ImageVisibility>,
    pub protected: Option<bool>,
    pub os_hidden: Option<bool>,
    /// The owning project (administrators only); the caller's project when absent.
    #[oai(nullable)]
    pub owner: Option<String>,
    pub container_format: Option<ContainerFormat>,
    pub disk_format: Option<DiskFormat>,
    #[oai(validator(minimum(value = "0")))]
    pub min_disk: Option<i64>,
    #[oai(validator(minimum(value = "0")))]
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
    pub op: PatchOp,
    /// A JSON pointer to a top-level attribute, e.g. `/name`.
    pub path: String,
    /// The new value (`add` and `replace`).
    pub value: Option<poem_openapi::types::Any<serde_json::Value>>,
}

/// A JSON-patch operation's verb.
#[derive(Debug, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

/// A task, as the tasks API shows it (lists leave out `input`, `result` and `message`).
#[derive(Debug, Object)]
#[oai(rename = "Task")]
pub struct TaskDoc {
    pub id: uuid::Uuid,
    /// `import` (tasks API), `api_image_import` or `location_import`.
    #[oai(rename = "type")]
    pub kind: String,
    pub status: TaskStatus,
    #[oai(nullable)]
    pub owner: Option<String>,
    /// What the task was asked to do (an object).
    pub input: Option<poem_openapi::types::Any<Value>>,
    /// What it made (an object), once it succeeded.
    #[oai(nullable)]
    pub result: Option<poem_openapi::types::Any<Value>>,
    pub message: Option<String>,
    /// The image the task works on.
    #[oai(nullable)]
    pub image_id: Option<uuid::Uuid>,
    #[oai(nullable)]
    pub request_id: Option<String>,
    #[oai(nullable)]
    pub user_id: Option<String>,
    /// When a finished task is purged.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(rename = "self")]
    pub self_: String,
    pub schema: String,
}

/// One page of tasks.
#[derive(Debug, Object)]
#[oai(rename = "Tasks")]
pub struct TasksDoc {
    pub tasks: Vec<TaskDoc>,
    /// The first page of this query.
    pub first: String,
    /// The next page, when this one was full.
    pub next: Option<String>,
    pub schema: String,
}

/// A task as an image's task list shows it: the stored row, times in ISO 8601 without a
/// zone (UTC), and no links.
#[derive(Debug, Object)]
#[oai(rename = "ImageTask")]
pub struct ImageTaskDoc {
    pub id: uuid::Uuid,
    #[oai(rename = "type")]
    pub kind: String,
    pub status: TaskStatus,
    #[oai(nullable)]
    pub owner: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
    #[oai(nullable)]
    pub expires_at: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
    pub created_at: String,
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
    pub updated_at: String,
    /// Always null.
    #[oai(nullable)]
    pub deleted_at: Option<String>,
    /// Always false.
    pub deleted: bool,
    #[oai(nullable)]
    pub image_id: Option<uuid::Uuid>,
    #[oai(nullable)]
    pub request_id: Option<String>,
    #[oai(nullable)]
    pub user_id: Option<String>,
    pub input: BTreeMap<String, poem_openapi::types::Any<Value>>,
    #[oai(nullable)]
    pub result: Option<BTreeMap<String, poem_openapi::types::Any<Value>>>,
    pub message: String,
}

/// The tasks that worked on an image.
#[derive(Debug, Object)]
#[oai(rename = "ImageTasks")]
pub struct ImageTasksDoc {
    pub tasks: Vec<ImageTaskDoc>,
}

/// One quota's limit and use.
#[derive(Debug, Object)]
#[oai(rename = "QuotaUsage")]
pub struct QuotaUsageDoc {
    /// The limit; -1 when unlimited.
    pub limit: i64,
    pub usage: i64,
}

/// The caller's project's quota usage, keyed by resource (`image_size_total`,
/// `image_count_total`, `image_stage_total`, `image_count_uploading`).
#[derive(Debug, Object)]
#[oai(rename = "Usage")]
pub struct UsageDoc {
    pub usage: BTreeMap<String, QuotaUsageDoc>,
}

/// The import methods this site offers.
#[derive(Debug, Object)]
#[oai(rename = "ImportMethods")]
pub struct ImportMethodsDoc {
    #[oai(rename = "import-methods")]
    pub import_methods: ImportMethodsValueDoc,
}

/// The list of methods, as a discovery value.
#[derive(Debug, Object)]
#[oai(rename = "ImportMethodsValue")]
pub struct ImportMethodsValueDoc {
    pub description: String,
    #[oai(rename = "type")]
    pub kind: String,
    /// `glance-direct`, `web-download`, `copy-image`, `glance-download`.
    pub value: Vec<String>,
}

/// The API versions this server speaks.
#[derive(Debug, Object)]
#[oai(rename = "Versions")]
pub struct VersionsDoc {
    pub versions: Vec<VersionDoc>,
}

/// One API version.
#[derive(Debug, Object)]
#[oai(rename = "Version")]
pub struct VersionDoc {
    /// `v2.N`.
    pub id: String,
    /// `CURRENT`, `SUPPORTED` or `EXPERIMENTAL`.
    pub status: String,
    pub links: Vec<LinkDoc>,
}

/// A link.
#[derive(Debug, Object)]
#[oai(rename = "Link")]
pub struct LinkDoc {
    pub rel: String,
    pub href: String,
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use serde_json::{Map, json};

    use super::*;
    use crate::domain::Location;

    /// The view built key by key, as Glance's is: what `ImageView` must write.
    fn reference(img: &Image) -> Value {
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

    #[test]
    fn image_view_writes_what_glance_shows() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut img = Image::new(Uuid::new_v4(), Some("p".into()), at);
        img.name = Some("n\u{e9}\"".into());
        img.size = Some(42);
        img.tags = ["b".into(), "a".into()].into();
        img.properties = BTreeMap::from([
            ("os_distro".into(), "debian".into()),
            ("status".into(), "hidden by the base key".into()),
            ("stores".into(), "hidden by the locations".into()),
            ("zzz".into(), "".into()),
            ("aaa".into(), "x".into()),
        ]);
        let mut metadata = serde_json::Map::new();
        metadata.insert("store".into(), "fast".into());
        img.locations = vec![Location {
            url: "file:///x".into(),
            metadata,
            status: "active".into(),
        }];
        assert_eq!(
            serde_json::to_string(&ImageView(&img)).unwrap(),
            reference(&img).to_string()
        );
        assert_eq!(image(&img), reference(&img));
        img.locations.clear();
        assert_eq!(
            serde_json::to_string(&ImageView(&img)).unwrap(),
            reference(&img).to_string()
        );
    }
}
