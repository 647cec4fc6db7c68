//! A store call that makes no progress for its store's `timeout_secs` fails with `Timeout`
//! (503) instead of holding its request, and the worker serving it, forever: a plugin hung on a
//! backend that stopped answering, or on a bug of its own.
//!
//! "No progress" is measured so that a slow client never counts against the store:
//! - a `size`, `delete`, `list` or `set_acls` call, and a `get` until it returns its stream, must
//!   finish within the limit;
//! - a read's stream must yield each chunk within the limit of being asked for it (a client that
//!   reads slowly asks late; that is not the store's time);
//! - a `put` must ask for the next piece of data, or finish, within the limit of the last piece
//!   it was given; while it waits for the client's data the clock is stopped.
//!
//! A plugin whose future blocks its thread inside `poll` cannot be timed out this way: the
//! timer needs the thread back. Drivers run blocking work on their own threads
//! ([`glint_sdk::runtime`]), so a hung backend shows as a pending future, which this catches.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use glint_sdk::{DataStream, ErrorKind, GetOutcome, StoreError};

/// The error of a call abandoned after `limit` without progress.
fn timed_out(store: &str, what: &str, limit: Duration) -> StoreError {
    tracing::error!(
        store,
        "store {what} made no progress for {} s; abandoned",
        limit.as_secs_f64()
    );
    StoreError::new(
        ErrorKind::Timeout,
        format!(
            "store '{store}' made no progress on a {what} for {} s",
            limit.as_secs_f64()
        ),
    )
}

/// `call`, failing with `Timeout` when it has not finished within `limit`.
pub(super) async fn within<T>(
    store: &str,
    what: &str,
    limit: Option<Duration>,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let Some(limit) = limit else {
        return call.await;
    };
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(store, what, limit)),
    }
}

/// A read's outcome whose stream fails with `Timeout` when a chunk it was asked for does not
/// come within `limit`.
pub(super) fn read_outcome(
    store: &str,
    limit: Option<Duration>,
    outcome: GetOutcome,
) -> GetOutcome {
    let Some(limit) = limit else {
        return outcome;
    };
    let data = ChunkDeadline {
        inner: outcome.data,
        store: store.to_owned(),
        limit,
        timer: None,
        done: false,
    };
    GetOutcome {
        total_size: outcome.total_size,
        data: data.boxed(),
    }
}

struct ChunkDeadline {
    inner: DataStream,
    store: String,
    limit: Duration,
    /// Running while a chunk asked for has not come.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl Stream for ChunkDeadline {
    type Item = Result<bytes::Bytes, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            self.timer = None;
            return Poll::Ready(item);
        }
        let limit = self.limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                self.done = true;
                Poll::Ready(Some(Err(timed_out(&self.store, "read", limit))))
            }
        }
    }
}

/// When a put last made progress, and whether it is waiting for the client's data.
struct Progress {
    started: Instant,
    /// Milliseconds since `started` of the last piece handed over (or of the start).
    last_ms: AtomicU64,
    /// The driver asked for data the client has not sent yet.
    waiting_for_client: AtomicBool,
}

impl Progress {
    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn stalled_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// The put's data as the driver reads it, noting each piece it takes.
struct Noted {
    inner: DataStream,
    progress: Arc<Progress>,
}

impl Stream for Noted {
    type Item = Result<bytes::Bytes, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        let waiting = polled.is_pending();
        self.progress
            .waiting_for_client
            .store(waiting, Ordering::Relaxed);
        if !waiting {
            self.progress.touch();
        }
        polled
    }
}

/// Runs `put` on `data`, failing with `Timeout` when the driver neither takes more data nor
/// finishes for `limit` while it is not waiting for the client.
pub(super) async fn put<T, F, Fut>(
    store: &str,
    limit: Option<Duration>,
    data: DataStream,
    put: F,
) -> Result<T, StoreError>
where
    F: FnOnce(DataStream) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let Some(limit) = limit else {
        return put(data).await;
    };
    let progress = Arc::new(Progress {
        started: Instant::now(),
        last_ms: AtomicU64::new(0),
        waiting_for_client: AtomicBool::new(false),
    });
    let noted = Noted {
        inner: data,
        progress: Arc::clone(&progress),
    };
    let call = put(noted.boxed());
    tokio::pin!(call);
    let mut tick = tokio::time::interval((limit / 4).max(Duration::from_millis(50)));
    loop {
        tokio::select! {
            result = &mut call => return result,
            _ = tick.tick() => {
                if !progress.waiting_for_client.load(Ordering::Relaxed)
                    && progress.stalled_for() > limit
                {
                    return Err(timed_out(store, "write", limit));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const LIMIT: Duration = Duration::from_millis(300);

    fn chunks(n: usize) -> DataStream {
        futures::stream::iter((0..n).map(|_| Ok(Bytes::from_static(b"abc")))).boxed()
    }

    #[tokio::test]
    async fn a_call_that_never_ends_times_out() {
        let hung = futures::future::pending::<Result<(), StoreError>>();
        let e = within("s", "delete", Some(LIMIT), hung).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        let quick = within("s", "delete", Some(LIMIT), async { Ok(1) });
        assert_eq!(quick.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_put_that_stops_reading_times_out_but_a_slow_client_does_not() {
        let limit = Some(LIMIT);
        // The driver reads two pieces, then hangs.
        let e = put("s", limit, chunks(10), |mut data| async move {
            data.next().await;
            data.next().await;
            futures::future::pending::<Result<(), StoreError>>().await
        })
        .await
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);

        // The client sends a piece every 0.8 limits, four limits in all: the driver is never
        // to blame.
        let slow = futures::stream::unfold(0, |n| async move {
            if n == 5 {
                return None;
            }
            tokio::time::sleep(LIMIT * 4 / 5).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        })
        .boxed();
        let read = put("s", limit, slow, |data| async move {
            Ok(data.collect::<Vec<_>>().await.len())
        });
        assert_eq!(read.await.unwrap(), 5);
    }

    #[tokio::test]
    async fn a_read_chunk_that_never_comes_times_out() {
        let outcome = GetOutcome {
            total_size: 6,
            data: chunks(2).chain(futures::stream::pending()).boxed(),
        };
        let mut data = read_outcome("s", Some(LIMIT), outcome).data;
        assert!(data.next().await.unwrap().is_ok());
        assert!(data.next().await.unwrap().is_ok());
        let e = data.next().await.unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(data.next().await.is_none());
    }
}
