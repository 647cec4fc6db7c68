//! Metadata definitions (metadefs): namespaces and the objects, properties,
//! tags and resource-type associations they hold, with the request-body rules
//! of Glance's metadef schemas. Nothing here does I/O.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{Scope, SortDir};

/// Longest namespace, object, property, tag, resource-type and prefix name.
pub const MAX_NAME: usize = 80;
const MAX_DESCRIPTION: usize = 500;
const MAX_OWNER: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceVisibility {
    Public,
    Private,
}

impl NamespaceVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    /// The name, unique across all owners.
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: NamespaceVisibility,
    /// A protected namespace, and everything in it, cannot be deleted.
    pub protected: bool,
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    pub name: String,
    /// Seeded by a definitions load rather than created through the API.
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

/// A namespace's association with a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct Association {
    /// The resource type's name.
    pub name: String,
    /// Prepended to property names when the namespace is applied to this resource type.
    pub prefix: Option<String>,
    /// Where on the resource the properties go (e.g. `image` for a volume).
    pub properties_target: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetadefObject {
    pub name: String,
    pub description: Option<String>,
    pub required: Vec<String>,
    /// Property name to property definition.
    pub properties: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    /// The JSON-Schema definition (`title`, `type`, …), without `name`.
    pub schema: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// `None` until changed through the API, for what a definitions load made (Glance
    /// leaves it null, and its answers leave it out).
    pub updated_at: Option<DateTime<Utc>>,
}

/// A namespace with everything it holds, as a create request or a
/// definitions file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceDocument {
    pub namespace: Namespace,
    pub associations: Vec<Association>,
    pub objects: Vec<MetadefObject>,
    pub properties: Vec<Property>,
    pub tags: Vec<Tag>,
}

/// Columns a namespace or tag list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadefSortKey {
    /// The namespace's or the tag's name.
    Name,
    CreatedAt,
    UpdatedAt,
}

/// What a namespace list asks for.
#[derive(Debug, Clone)]
pub struct NamespaceQuery {
    pub scope: Scope,
    pub visibility: Option<NamespaceVisibility>,
    /// Only namespaces associated with one of these; `None` filters nothing.
    pub resource_types: Option<Vec<String>>,
    pub sort_key: MetadefSortKey,
    pub sort_dir: SortDir,
    /// The last namespace of the previous page.
    pub marker: Option<Namespace>,
    pub limit: u32,
}

/// What a tag list asks for, within one namespace.
#[derive(Debug, Clone)]
pub struct TagQuery {
    pub sort_key: MetadefSortKey,
    pub sort_dir: SortDir,
    /// The last tag of the previous page.
    pub marker: Option<Tag>,
    pub limit: u32,
}

/// Who may see a namespace: administrators, everyone when it is public,
/// otherwise its owner's project only (Glance's reader rule: an unowned
/// private namespace is for administrators).
pub fn can_see(scope: &Scope, ns: &Namespace) -> bool {
    scope.is_admin
        || ns.visibility == NamespaceVisibility::Public
        || (scope.project_id.is_some() && ns.owner == scope.project_id)
}

/// A request body that breaks a metadef schema; the text names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Provided object does not match schema '{schema}': {reason}")]
pub struct Invalid {
    pub schema: &'static str,
    pub reason: String,
}

/// Keys the server sets; a body carrying one is refused (Glance: 403).
const READ_ONLY: [&str; 4] = ["self", "schema", "created_at", "updated_at"];

/// The first read-only key a body sets, if any.
pub fn read_only_key(body: &Value) -> Option<&'static str> {
    let fields = body.as_object()?;
    READ_ONLY.into_iter().find(|k| fields.contains_key(*k))
}

