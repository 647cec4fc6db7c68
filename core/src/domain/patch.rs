//! JSON-patch for images: Glance's subset of RFC 6902 in its two media types,
//! parsed into operations and applied to an image with Glance's rules.

use serde_json::Value;

use super::rules::{self, Formats, KeyClass};
use super::{Image, ImageStatus};

pub const MEDIA_TYPE_V21: &str = "application/openstack-images-v2.1-json-patch";
pub const MEDIA_TYPE_V20: &str = "application/openstack-images-v2.0-json-patch";

/// The two patch dialects Glance accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{"op": "replace", "path": "/name", "value": ...}`
    V21,
    /// The deprecated `{"replace": "/name", "value": ...}`; `add` of an existing key is a conflict.
    V20,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "add" => Some(Self::Add),
            "replace" => Some(Self::Replace),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }
}

/// One parsed change: an operation on a top-level attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub op: Op,
    pub key: String,
    pub value: Option<Value>,
}

/// Why a patch was refused; each maps to one HTTP status. The `…Detail` kinds are the ones
/// Glance words as the detail under the status's stock explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400
    #[error("{0}")]
    BadRequest(String),
    /// 403
    #[error("{0}")]
    Forbidden(String),
    /// 403, worded as a detail.
    #[error("{0}")]
    ForbiddenDetail(String),
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 409, worded as a detail.
    #[error("{0}")]
    ConflictDetail(String),
}

const OPS: &str = "add, remove, replace";

/// Parse a patch document of the given dialect.
pub fn parse(doc: &Value, dialect: Dialect) -> Result<Vec<Change>, PatchError> {
    let bad = |m: String| PatchError::BadRequest(m);
    let Value::Array(items) = doc else {
        return Err(bad(
            "Request body must be a JSON array of operation objects.".into(),
        ));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(obj) = item else {
                return Err(bad("Operations must be JSON objects.".into()));
            };
            let (op, path) = match dialect {
                Dialect::V21 => {
                    let op = match obj.get("op") {
                        None => return Err(bad(format!("Unable to find `op` in JSON Schema change. It must be one of the following: {OPS}."))),
                        Some(Value::String(s)) => Op::parse(s)
                            .ok_or_else(|| bad(format!("Invalid operation: `{s}`. It must be one of the following: {OPS}.")))?,
                        Some(other) => return Err(bad(format!("Invalid operation: `{other}`. It must be one of the following: {OPS}."))),
                    };
                    let path = match obj.get("path") {
                        Some(Value::String(p)) => p.as_str(),
                        Some(_) => return Err(bad("Pointer must be a string.".into())),
                        None => return Err(bad("Unable to find 'path' in JSON Schema change".into())),
                    };
                    (op, path)
                }
                Dialect::V20 => {
                    let mut found = None;
                    for name in ["replace", "add", "remove"] {
                        if let Some(v) = obj.get(name) {
                            if found.is_some() {
                                return Err(bad("Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".".into()));
                            }
                            let path = v.as_str().ok_or_else(|| bad("Pointer must be a string.".into()))?;
                            found = Some((Op::parse(name).expect("known op"), path));
                        }
                    }
                    found.ok_or_else(|| bad("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".".into()))?
                }
            };
            let key = decode_pointer(path, op)?;
            let value = obj.get("value").cloned();
            match op {
                Op::Add | Op::Replace if value.is_none() => {
                    let name = if op == Op::Add { "add" } else { "replace" };
                    Err(bad(format!("Operation \"{name}\" requires a member named \"value\".")))
                }
                Op::Remove if value.is_some() => Err(bad("Operation \"remove\" does not take a member named \"value\".".into())),
                _ => Ok(Change { op, key, value }),
            }
        })
        .collect()
}

/// Decode a one-level JSON pointer (`/name`, with `~0`/`~1` escapes). `locations` is the one
/// attribute with positions: `add` and `remove` name one (`/locations/0`, `/locations/-`),
/// `replace` the whole list; the position itself is not kept, as locations are not patchable.
fn decode_pointer(pointer: &str, op: Op) -> Result<String, PatchError> {
    let bad = |m: String| Err(PatchError::BadRequest(m));
    let Some(rest) = pointer.strip_prefix('/') else {
        return bad(format!("Pointer `{pointer}` does not start with \"/\"."));
    };
    if adjacent_slashes(rest) {
        return bad(format!("Pointer `{pointer}` contains adjacent \"/\"."));
    }
    if pointer.len() > 1 && pointer.ends_with('/') {
        return bad(format!("Pointer `{pointer}` end with \"/\"."));
    }
    // Glance's one test for an empty token; `/` alone passes it and names the property "",
    // which Glance then adds (clients may rely on the 200).
    if rest.trim() == "/" {
        return bad(format!(
            "Pointer `{pointer}` does not contains valid token."
        ));
    }
    let mut chars = pointer.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.peek(), Some('0' | '1')) {
            return bad(format!(
                "Pointer `{pointer}` contains \"~\" not part of a recognized escape sequence."
            ));
        }
    }
    let depth = rest.split('/').count();
    let wanted = match (rest.split('/').next().map(str::trim), op) {
        (Some("locations"), Op::Add | Op::Remove) => 2,
        _ => 1,
    };
    if depth != wanted {
        return bad(format!(
            "Invalid JSON pointer for this resource: '{pointer}'"
        ));
    }
    let root = rest.split('/').next().unwrap_or_default();
    Ok(root.replace("~1", "/").replace("~0", "~").trim().to_owned())
}

/// Changes to `locations`, which Glint never shows on images (Glance's
/// `show_multiple_locations = false`): refused as Glance refuses them, after the same checks of
/// the value. Locations are added through `POST /v2/images/{id}/locations`.
fn refuse_locations(change: &Change) -> Result<(), PatchError> {
    let is_location = |value: &Value| {
        value.get("url").is_some_and(Value::is_string)
            && value.get("metadata").is_some_and(Value::is_object)
    };
    let invalid = || {
        PatchError::BadRequest(
            "Provided object does not match schema 'image': a location needs a string 'url' \
             and an object 'metadata'"
                .into(),
        )
    };
    let verb = match (change.op, &change.value) {
        (Op::Add, Some(value)) if !is_location(value) => return Err(invalid()),
        (Op::Add, _) => "add",
        (Op::Remove, _) => "remove",
        (Op::Replace, Some(Value::Array(items))) if items.iter().any(|item| !is_location(item)) => {
            return Err(invalid());
        }
        (Op::Replace, Some(Value::Array(items))) if !items.is_empty() => "update",
        (Op::Replace, Some(Value::Array(_) | Value::Null)) => {
            return Err(PatchError::ForbiddenDetail(
                "Cannot set locations to empty list.".into(),
            ));
        }
        (Op::Replace, _) => return Err(invalid()),
    };
    Err(PatchError::Forbidden(format!(
        "It's not allowed to {verb} locations if locations are invisible."
    )))
}

/// Whether two `/` follow each other, with nothing but white space between them.
fn adjacent_slashes(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    parts.len() > 2
        && parts[1..parts.len() - 1]
            .iter()
            .any(|between| between.trim().is_empty())
}

/// Who is applying the patch, as far as the patch rules care.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub is_admin: bool,
}

