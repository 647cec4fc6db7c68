//! A read-only store plugin serving objects given in its options, for loader and capability tests.
//!
//! Options: `{"objects": {"<name>": "<content>"}}`; locations are `readonly:<name>`.

use std::collections::HashMap;

use bytes::Bytes;
use futures::{StreamExt, stream};
use glint_sdk::{
    Capabilities, ErrorKind, GetOutcome, OpenContext, ReadRange, RequestContext, StoreDriver,
    StoreError,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadOnlyStore {
    #[serde(default)]
    objects: HashMap<String, String>,
}

impl ReadOnlyStore {
    fn object(&self, location: &str) -> Result<Bytes, StoreError> {
        location
            .strip_prefix("readonly:")
            .and_then(|name| self.objects.get(name))
            .map(|content| Bytes::copy_from_slice(content.as_bytes()))
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, format!("{location} not found")))
    }
}

impl StoreDriver for ReadOnlyStore {
    const DRIVER: &'static str = "readonly";

    fn open(_: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        serde_json::from_value(config)
            .map_err(|err| StoreError::new(ErrorKind::ConfigInvalid, err.to_string()))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read: true,
            size: true,
            ..Capabilities::default()
        }
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        debug_assert!(
            range.is_none(),
            "the host refuses ranged reads for this driver"
        );
        let object = self.object(location)?;
        Ok(GetOutcome {
            total_size: object.len() as u64,
            data: stream::iter([Ok(object)]).boxed(),
        })
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        Ok(self.object(location)?.len() as u64)
    }
}

glint_sdk::export_store_plugin!(ReadOnlyStore);
