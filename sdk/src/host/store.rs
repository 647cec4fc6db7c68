//! An opened store, as the server uses it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::ffi::{FfiStoreBox, FfiStoreExtBox, ext_import, import};
use crate::{
    Acl, Capabilities, ContextCapabilities, DataStream, GetOutcome, ListPage, PutOutcome,
    ReadRange, RequestContext, StoreDriver, StoreError,
};

/// A store opened through a plugin. Cloning is cheap; every call may run on any thread.
///
/// Capabilities are enforced here: an operation the driver does not support fails with
/// `Unsupported` without reaching the plugin.
///
/// A store may carry a caller ([`Store::with_caller`]): its operations are then made on that
/// caller's behalf, and a driver that acts with the caller's credentials
/// (`per_request_context`) gets them; other drivers never see them.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    caller: Option<Arc<RequestContext>>,
}

struct Inner {
    id: String,
    driver: String,
    capabilities: Capabilities,
    context_capabilities: ContextCapabilities,
    object: FfiStoreBox,
    /// The 1.3 entry points, from a plugin built for ABI 1.3 or later.
    ext: Option<FfiStoreExtBox>,
}

impl Store {
    pub(crate) fn new(id: &str, driver: &str, object: FfiStoreBox) -> Result<Self, StoreError> {
        Store::open(id, driver, object, None)
    }

    pub(crate) fn with_ext(
        id: &str,
        driver: &str,
        ext: FfiStoreExtBox,
    ) -> Result<Self, StoreError> {
        Store::open(id, driver, ext.store(), Some(ext))
    }

    fn open(
        id: &str,
        driver: &str,
        object: FfiStoreBox,
        ext: Option<FfiStoreExtBox>,
    ) -> Result<Self, StoreError> {
        let (mut capabilities, context_capabilities) = import::capabilities(&object)?;
        // Listing lives on the 1.3 object: a plugin without it cannot list, whatever it says.
        capabilities.list &= ext.is_some();
        Ok(Store {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                driver: driver.to_owned(),
                capabilities,
                context_capabilities,
                object,
                ext,
            }),
            caller: None,
        })
    }

    /// Opens `driver` in this process, through the same boundary types a plugin library uses
    /// (without loading one): for tests of host-side code.
    pub fn in_process<D: StoreDriver>(id: &str, driver: D) -> Result<Self, StoreError> {
        Store::with_ext(id, D::DRIVER, crate::ffi::export_store_ext(driver))
    }

    /// This store, with `caller` as the caller of its operations.
    pub fn with_caller(&self, caller: RequestContext) -> Self {
        Store {
            inner: Arc::clone(&self.inner),
            caller: Some(Arc::new(caller)),
        }
    }

    /// The caller this store acts for, if any.
    pub fn caller(&self) -> Option<&RequestContext> {
        self.caller.as_deref()
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

    /// What the store does with callers, as reported when it was opened (all false for a plugin
    /// built for ABI 1.0).
    pub fn context_capabilities(&self) -> ContextCapabilities {
        self.inner.context_capabilities
    }

    /// The caller to hand the driver: only to one that acts with it.
    fn caller_for_driver(&self) -> Option<Arc<RequestContext>> {
        self.caller
            .clone()
            .filter(|_| self.inner.context_capabilities.per_request_context)
    }

    /// Stores `data` for `image_id`; see `StoreDriver::put` for the contract.
    pub fn put(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let caller = self.caller_for_driver();
        let image_id = image_id.to_owned();
        async move {
            inner.require(inner.capabilities.write, "writing")?;
            import::put(&inner.object, caller.as_deref(), &image_id, size_hint, data).await
        }
    }

    /// Reads the object at `location`, or a range of it.
    pub fn get(
        &self,
        location: &str,
        range: Option<ReadRange>,
    ) -> impl Future<Output = Result<GetOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let caller = self.caller_for_driver();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.read, "reading")?;
            if range.is_some() {
                inner.require(inner.capabilities.ranged_read, "ranged reads")?;
            }
            import::get(&inner.object, caller.as_deref(), &location, range).await
        }
    }

    /// Deletes the object at `location`.
    pub fn delete(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let caller = self.caller_for_driver();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.delete, "deleting")?;
            import::delete(&inner.object, caller.as_deref(), &location).await
        }
    }

    /// The size of the object at `location`.
    pub fn size(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let caller = self.caller_for_driver();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.size, "size queries")?;
            import::size(&inner.object, caller.as_deref(), &location).await
        }
    }

    /// One page of the objects the store holds, from `cursor` (`None`: the first); see
    /// `StoreDriver::list`. Fails with `Unsupported`, without calling the plugin, when the driver
    /// cannot list.
    pub fn list(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<ListPage, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let cursor = cursor.map(str::to_owned);
        async move {
            inner.require(inner.capabilities.list, "listing")?;
            let ext = inner
                .ext
                .as_ref()
                .ok_or_else(|| StoreError::unsupported("list"))?;
            ext_import::list(ext, cursor.as_deref()).await
        }
    }

    /// Grants read access to the data at `location` as `acl` says, on behalf of this store's
    /// caller (an anonymous one when it has none); see `StoreDriver::set_acls`. Fails with
    /// `Unsupported`, without calling the plugin, when the driver does not keep ACLs.
    pub fn set_acls(
        &self,
        location: &str,
        acl: &Acl,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let caller = self.caller.clone();
        let location = location.to_owned();
        let acl = acl.clone();
        async move {
            inner.require(inner.context_capabilities.acls, "access control lists")?;
            let anonymous = RequestContext::default();
            let ctx = caller.as_deref().unwrap_or(&anonymous);
            import::set_acls(&inner.object, ctx, &location, &acl).await
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
            .field("context_capabilities", &self.inner.context_capabilities)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}