/// Apply parsed changes to `image` in order. On error the image may be
/// half-changed; callers apply to a copy and save only on success.
pub fn apply(
    image: &mut Image,
    changes: &[Change],
    dialect: Dialect,
    actor: Actor,
    formats: &Formats,
) -> Result<(), PatchError> {
    for change in changes {
        apply_one(image, change, dialect, actor, formats)?;
    }
    Ok(())
}

fn apply_one(
    image: &mut Image,
    change: &Change,
    dialect: Dialect,
    actor: Actor,
    formats: &Formats,
) -> Result<(), PatchError> {
    let key = change.key.as_str();
    let schema = |e: rules::SchemaViolation| PatchError::BadRequest(e.to_string());
    if key == "locations" {
        return refuse_locations(change);
    }
    match rules::classify(key) {
        KeyClass::ReadOnly => {
            return Err(PatchError::Forbidden(format!(
                "Attribute '{key}' is read-only."
            )));
        }
        KeyClass::Reserved => {
            return Err(PatchError::Forbidden(format!(
                "Attribute '{key}' is reserved."
            )));
        }
        KeyClass::Base => {
            let Some(value) = &change.value else {
                return Err(PatchError::ForbiddenDetail(format!(
                    "Property {key} may not be removed."
                )));
            };
            match key {
                "owner" if !actor.is_admin => {
                    return Err(PatchError::ForbiddenDetail(
                        "Owner can't be updated by non admin.".into(),
                    ));
                }
                "container_format" | "disk_format"
                    if !matches!(image.status, ImageStatus::Queued | ImageStatus::Importing) =>
                {
                    return Err(PatchError::Forbidden(format!(
                        "Attribute {key} can be only replaced for a queued image."
                    )));
                }
                _ => {}
            }
            rules::set_base(image, key, value, formats).map_err(schema)?;
            if key == "visibility"
                && !actor.is_admin
                && image.visibility == super::Visibility::Public
            {
                return Err(PatchError::Forbidden(
                    "You are not authorized to publicize images.".into(),
                ));
            }
        }
        KeyClass::Extra => {
            let exists = image.properties.contains_key(key);
            match change.op {
                Op::Add if exists && dialect == Dialect::V20 => {
                    return Err(PatchError::ConflictDetail(format!(
                        "Property {key} already present."
                    )));
                }
                Op::Replace | Op::Remove if !exists => {
                    return Err(PatchError::ConflictDetail(format!(
                        "Property {key} does not exist."
                    )));
                }
                Op::Remove => {
                    image.properties.remove(key);
                }
                Op::Add | Op::Replace => {
                    let value = rules::extra(key, change.value.as_ref().expect("checked at parse"))
                        .map_err(schema)?;
                    image.properties.insert(key.to_owned(), value);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    const ADMIN: Actor = Actor { is_admin: true };
    const USER: Actor = Actor { is_admin: false };

    fn formats() -> Formats {
        Formats {
            container: vec!["bare".into()],
            disk: vec!["raw".into(), "qcow2".into()],
        }
    }

    fn image() -> Image {
        Image::new(Uuid::nil(), Some("p1".into()), Utc::now())
    }

    fn run(img: &mut Image, doc: Value, dialect: Dialect, actor: Actor) -> Result<(), PatchError> {
        let changes = parse(&doc, dialect)?;
        apply(img, &changes, dialect, actor, &formats())
    }

    #[test]
    fn v21_add_replace_remove() {
        let mut img = image();
        run(
            &mut img,
            json!([{"op": "add", "path": "/name", "value": "n"},
                              {"op": "add", "path": "/hw", "value": "x"},
                              {"op": "replace", "path": "/hw", "value": "y"},
                              {"op": "add", "path": "/a~1b~0c", "value": "z"}]),
            Dialect::V21,
            USER,
        )
        .unwrap();
        assert_eq!(img.name.as_deref(), Some("n"));
        assert_eq!(img.properties["hw"], "y");
        assert_eq!(img.properties["a/b~c"], "z");
        run(
            &mut img,
            json!([{"op": "remove", "path": "/hw"}]),
            Dialect::V21,
            USER,
        )
        .unwrap();
        assert!(!img.properties.contains_key("hw"));
    }

    #[test]
    fn v21_add_on_existing_replaces_but_v20_conflicts() {
        let mut img = image();
        img.properties.insert("k".into(), "1".into());
        run(
            &mut img,
            json!([{"op": "add", "path": "/k", "value": "2"}]),
            Dialect::V21,
            USER,
        )
        .unwrap();
        assert_eq!(img.properties["k"], "2");
        let err = run(
            &mut img,
            json!([{"add": "/k", "value": "3"}]),
            Dialect::V20,
            USER,
        )
        .unwrap_err();
        assert!(matches!(err, PatchError::ConflictDetail(_)));
        run(
            &mut img,
            json!([{"replace": "/k", "value": "3"}]),
            Dialect::V20,
            USER,
        )
        .unwrap();
        assert_eq!(img.properties["k"], "3");
    }

    #[test]
    fn missing_properties_conflict() {
        let mut img = image();
        for doc in [
            json!([{"op": "replace", "path": "/nope", "value": "v"}]),
            json!([{"op": "remove", "path": "/nope"}]),
        ] {
            assert!(matches!(
                run(&mut img, doc, Dialect::V21, USER),
                Err(PatchError::ConflictDetail(_))
            ));
        }
    }

    #[test]
    fn read_only_reserved_and_base_removal_are_forbidden() {
        let mut img = image();
        for (doc, needle) in [
            (
                json!([{"op": "replace", "path": "/status", "value": "active"}]),
                "read-only",
            ),
            (
                json!([{"op": "add", "path": "/os_glance_x", "value": "v"}]),
                "reserved",
            ),
            (
                json!([{"op": "add", "path": "/deleted", "value": "v"}]),
                "reserved",
            ),
            (
                json!([{"op": "remove", "path": "/name"}]),
                "may not be removed",
            ),
            (
                json!([{"op": "replace", "path": "/owner", "value": "p2"}]),
                "non admin",
            ),
            (
                json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
                "publicize",
            ),
        ] {
            match run(&mut img, doc.clone(), Dialect::V21, USER) {
                Err(PatchError::Forbidden(m) | PatchError::ForbiddenDetail(m)) => {
                    assert!(m.contains(needle), "{doc}: {m}")
                }
                other => panic!("{doc}: {other:?}"),
            }
        }
        run(
            &mut img,
            json!([{"op": "replace", "path": "/owner", "value": "p2"}]),
            Dialect::V21,
            ADMIN,
        )
        .unwrap();
        assert_eq!(img.owner.as_deref(), Some("p2"));
    }

    #[test]
    fn formats_change_only_while_queued() {
        let mut img = image();
        run(
            &mut img,
            json!([{"op": "replace", "path": "/disk_format", "value": "raw"}]),
            Dialect::V21,
            USER,
        )
        .unwrap();
        img.status = ImageStatus::Active;
        let err = run(
            &mut img,
            json!([{"op": "replace", "path": "/disk_format", "value": "qcow2"}]),
            Dialect::V21,
            USER,
        );
        assert!(matches!(err, Err(PatchError::Forbidden(_))));
    }

    #[test]
    fn malformed_documents_are_bad_requests() {
        for doc in [
            json!({"op": "add"}),
            json!(["x"]),
            json!([{"path": "/name", "value": "x"}]),
            json!([{"op": "move", "path": "/name", "value": "x"}]),
            json!([{"op": "add", "path": "name", "value": "x"}]),
            json!([{"op": "add", "path": "/a/b", "value": "x"}]),
            json!([{"op": "add", "path": "/ /", "value": "x"}]),
            json!([{"op": "add", "path": "/a~2", "value": "x"}]),
            json!([{"op": "add", "path": "/name"}]),
            json!([{"op": "add", "path": false, "value": "x"}]),
            json!([{"op": "replace", "path": "/min_ram", "value": "12"}]),
            json!([{"op": "replace", "path": "/prop", "value": 12}]),
        ] {
            let mut img = image();
            img.properties.insert("prop".into(), "v".into());
            assert!(
                matches!(
                    run(&mut img, doc.clone(), Dialect::V21, ADMIN),
                    Err(PatchError::BadRequest(_))
                ),
                "{doc}"
            );
        }
        assert!(matches!(
            parse(
                &json!([{"add": "/a", "replace": "/b", "value": 1}]),
                Dialect::V20
            ),
            Err(PatchError::BadRequest(_))
        ));
    }

    #[test]
    fn locations_are_refused_as_invisible_after_their_shape_is_checked() {
        let location = json!({"url": "http://x/y", "metadata": {}});
        for (doc, expected) in [
            (
                json!([{"op": "add", "path": "/locations/-", "value": location}]),
                Err(PatchError::Forbidden(
                    "It's not allowed to add locations if locations are invisible.".into(),
                )),
            ),
            (
                json!([{"op": "remove", "path": "/locations/0"}]),
                Err(PatchError::Forbidden(
                    "It's not allowed to remove locations if locations are invisible.".into(),
                )),
            ),
            (
                json!([{"op": "replace", "path": "/locations", "value": [location]}]),
                Err(PatchError::Forbidden(
                    "It's not allowed to update locations if locations are invisible.".into(),
                )),
            ),
            (
                json!([{"op": "replace", "path": "/locations", "value": []}]),
                Err(PatchError::ForbiddenDetail(
                    "Cannot set locations to empty list.".into(),
                )),
            ),
        ] {
            let mut img = image();
            assert_eq!(
                run(&mut img, doc.clone(), Dialect::V21, ADMIN),
                expected,
                "{doc}"
            );
        }
        for doc in [
            // add and remove name a position, replace the whole list.
            json!([{"op": "add", "path": "/locations", "value": location}]),
            json!([{"op": "remove", "path": "/locations"}]),
            json!([{"op": "replace", "path": "/locations/0", "value": [location]}]),
            json!([{"op": "add", "path": "/locations/0/url", "value": "x"}]),
            // A location has a URL and metadata.
            json!([{"op": "add", "path": "/locations/-", "value": {"url": "http://x"}}]),
            json!([{"op": "replace", "path": "/locations", "value": [{"metadata": {}}]}]),
            json!([{"op": "add", "path": "/a//b", "value": "x"}]),
        ] {
            let mut img = image();
            assert!(
                matches!(
                    run(&mut img, doc.clone(), Dialect::V21, ADMIN),
                    Err(PatchError::BadRequest(_))
                ),
                "{doc}"
            );
        }
        assert_eq!(
            parse(
                &json!([{"op": "add", "path": "/a/ /b", "value": 1}]),
                Dialect::V21
            ),
            Err(PatchError::BadRequest(
                "Pointer `/a/ /b` contains adjacent \"/\".".into()
            ))
        );
    }
}
