//! `/v2/schemas/metadefs/*`: the JSON-Schema documents of metadef resources.

use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use serde_json::{Value, json};

use super::docs::JsonSchemaDoc;
use crate::api::ApiTags;
use crate::api::body::JsonDoc;
use crate::api::error::{ApiError, RequestError};
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
    async fn show(&self, name: Path<String>) -> Result<JsonDoc<JsonSchemaDoc>, ApiError> {
        schema(&name)
            .map(JsonDoc::new)
            .ok_or_else(|| RequestError::NoSuchResource.into())
    }
}

/// The schema called `name`, as Glance serves it: a single resource, or a list of them whose
/// item is that resource's schema, with the shared `definitions` lifted to the top.
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
    let mut item = one(single)?;
    let definitions = item.as_object_mut()?.remove("definitions");
    let items = if name == "properties" {
        // In a list, a property's name is its key.
        item["required"] = json!(["type", "title"]);
        json!({"type": "object", "additionalProperties": item})
    } else {
        json!({"type": "array", "items": item})
    };
    let mut list = json!({
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
    });
    if let Some(definitions) = definitions {
        list["definitions"] = definitions;
    }
    Some(list)
}

fn name_string() -> Value {
    json!({"type": "string", "maxLength": MAX_NAME})
}

/// `created_at` and `updated_at`, described for `what` ("namespace", "object", …).
fn timestamps(mut properties: Value, created: &str, modified: &str) -> Value {
    for (key, description) in [("created_at", created), ("updated_at", modified)] {
        properties[key] = json!({
            "type": "string",
            "readOnly": true,
            "description": description,
            "format": "date-time",
        });
    }
    properties
}

fn links_to_self(mut properties: Value) -> Value {
    for key in ["schema", "self"] {
        properties[key] = json!({"readOnly": true, "type": "string"});
    }
    properties
}

/// The reusable parts the schemas refer to with `$ref`. `stringArray` lists at least one string
/// where a property's `required` stands alone, and maybe none inside namespaces and objects.
fn definitions(with_property: bool, non_empty_arrays: bool) -> Value {
    let mut string_array =
        json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true});
    if non_empty_arrays {
        string_array["minItems"] = json!(1);
    }
    let mut definitions = json!({
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {
            "allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]
        },
        "stringArray": string_array,
    });
    if with_property {
        definitions["property"] = json!({
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "type"],
                "properties": property_fields(),
            },
        });
    }
    definitions
}

/// What a property definition may say (JSON-Schema's own keywords, and Glance's `operators`
/// and `readonly`).
fn property_fields() -> Value {
    let types = json!([
        "array", "boolean", "integer", "number", "object", "string", null
    ]);
    json!({
        "name": name_string(),
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": types},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": types}, "enum": {"type": "array"}},
        },
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": false},
        "additionalItems": {"type": "boolean"},
    })
}

fn namespace() -> Value {
    let plain = |fields: Value| json!({"type": "object", "properties": fields});
    let string = || json!({"type": "string"});
    let properties = links_to_self(timestamps(
        json!({
            "namespace": {
                "type": "string",
                "description": "The unique namespace text.",
                "maxLength": MAX_NAME,
            },
            "display_name": {
                "type": "string",
                "description": "The user friendly name for the namespace. Used by UI if available.",
                "maxLength": MAX_NAME,
            },
            "description": {
                "type": "string",
                "description": "Provides a user friendly description of the namespace.",
                "maxLength": 500,
            },
            "visibility": {
                "type": "string",
                "description": "Scope of namespace accessibility.",
                "enum": ["public", "private"],
            },
            "protected": {
                "type": "boolean",
                "description": "If true, namespace will not be deletable.",
            },
            "owner": {
                "type": "string",
                "description": "Owner of the namespace.",
                "maxLength": 255,
            },
            // Nested resources as a namespace is written in one go (a definition file).
            "resource_type_associations": {
                "type": "array",
                "items": plain(json!({
                    "name": string(),
                    "prefix": string(),
                    "properties_target": string(),
                })),
            },
            "properties": {"$ref": "#/definitions/property"},
            "objects": {
                "type": "array",
                "items": plain(json!({
                    "name": string(),
                    "description": string(),
                    "required": {"$ref": "#/definitions/stringArray"},
                    "properties": {"$ref": "#/definitions/property"},
                })),
            },
            "tags": {"type": "array", "items": plain(json!({"name": string()}))},
        }),
        "Date and time of namespace creation",
        "Date and time of the last namespace modification",
    ));
    json!({
        "name": "namespace",
        "properties": properties,
        "additionalProperties": false,
        "definitions": definitions(true, false),
        "required": ["namespace"],
    })
}

fn object() -> Value {
    let properties = links_to_self(timestamps(
        json!({
            "name": name_string(),
            "description": {"type": "string"},
            "required": {"$ref": "#/definitions/stringArray"},
            "properties": {"$ref": "#/definitions/property"},
        }),
        "Date and time of object creation",
        "Date and time of the last object modification",
    ));
    json!({
        "name": "object",
        "properties": properties,
        "additionalProperties": false,
        "definitions": definitions(true, false),
        "required": ["name"],
    })
}

fn property() -> Value {
    json!({
        "name": "property",
        "properties": property_fields(),
        "additionalProperties": false,
        "definitions": definitions(false, true),
        "required": ["type", "title", "name"],
    })
}

fn resource_type() -> Value {
    let described = |description: &str| json!({"type": "string", "description": description, "maxLength": MAX_NAME});
    let properties = timestamps(
        json!({
            "name": described(
                "Resource type names should be aligned with Heat resource types whenever \
                 possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html"
            ),
            "prefix": described(
                "Specifies the prefix to use for the given resource type. Any properties in \
                 the namespace should be prefixed with this prefix when being applied to the \
                 specified resource type. Must include prefix separator (e.g. a colon :)."
            ),
            "properties_target": described(
                "Some resource types allow more than one key / value pair per instance.  For \
                 example, Cinder allows user and image metadata on volumes. Only the image \
                 properties metadata is evaluated by Nova (scheduling or drivers). This \
                 property allows a namespace target to remove the ambiguity."
            ),
        }),
        "Date and time of resource type association",
        "Date and time of the last resource type association modification",
    );
    json!({
        "name": "resource_type_association",
        "properties": properties,
        "additionalProperties": false,
        "required": ["name"],
    })
}

fn tag() -> Value {
    json!({
        "name": "tag",
        "properties": timestamps(
            json!({"name": name_string()}),
            "Date and time of tag creation",
            "Date and time of the last tag modification",
        ),
        "additionalProperties": false,
        "required": ["name"],
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
