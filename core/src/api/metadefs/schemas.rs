//! `/v2/schemas/metadefs/*`: the JSON-Schema documents of metadef resources.

use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::types::Any;
use serde_json::{Value, json};

use crate::api::ApiTags;
use crate::api::body::JsonDoc;
use crate::api::error::ApiError;
use crate::domain::metadefs::MAX_NAME;

pub struct MetadefSchemasApi;

#[OpenApi(tag = "ApiTags::Schemas")]
impl MetadefSchemasApi {
    /// The JSON-Schema of one metadef resource (`namespace`, `object`,
    /// `property`, `resource_type`, `tag`) or of a list of them (plural).
    #[oai(
        path = "/v2/schemas/metadefs/:name",
        method = "get",
        operation_id = "showMetadefSchema"
    )]
    async fn show(&self, name: Path<String>) -> Result<JsonDoc<Any<Value>>, ApiError> {
        schema(&name).map(JsonDoc::new).ok_or_else(|| {
            ApiError::new(
                poem::http::StatusCode::NOT_FOUND,
                "The resource could not be found.",
            )
        })
    }
}

fn schema(name: &str) -> Option<Value> {
    let one = |name: &str| match name {
        "namespace" => Some(namespace()),
        "object" => Some(object()),
        "property" => Some(property()),
        "resource_type" => Some(resource_type()),
        "tag" => Some(tag()),
        _ => None,
    };
    if let Some(single) = one(name) {
        return Some(single);
    }
    let (single, key) = match name {
        "namespaces" => ("namespace", "namespaces"),
        "objects" => ("object", "objects"),
        "properties" => ("property", "properties"),
        "resource_types" => ("resource_type", "resource_type_associations"),
        "tags" => ("tag", "tags"),
        _ => return None,
    };
    let item = one(single)?;
    let items = if name == "properties" {
        json!({"type": "object", "additionalProperties": item})
    } else {
        json!({"type": "array", "items": item})
    };
    Some(json!({
        "name": key,
        "properties": {
            key: items,
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }))
}

fn name_string() -> Value {
    json!({"type": "string", "maxLength": MAX_NAME})
}

fn timestamps(mut properties: Value) -> Value {
    for key in ["created_at", "updated_at"] {
        properties[key] = json!({"type": "string", "readOnly": true, "format": "date-time"});
    }
    properties
}

fn property_definition() -> Value {
    let types = json!([
        "array", "boolean", "integer", "number", "object", "string", null
    ]);
    json!({
        "type": "object",
        "required": ["title", "type"],
        "properties": {
            "name": name_string(),
            "title": {"type": "string"},
            "description": {"type": "string"},
            "operators": {"type": "array", "items": {"type": "string"}},
            "type": {"type": "string", "enum": types},
            "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "maxLength": {"type": "integer", "minimum": 0},
            "minLength": {"type": "integer", "minimum": 0},
            "pattern": {"type": "string", "format": "regex"},
            "enum": {"type": "array"},
            "readonly": {"type": "boolean"},
            "default": {},
            "items": {"type": "object", "properties": {"type": {"type": "string", "enum": types}, "enum": {"type": "array"}}},
            "maxItems": {"type": "integer", "minimum": 0},
            "minItems": {"type": "integer", "minimum": 0},
            "uniqueItems": {"type": "boolean", "default": false},
            "additionalItems": {"type": "boolean"},
        },
    })
}

fn association_schema() -> Value {
    json!({
        "type": "object",
        "required": ["name"],
        "properties": timestamps(json!({
            "name": name_string(),
            "prefix": name_string(),
            "properties_target": name_string(),
        })),
    })
}

fn namespace() -> Value {
    json!({
        "name": "namespace",
        "additionalProperties": false,
        "required": ["namespace"],
        "properties": timestamps(json!({
            "namespace": name_string(),
            "display_name": name_string(),
            "description": {"type": "string", "maxLength": 500},
            "visibility": {"type": "string", "enum": ["public", "private"]},
            "protected": {"type": "boolean"},
            "owner": {"type": "string", "maxLength": 255},
            "schema": {"type": "string", "readOnly": true},
            "self": {"type": "string", "readOnly": true},
            "resource_type_associations": {"type": "array", "items": association_schema()},
            "properties": {"type": "object", "additionalProperties": property_definition()},
            "objects": {"type": "array", "items": object()},
            "tags": {"type": "array", "items": tag()},
        })),
    })
}

fn object() -> Value {
    json!({
        "name": "object",
        "additionalProperties": false,
        "required": ["name"],
        "properties": timestamps(json!({
            "name": name_string(),
            "description": {"type": "string"},
            "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "properties": {"type": "object", "additionalProperties": property_definition()},
            "schema": {"type": "string", "readOnly": true},
            "self": {"type": "string", "readOnly": true},
        })),
    })
}

fn property() -> Value {
    let mut def = property_definition();
    def["name"] = json!("property");
    def["required"] = json!(["name", "title", "type"]);
    def
}

fn resource_type() -> Value {
    let mut schema = association_schema();
    schema["name"] = json!("resource_type_association");
    schema["additionalProperties"] = json!(false);
    schema
}

fn tag() -> Value {
    json!({
        "name": "tag",
        "additionalProperties": false,
        "required": ["name"],
        "properties": timestamps(json!({"name": name_string()})),
    })
}

#[cfg(test)]
mod tests {
    use super::schema;

    #[test]
    fn every_documented_name_has_a_schema() {
        for name in [
            "namespace",
            "namespaces",
            "object",
            "objects",
            "property",
            "properties",
            "resource_type",
            "resource_types",
            "tag",
            "tags",
        ] {
            assert!(schema(name).is_some(), "{name}");
        }
        assert!(schema("image").is_none());
    }
}