/// Reads the fields of one JSON object against one schema.
struct Fields<'a> {
    schema: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn new(schema: &'static str, value: &'a Value, allowed: &[&str]) -> Result<Self, Invalid> {
        let fail = |reason: String| Invalid { schema, reason };
        let map = value
            .as_object()
            .ok_or_else(|| fail(format!("{value} is not of type 'object'")))?;
        if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(fail(format!(
                "Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        Ok(Self { schema, map })
    }

    fn fail(&self, reason: String) -> Invalid {
        Invalid {
            schema: self.schema,
            reason,
        }
    }

    fn string(&self, key: &str, max: usize) -> Result<Option<String>, Invalid> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max => {
                Err(self.fail(format!("'{s}' is too long (at most {max} characters)")))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.fail(format!("{other} is not of type 'string'"))),
        }
    }

    fn name(&self, key: &str) -> Result<String, Invalid> {
        match self.string(key, MAX_NAME)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(self.fail(format!("'{key}' must not be empty"))),
            None => Err(self.fail(format!("'{key}' is a required property"))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, Invalid> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.fail(format!("{other} is not of type 'boolean'"))),
        }
    }

    fn array(&self, key: &str) -> Result<&'a [Value], Invalid> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.fail(format!("{other} is not of type 'array'"))),
        }
    }

    fn string_set(&self, key: &str) -> Result<Vec<String>, Invalid> {
        let mut out: Vec<String> = Vec::new();
        for item in self.array(key)? {
            let Value::String(s) = item else {
                return Err(self.fail(format!("{item} is not of type 'string'")));
            };
            if out.contains(s) {
                return Err(self.fail(format!("{key} has non-unique elements")));
            }
            out.push(s.clone());
        }
        Ok(out)
    }

    fn properties(&self, key: &str) -> Result<Map<String, Value>, Invalid> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(props)) => {
                for (name, def) in props {
                    property_schema(self.schema, name, def)?;
                }
                Ok(props.clone())
            }
            Some(other) => Err(self.fail(format!("{other} is not of type 'object'"))),
        }
    }
}

const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

/// Checks one property definition (Glance's `definitions.property`) and
/// returns it without its `name`.
fn property_schema(
    schema: &'static str,
    name: &str,
    def: &Value,
) -> Result<Map<String, Value>, Invalid> {
    let fail = |reason: String| Invalid { schema, reason };
    let Value::Object(map) = def else {
        return Err(fail(format!("{def} is not of type 'object'")));
    };
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(fail(format!(
            "property name '{name}' must be 1 to {MAX_NAME} characters"
        )));
    }
    for key in ["title", "type"] {
        if !map.contains_key(key) {
            return Err(fail(format!("'{key}' is a required property")));
        }
    }
    let is_type = |v: &Value| v.is_null() || v.as_str().is_some_and(|t| TYPES.contains(&t));
    for (key, v) in map {
        let ok = match key.as_str() {
            "name" => v.as_str().is_some_and(|n| n.chars().count() <= MAX_NAME),
            "title" | "description" | "pattern" => v.is_string(),
            "type" => is_type(v),
            "operators" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "required" => v.as_array().is_some_and(|a| {
                a.iter().all(Value::is_string)
                    && a.iter().enumerate().all(|(i, x)| !a[..i].contains(x))
            }),
            "minimum" | "maximum" => v.is_number(),
            "maxLength" | "minLength" | "maxItems" | "minItems" => v.is_u64(),
            "enum" => v.is_array(),
            "readonly" | "uniqueItems" | "additionalItems" => v.is_boolean(),
            "items" => v.as_object().is_some_and(|items| {
                items.get("type").is_none_or(is_type)
                    && items.get("enum").is_none_or(Value::is_array)
            }),
            _ => true,
        };
        if !ok {
            return Err(fail(format!(
                "{v} is not valid for '{key}' of property '{name}'"
            )));
        }
    }
    let mut out = map.clone();
    out.remove("name");
    Ok(out)
}

fn optional_visibility(f: &Fields<'_>) -> Result<Option<NamespaceVisibility>, Invalid> {
    match f.string("visibility", 32)? {
        None => Ok(None),
        Some(v) => NamespaceVisibility::parse(&v)
            .map(Some)
            .ok_or_else(|| f.fail(format!("'{v}' is not one of ['public', 'private']"))),
    }
}

const NAMESPACE_KEYS: [&str; 10] = [
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "resource_type_associations",
    "properties",
    "objects",
    "tags",
];

/// A namespace create body (or a definitions file), with everything it
/// embeds. `owner` is `None` when the body leaves it out; timestamps are `now`.
pub fn namespace_document(body: &Value, now: DateTime<Utc>) -> Result<NamespaceDocument, Invalid> {
    let f = Fields::new("namespace", body, &NAMESPACE_KEYS)?;
    let namespace = namespace_fields(&f, now)?;
    let mut associations: Vec<Association> = Vec::new();
    for item in f.array("resource_type_associations")? {
        let association = association(item, now)?;
        if associations.iter().any(|a| a.name == association.name) {
            return Err(f.fail(format!(
                "resource type '{}' appears twice",
                association.name
            )));
        }
        associations.push(association);
    }
    let mut objects: Vec<MetadefObject> = Vec::new();
    for item in f.array("objects")? {
        let object = object(item, now)?;
        if objects.iter().any(|o| o.name == object.name) {
            return Err(f.fail(format!("object '{}' appears twice", object.name)));
        }
        objects.push(object);
    }
    let properties = f
        .properties("properties")?
        .into_iter()
        .map(|(name, def)| Property {
            schema: def.as_object().cloned().unwrap_or_default(),
            name,
            created_at: now,
            updated_at: Some(now),
        })
        .collect();
    let tags = tag_list(f.array("tags")?, now)?;
    Ok(NamespaceDocument {
        namespace,
        associations,
        objects,
        properties,
        tags,
    })
}

