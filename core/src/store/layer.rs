//! The host's layer around every opened store: where a driver's error means
//! something else from the host's point of view, it is restated here, once.

use std::future::Future;
use std::sync::Arc;

use glint_sdk::host::Store;
use glint_sdk::{
    Acl, Capabilities, DataStream, ErrorKind, GetOutcome, PutOutcome, ReadRange, StoreError,
};

use futures::FutureExt as _;

use crate::context::RequestContext;

/// An opened store as the services use it. Cloning is cheap.
///
/// Rules added over the driver:
/// - a `put` that fails with `NotFound` met a store whose backing location
///   (directory, container, pool) is gone: the store is unavailable
///   (temporary), not the image missing, so clients get 503 and may retry.
/// - a handle made by [`StoreHandle::acting_for`] passes the caller (token
///   and project) to drivers that act with it (Swift's multi-tenant mode);
///   other drivers never see it.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    inner: Store,
    /// The caller of the operations, for drivers that want one.
    caller: Option<Arc<glint_sdk::RequestContext>>,
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
        Self {
            inner,
            caller: None,
        }
    }

    /// This store, with `ctx` as the caller of its operations: drivers that
    /// act with the caller's token get it (Glance's request context). Without
    /// a token (noauth), the plain operations run.
    pub fn acting_for(&self, ctx: &RequestContext) -> Self {
        let caller = ctx.auth_token.as_ref().map(|token| {
            Arc::new(glint_sdk::RequestContext::new(
                token.expose(),
                ctx.project_id.clone(),
            ))
        });
        Self {
            inner: self.inner.clone(),
            caller,
        }
    }

    /// Grants read access to the data at `location` as `acl` says (Glance's
    /// `set_acls`), as the caller. A store that keeps no ACLs, or a handle
    /// without a caller, has nothing to do.
    pub fn set_acls(
        &self,
        location: &str,
        acl: &Acl,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let set = match &self.caller {
            Some(caller) if self.inner.context_capabilities().acls => {
                Some(self.inner.set_acls(caller, location, acl))
            }
            _ => None,
        };
        async move {
            match set {
                Some(set) => set.await,
                None => Ok(()),
            }
        }
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
        let put = match &self.caller {
            Some(caller) => self
                .inner
                .put_as(caller, image_id, size_hint, data)
                .left_future(),
            None => self.inner.put(image_id, size_hint, data).right_future(),
        };
        let id = self.inner.id().to_owned();
        let put = timed(id.clone(), "put", put);
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
        let get = match &self.caller {
            Some(caller) => self.inner.get_as(caller, location, range).left_future(),
            None => self.inner.get(location, range).right_future(),
        };
        timed(self.inner.id().to_owned(), "get", get)
    }

    /// Deletes the object at `location`.
    pub fn delete(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let delete = match &self.caller {
            Some(caller) => self.inner.delete_as(caller, location).left_future(),
            None => self.inner.delete(location).right_future(),
        };
        timed(self.inner.id().to_owned(), "delete", delete)
    }

    /// The size of the object at `location`.
    pub fn size(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        let size = match &self.caller {
            Some(caller) => self.inner.size_as(caller, location).left_future(),
            None => self.inner.size(location).right_future(),
        };
        timed(self.inner.id().to_owned(), "size", size)
    }
}

/// `call`, counted in the store metrics with its outcome and duration.
async fn timed<T>(
    store: String,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = std::time::Instant::now();
    let result = call.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => outcome_label(e.kind),
    };
    crate::metrics::store_operation(&store, operation, outcome, started.elapsed().as_secs_f64());
    result
}

/// A bounded label for an error kind (a newer plugin's unknown kinds share one).
fn outcome_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "not_found",
        ErrorKind::AlreadyExists => "already_exists",
        ErrorKind::StorageFull => "storage_full",
        ErrorKind::PermissionDenied => "permission_denied",
        ErrorKind::ConfigInvalid => "config_invalid",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::InUse => "in_use",
        ErrorKind::Timeout => "timeout",
        ErrorKind::RangeNotSatisfiable => "range_not_satisfiable",
        ErrorKind::Unexpected => "unexpected",
        ErrorKind::Other(_) => "other",
    }
}
