//! A plugin's own threads.
//!
//! A plugin is a separate copy of every crate, tokio included: the host's runtime is invisible to it,
//! so `tokio::fs` or a `tokio::net` socket used directly inside a driver future panics with "there is
//! no reactor running". Spawn such work here instead; what this returns (a join handle, a channel
//! receiver) can be polled from any host thread.

use std::future::Future;
use std::sync::OnceLock;

use crate::{ErrorKind, StoreError};

/// The plugin's runtime, built on first use: a small multi-threaded tokio runtime with I/O and timers.
///
/// Each plugin library has its own instance (each has its own copy of this SDK).
pub fn handle() -> &'static tokio::runtime::Handle {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("glint-plugin")
                .enable_all()
                .build()
                .expect("the plugin runtime cannot be built")
        })
        .handle()
}

/// Runs blocking work (file I/O, a C library call) on the plugin's blocking pool.
///
/// A panic in `work` becomes an `Unexpected` error.
pub fn spawn_blocking<T, F>(work: F) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    join(handle().spawn_blocking(work))
}

/// Runs a future on the plugin's runtime, where tokio I/O and timers work.
///
/// A panic in `task` becomes an `Unexpected` error.
pub fn spawn<F>(task: F) -> impl Future<Output = Result<F::Output, StoreError>> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    join(handle().spawn(task))
}

async fn join<T>(handle: tokio::task::JoinHandle<T>) -> Result<T, StoreError> {
    handle
        .await
        .map_err(|err| StoreError::new(ErrorKind::Unexpected, format!("plugin task failed: {err}")))
}
