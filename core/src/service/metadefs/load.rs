//! Definitions files: loading them into the database and exporting the
//! database to them, in Glance's format (one namespace per `*.json` file,
//! as `glance-manage db load_metadefs` / `export_metadefs` read and write).
//!
//! A file is checked against the same rules as a namespace create request
//! and loaded in one transaction: a bad file loads nothing, and the files
//! after it still load.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

pub use crate::db::DEFAULT_OWNER;
use crate::db::{Database, DbError, DocumentError, LoadMode, Loaded, parse_document};
use crate::domain::metadefs::{
    Invalid, MetadefObject, MetadefSortKey, NamespaceDocument, NamespaceQuery, Property, TagQuery,
};
use crate::domain::{Scope, SortDir};

/// Why one definitions file did not load.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read it: {0}")]
    Read(#[from] io::Error),
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("database error: {0}")]
    Db(#[from] DbError),
}

impl From<DocumentError> for FileError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Json(e) => FileError::Json(e),
            DocumentError::Invalid(e) => FileError::Invalid(e),
        }
    }
}

/// What happened to one file.
#[derive(Debug)]
pub struct FileReport {
    pub file: PathBuf,
    pub outcome: Result<Loaded, FileError>,
}

/// What a load did, file by file, in the order the files were read.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub files: Vec<FileReport>,
}

impl LoadReport {
    /// Files whose namespace was created, merged or replaced.
    pub fn loaded(&self) -> usize {
        self.count(|o| matches!(o, Ok(l) if *l != Loaded::Skipped))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Ok(Loaded::Skipped)))
    }

    pub fn failed(&self) -> usize {
        self.count(Result::is_err)
    }

    fn count(&self, pred: impl Fn(&Result<Loaded, FileError>) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} loaded, {} skipped, {} failed",
            self.loaded(),
            self.skipped(),
            self.failed()
        )
    }
}

/// Loads every `*.json` file directly in `path` (by name), or `path` itself
/// when it is a file. Fails only when the files cannot be listed or there
/// are none; each file's own failure is in the report.
pub async fn load(db: &Database, path: &Path, mode: LoadMode) -> io::Result<LoadReport> {
    let files = definition_files(path)?;
    let mut report = LoadReport::default();
    for file in files {
        let outcome = load_file(db, &file, mode).await;
        report.files.push(FileReport { file, outcome });
    }
    Ok(report)
}

/// Loads one definitions file in one transaction.
pub async fn load_file(db: &Database, file: &Path, mode: LoadMode) -> Result<Loaded, FileError> {
    let text = std::fs::read_to_string(file)?;
    let doc = parse(&text)?;
    Ok(db.load_namespace(&doc, mode).await?)
}

/// A definitions file's namespace, checked as a create request is (see
/// [`parse_document`]).
pub fn parse(text: &str) -> Result<NamespaceDocument, FileError> {
    Ok(parse_document(text)?)
}

fn definition_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        if file.is_file() && file.extension().is_some_and(|e| e == "json") {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no *.json definitions files in {}", path.display()),
        ));
    }
    files.sort();
    Ok(files)
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Db(#[from] DbError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Writes every namespace to `dir/<namespace>.json` (`/` in a name becomes
/// `_`), creating `dir` when missing and replacing files already there.
/// Returns the files written, by namespace name.
pub async fn export(db: &Database, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    let all = NamespaceQuery {
        scope: Scope {
            is_admin: true,
            project_id: None,
        },
        visibility: None,
        resource_types: None,
        sort_key: MetadefSortKey::Name,
        sort_dir: SortDir::Asc,
        marker: None,
        limit: u32::MAX,
    };
    let mut written = Vec::new();
    for namespace in db.list_namespaces(&all).await? {
        let name = namespace.namespace.clone();
        let tags = TagQuery {
            sort_key: MetadefSortKey::CreatedAt,
            sort_dir: SortDir::Asc,
            marker: None,
            limit: u32::MAX,
        };
        let doc = NamespaceDocument {
            associations: db.list_associations(&name).await?,
            objects: db.list_items::<MetadefObject>(&name).await?,
            properties: db.list_items::<Property>(&name).await?,
            tags: db.list_tags(&name, &tags).await?,
            namespace,
        };
        let path = dir.join(format!("{}.json", name.replace('/', "_")));
        let mut text = serde_json::to_string_pretty(&document_json(&doc))
            .expect("a JSON value always serializes");
        text.push('\n');
        std::fs::write(&path, text).map_err(write_error(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// A namespace in the definitions-file format; unset fields are left out.
pub fn document_json(doc: &NamespaceDocument) -> Value {
    let ns = &doc.namespace;
    let mut out = Map::new();
    out.insert("namespace".into(), json!(ns.namespace));
    insert_some(&mut out, "display_name", &ns.display_name);
    insert_some(&mut out, "description", &ns.description);
    out.insert("visibility".into(), json!(ns.visibility.as_str()));
    out.insert("protected".into(), json!(ns.protected));
    insert_some(&mut out, "owner", &ns.owner);
    let associations = doc.associations.iter().map(|a| {
        let mut item = Map::new();
        item.insert("name".into(), json!(a.name));
        insert_some(&mut item, "prefix", &a.prefix);
        insert_some(&mut item, "properties_target", &a.properties_target);
        Value::Object(item)
    });
    out.insert("resource_type_associations".into(), associations.collect());
    let properties = doc
        .properties
        .iter()
        .map(|p| (p.name.clone(), Value::Object(p.schema.clone())));
    out.insert("properties".into(), Value::Object(properties.collect()));
    let objects = doc.objects.iter().map(|o| {
        let mut item = Map::new();
        item.insert("name".into(), json!(o.name));
        insert_some(&mut item, "description", &o.description);
        if !o.required.is_empty() {
            item.insert("required".into(), json!(o.required));
        }
        item.insert("properties".into(), Value::Object(o.properties.clone()));
        Value::Object(item)
    });
    out.insert("objects".into(), objects.collect());
    let tags = doc.tags.iter().map(|t| json!({ "name": t.name }));
    out.insert("tags".into(), tags.collect());
    Value::Object(out)
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        map.insert(key.into(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_json_parses_back_to_the_same_document() {
        let text = r#"{
            "namespace": "OS::X", "display_name": "X", "visibility": "public", "protected": true,
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "x_", "properties_target": "image"}],
            "properties": {"p": {"title": "P", "type": "string", "enum": ["a", "b"]}},
            "objects": [{"name": "o", "description": "O", "required": ["q"], "properties": {"q": {"title": "Q", "type": "integer"}}}],
            "tags": [{"name": "t"}]
        }"#;
        let doc = parse(text).unwrap();
        let again = parse(&document_json(&doc).to_string()).unwrap();
        // Timestamps aside (the file format has none), nothing is lost.
        assert_eq!(document_json(&again), document_json(&doc));
        assert_eq!(again.objects[0].required, ["q"]);
        assert_eq!(
            again.associations[0].properties_target.as_deref(),
            Some("image")
        );
    }
}
