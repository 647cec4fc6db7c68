//! Replication between two image services: glance-replicator's commands over
//! the Images API v2, between any two v2 endpoints (Glint or Glance), each
//! authenticated on its own ([`crate::remote`]). `glint replicate`
//! ([`crate::replicate`]) is its command line.
//!
//! - `size SRC`: what a dump of SRC's active images would hold;
//! - `compare SRC DST`: each active image of SRC missing from DST or
//!   different there (a field, the data's hashes, the members);
//! - `livecopy SRC DST`: makes DST hold SRC's active images with the same
//!   ids, metadata, data, visibility and members;
//! - `dump SRC DIR` / `load DIR DST`: the same through a directory
//!   (`<id>` metadata, `<id>.img` data, `<id>.members`).
//!
//! A second run changes nothing; a run cut short goes on where it stopped
//! (an image whose upload did not finish is `queued` on the target and gets
//! its data next time). Data is streamed and checked against the source's
//! size, `checksum` and `os_hash_value` before the target accepts it.
//!
//! This file decides what is replicated and what differs; [`sync`] does one
//! image's steps, [`dump`] the directory side, [`verify`] checks data in flight.

pub mod dump;
pub mod sync;
pub mod verify;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The fields glance-replicator leaves out by default (`--dontreplicate`).
pub const DONT_REPLICATE: &str = "created_at date deleted_at location updated_at";

/// Fields the target sets itself: never sent, compared only as the data's
/// identity (`size`, `checksum`, `os_hash_value`) where that applies.
const READ_ONLY: &[&str] = &[
    "id",
    "checksum",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "direct_url",
    "file",
    "locations",
    "os_hash_algo",
    "os_hash_value",
    "schema",
    "self",
    "size",
    "status",
    "stores",
    "virtual_size",
];

/// Properties in this namespace are the service's own (Glance refuses them).
const RESERVED_PREFIX: &str = "os_glance_";

/// Attributes every image has: changed, never removed.
const BASE: &[&str] = &[
    "name",
    "disk_format",
    "container_format",
    "visibility",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    "tags",
    "owner",
];

/// How a replication runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Fields not replicated nor compared (Glance's `--dontreplicate`).
    pub dont_replicate: Vec<String>,
    /// Replicate metadata of images the target has; copy no data.
    pub metadata_only: bool,
    /// Say what would be done; change nothing.
    pub dry_run: bool,
    /// Source project id → target project id, for owners and members.
    pub owner_map: BTreeMap<String, String>,
}

impl Options {
    /// The target's project for the source's `project`.
    pub fn map_owner<'a>(&'a self, project: &'a str) -> &'a str {
        self.owner_map.get(project).map_or(project, String::as_str)
    }
}

/// The metadata of `image` the target must hold: every field but the
/// read-only ones, the reserved properties and `dont_replicate`, with the
/// owner mapped. `None` values count as absent.
pub fn replicated(image: &Map<String, Value>, options: &Options) -> Map<String, Value> {
    image
        .iter()
        .filter(|(key, value)| {
            !value.is_null()
                && !READ_ONLY.contains(&key.as_str())
                && !key.starts_with(RESERVED_PREFIX)
                && !options.dont_replicate.iter().any(|d| d == *key)
        })
        .map(|(key, value)| {
            let value = match (key.as_str(), value.as_str()) {
                ("owner", Some(owner)) => json!(options.map_owner(owner)),
                _ => value.clone(),
            };
            (key.clone(), value)
        })
        .collect()
}

/// One field of the target that differs from what the source has.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub field: String,
    /// The source's value (mapped), `None` when the source lacks the field.
    pub source: Option<Value>,
    pub target: Option<Value>,
}

impl Difference {
    /// The JSON-patch operation that makes the target's field the source's.
    pub fn patch(&self) -> Value {
        let path = format!("/{}", self.field);
        match (&self.source, &self.target) {
            (Some(value), Some(_)) => json!({"op": "replace", "path": path, "value": value}),
            (Some(value), None) => json!({"op": "add", "path": path, "value": value}),
            (None, _) => json!({"op": "remove", "path": path}),
        }
    }

