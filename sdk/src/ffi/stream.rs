//! The pull stream of buffers, in both directions.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RNone, ROption, RSome};
use async_ffi::{ContextExt, FfiContext, FfiPoll};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::{FfiBuf, FfiError, FfiResult, panicked};
use crate::{DataStream, ErrorKind, StoreError};

/// One poll of a data stream: `None` at the end.
pub type FfiStreamItem = ROption<FfiResult<FfiBuf>>;

/// A data stream as the other side polls it.
#[sabi_trait]
pub trait FfiStream: Send {
    #[sabi(last_prefix_field)]
    fn poll_next(&mut self, cx: &mut FfiContext<'_>) -> FfiPoll<FfiStreamItem>;
}

/// An owned, type-erased [`FfiStream`].
pub type FfiStreamBox = FfiStream_TO<'static, RBox<()>>;

/// Exports a local stream. After a panic the stream is dropped and reports its end, so a broken
/// producer is never polled again.
struct Exported(Option<DataStream>);

impl FfiStream for Exported {
    fn poll_next(&mut self, cx: &mut FfiContext<'_>) -> FfiPoll<FfiStreamItem> {
        let Some(stream) = self.0.as_mut() else {
            return FfiPoll::Ready(RNone);
        };
        match catch_unwind(AssertUnwindSafe(|| {
            cx.with_context(|cx| stream.poll_next_unpin(cx))
        })) {
            Ok(Poll::Pending) => FfiPoll::Pending,
            Ok(Poll::Ready(None)) => {
                self.0 = None;
                FfiPoll::Ready(RNone)
            }
            Ok(Poll::Ready(Some(item))) => {
                FfiPoll::Ready(RSome(item.map(FfiBuf::from).map_err(FfiError::from).into()))
            }
            Err(payload) => {
                self.0 = None;
                FfiPoll::Ready(RSome(
                    Err(FfiError::from(panicked(payload.as_ref()))).into(),
                ))
            }
        }
    }
}

/// Wraps a local stream for the other side.
pub fn export_stream(stream: DataStream) -> FfiStreamBox {
    FfiStreamBox::from_value(Exported(Some(stream)), TD_Opaque)
}

/// A stream received from the other side, seen as an ordinary [`DataStream`].
struct Imported(FfiStreamBox);

// Nothing in `Imported` is pinned: the trait object is polled through `&mut`.
impl Unpin for Imported {}

impl Stream for Imported {
    type Item = Result<Bytes, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match cx.with_ffi_context(|cx| self.0.poll_next(cx)) {
            FfiPoll::Ready(RSome(item)) => Poll::Ready(Some(
                item.into_result()
                    .map(Bytes::from)
                    .map_err(StoreError::from),
            )),
            FfiPoll::Ready(RNone) => Poll::Ready(None),
            FfiPoll::Pending => Poll::Pending,
            FfiPoll::Panicked => Poll::Ready(Some(Err(StoreError::new(
                ErrorKind::Unexpected,
                "the data stream panicked",
            )))),
        }
    }
}

/// Unwraps a stream received from the other side.
pub fn import_stream(stream: FfiStreamBox) -> DataStream {
    Imported(stream).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::stream;

    #[test]
    fn items_errors_and_panics_cross_both_ways() {
        let source: DataStream = stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(StoreError::new(ErrorKind::Timeout, "slow")),
        ])
        .chain(stream::poll_fn(|_| panic!("producer bug")))
        .boxed();
        let items: Vec<_> = block_on(import_stream(export_stream(source)).collect());
        assert_eq!(items.len(), 3, "the stream ends after the panic");
        assert_eq!(items[0], Ok(Bytes::from_static(b"ab")));
        assert_eq!(items[1].as_ref().unwrap_err().kind, ErrorKind::Timeout);
        let panic = items[2].as_ref().unwrap_err();
        assert_eq!(panic.kind, ErrorKind::Unexpected);
        assert!(panic.message.contains("producer bug"), "{panic}");
    }
}
