//! The rbd store: one RBD image per Glance image, with a protected snapshot `snap`.

use std::sync::Arc;

use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, ListPage, OpenContext,
    PutOutcome, ReadRange, RequestContext, StoreDriver, StoreError, runtime,
};

use crate::ceph;
use crate::config::RbdConfig;
use crate::error::parse_error;
use crate::location::Location;
use crate::shared::{MAX_ID_LEN, SNAPSHOT, Shared, is_safe_id};
use crate::{reader, writer};

/// An rbd store.
#[derive(Debug)]
pub struct RbdDriver {
    shared: Arc<Shared>,
}

impl StoreDriver for RbdDriver {
    const DRIVER: &'static str = "rbd";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = RbdConfig::parse(config)?;
        ceph::load_libraries(
            config.librados_path.as_deref(),
            config.librbd_path.as_deref(),
        )
        .map_err(|err| {
            StoreError::new(
                ErrorKind::ConfigInvalid,
                format!("store '{}' (rbd) {err}", ctx.store_id),
            )
        })?;
        let shared = Arc::new(Shared::new(config, ctx.store_id));
        match shared
            .cluster()
            .and_then(|cluster| shared.ioctx(&cluster, None))
        {
            Ok(_) => tracing::info!(
                store = %shared.store_id(),
                pool = %shared.config.pool,
                user = shared.user(),
                ceph_conf = %shared.config.ceph_conf.display(),
                "rbd store opened"
            ),
            Err(err) if err.kind == ErrorKind::Unavailable => tracing::warn!(
                store = %shared.store_id(),
                %err,
                "rbd store opened without a connection; every operation retries connecting"
            ),
            Err(err) => return Err(err),
        }
        Ok(RbdDriver { shared })
    }

    fn describe() -> DriverDescription {
        // No option holds a credential: the key stays in the keyring file `keyring` names.
        DriverDescription::new(Self::DRIVER, &["rbd"])
            .with_option_defaults(RbdConfig::defaults())
            .with_secret_options(&[])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            ..Capabilities::full()
        }
    }

    /// Pages of the pool's images in name order (the cursor is the last name of the previous
    /// page), each with the size of its snapshot. Temporary images of writes in progress are left
    /// out; those of writes that died (no client has them open any more: a killed Glint) are
    /// listed, under their own names (`.<id>.tmp-…`), so that the host can find and delete them.
    /// RBD keeps no modification time the host could use, so `modified` is `None`.
    async fn list(&self, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let shared = Arc::clone(&self.shared);
        let after = cursor.map(str::to_owned);
        runtime::spawn_blocking(move || shared.list_page(after.as_deref())).await?
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        if !is_safe_id(image_id) {
            return Err(StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "image id {image_id:?} is not usable as an RBD image name: use up to {MAX_ID_LEN} ASCII letters, digits, '-', '_' and '.', not starting with '.'"
                ),
            ));
        }
        let job = writer::Job {
            shared: Arc::clone(&self.shared),
            image: image_id.to_owned(),
            size_hint,
        };
        let written = writer::write(job, data).await?;
        tracing::debug!(image_id, size = written.size, "image stored");
        Ok(PutOutcome {
            location: Location::format(&written.fsid, &self.shared.config.pool, image_id, SNAPSHOT),
            size: written.size,
            metadata: serde_json::Map::new(),
        })
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let location = Location::parse(location)?;
        let shared = Arc::clone(&self.shared);
        let (image, size) = runtime::spawn_blocking(move || {
            let image = shared.open_location(&location)?;
            let size = image
                .size()
                .map_err(|err| parse_error(err, &location.image))?;
            Ok::<_, StoreError>((image, size))
        })
        .await??;
        reader::stream(image, size, range, self.shared.config.chunk_bytes())
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        let location = Location::parse(location)?;
        let shared = Arc::clone(&self.shared);
        runtime::spawn_blocking(move || shared.delete(&location)).await?
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        let location = Location::parse(location)?;
        let shared = Arc::clone(&self.shared);
        runtime::spawn_blocking(move || {
            shared
                .open_location(&location)?
                .size()
                .map_err(|err| parse_error(err, &location.image))
        })
        .await?
    }
}
