//! `/v2/schemas/image` and `/v2/schemas/images`: the JSON-Schema documents
//! clients (python-glanceclient among them) validate images against.

use std::sync::Arc;

use poem::web::Data;

use poem_openapi::OpenApi;
use serde_json::{Value, json};

use super::ApiTags;
use super::body::JsonDoc;
use super::metadefs::docs::JsonSchemaDoc;
use crate::app::App;

pub struct SchemasApi;

#[OpenApi(tag = "ApiTags::Schemas")]
impl SchemasApi {
    /// The JSON-Schema of one image.
    #[oai(
        path = "/v2/schemas/image",
        method = "get",
        operation_id = "showImageSchema"
    )]
    async fn image(&self, app: Data<&Arc<App>>) -> JsonDoc<JsonSchemaDoc> {
        JsonDoc::new(image_schema(app.0))
    }

    /// The JSON-Schema of a page of images.
    #[oai(
        path = "/v2/schemas/images",
        method = "get",
        operation_id = "showImagesSchema"
    )]
    async fn images(&self, app: Data<&Arc<App>>) -> JsonDoc<JsonSchemaDoc> {
        let image = image_schema(app.0);
        JsonDoc::new(json!({
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": image},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }))
    }
}

#[OpenApi(tag = "ApiTags::Schemas")]
impl SharingSchemasApi {
    /// The JSON-Schema of one image member.
    #[oai(
        path = "/v2/schemas/member",
        method = "get",
        operation_id = "showMemberSchema"
    )]
    async fn member(&self) -> JsonDoc<JsonSchemaDoc> {
        JsonDoc::new(member_schema())
    }

    /// The JSON-Schema of an image's member list.
    #[oai(
        path = "/v2/schemas/members",
        method = "get",
        operation_id = "showMembersSchema"
    )]
    async fn members(&self) -> JsonDoc<JsonSchemaDoc> {
        JsonDoc::new(json!({
            "name": "members",
            "properties": {
                "members": {"type": "array", "items": member_schema()},
                "schema": {"type": "string"},
            },
            "links": [{"rel": "describedby", "href": "{schema}"}],
        }))
    }

    /// The JSON-Schema of one task.
    #[oai(
        path = "/v2/schemas/task",
        method = "get",
        operation_id = "showTaskSchema"
    )]
    async fn task(&self) -> JsonDoc<JsonSchemaDoc> {
        JsonDoc::new(task_schema())
    }

    /// The JSON-Schema of a page of tasks.
    #[oai(
        path = "/v2/schemas/tasks",
        method = "get",
        operation_id = "showTasksSchema"
    )]
    async fn tasks(&self) -> JsonDoc<JsonSchemaDoc> {
        let mut task = task_schema();
        if let Some(props) = task["properties"].as_object_mut() {
            for hidden in ["input", "result", "message"] {
                props.remove(hidden);
            }
        }
        JsonDoc::new(json!({
            "name": "tasks",
            "properties": {
                "tasks": {"type": "array", "items": task},
                "schema": {"type": "string"},
            },
            "links": [{"rel": "describedby", "href": "{schema}"}],
        }))
    }
}

/// Member and task schemas (documents that do not depend on configuration).
pub struct SharingSchemasApi;

fn member_schema() -> Value {
    json!({
        "name": "member",
        "properties": {
            "created_at": {"type": "string", "description": "Date and time of image member creation"},
            "image_id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$", "description": "An identifier for the image"},
            "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
            "status": {"type": "string", "enum": ["pending", "accepted", "rejected"], "description": "The status of this image member"},
            "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
            "schema": {"type": "string", "readOnly": true},
        },
    })
}