/// A namespace update body: the namespace's own fields only; what it leaves
/// out takes its create default (Glance's full replacement).
pub fn namespace_update(body: &Value, now: DateTime<Utc>) -> Result<Namespace, Invalid> {
    let f = Fields::new("namespace", body, &NAMESPACE_KEYS)?;
    namespace_fields(&f, now)
}

fn namespace_fields(f: &Fields<'_>, now: DateTime<Utc>) -> Result<Namespace, Invalid> {
    Ok(Namespace {
        namespace: f.name("namespace")?,
        display_name: f.string("display_name", MAX_NAME)?,
        description: f.string("description", MAX_DESCRIPTION)?,
        visibility: optional_visibility(f)?.unwrap_or(NamespaceVisibility::Private),
        protected: f.boolean("protected")?.unwrap_or(false),
        owner: f.string("owner", MAX_OWNER)?,
        created_at: now,
        updated_at: Some(now),
    })
}

/// A resource-type association body: `{name, prefix?, properties_target?}`.
pub fn association(body: &Value, now: DateTime<Utc>) -> Result<Association, Invalid> {
    let f = Fields::new(
        "resource_type_association",
        body,
        &["name", "prefix", "properties_target"],
    )?;
    Ok(Association {
        name: f.name("name")?,
        prefix: f.string("prefix", MAX_NAME)?,
        properties_target: f.string("properties_target", MAX_NAME)?,
        created_at: now,
        updated_at: Some(now),
    })
}

/// An object body: `{name, description?, required?, properties?}`.
pub fn object(body: &Value, now: DateTime<Utc>) -> Result<MetadefObject, Invalid> {
    let f = Fields::new(
        "object",
        body,
        &["name", "description", "required", "properties"],
    )?;
    Ok(MetadefObject {
        name: f.name("name")?,
        // Unlike a namespace's, an object's description has no length limit
        // in Glance's schema; bundled definitions exceed 500 characters.
        description: f.string("description", usize::MAX)?,
        required: f.string_set("required")?,
        properties: f.properties("properties")?,
        created_at: now,
        updated_at: Some(now),
    })
}

/// A property body: a property definition that also carries its `name`.
pub fn property(body: &Value, now: DateTime<Utc>) -> Result<Property, Invalid> {
    // The schema's `required` order, which decides the first one reported missing.
    if let Value::Object(fields) = body
        && let Some(missing) = ["type", "title"]
            .into_iter()
            .find(|key| !fields.contains_key(*key))
    {
        return Err(Invalid {
            schema: "property",
            reason: format!("'{missing}' is a required property"),
        });
    }
    let name = match body.get("name") {
        Some(Value::String(n)) => n.clone(),
        Some(other) => {
            return Err(Invalid {
                schema: "property",
                reason: format!("{other} is not of type 'string'"),
            });
        }
        None => {
            return Err(Invalid {
                schema: "property",
                reason: "'name' is a required property".into(),
            });
        }
    };
    let schema = property_schema("property", &name, body)?;
    Ok(Property {
        name,
        schema,
        created_at: now,
        updated_at: Some(now),
    })
}

/// A tag body: `{name}`.
pub fn tag(body: &Value, now: DateTime<Utc>) -> Result<Tag, Invalid> {
    let f = Fields::new("tag", body, &["name"])?;
    Ok(Tag {
        name: f.name("name")?,
        created_at: now,
        updated_at: Some(now),
    })
}

/// A tag name given in a path.
pub fn tag_name(name: &str, now: DateTime<Utc>) -> Result<Tag, Invalid> {
    tag(&serde_json::json!({ "name": name }), now)
}

