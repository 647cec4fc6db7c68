//! An opened store, as the server uses it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::ffi::{FfiStoreBox, import};
use crate::{Capabilities, DataStream, GetOutcome, PutOutcome, ReadRange, StoreError};

/// A store opened through a plugin. Cloning is cheap; every call may run on any thread.
///
/// Capabilities are enforced here: an operation the driver does not support fails with
/// `Unsupported` without reaching the plugin.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    driver: String,
    capabilities: Capabilities,
    object: FfiStoreBox,
}

impl Store {
    pub(crate) fn new(id: &str, driver: &str, object: FfiStoreBox) -> Result<Self, StoreError> {
        let capabilities = import::capabilities(&object)?;
        Ok(Store {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                driver: driver.to_owned(),
                capabilities,
                object,
            }),
        })
    }

    /// The store's id in the configuration.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The driver name of the plugin behind the store.
    pub fn driver(&self) -> &str {
        &self.inner.driver
    }

    /// What the store supports, as reported when it was opened.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.capabilities
    }

    /// Stores `data` for `image_id`; see `StoreDriver::put` for the contract.
    pub fn put(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let image_id = image_id.to_owned();
        async move {
            inner.require(inner.capabilities.write, "writing")?;
            import::put(&inner.object, &image_id, size_hint, data).await
        }
    }

    /// Reads the object at `location`, or a range of it.
    pub fn get(
        &self,
        location: &str,
        range: Option<ReadRange>,
    ) -> impl Future<Output = Result<GetOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.read, "reading")?;
            if range.is_some() {
                inner.require(inner.capabilities.ranged_read, "ranged reads")?;
            }
            import::get(&inner.object, &location, range).await
        }
    }

    /// Deletes the object at `location`.
    pub fn delete(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.delete, "deleting")?;
            import::delete(&inner.object, &location).await
        }
    }

    /// The size of the object at `location`.
    pub fn size(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.size, "size queries")?;
            import::size(&inner.object, &location).await
        }
    }
}

impl Inner {
    fn require(&self, capable: bool, what: &str) -> Result<(), StoreError> {
        if capable {
            Ok(())
        } else {
            Err(StoreError::new(
                crate::ErrorKind::Unsupported,
                format!(
                    "store '{}' (driver '{}') does not support {what}",
                    self.id, self.driver
                ),
            ))
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.id)
            .field("driver", &self.inner.driver)
            .field("capabilities", &self.inner.capabilities)
            .finish_non_exhaustive()
    }
}
