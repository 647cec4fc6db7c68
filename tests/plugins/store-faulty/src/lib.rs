//! A store driver for the fault drills (`tests/tests/plugin_faults.rs`), never for a deployment.
//!
//! It keeps images in memory and, before every operation, reads its `fault_file`. The file's
//! first word decides what the operation does:
//! - missing or empty: its job;
//! - `panic`: panics;
//! - `hang`: never answers (a backend that accepted the connection and went silent);
//! - `stall`: starts and stops: a put takes the first piece of data and then none, a read
//!   yields its first piece and then nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, OpenContext, PutOutcome,
    ReadRange, RequestContext, StoreDriver, StoreError,
};
use serde::Deserialize;

const SCHEME: &str = "faulty";
/// Pieces a read yields, so that a stalled read has sent something first.
const PIECE: usize = 64 << 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The file whose first word says which fault to act out.
    fault_file: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Panic,
    Hang,
    Stall,
}

pub struct FaultyDriver {
    fault_file: std::path::PathBuf,
    objects: Arc<Mutex<HashMap<String, Bytes>>>,
}

impl FaultyDriver {
    fn fault(&self, operation: &str) -> Fault {
        let text = std::fs::read_to_string(&self.fault_file).unwrap_or_default();
        let fault = match text.split_whitespace().next() {
            Some("panic") => Fault::Panic,
            Some("hang") => Fault::Hang,
            Some("stall") => Fault::Stall,
            _ => Fault::None,
        };
        if fault == Fault::Panic {
            panic!("the faulty store was told to panic in {operation}");
        }
        fault
    }

    /// Waits for an operation's fault: forever for `hang`.
    async fn act_out(&self, operation: &str) -> Fault {
        let fault = self.fault(operation);
        if fault == Fault::Hang {
            std::future::pending::<()>().await;
        }
        fault
    }

    fn key(location: &str) -> Result<&str, StoreError> {
        location.strip_prefix("faulty://").ok_or_else(|| {
            StoreError::new(
                ErrorKind::NotFound,
                format!("not a faulty location: {location}"),
            )
        })
    }
}

impl StoreDriver for FaultyDriver {
    const DRIVER: &'static str = "faulty";

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &[SCHEME])
    }

    fn open(_ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config: Config = serde_json::from_value(config)
            .map_err(|e| StoreError::new(ErrorKind::ConfigInvalid, format!("options: {e}")))?;
        Ok(FaultyDriver {
            fault_file: config.fault_file,
            objects: Arc::default(),
        })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        _size_hint: Option<u64>,
        mut data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let fault = self.act_out("put").await;
        let mut buf = BytesMut::new();
        while let Some(piece) = data.next().await {
            buf.extend_from_slice(&piece?);
            if fault == Fault::Stall {
                std::future::pending::<()>().await;
            }
        }
        let size = buf.len() as u64;
        let mut objects = self.objects.lock().expect("no panics while held");
        if objects.contains_key(image_id) {
            return Err(StoreError::new(
                ErrorKind::AlreadyExists,
                image_id.to_owned(),
            ));
        }
        objects.insert(image_id.to_owned(), buf.freeze());
        Ok(PutOutcome {
            location: format!("faulty://{image_id}"),
            size,
            metadata: serde_json::Map::new(),
        })
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let fault = self.act_out("get").await;
        let key = Self::key(location)?;
        let data = self
            .objects
            .lock()
            .expect("no panics while held")
            .get(key)
            .cloned()
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, location.to_owned()))?;
        let total_size = data.len() as u64;
        let (offset, length) = ReadRange::resolve(range, total_size)?;
        let data = data.slice(offset as usize..(offset + length) as usize);
        let pieces: Vec<Result<Bytes, StoreError>> = (0..data.len())
            .step_by(PIECE)
            .map(|at| Ok(data.slice(at..(at + PIECE).min(data.len()))))
            .collect();
        let stream = futures::stream::iter(pieces);
        let data = if fault == Fault::Stall {
            stream.take(1).chain(futures::stream::pending()).boxed()
        } else {
            stream.boxed()
        };
        Ok(GetOutcome { total_size, data })
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        self.act_out("delete").await;
        let key = Self::key(location)?;
        match self
            .objects
            .lock()
            .expect("no panics while held")
            .remove(key)
        {
            Some(_) => Ok(()),
            None => Err(StoreError::new(ErrorKind::NotFound, location.to_owned())),
        }
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        self.act_out("size").await;
        let key = Self::key(location)?;
        self.objects
            .lock()
            .expect("no panics while held")
            .get(key)
            .map(|data| data.len() as u64)
            .ok_or_else(|| StoreError::new(ErrorKind::NotFound, location.to_owned()))
    }
}

glint_sdk::export_store_plugin!(FaultyDriver);
