//! The `dirhash` driver: the `StoreDriver` methods, each a few steps over `layout`, `writer` and
//! `reader`.

use std::fs;

use glint_sdk::serde_json::{self, Value};
use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, OpenContext, PutOutcome,
    ReadRange, RequestContext, StoreDriver, StoreError, runtime,
};

use crate::config::DirHashConfig;
use crate::error::parse_error;
use crate::layout::Layout;
use crate::{reader, writer};

/// One opened `dirhash` store.
#[derive(Debug)]
pub struct DirHashDriver {
    layout: Layout,
    chunk_size: usize,
    fsync: bool,
}

impl StoreDriver for DirHashDriver {
    const DRIVER: &'static str = "dirhash";

    fn open(ctx: OpenContext, config: Value) -> Result<Self, StoreError> {
        let config = DirHashConfig::parse(config)?;
        // A root that cannot be made or used is a configuration error, named as such.
        let root_error = |err| {
            let mut err = parse_error(err, format!("option `root` ({})", config.root.display()));
            err.kind = ErrorKind::ConfigInvalid;
            err
        };
        fs::create_dir_all(&config.root).map_err(root_error)?;
        let root = config.root.canonicalize().map_err(root_error)?;
        if !root.is_dir() {
            return Err(StoreError::new(
                ErrorKind::ConfigInvalid,
                format!("option `root` ({}) is not a directory", root.display()),
            ));
        }
        glint_sdk::tracing::info!(store = %ctx.store_id, root = %root.display(), "dirhash store opened");
        Ok(DirHashDriver {
            layout: Layout::new(root),
            chunk_size: config.chunk_size,
            fsync: config.fsync,
        })
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["dirhash"])
            .with_option_defaults(DirHashConfig::defaults())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let object = self.layout.object(image_id)?;
        let location = object.location.clone();
        let job = writer::Job {
            object,
            incoming: self.layout.incoming(),
            root: self.layout.root().to_owned(),
            size_hint,
            fsync: self.fsync,
        };
        let size = writer::write(job, data).await?;
        glint_sdk::tracing::debug!(image_id, size, %location, "image stored");
        Ok(PutOutcome {
            location,
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
        let object = self.layout.resolve(location)?;
        reader::open(object.path, range, self.chunk_size).await
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        let object = self.layout.resolve(location)?;
        let fsync = self.fsync;
        runtime::spawn_blocking(move || {
            fs::remove_file(&object.path).map_err(|err| parse_error(err, object.path.display()))?;
            // The shard directory stays: a concurrent put may be about to link into it.
            if fsync {
                writer::sync_dir(&object.shard_dir)?;
            }
            Ok(())
        })
        .await?
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        let object = self.layout.resolve(location)?;
        let (_, size) =
            runtime::spawn_blocking(move || reader::open_regular(object.path)).await??;
        Ok(size)
    }
}