    /// `field name differs (source is a, destination is b)`, as glance-replicator says it.
    pub fn describe(&self) -> String {
        let shown = |v: &Option<Value>| match v {
            None => "undefined".to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        format!(
            "field {} differs (source is {}, destination is {})",
            self.field,
            shown(&self.source),
            shown(&self.target)
        )
    }
}

/// How the target's metadata differs from `wanted` (from [`replicated`]):
/// fields it lacks or holds otherwise, and properties only it has (base
/// attributes are never removed). Tags compare as sets.
pub fn differences(
    wanted: &Map<String, Value>,
    target: &Map<String, Value>,
    options: &Options,
) -> Vec<Difference> {
    let target = replicated(
        target,
        &Options {
            owner_map: BTreeMap::new(),
            ..options.clone()
        },
    );
    let mut out = Vec::new();
    for (field, value) in wanted {
        let theirs = target.get(field);
        if !theirs.is_some_and(|t| same_value(field, value, t)) {
            out.push(Difference {
                field: field.clone(),
                source: Some(value.clone()),
                target: theirs.cloned(),
            });
        }
    }
    for (field, value) in &target {
        if !wanted.contains_key(field) && !BASE.contains(&field.as_str()) {
            out.push(Difference {
                field: field.clone(),
                source: None,
                target: Some(value.clone()),
            });
        }
    }
    out
}

fn same_value(field: &str, a: &Value, b: &Value) -> bool {
    if field == "tags"
        && let (Some(a), Some(b)) = (a.as_array(), b.as_array())
    {
        let mut a: Vec<&Value> = a.iter().collect();
        let mut b: Vec<&Value> = b.iter().collect();
        let key = |v: &&Value| v.to_string();
        a.sort_by_key(key);
        b.sort_by_key(key);
        a.dedup();
        b.dedup();
        return a == b;
    }
    a == b
}

/// What differs between the data the source's image describes and the
/// target's: size, `checksum`, and `os_hash_value` when both used the same
/// algorithm. Empty when the data is the same.
pub fn data_differences(source: &Map<String, Value>, target: &Map<String, Value>) -> Vec<String> {
    let mut fields = vec!["size", "checksum"];
    if source.get("os_hash_algo") == target.get("os_hash_algo") {
        fields.push("os_hash_value");
    }
    fields
        .into_iter()
        .filter(|f| {
            source.get(*f).is_some_and(|v| !v.is_null()) && source.get(*f) != target.get(*f)
        })
        .map(|f| {
            format!(
                "{f} differs (source is {}, destination is {})",
                source.get(f).map_or("undefined".into(), Value::to_string),
                target.get(f).map_or("undefined".into(), Value::to_string)
            )
        })
        .collect()
}

/// Members as the target must have them: member (mapped) → status.
pub fn wanted_members(
    members: &[Map<String, Value>],
    options: &Options,
) -> BTreeMap<String, String> {
    members
        .iter()
        .filter_map(|m| {
            let id = m.get("member_id")?.as_str()?;
            let status = m.get("status").and_then(Value::as_str).unwrap_or("pending");
            Some((options.map_owner(id).to_owned(), status.to_owned()))
        })
        .collect()
}

/// What a target's members need to match `wanted`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    /// Members to add, with the status to give them after.
    pub add: Vec<(String, String)>,
    /// Members whose status must change.
    pub status: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl MemberChanges {
    pub fn between(wanted: &BTreeMap<String, String>, target: &BTreeMap<String, String>) -> Self {
        let mut changes = MemberChanges::default();
        for (member, status) in wanted {
            match target.get(member) {
                None => changes.add.push((member.clone(), status.clone())),
                Some(theirs) if theirs != status => {
                    changes.status.push((member.clone(), status.clone()));
                }
                Some(_) => {}
            }
        }
        changes.remove = target
            .keys()
            .filter(|m| !wanted.contains_key(*m))
            .cloned()
            .collect();
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.status.is_empty() && self.remove.is_empty()
    }

    /// One line per change, for reports.
    pub fn describe(&self) -> Vec<String> {
        let added = self
            .add
            .iter()
            .map(|(m, s)| format!("member {m} added ({s})"));
        let status = self.status.iter().map(|(m, s)| format!("member {m} {s}"));
        let removed = self.remove.iter().map(|m| format!("member {m} removed"));
        added.chain(status).chain(removed).collect()
    }
}

/// What was done to one image (or, with `dry_run`, would be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Created on the target with its data.
    Created,
    /// Found `queued` on the target (an earlier run stopped): data uploaded.
    Resumed,
    /// Metadata or members corrected.
    Updated,
    Unchanged,
    /// Left alone, for the reason given.
    Skipped,
    Failed,
}

/// One image's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    pub name: Option<String>,
    pub action: Action,
    /// What changed, or why it was skipped or failed.
    pub details: Vec<String>,
    /// Data bytes copied (or to copy).
    pub bytes: u64,
}

