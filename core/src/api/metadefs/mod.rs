//! The Metadata Definitions API (`/v2/metadefs/...`): one module per
//! resource, thin handlers over `service::metadefs`, and how metadefs look
//! on the wire. Unset optional fields are left out, as Glance leaves them.

pub mod docs;
pub mod namespaces;
pub mod objects;
pub mod properties;
pub mod resource_types;
pub mod schemas;
pub mod tags;

use chrono::{DateTime, Utc};
use poem_openapi::ApiResponse;
use serde_json::{Map, Value, json};

use super::body::JsonDoc;
use super::error::{ApiError, RequestError};
use super::list_params::QueryError;
use super::view::timestamp;
use crate::config::ApiConfig;
use crate::domain::SortDir;
use crate::domain::metadefs::{
    Association, MetadefObject, MetadefSortKey, Namespace, NamespaceDocument, Property,
    ResourceType, Tag,
};

/// A created metadef, answered with 201, documented as `D`.
#[derive(ApiResponse)]
pub enum Created<D: poem_openapi::types::Type + Send> {
    /// The new resource.
    #[oai(status = 201)]
    Created(JsonDoc<D>),
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

pub fn namespace_href(name: &str) -> String {
    format!("/v2/metadefs/namespaces/{name}")
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

/// `created_at`, and `updated_at` unless it is unset (what a definitions load made): Glance
/// leaves a null time out.
fn insert_times(
    map: &mut Map<String, Value>,
    created_at: &DateTime<Utc>,
    updated_at: Option<&DateTime<Utc>>,
) {
    map.insert("created_at".into(), json!(timestamp(created_at)));
    if let Some(updated_at) = updated_at {
        map.insert("updated_at".into(), json!(timestamp(updated_at)));
    }
}

pub fn namespace(ns: &Namespace) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("namespace".into(), json!(ns.namespace));
    insert_some(&mut v, "display_name", &ns.display_name);
    insert_some(&mut v, "description", &ns.description);
    v.insert("visibility".into(), json!(ns.visibility.as_str()));
    v.insert("protected".into(), json!(ns.protected));
    insert_some(&mut v, "owner", &ns.owner);
    insert_times(&mut v, &ns.created_at, ns.updated_at.as_ref());
    v.insert("self".into(), json!(namespace_href(&ns.namespace)));
    v.insert("schema".into(), json!("/v2/schemas/metadefs/namespace"));
    v
}

/// A namespace with what it holds; empty collections are left out.
pub fn document(doc: &NamespaceDocument) -> Value {
    let name = &doc.namespace.namespace;
    let mut v = namespace(&doc.namespace);
    if !doc.associations.is_empty() {
        v.insert(
            "resource_type_associations".into(),
            associations(&doc.associations),
        );
    }
    if !doc.properties.is_empty() {
        v.insert("properties".into(), properties(&doc.properties));
    }
    if !doc.objects.is_empty() {
        let objects = doc.objects.iter().map(|o| object(name, o)).collect();
        v.insert("objects".into(), Value::Array(objects));
    }
    if !doc.tags.is_empty() {
        v.insert("tags".into(), tag_names(&doc.tags));
    }
    Value::Object(v)
}

/// A namespace as Glance answers its creation: its objects and resource-type associations as
/// the request wrote them (the fields it gave, without timestamps or links), the rest as stored.
pub fn document_as_written(doc: &NamespaceDocument, body: &Value) -> Value {
    let mut v = document(doc);
    for key in ["objects", "resource_type_associations"] {
        let written = |name: &str| {
            body.get(key)?
                .as_array()?
                .iter()
                .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
        };
        if let Some(Value::Array(items)) = v.get_mut(key) {
            for stored in items.iter_mut() {
                let name = stored["name"].as_str().unwrap_or_default().to_owned();
                let given = written(&name);
                if let Value::Object(fields) = stored {
                    fields.retain(|key, _| {
                        key == "name" || given.is_some_and(|given| given.get(key).is_some())
                    });
                }
            }
        }
    }
    v
}

/// An object as Glance answers a write of it: the optional fields only when the request gave
/// them.
pub fn object_as_written(namespace: &str, o: &MetadefObject, body: &Value) -> Value {
    let mut v = object(namespace, o);
    if let Value::Object(fields) = &mut v {
        for key in ["description", "required", "properties"] {
            if body.get(key).is_none() {
                fields.remove(key);
            }
        }
    }
    v
}

pub fn association(a: &Association) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(a.name));
    insert_some(&mut v, "prefix", &a.prefix);
    insert_some(&mut v, "properties_target", &a.properties_target);
    insert_times(&mut v, &a.created_at, a.updated_at.as_ref());
    Value::Object(v)
}

pub fn associations(list: &[Association]) -> Value {
    Value::Array(list.iter().map(association).collect())
}

pub fn resource_type(rt: &ResourceType) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(rt.name));
    insert_times(&mut v, &rt.created_at, rt.updated_at.as_ref());
    Value::Object(v)
}

