//! An opened store, as the server uses it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::ffi::{FfiStoreBox, import};
use crate::{
    Acl, Capabilities, ContextCapabilities, DataStream, GetOutcome, PutOutcome, ReadRange,
    RequestContext, StoreError,
};

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
    context_capabilities: ContextCapabilities,
    object: FfiStoreBox,
}

impl Store {
    pub(crate) fn new(id: &str, driver: &str, object: FfiStoreBox) -> Result<Self, StoreError> {
        let (capabilities, context_capabilities) = import::capabilities(&object)?;
        Ok(Store {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                driver: driver.to_owned(),
                capabilities,
                context_capabilities,
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

    /// What the store does with callers, as reported when it was opened (all false for a plugin
    /// built for ABI 1.0).
    pub fn context_capabilities(&self) -> ContextCapabilities {
        self.inner.context_capabilities
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

    /// [`Store::put`] on behalf of `ctx`: the driver gets the context when it asks for one
    /// (`per_request_context`), else this is the plain `put`.
    pub fn put_as(
        &self,
        ctx: &RequestContext,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let ctx = ctx.clone();
        let image_id = image_id.to_owned();
        async move {
            inner.require(inner.capabilities.write, "writing")?;
            if inner.context_capabilities.per_request_context {
                import::put_as(&inner.object, &ctx, &image_id, size_hint, data).await
            } else {
                import::put(&inner.object, &image_id, size_hint, data).await
            }
        }
    }

    /// [`Store::get`] on behalf of `ctx` (see [`Store::put_as`]).
    pub fn get_as(
        &self,
        ctx: &RequestContext,
        location: &str,
        range: Option<ReadRange>,
    ) -> impl Future<Output = Result<GetOutcome, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let ctx = ctx.clone();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.read, "reading")?;
            if range.is_some() {
                inner.require(inner.capabilities.ranged_read, "ranged reads")?;
            }
            if inner.context_capabilities.per_request_context {
                import::get_as(&inner.object, &ctx, &location, range).await
            } else {
                import::get(&inner.object, &location, range).await
            }
        }
    }

    /// [`Store::delete`] on behalf of `ctx` (see [`Store::put_as`]).
    pub fn delete_as(
        &self,
        ctx: &RequestContext,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let ctx = ctx.clone();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.delete, "deleting")?;
            if inner.context_capabilities.per_request_context {
                import::delete_as(&inner.object, &ctx, &location).await
            } else {
                import::delete(&inner.object, &location).await
            }
        }
    }

    /// [`Store::size`] on behalf of `ctx` (see [`Store::put_as`]).
    pub fn size_as(
        &self,
        ctx: &RequestContext,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let ctx = ctx.clone();
        let location = location.to_owned();
        async move {
            inner.require(inner.capabilities.size, "size queries")?;
            if inner.context_capabilities.per_request_context {
                import::size_as(&inner.object, &ctx, &location).await
            } else {
                import::size(&inner.object, &location).await
            }
        }
    }

    /// Grants read access to the data at `location` as `acl` says, on behalf of `ctx`; see
    /// `StoreDriver::set_acls`. Fails with `Unsupported`, without calling the plugin, when the
    /// driver does not keep ACLs.
    pub fn set_acls(
        &self,
        ctx: &RequestContext,
        location: &str,
        acl: &Acl,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let ctx = ctx.clone();
        let location = location.to_owned();
        let acl = acl.clone();
        async move {
            inner.require(inner.context_capabilities.acls, "access control lists")?;
            import::set_acls(&inner.object, &ctx, &location, &acl).await
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
            .finish_non_exhaustive()
    }
}
