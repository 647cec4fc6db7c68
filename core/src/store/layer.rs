//! The host's layer around every opened store: where a driver's error means
//! something else from the host's point of view, it is restated here, once.

use std::future::Future;

use glint_sdk::host::Store;
use glint_sdk::{
    Capabilities, DataStream, ErrorKind, GetOutcome, PutOutcome, ReadRange, StoreError,
};

/// An opened store as the services use it. Cloning is cheap.
///
/// Rules added over the driver:
/// - a `put` that fails with `NotFound` met a store whose backing location
///   (directory, container, pool) is gone: the store is unavailable
///   (temporary), not the image missing, so clients get 503 and may retry.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    inner: Store,
}

/// The plugin's store underneath, for code that needs none of the rules above.
impl std::ops::Deref for StoreHandle {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.inner
    }
}

impl StoreHandle {
    pub(super) fn new(inner: Store) -> Self {
        Self { inner }
    }

    /// The store's id in the configuration.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The driver name of the plugin behind the store.
    pub fn driver(&self) -> &str {
        self.inner.driver()
    }

    pub fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    /// Stores `data` for `image_id`; see `StoreDriver::put`.
    pub fn put(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send + 'static {
        let put = self.inner.put(image_id, size_hint, data);
        let id = self.inner.id().to_owned();
        async move {
            put.await.map_err(|e| match e.kind {
                ErrorKind::NotFound => StoreError::new(
                    ErrorKind::Unavailable,
                    format!("store '{id}' cannot take data now: {}", e.message),
                )
                .temporary(),
                _ => e,
            })
        }
    }

    /// Reads the object at `location`, or a range of it.
    pub fn get(
        &self,
        location: &str,
        range: Option<ReadRange>,
    ) -> impl Future<Output = Result<GetOutcome, StoreError>> + Send + 'static {
        self.inner.get(location, range)
    }

    /// Deletes the object at `location`.
    pub fn delete(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        self.inner.delete(location)
    }

    /// The size of the object at `location`.
    pub fn size(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        self.inner.size(location)
    }
}
