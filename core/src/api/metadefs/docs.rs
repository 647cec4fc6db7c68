//! The documented shapes of metadef bodies. Handlers build their answers as JSON (see the
//! functions of the parent module); these types only describe them in the spec.
//!
//! Optional fields that are unset are left out, never `null`, as Glance leaves them out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Any;
use serde_json::Value;

use crate::api::documented::NamespaceVisibility;

/// A namespace, with what it holds when shown on its own.
#[derive(Debug, Object)]
#[oai(rename = "MetadefNamespace")]
pub struct NamespaceDoc {
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: NamespaceVisibility,
    /// A protected namespace and its content cannot be deleted.
    pub protected: bool,
    /// The owning project's id.
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    #[oai(rename = "self")]
    pub self_: String,
    pub schema: String,
    pub resource_type_associations: Option<Vec<AssociationDoc>>,
    /// Property definitions keyed by name.
    pub properties: Option<BTreeMap<String, PropertyDoc>>,
    pub objects: Option<Vec<ObjectDoc>>,
    pub tags: Option<Vec<TagNameDoc>>,
}

/// A new namespace, or a namespace's replacement (`PUT` takes only its own fields).
#[derive(Debug, Object)]
#[oai(rename = "MetadefNamespaceCreate")]
pub struct NamespaceCreateDoc {
    #[oai(validator(min_length = 1, max_length = 80))]
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<NamespaceVisibility>,
    pub protected: Option<bool>,
    pub owner: Option<String>,
    pub resource_type_associations: Option<Vec<AssociationCreateDoc>>,
    pub properties: Option<BTreeMap<String, PropertyDoc>>,
    pub objects: Option<Vec<ObjectCreateDoc>>,
    pub tags: Option<Vec<TagNameDoc>>,
}

/// One page of namespaces.
#[derive(Debug, Object)]
#[oai(rename = "MetadefNamespaces")]
pub struct NamespacesDoc {
    pub namespaces: Vec<NamespaceDoc>,
    /// The first page of this query.
    pub first: String,
    /// The next page, when this one was full.
    pub next: Option<String>,
    pub schema: String,
}

/// A property definition: a JSON-Schema fragment. Its `default` shows as text.
#[derive(Debug, Object)]
#[oai(rename = "MetadefProperty")]
pub struct PropertyDoc {
    /// The property's name (only on a property shown or written on its own).
    pub name: Option<String>,
    #[oai(nullable)]
    pub title: Option<String>,
    /// JSON-Schema type: array, boolean, integer, number, object or string.
    #[oai(rename = "type", nullable)]
    pub kind: Option<String>,
    #[oai(nullable)]
    pub description: Option<String>,
    /// Other JSON-Schema keywords (`enum`, `default`, `minimum`, `items`, `readonly`, ...).
    #[oai(flatten)]
    pub keywords: BTreeMap<String, Any<Value>>,
}

/// A namespace's properties, keyed by name.
#[derive(Debug, Object)]
#[oai(rename = "MetadefProperties")]
pub struct PropertiesDoc {
    pub properties: BTreeMap<String, PropertyDoc>,
}

/// An object: a named group of property definitions.
#[derive(Debug, Object)]
#[oai(rename = "MetadefObject")]
pub struct ObjectDoc {
    pub name: String,
    pub description: Option<String>,
    /// Names of the properties an instance must set.
    pub required: Option<Vec<String>>,
    pub properties: Option<BTreeMap<String, PropertyDoc>>,
    pub schema: Option<String>,
    #[oai(rename = "self")]
    pub self_: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A new object, or an object's replacement.
#[derive(Debug, Object)]
#[oai(rename = "MetadefObjectCreate")]
pub struct ObjectCreateDoc {
    #[oai(validator(min_length = 1, max_length = 80))]
    pub name: String,
    pub description: Option<String>,
    pub required: Option<Vec<String>>,
    pub properties: Option<BTreeMap<String, PropertyDoc>>,
}

/// A namespace's objects.
#[derive(Debug, Object)]
#[oai(rename = "MetadefObjects")]
pub struct ObjectsDoc {
    pub objects: Vec<ObjectDoc>,
    pub schema: String,
}

/// A tag.
#[derive(Debug, Object)]
#[oai(rename = "MetadefTag")]
pub struct TagDoc {
    pub name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A tag as lists show it, and as requests write it.
#[derive(Debug, Object)]
#[oai(rename = "MetadefTagName")]
pub struct TagNameDoc {
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: String,
}

/// A list of tags; also the body that creates several at once.
#[derive(Debug, Object)]
#[oai(rename = "MetadefTags")]
pub struct TagsDoc {
    pub tags: Vec<TagNameDoc>,
}

/// A resource type (`OS::Glance::Image`, `OS::Nova::Flavor`, ...).
#[derive(Debug, Object)]
#[oai(rename = "MetadefResourceType")]
pub struct ResourceTypeDoc {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every resource type.
#[derive(Debug, Object)]
#[oai(rename = "MetadefResourceTypes")]
pub struct ResourceTypesDoc {
    pub resource_types: Vec<ResourceTypeDoc>,
}

/// A namespace's association with a resource type.
#[derive(Debug, Object)]
#[oai(rename = "MetadefResourceTypeAssociation")]
pub struct AssociationDoc {
    pub name: String,
    /// Prefix of the namespace's property names on this resource type.
    pub prefix: Option<String>,
    /// Where on the resource the properties go (e.g. `image` on a volume).
    pub properties_target: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A new association.
#[derive(Debug, Object)]
#[oai(rename = "MetadefResourceTypeAssociationCreate")]
pub struct AssociationCreateDoc {
    #[oai(validator(min_length = 1, max_length = 80))]
    pub name: String,
    pub prefix: Option<String>,
    pub properties_target: Option<String>,
}

/// A namespace's resource-type associations.
#[derive(Debug, Object)]
#[oai(rename = "MetadefResourceTypeAssociations")]
pub struct AssociationsDoc {
    pub resource_type_associations: Vec<AssociationDoc>,
}

/// A JSON-Schema document as Glance serves it (draft 4 keywords).
#[derive(Debug, Object)]
#[oai(rename = "JsonSchema")]
pub struct JsonSchemaDoc {
    /// The schema's name (`image`, `images`, `metadefs/namespace`, ...).
    pub name: String,
    /// Other JSON-Schema keywords (`properties`, `links`, `definitions`, ...).
    #[oai(flatten)]
    pub keywords: BTreeMap<String, Any<Value>>,
}
