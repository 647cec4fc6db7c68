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
///
/// The other side polls on its own threads, where this side's tokio has no runtime context: a
/// stream that needs one (a `tokio::fs::File`, a timer) would panic there. So the stream is
/// polled inside the runtime that was current when it was exported, if any.
struct Exported {
    stream: Option<DataStream>,
    runtime: Option<tokio::runtime::Handle>,
}

impl FfiStream for Exported {
    fn poll_next(&mut self, cx: &mut FfiContext<'_>) -> FfiPoll<FfiStreamItem> {
        let Some(stream) = self.stream.as_mut() else {
            return FfiPoll::Ready(RNone);
        };
        let runtime = &self.runtime;
        match catch_unwind(AssertUnwindSafe(|| {
            let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
            cx.with_context(|cx| stream.poll_next_unpin(cx))
        })) {
            Ok(Poll::Pending) => FfiPoll::Pending,
            Ok(Poll::Ready(None)) => {
                self.stream = None;
                FfiPoll::Ready(RNone)
            }
            Ok(Poll::Ready(Some(item))) => {
                FfiPoll::Ready(RSome(item.map(FfiBuf::from).map_err(FfiError::from).into()))
            }
            Err(payload) => {
                self.stream = None;
                FfiPoll::Ready(RSome(
                    Err(FfiError::from(panicked(payload.as_ref()))).into(),
                ))
            }
        }
    }
}

/// Wraps a local stream for the other side; it will be polled in the current tokio runtime, if
/// there is one.
pub fn export_stream(stream: DataStream) -> FfiStreamBox {
    let exported = Exported {
        stream: Some(stream),
        runtime: tokio::runtime::Handle::try_current().ok(),
    };
    FfiStreamBox::from_value(exported, TD_Opaque)
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

    /// A stream reading a `tokio::fs::File` needs its runtime's context (the reads run on its
    /// blocking pool); the other side polls it from a thread that has none.
    #[test]
    fn an_exported_stream_is_polled_in_the_runtime_it_was_exported_from() {
        use tokio::io::AsyncReadExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, b"staged bytes").unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let exported = runtime.block_on(async {
            let file = tokio::fs::File::open(&path).await.unwrap();
            let source: DataStream = stream::unfold(file, |mut file| async move {
                let mut buf = bytes::BytesMut::with_capacity(64);
                match file.read_buf(&mut buf).await {
                    Ok(0) => None,
                    Ok(_) => Some((Ok(buf.freeze()), file)),
                    Err(err) => Some((
                        Err(StoreError::new(ErrorKind::Unexpected, err.to_string())),
                        file,
                    )),
                }
            })
            .boxed();
            export_stream(source)
        });
        // A plain thread, as a plugin's runtime thread is to the host's tokio.
        let items =
            std::thread::spawn(move || block_on(import_stream(exported).collect::<Vec<_>>()))
                .join()
                .unwrap();
        let bytes: Vec<u8> = items
            .into_iter()
            .flat_map(|item| item.expect("read in the exporting runtime").to_vec())
            .collect();
        assert_eq!(bytes, b"staged bytes");
    }
}
