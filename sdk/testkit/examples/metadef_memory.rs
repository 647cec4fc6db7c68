//! A metadef provider serving the documents given in its options, for loader and conformance tests.
//!
//! Options: `{"namespaces": [<document>, …], "panic_on_get": false}`; each document is a JSON
//! object in Glance's definitions-file format.

use glint_sdk::metadef::{MetadefProvider, NamespaceEntry, NamespaceVisibility};
use glint_sdk::{ErrorKind, OpenContext, StoreError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemoryProvider {
    #[serde(default)]
    namespaces: Vec<Value>,
    #[serde(default)]
    panic_on_get: bool,
}

fn name(doc: &Value) -> &str {
    doc["namespace"].as_str().unwrap_or_default()
}

impl MetadefProvider for MemoryProvider {
    const DRIVER: &'static str = "memory";

    fn open(_: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let provider: Self = serde_json::from_value(config)
            .map_err(|err| StoreError::new(ErrorKind::ConfigInvalid, err.to_string()))?;
        if let Some(bad) = provider.namespaces.iter().find(|doc| name(doc).is_empty()) {
            return Err(StoreError::new(
                ErrorKind::ConfigInvalid,
                format!("namespaces: {bad} has no namespace name"),
            ));
        }
        Ok(provider)
    }

    async fn list_namespaces(&self) -> Result<Vec<NamespaceEntry>, StoreError> {
        Ok(self
            .namespaces
            .iter()
            .enumerate()
            .map(|(n, doc)| NamespaceEntry {
                namespace: name(doc).to_owned(),
                visibility: doc["visibility"]
                    .as_str()
                    .and_then(NamespaceVisibility::parse)
                    .unwrap_or(NamespaceVisibility::Private),
                owner: doc["owner"].as_str().map(str::to_owned),
                source: format!("namespaces[{n}]"),
                updated_at: None,
            })
            .collect())
    }

    async fn get_namespace(&self, wanted: &str) -> Result<String, StoreError> {
        assert!(!self.panic_on_get, "asked to panic in get_namespace");
        self.namespaces
            .iter()
            .find(|doc| name(doc) == wanted)
            .map(Value::to_string)
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, format!("{wanted} not found")))
    }
}

glint_sdk::export_metadef_provider!(MemoryProvider);
