//! The store object: a driver behind a `#[sabi_trait]` vtable, with `async-ffi` futures.

use std::sync::Arc;

use abi_stable::StableAbi;
use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, ROption, RString};
use async_ffi::{FfiFuture, FutureExt as _};
use futures::FutureExt as _;

use super::{FfiError, FfiResult, FfiStreamBox, export_stream, guard, import_stream, panicked};
use crate::{Capabilities, ReadRange, StoreDriver, StoreError};

// `Capabilities` cross as bit flags, so a newer SDK can add flags without changing the layout; a
// flag an older plugin does not know is simply absent (false). Bits are never reused.
const READ: u64 = 1 << 0;
const WRITE: u64 = 1 << 1;
const DELETE: u64 = 1 << 2;
const SIZE: u64 = 1 << 3;
const RANGED_READ: u64 = 1 << 4;

fn encode_capabilities(caps: Capabilities) -> u64 {
    [
        (caps.read, READ),
        (caps.write, WRITE),
        (caps.delete, DELETE),
        (caps.size, SIZE),
        (caps.ranged_read, RANGED_READ),
    ]
    .into_iter()
    .filter(|(present, _)| *present)
    .fold(0, |bits, (_, bit)| bits | bit)
}

#[cfg(any(feature = "host", test))]
fn decode_capabilities(bits: u64) -> Capabilities {
    let has = |bit: u64| bits & bit != 0;
    Capabilities {
        read: has(READ),
        write: has(WRITE),
        delete: has(DELETE),
        size: has(SIZE),
        ranged_read: has(RANGED_READ),
    }
}

/// [`ReadRange`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct FfiReadRange {
    offset: u64,
    length: ROption<u64>,
}

/// [`PutOutcome`] across the boundary; the metadata travels as a JSON object text.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiPutOutcome {
    location: RString,
    size: u64,
    metadata_json: RString,
}

/// [`GetOutcome`] across the boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiGetOutcome {
    total_size: u64,
    data: FfiStreamBox,
}

/// An opened store, as the host calls it. Methods are only ever appended after the last one.
#[sabi_trait]
pub trait FfiStore: Send + Sync {
    fn capabilities(&self) -> FfiResult<u64>;