impl Outcome {
    pub(crate) fn new(image: &Map<String, Value>, action: Action) -> Self {
        Self {
            id: id_of(image).to_owned(),
            name: image.get("name").and_then(Value::as_str).map(str::to_owned),
            action,
            details: Vec::new(),
            bytes: 0,
        }
    }

    pub(crate) fn with(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

pub fn id_of(image: &Map<String, Value>) -> &str {
    image.get("id").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn options() -> Options {
        Options {
            dont_replicate: DONT_REPLICATE.split(' ').map(str::to_owned).collect(),
            owner_map: [("p1".to_owned(), "q1".to_owned())].into(),
            ..Options::default()
        }
    }

    #[test]
    fn read_only_reserved_and_dont_replicate_fields_stay_behind() {
        let image = map(json!({
            "id": "i", "status": "active", "size": 3, "checksum": "c", "os_hash_algo": "sha512",
            "os_hash_value": "h", "created_at": "t", "updated_at": "t", "self": "/v2/images/i",
            "file": "/v2/images/i/file", "schema": "/v2/schemas/image", "virtual_size": null,
            "stores": "fs", "os_glance_importing_to_stores": "", "name": "n", "owner": "p1",
            "visibility": "shared", "tags": ["a"], "hw_disk_bus": "scsi", "kernel_id": null,
        }));
        let out = replicated(&image, &options());
        assert_eq!(
            Value::Object(out),
            json!({"name": "n", "owner": "q1", "visibility": "shared", "tags": ["a"], "hw_disk_bus": "scsi"})
        );
    }

    #[test]
    fn differences_add_replace_and_remove_but_never_remove_base_attributes() {
        let o = options();
        let wanted = replicated(
            &map(json!({"name": "n", "owner": "p1", "tags": ["b", "a"], "min_ram": 0, "new": "x"})),
            &o,
        );
        let target = map(json!({
            "name": "old", "owner": "q1", "tags": ["a", "b"], "min_ram": 0, "extra": "y",
            "min_disk": 0, "updated_at": "later", "os_glance_x": "z",
        }));
        let found = differences(&wanted, &target, &o);
        let patches: Vec<Value> = found.iter().map(Difference::patch).collect();
        assert_eq!(
            patches,
            vec![
                json!({"op": "replace", "path": "/name", "value": "n"}),
                json!({"op": "add", "path": "/new", "value": "x"}),
                json!({"op": "remove", "path": "/extra"}),
            ]
        );
        assert_eq!(
            found[0].describe(),
            "field name differs (source is n, destination is old)"
        );
        assert_eq!(
            found[1].describe(),
            "field new differs (source is x, destination is undefined)"
        );
        assert!(differences(&wanted, &wanted, &o).is_empty());
    }

    #[test]
    fn data_differs_by_size_checksum_or_same_algorithm_hash() {
        let source = map(
            json!({"size": 3, "checksum": "c", "os_hash_algo": "sha512", "os_hash_value": "h"}),
        );
        assert!(data_differences(&source, &source).is_empty());
        let other_hash = map(
            json!({"size": 3, "checksum": "c", "os_hash_algo": "sha512", "os_hash_value": "x"}),
        );
        assert_eq!(data_differences(&source, &other_hash).len(), 1);
        // Another algorithm's hash cannot be compared; size and checksum still are.
        let other_algo = map(
            json!({"size": 3, "checksum": "c", "os_hash_algo": "sha256", "os_hash_value": "x"}),
        );
        assert!(data_differences(&source, &other_algo).is_empty());
        let queued = map(json!({"size": null, "checksum": null}));
        assert_eq!(data_differences(&source, &queued).len(), 2);
    }

    #[test]
    fn members_are_mapped_and_reconciled() {
        let o = options();
        let wanted = wanted_members(
            &[
                map(json!({"member_id": "p1", "status": "accepted"})),
                map(json!({"member_id": "p2", "status": "pending"})),
                map(json!({"member_id": "p3", "status": "rejected"})),
            ],
            &o,
        );
        let target: BTreeMap<String, String> = [
            ("p2".to_owned(), "accepted".to_owned()),
            ("p3".to_owned(), "rejected".to_owned()),
            ("p4".to_owned(), "pending".to_owned()),
        ]
        .into();
        let changes = MemberChanges::between(&wanted, &target);
        assert_eq!(changes.add, vec![("q1".to_owned(), "accepted".to_owned())]);
        assert_eq!(
            changes.status,
            vec![("p2".to_owned(), "pending".to_owned())]
        );
        assert_eq!(changes.remove, vec!["p4".to_owned()]);
        assert!(MemberChanges::between(&wanted, &wanted).is_empty());
    }
}
