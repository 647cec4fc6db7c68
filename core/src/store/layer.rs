//! The host's layer around every opened store: where a driver's error means
//! something else from the host's point of view, it is restated here, once;
//! and operations that failed temporarily are retried where that is safe.

use std::future::Future;
use std::time::Duration;

use glint_sdk::host::Store;
use glint_sdk::{
    Acl, Capabilities, DataStream, ErrorKind, GetOutcome, ListPage, PutOutcome, ReadRange,
    StoreError,
};

use super::deadline;
use crate::context::RequestContext;

/// An opened store as the services use it. Cloning is cheap.
///
/// Rules added over the driver:
/// - a `put` that fails with `NotFound` met a store whose backing location
///   (directory, container, pool) is gone: the store is unavailable
///   (temporary), not the image missing, so clients get 503 and may retry.
/// - `size`, `delete` and `get` that fail with a temporary error are tried
///   again, as [`RetryPolicy`] says. A `get` is only retried while it has
///   not returned, so before any byte was handed out; a `put` never is: its
///   data stream is consumed by the first attempt.
/// - with a `timeout_secs`, a call that makes no progress for that long fails
///   with `Timeout` (503) instead of holding its request: see [`super::deadline`].
///   A timed-out attempt is not retried.
/// - a handle made by [`StoreHandle::acting_for`] passes the caller (token
///   and project) to drivers that act with it (Swift's multi-tenant mode);
///   other drivers never see it.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    inner: Store,
    retry: RetryPolicy,
    /// The store's `timeout_secs`: how long a call may go without progress.
    timeout: Option<Duration>,
}

