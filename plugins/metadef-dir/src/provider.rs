//! The provider: reads the directory once, when opened, and serves what it read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use glint_sdk::metadef::{MetadefProvider, NamespaceEntry, NamespaceVisibility};
use glint_sdk::{ErrorKind, OpenContext, StoreError};
use serde_json::{Map, Value};

use crate::config::{DEFAULT_OWNER, DirConfig};

/// A directory of definitions files, as read when the provider was opened.
pub struct DirProvider {
    namespaces: BTreeMap<String, Served>,
}

struct Served {
    entry: NamespaceEntry,
    /// The document as served: the file's JSON with the configured visibility and owner applied.
    document: String,
}

impl MetadefProvider for DirProvider {
    const DRIVER: &'static str = "dir";

    fn open(ctx: OpenContext, config: Value) -> Result<Self, StoreError> {
        let config = DirConfig::parse(config)?;
        let files = definition_files(&config.path)?;
        let mut namespaces: BTreeMap<String, Served> = BTreeMap::new();
        for file in &files {
            let served = match read(file, &config) {
                Ok(served) => served,
                Err(reason) => {
                    tracing::warn!(
                        "metadef provider {}: skipping {}: {reason}",
                        ctx.store_id,
                        file.display()
                    );
                    continue;
                }
            };
            if let Some(first) = namespaces.get(&served.entry.namespace) {
                tracing::warn!(
                    "metadef provider {}: skipping {}: namespace {} is already defined by {}",
                    ctx.store_id,
                    file.display(),
                    served.entry.namespace,
                    first.entry.source
                );
                continue;
            }
            namespaces.insert(served.entry.namespace.clone(), served);
        }
        tracing::info!(
            "metadef provider {}: serving {} namespaces from {} files in {}",
            ctx.store_id,
            namespaces.len(),
            files.len(),
            config.path.display()
        );
        Ok(DirProvider { namespaces })
    }

    async fn list_namespaces(&self) -> Result<Vec<NamespaceEntry>, StoreError> {
        Ok(self.namespaces.values().map(|s| s.entry.clone()).collect())
    }

    async fn get_namespace(&self, name: &str) -> Result<String, StoreError> {
        self.namespaces
            .get(name)
            .map(|served| served.document.clone())
            .ok_or_else(|| {
                StoreError::new(
                    ErrorKind::NotFound,
                    format!("no definitions file defines namespace {name}"),
                )
            })
    }
}

/// The `*.json` files directly in `dir`, by name.
fn definition_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|err| {
        StoreError::new(
            ErrorKind::ConfigInvalid,
            format!(
                "option `path`: cannot read the directory {}: {err}",
                dir.display()
            ),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// One file's namespace, or why it is skipped. The server checks each served document against
/// every rule of a namespace create request; this only needs what the provider itself relies on:
/// a JSON object with a namespace name, and a well-formed visibility and owner.
fn read(file: &Path, config: &DirConfig) -> Result<Served, String> {
    let text = std::fs::read_to_string(file).map_err(|err| format!("cannot read it: {err}"))?;
    let mut body: Map<String, Value> = match serde_json::from_str(&text) {
        Ok(Value::Object(body)) => body,
        Ok(_) => return Err("it is not a JSON object".into()),
        Err(err) => return Err(format!("not valid JSON: {err}")),
    };
    let namespace = match body.get("namespace") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err("'namespace' is a required property".into()),
    };
    let visibility = match (config.visibility, body.get("visibility")) {
        (Some(forced), _) => forced,
        (None, None | Some(Value::Null)) => NamespaceVisibility::Private,
        (None, Some(Value::String(name))) => NamespaceVisibility::parse(name)
            .ok_or_else(|| format!("'{name}' is not one of ['public', 'private']"))?,
        (None, Some(other)) => return Err(format!("{other} is not of type 'string'")),
    };
    let owner = match (&config.owner, body.get("owner")) {
        (Some(forced), _) => forced.clone(),
        (None, None | Some(Value::Null)) => DEFAULT_OWNER.to_owned(),
        (None, Some(Value::String(owner))) => owner.clone(),
        (None, Some(other)) => return Err(format!("{other} is not of type 'string'")),
    };
    body.insert("visibility".into(), Value::from(visibility.as_str()));
    body.insert("owner".into(), Value::from(owner.as_str()));
    let updated_at = std::fs::metadata(file)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .and_then(|age| i64::try_from(age.as_secs()).ok());
    let source = file.file_name().map_or_else(
        || file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Ok(Served {
        entry: NamespaceEntry {
            namespace,
            visibility,
            owner: Some(owner),
            source,
            updated_at,
        },
        document: Value::Object(body).to_string(),
    })
}
