//! An in-memory store plugin: passes the conformance suite, and panics on request so tests can
//! check that a panicking plugin yields errors instead of aborting the host.
//!
//! Options: `{"panic_on_open": bool}`. Image id `panic-in-put` panics inside `put`; an image stored
//! under `panic-in-stream` panics while its data is being read.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, stream};
use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, ListPage, ListedObject,
    OpenContext, PutOutcome, ReadRange, RequestContext, StoreDriver, StoreError,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    panic_on_open: bool,
}

struct MemoryStore {
    prefix: String,
    objects: Mutex<HashMap<String, Bytes>>,
}

impl MemoryStore {
    fn object(&self, location: &str) -> Result<Bytes, StoreError> {
        self.objects
            .lock()
            .unwrap()
            .get(location)
            .cloned()
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, format!("{location} not found")))
    }
}

impl StoreDriver for MemoryStore {
    const DRIVER: &'static str = "memory";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let options: Options = serde_json::from_value(config)
            .map_err(|err| StoreError::new(ErrorKind::ConfigInvalid, err.to_string()))?;
        assert!(!options.panic_on_open, "asked to panic on open");
        tracing::info!(store = %ctx.store_id, "memory store opened");
        Ok(MemoryStore {
            prefix: format!("memory://{}/", ctx.store_id),
            objects: Mutex::default(),
        })
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["memory"])
            .with_option_defaults(serde_json::json!({ "panic_on_open": false }))
            .with_secret_options(&[])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            ..Capabilities::full()
        }
    }

    /// Two objects per page, in location order: the cursor is the last location of a page.
    async fn list(&self, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let objects = self.objects.lock().unwrap();
        let mut locations: Vec<&String> = objects
            .keys()
            .filter(|l| cursor.is_none_or(|c| l.as_str() > c))
            .collect();
        locations.sort();
        let next = (locations.len() > 2).then(|| locations[1].clone());
        let page = locations
            .into_iter()
            .take(2)
            .map(|l| ListedObject::new(l.clone(), objects[l].len() as u64, None))
            .collect();
        Ok(ListPage::new(page, next))
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        mut data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        assert_ne!(image_id, "panic-in-put", "asked to panic in put");
        let location = format!("{}{image_id}", self.prefix);
        let exists = || StoreError::new(ErrorKind::AlreadyExists, format!("{location} exists"));
        if self.objects.lock().unwrap().contains_key(&location) {
            return Err(exists());
        }
        let mut buffer = BytesMut::new();
        while let Some(chunk) = data.next().await {
            buffer.extend_from_slice(&chunk?);
        }
        let size = buffer.len() as u64;
        if size_hint.is_some_and(|hint| hint != size) {
            return Err(StoreError::new(ErrorKind::Unexpected, "size mismatch"));
        }
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(&location) {
            return Err(exists());
        }
        objects.insert(location.clone(), buffer.freeze());
        Ok(PutOutcome {
            location,
            size,
            metadata: serde_json::Map::from_iter([("backend".into(), "memory".into())]),
        })
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let object = self.object(location)?;
        let total_size = object.len() as u64;
        let (start, length) = ReadRange::resolve(range, total_size)?;
        let (start, end) = (start as usize, (start + length) as usize);
        let chunks = stream::iter(
            object
                .slice(start..end)
                .chunks(64 * 1024)
                .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
                .collect::<Vec<_>>(),
        );
        let data = if location.ends_with("/panic-in-stream") {
            chunks
                .take(1)
                .chain(stream::poll_fn(|_| panic!("asked to panic in the stream")))
                .boxed()
        } else {
            chunks.boxed()
        };
        Ok(GetOutcome { total_size, data })
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        self.objects
            .lock()
            .unwrap()
            .remove(location)
            .map(drop)
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, format!("{location} not found")))
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        Ok(self.object(location)?.len() as u64)
    }
}

glint_sdk::export_store_plugin!(MemoryStore);