/// How often and how patiently an operation that failed temporarily is
/// tried again: up to `attempts` tries in all, waiting `first_delay` after
/// the first failure and twice as long after each next one, at most
/// `max_delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three tries within about a third of a second: long enough to ride out
    /// a dropped connection or a backend's brief overload, short enough that
    /// a client waiting on the request does not notice.
    fn default() -> Self {
        Self {
            attempts: 3,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Runs `operation` until it succeeds, fails for good (an error that is
    /// not `temporary`), or the attempts are spent; returns its last result.
    async fn run<T, F, Fut>(
        self,
        store: &str,
        what: &str,
        mut operation: F,
    ) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut delay = self.first_delay;
        let mut attempt = 1;
        loop {
            match operation().await {
                Err(e) if e.temporary && attempt < self.attempts => {
                    tracing::warn!(
                        store,
                        attempt,
                        "store {what} failed temporarily, retrying in {delay:?}: {e}"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.max_delay);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
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
        Self::with_retry(inner, RetryPolicy::default())
    }

    /// `inner` with the host's rules, retrying as `retry` says.
    pub fn with_retry(inner: Store, retry: RetryPolicy) -> Self {
        Self {
            inner,
            retry,
            timeout: None,
        }
    }

    /// This store, with calls that make no progress for `timeout` failing with `Timeout`.
    pub fn with_timeout(self, timeout: Option<Duration>) -> Self {
        Self { timeout, ..self }
    }

    /// This store, with `ctx` as the caller of its operations: drivers that
    /// act with the caller's token get it (Glance's request context). Without
    /// a token (noauth), the plain operations run.
    pub fn acting_for(&self, ctx: &RequestContext) -> Self {
        let inner = match &ctx.auth_token {
            Some(token) => self.inner.with_caller(glint_sdk::RequestContext::new(
                token.expose(),
                ctx.project_id.clone(),
            )),
            None => self.inner.clone(),
        };
        Self {
            inner,
            retry: self.retry,
            timeout: self.timeout,
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
        let set = (self.inner.caller().is_some() && self.inner.context_capabilities().acls)
            .then(|| self.inner.set_acls(location, acl));
        let (id, limit) = (self.inner.id().to_owned(), self.timeout);
        async move {
            match set {
                Some(set) => deadline::within(&id, "set_acls", limit, set).await,
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

    /// Stores `data` for `image_id`; see `StoreDriver::put`. Never retried.
    pub fn put(
        &self,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send + 'static {
        let (inner, image_id, limit) = (self.inner.clone(), image_id.to_owned(), self.timeout);
        let id = self.inner.id().to_owned();
        let put = {
            let id = id.clone();
            async move {
                deadline::put(&id, limit, data, |data| {
                    inner.put(&image_id, size_hint, data)
                })
                .await
            }
        };
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
        let (store, retry, location) = (self.inner.clone(), self.retry, location.to_owned());
        let limit = self.timeout;
        let call = async move {
            let id = store.id();
            let outcome = retry
                .run(id, "read", || {
                    deadline::within(id, "read", limit, store.get(&location, range))
                })
                .await?;
            Ok(deadline::read_outcome(id, limit, outcome))
        };
        timed(self.inner.id().to_owned(), "get", call)
    }

    /// Deletes the object at `location`.
    pub fn delete(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let (store, retry, location) = (self.inner.clone(), self.retry, location.to_owned());
        let limit = self.timeout;
        let call = async move {
            let id = store.id();
            retry
                .run(id, "delete", || {
                    deadline::within(id, "delete", limit, store.delete(&location))
                })
                .await
        };
        timed(self.inner.id().to_owned(), "delete", call)
    }

    /// The size of the object at `location`.
    pub fn size(
        &self,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'static {
        let (store, retry, location) = (self.inner.clone(), self.retry, location.to_owned());
        let limit = self.timeout;
        let call = async move {
            let id = store.id();
            retry
                .run(id, "size query", || {
                    deadline::within(id, "size query", limit, store.size(&location))
                })
                .await
        };
        timed(self.inner.id().to_owned(), "size", call)
    }

    /// One page of the objects the store holds (`StoreDriver::list`), for a
    /// driver that can list.
    pub fn list(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<ListPage, StoreError>> + Send + 'static {
        let (store, retry, cursor) = (self.inner.clone(), self.retry, cursor.map(str::to_owned));
        let limit = self.timeout;
        let call = async move {
            let id = store.id();
            retry
                .run(id, "listing", || {
                    deadline::within(id, "listing", limit, store.list(cursor.as_deref()))
                })
                .await
        };
        timed(self.inner.id().to_owned(), "list", call)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use bytes::Bytes;
    use futures::StreamExt as _;
    use glint_sdk::{OpenContext, RequestContext, StoreDriver};

    use super::*;

    /// Fails every operation with `error` for its first `failures` calls,
    /// then succeeds; counts the calls.
    struct Flaky {
        failures: u32,
        temporary: bool,
        calls: Arc<AtomicU32>,
    }

    impl Flaky {
        fn attempt(&self) -> Result<(), StoreError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if call < self.failures {
                let e = StoreError::new(ErrorKind::Unavailable, "backend busy");
                return Err(if self.temporary { e.temporary() } else { e });
            }
            Ok(())
        }
    }

    impl StoreDriver for Flaky {
        const DRIVER: &'static str = "flaky";

        fn open(_: OpenContext, _: serde_json::Value) -> Result<Self, StoreError> {
            unreachable!("opened in process")
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::full()
        }

        async fn put(
            &self,
            _: Option<&RequestContext>,
            image_id: &str,
            _: Option<u64>,
            _: DataStream,
        ) -> Result<PutOutcome, StoreError> {
            self.attempt()?;
            Ok(PutOutcome {
                location: format!("flaky://{image_id}"),
                size: 0,
                metadata: Default::default(),
            })
        }

        async fn get(
            &self,
            _: Option<&RequestContext>,
            _: &str,
            _: Option<ReadRange>,
        ) -> Result<GetOutcome, StoreError> {
            self.attempt()?;
            Ok(GetOutcome {
                total_size: 3,
                data: futures::stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed(),
            })
        }

        async fn delete(&self, _: Option<&RequestContext>, _: &str) -> Result<(), StoreError> {
            self.attempt()
        }

        async fn size(&self, _: Option<&RequestContext>, _: &str) -> Result<u64, StoreError> {
            self.attempt().map(|()| 42)
        }
    }

    const FAST: RetryPolicy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    };

    fn flaky(failures: u32, temporary: bool) -> (StoreHandle, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let driver = Flaky {
            failures,
            temporary,
            calls: Arc::clone(&calls),
        };
        let store = Store::in_process("s", driver).unwrap();
        (StoreHandle::with_retry(store, FAST), calls)
    }

    #[tokio::test]
    async fn temporary_failures_are_retried_until_success() {
        let (store, calls) = flaky(2, true);
        assert_eq!(store.size("flaky://a").await.unwrap(), 42);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let (store, calls) = flaky(2, true);
        store.delete("flaky://a").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let (store, calls) = flaky(1, true);
        let got = store.get("flaky://a", None).await.unwrap();
        assert_eq!(got.total_size, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn retries_stop_after_the_last_attempt() {
        let (store, calls) = flaky(3, true);
        let err = store.size("flaky://a").await.unwrap_err();
        assert!(err.temporary, "{err}");
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert_eq!(calls.load(Ordering::SeqCst), FAST.attempts);
    }

    #[tokio::test]
    async fn lasting_failures_are_not_retried() {
        let (store, calls) = flaky(1, false);
        store.size("flaky://a").await.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn puts_are_never_retried() {
        let (store, calls) = flaky(1, true);
        let data = futures::stream::iter([Ok(Bytes::from_static(b"x"))]).boxed();
        let err = store.put("a", None, data).await.unwrap_err();
        assert!(err.temporary, "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