/// The tags of a bulk create body: `{"tags": [{name}, …]}`, in order, repeats included (a
/// repeated name is the store's conflict, as with a name already taken).
pub fn tags_body(body: &Value, now: DateTime<Utc>) -> Result<Vec<Tag>, Invalid> {
    let f = Fields::new("tags", body, &["tags"])?;
    f.array("tags")?.iter().map(|item| tag(item, now)).collect()
}

fn tag_list(items: &[Value], now: DateTime<Utc>) -> Result<Vec<Tag>, Invalid> {
    let mut tags: Vec<Tag> = Vec::new();
    for item in items {
        let tag = tag(item, now)?;
        if tags.iter().any(|t| t.name == tag.name) {
            return Err(Invalid {
                schema: "tags",
                reason: format!("tag '{}' appears twice", tag.name),
            });
        }
        tags.push(tag);
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn namespace_defaults_and_embedded_content() {
        let doc = namespace_document(
            &json!({"namespace": "OS::X", "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "x_"}],
                    "properties": {"p": {"title": "P", "type": "string"}},
                    "objects": [{"name": "o", "required": ["p"], "properties": {"p": {"title": "P", "type": "integer"}}}],
                    "tags": [{"name": "t"}]}),
            now(),
        )
        .unwrap();
        assert_eq!(doc.namespace.visibility, NamespaceVisibility::Private);
        assert!(!doc.namespace.protected && doc.namespace.owner.is_none());
        assert_eq!(doc.associations[0].prefix.as_deref(), Some("x_"));
        assert_eq!(doc.properties[0].schema["type"], "string");
        assert_eq!(doc.objects[0].required, ["p"]);
        assert_eq!(doc.tags[0].name, "t");
    }

    #[test]
    fn namespace_rules() {
        for (body, needle) in [
            (json!({}), "'namespace' is a required property"),
            (
                json!({"namespace": "x", "visibility": "shared"}),
                "'shared' is not one of",
            ),
            (
                json!({"namespace": "x", "protected": "true"}),
                "not of type 'boolean'",
            ),
            (
                json!({"namespace": "x", "bogus": 1}),
                "'bogus' was unexpected",
            ),
            (json!({"namespace": "x".repeat(81)}), "too long"),
            (
                json!({"namespace": "x", "description": "d".repeat(501)}),
                "too long",
            ),
            (
                json!({"namespace": "x", "properties": {"p": {"type": "string"}}}),
                "'title' is a required",
            ),
            (
                json!({"namespace": "x", "properties": {"p": {"title": "P", "type": "text"}}}),
                "not valid for 'type'",
            ),
            (
                json!({"namespace": "x", "tags": [{"name": "a"}, {"name": "a"}]}),
                "appears twice",
            ),
            (json!(["x"]), "is not of type 'object'"),
        ] {
            let err = namespace_document(&body, now()).unwrap_err();
            assert!(err.to_string().contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn object_description_is_not_limited_like_a_namespace_description() {
        let long = "d".repeat(2000);
        let o = object(&json!({"name": "o", "description": long}), now()).unwrap();
        assert_eq!(o.description.map(|d| d.len()), Some(2000));
    }

    #[test]
    fn property_body_carries_its_name() {
        let p = property(
            &json!({"name": "n", "title": "N", "type": "integer", "minimum": 0}),
            now(),
        )
        .unwrap();
        assert_eq!(p.name, "n");
        assert!(!p.schema.contains_key("name"));
        assert!(property(&json!({"title": "N", "type": "integer"}), now()).is_err());
        assert!(
            property(
                &json!({"name": "n", "title": "N", "type": "integer", "minimum": "0"}),
                now()
            )
            .is_err()
        );
    }

    #[test]
    fn read_only_keys_are_found() {
        assert_eq!(
            read_only_key(&json!({"namespace": "x", "self": "/"})),
            Some("self")
        );
        assert_eq!(read_only_key(&json!({"namespace": "x"})), None);
    }

    #[test]
    fn visibility_rules() {
        let ns = namespace_update(&json!({"namespace": "x", "owner": "p1"}), now()).unwrap();
        let user = |p: &str| Scope {
            is_admin: false,
            project_id: Some(p.into()),
        };
        assert!(can_see(&user("p1"), &ns));
        assert!(!can_see(&user("p2"), &ns));
        let public = Namespace {
            visibility: NamespaceVisibility::Public,
            ..ns.clone()
        };
        assert!(can_see(&user("p2"), &public));
        let unowned = Namespace { owner: None, ..ns };
        assert!(!can_see(&user("p2"), &unowned));
    }
}