pub fn object(namespace: &str, o: &MetadefObject) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(o.name));
    insert_some(&mut v, "description", &o.description);
    v.insert("required".into(), json!(o.required));
    let shown = o
        .properties
        .iter()
        .map(|(name, def)| {
            let def = match def {
                Value::Object(def) => Value::Object(shown_definition(def.clone())),
                other => other.clone(),
            };
            (name.clone(), def)
        })
        .collect();
    v.insert("properties".into(), Value::Object(shown));
    v.insert("schema".into(), json!("/v2/schemas/metadefs/object"));
    v.insert(
        "self".into(),
        json!(format!("{}/objects/{}", namespace_href(namespace), o.name)),
    );
    insert_times(&mut v, &o.created_at, o.updated_at.as_ref());
    Value::Object(v)
}

/// One property as its own resource: its definition and its name.
pub fn property(p: &Property) -> Value {
    let mut v = shown_definition(p.schema.clone());
    v.insert("name".into(), json!(p.name));
    Value::Object(v)
}

/// Properties keyed by name, as namespaces and property lists show them.
pub fn properties(list: &[Property]) -> Value {
    Value::Object(
        list.iter()
            .map(|p| {
                let def = shown_definition(p.schema.clone());
                (p.name.clone(), Value::Object(def))
            })
            .collect(),
    )
}

/// A property definition as Glance's API shows it: its `default` is text, as Python's `str`
/// writes it (`8` is `"8"`, `false` is `"False"`), and a list or object default shows as
/// `null`. What is stored (and exported) stays as written.
fn shown_definition(mut def: Map<String, Value>) -> Map<String, Value> {
    if let Some(default) = def.get_mut("default") {
        *default = match default.take() {
            Value::Bool(true) => json!("True"),
            Value::Bool(false) => json!("False"),
            Value::Number(n) => json!(python_number(&n)),
            text @ (Value::String(_) | Value::Null) => text,
            Value::Array(_) | Value::Object(_) => Value::Null,
        };
    }
    def
}

/// A JSON number as Python's `str` writes the value `json.loads` makes of it.
fn python_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !(n.is_i64() || n.is_u64()) => {
            let text = format!("{f:?}");
            // Python writes exponents with a sign and at least two digits: `1e+20`.
            match text.split_once('e') {
                Some((mantissa, exp)) => {
                    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                    format!("{mantissa}e{sign}{digits:0>2}")
                }
                None => text,
            }
        }
        _ => n.to_string(),
    }
}

pub fn tag(t: &Tag) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(t.name));
    insert_times(&mut v, &t.created_at, t.updated_at.as_ref());
    Value::Object(v)
}

/// Tags as lists show them: names only.
pub fn tag_names(tags: &[Tag]) -> Value {
    Value::Array(tags.iter().map(|t| json!({ "name": t.name })).collect())
}

/// The paging part of a namespace or tag list request.
pub struct Paging {
    pub limit: u32,
    pub marker: Option<String>,
    pub sort_key: MetadefSortKey,
    pub sort_dir: SortDir,
}

/// Reads `limit`, `marker`, `sort_key` (with `name_key` naming the name
/// column) and `sort_dir`; Glance's defaults are the newest first.
pub fn paging(
    pairs: &[(String, String)],
    name_key: &str,
    api: &ApiConfig,
) -> Result<Paging, ApiError> {
    let get = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit") {
        None => api.limit_param_default,
        Some(raw) => match raw.trim().parse::<i64>() {
            Err(_) => return Err(RequestError::from(QueryError::LimitNotInteger).into()),
            Ok(n) if n < 0 => return Err(RequestError::from(QueryError::LimitNegative).into()),
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
        },
    }
    .min(api.api_limit_max);
    let sort_key = match get("sort_key").unwrap_or("created_at") {
        "created_at" => MetadefSortKey::CreatedAt,
        "updated_at" => MetadefSortKey::UpdatedAt,
        key if key == name_key => MetadefSortKey::Name,
        key => return Err(RequestError::MetadefSortKey(key.to_owned()).into()),
    };
    let sort_dir = match get("sort_dir").unwrap_or("desc") {
        "asc" => SortDir::Asc,
        "desc" => SortDir::Desc,
        dir => return Err(RequestError::from(QueryError::SortDir(dir.to_owned())).into()),
    };
    Ok(Paging {
        limit,
        marker: get("marker").map(str::to_owned),
        sort_key,
        sort_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_show_as_python_writes_them() {
        let shown = |default: Value| {
            let mut def = Map::new();
            def.insert("default".into(), default);
            shown_definition(def)["default"].clone()
        };
        assert_eq!(shown(json!(8)), json!("8"));
        assert_eq!(shown(json!(-3)), json!("-3"));
        assert_eq!(shown(json!(false)), json!("False"));
        assert_eq!(shown(json!(true)), json!("True"));
        assert_eq!(shown(json!(1.5)), json!("1.5"));
        assert_eq!(shown(json!(2.0)), json!("2.0"));
        assert_eq!(shown(json!(1e20)), json!("1e+20"));
        assert_eq!(shown(json!(1.5e-7)), json!("1.5e-07"));
        assert_eq!(shown(json!("virtio")), json!("virtio"));
        assert_eq!(shown(json!(["x"])), Value::Null);
        assert_eq!(shown(json!({"a": 1})), Value::Null);
        assert_eq!(shown(Value::Null), Value::Null);
        assert!(shown_definition(Map::new()).get("default").is_none());
    }
}