fn task_schema() -> Value {
    let text = |description: &str| json!({"type": "string", "description": description});
    json!({
        "name": "task",
        "properties": {
            "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$", "description": "An identifier for the task"},
            "type": {"type": "string", "enum": ["import", "api_image_import", "location_import"], "description": "The type of task represented by this content"},
            "status": {"type": "string", "enum": ["pending", "processing", "success", "failure"], "description": "The current status of this task"},
            "input": {"type": ["null", "object"], "description": "The parameters required by task, JSON blob"},
            "result": {"type": ["null", "object"], "description": "The result of current task, JSON blob"},
            "owner": text("An identifier for the owner of this task"),
            "message": text("Human-readable informative message only included when appropriate (usually on failure)"),
            "image_id": text("Image associated with the task"),
            "request_id": text("Human-readable informative request-id"),
            "user_id": text("User associated with the task"),
            "expires_at": {"type": ["null", "string"], "description": "Datetime when this resource would be subject to removal"},
            "created_at": text("Datetime when this resource was created"),
            "updated_at": text("Datetime when this resource was updated"),
            "self": {"readOnly": true, "type": "string"},
            "schema": {"readOnly": true, "type": "string"},
        },
    })
}

/// `locations`, with the `validation_data` a caller may give when adding one.
fn locations_schema() -> Value {
    let validation_data = json!({
        "description": "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
        "type": "object",
        "writeOnly": true,
        "additionalProperties": false,
        "properties": {
            "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
            "os_hash_algo": {"type": "string", "maxLength": 64},
            "os_hash_value": {"type": "string", "maxLength": 128},
        },
        "required": ["os_hash_algo", "os_hash_value"],
    });
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": validation_data,
            },
            "required": ["url", "metadata"],
        },
        "description": "A set of URLs to access the image file kept in external store",
    })
}

fn nullable_enum(values: &[String], description: &str) -> Value {
    let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
    values.insert(0, Value::Null);
    json!({"type": ["null", "string"], "enum": values, "description": description})
}

fn read_only(mut v: Value) -> Value {
    v["readOnly"] = json!(true);
    v
}

pub fn image_schema(app: &App) -> Value {
    let string = |max: u32, description: &str| json!({"type": ["null", "string"], "maxLength": max, "description": description});
    let time = |description: &str| read_only(json!({"type": "string", "description": description}));
    json!({
        "name": "image",
        "additionalProperties": {"type": "string"},
        "properties": {
            "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
                   "description": "An identifier for the image"},
            "name": string(255, "Descriptive name for the image"),
            "status": read_only(json!({"type": "string", "description": "Status of the image",
                "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]})),
            "visibility": {"type": "string", "enum": ["community", "public", "private", "shared"], "description": "Scope of image accessibility"},
            "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
            "os_hidden": {"type": "boolean", "description": "If true, image will not appear in default image list response."},
            "checksum": read_only(string(32, "md5 hash of image contents.")),
            "os_hash_algo": read_only(string(64, "Algorithm to calculate the os_hash_value")),
            "os_hash_value": read_only(string(128, "Hexdigest of the image contents using the algorithm specified by the os_hash_algo")),
            "owner": string(255, "Owner of the image"),
            "size": read_only(json!({"type": ["null", "integer"], "description": "Size of image file in bytes"})),
            "virtual_size": read_only(json!({"type": ["null", "integer"], "description": "Virtual size of image in bytes"})),
            "container_format": nullable_enum(&app.formats.container, "Format of the container"),
            "disk_format": nullable_enum(&app.formats.disk, "Format of the disk"),
            "created_at": time("Date and time of image registration"),
            "updated_at": time("Date and time of the last image modification"),
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}, "description": "List of strings related to the image"},
            "direct_url": read_only(json!({"type": "string", "description": "URL to access the image file kept in external store"})),
            "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
            "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
            "self": read_only(json!({"type": "string", "description": "An image self url"})),
            "file": read_only(json!({"type": "string", "description": "An image file url"})),
            "stores": read_only(json!({"type": "string", "description": "Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers."})),
            "schema": read_only(json!({"type": "string", "description": "An image schema url"})),
            "locations": locations_schema(),
        },
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}