    fn put(
        &self,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>>;

    fn get(
        &self,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>>;

    fn delete(&self, location: RString) -> FfiFuture<FfiResult<()>>;

    #[sabi(last_prefix_field)]
    fn size(&self, location: RString) -> FfiFuture<FfiResult<u64>>;
}

/// An owned, type-erased [`FfiStore`].
pub type FfiStoreBox = FfiStore_TO<'static, RBox<()>>;

/// Exports a driver. Each method only builds a future; the driver is called when the host polls it,
/// inside a panic guard, so a panicking driver yields an `Unexpected` error.
struct Exported<D>(Arc<D>);

pub(crate) fn guarded<T: Send + 'static>(
    operation: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> FfiFuture<FfiResult<T>> {
    std::panic::AssertUnwindSafe(operation)
        .catch_unwind()
        .map(|outcome| {
            outcome
                .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
                .map_err(FfiError::from)
                .into()
        })
        .into_ffi()
}

impl<D: StoreDriver> FfiStore for Exported<D> {
    fn capabilities(&self) -> FfiResult<u64> {
        guard(|| Ok(encode_capabilities(self.0.capabilities())))
    }

    fn put(
        &self,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>> {
        let driver = Arc::clone(&self.0);
        guarded(async move {
            let outcome = driver
                .put(&image_id, size_hint.into_option(), import_stream(data))
                .await?;
            Ok(FfiPutOutcome {
                location: outcome.location.into(),
                size: outcome.size,
                metadata_json: serde_json::Value::Object(outcome.metadata)
                    .to_string()
                    .into(),
            })
        })
    }

    fn get(
        &self,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>> {
        let driver = Arc::clone(&self.0);
        guarded(async move {
            let range = range.into_option().map(|range| ReadRange {
                offset: range.offset,
                length: range.length.into_option(),
            });
            let outcome = driver.get(&location, range).await?;
            Ok(FfiGetOutcome {
                total_size: outcome.total_size,
                data: export_stream(outcome.data),
            })
        })
    }

    fn delete(&self, location: RString) -> FfiFuture<FfiResult<()>> {
        let driver = Arc::clone(&self.0);
        guarded(async move { driver.delete(&location).await })
    }

    fn size(&self, location: RString) -> FfiFuture<FfiResult<u64>> {
        let driver = Arc::clone(&self.0);
        guarded(async move { driver.size(&location).await })
    }
}

/// Wraps an opened driver for the host.
pub(crate) fn export_store<D: StoreDriver>(driver: D) -> FfiStoreBox {
    FfiStoreBox::from_value(Exported(Arc::new(driver)), TD_Opaque)
}

/// The host's view of an opened store: plain Rust types in, plain Rust types out.
#[cfg(feature = "host")]
pub(crate) mod import {
    use std::panic::AssertUnwindSafe;

    use abi_stable::std_types::ROption;
    use async_ffi::FfiFuture;
    use futures::FutureExt as _;

    use super::{FfiReadRange, FfiStoreBox, decode_capabilities};
    use crate::ffi::{FfiResult, export_stream, import_stream};
    use crate::{
        Capabilities, DataStream, ErrorKind, GetOutcome, PutOutcome, ReadRange, StoreError,
    };

    /// Awaits a plugin future. The plugin side already turns panics into errors; `FfiFuture`
    /// re-raises any panic that still crossed as a panic, and that is caught here.
    pub(crate) async fn await_ffi<T>(future: FfiFuture<FfiResult<T>>) -> Result<T, StoreError> {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => result.into_result().map_err(StoreError::from),
            Err(_) => Err(StoreError::new(
                ErrorKind::Unexpected,
                "the plugin future panicked",
            )),
        }
    }

    pub(crate) fn capabilities(store: &FfiStoreBox) -> Result<Capabilities, StoreError> {
        store
            .capabilities()
            .into_result()
            .map(decode_capabilities)
            .map_err(StoreError::from)
    }

    pub(crate) async fn put(
        store: &FfiStoreBox,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let future = store.put(image_id.into(), size_hint.into(), export_stream(data));
        let outcome = await_ffi(future).await?;
        let metadata = match serde_json::from_str(&outcome.metadata_json) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(StoreError::new(
                    ErrorKind::Unexpected,
                    "the plugin returned location metadata that is not a JSON object",
                ));
            }
        };
        Ok(PutOutcome {
            location: outcome.location.into(),
            size: outcome.size,
            metadata,
        })
    }

    pub(crate) async fn get(
        store: &FfiStoreBox,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let range = range.map(|range| FfiReadRange {
            offset: range.offset,
            length: range.length.into(),
        });
        let future = store.get(location.into(), ROption::from(range));
        let outcome = await_ffi(future).await?;
        Ok(GetOutcome {
            total_size: outcome.total_size,
            data: import_stream(outcome.data),
        })
    }

    pub(crate) async fn delete(store: &FfiStoreBox, location: &str) -> Result<(), StoreError> {
        await_ffi(store.delete(location.into())).await
    }

    pub(crate) async fn size(store: &FfiStoreBox, location: &str) -> Result<u64, StoreError> {
        await_ffi(store.size(location.into())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_bits_round_trip_each_flag() {
        let all = Capabilities {
            read: true,
            write: true,
            delete: true,
            size: true,
            ranged_read: true,
        };
        assert_eq!(decode_capabilities(encode_capabilities(all)), all);
        let read_only = Capabilities {
            read: true,
            ..Capabilities::default()
        };
        assert_eq!(encode_capabilities(read_only), 1);
        assert_eq!(
            decode_capabilities(1 | 1 << 40),
            read_only,
            "unknown bits are ignored"
        );
    }
}
