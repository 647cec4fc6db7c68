//! The error as it crosses the boundary, and panic containment.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::StableAbi;
use abi_stable::std_types::{RResult, RString};

use crate::{ErrorKind, StoreError};

/// [`StoreError`] across the boundary: the kind is a plain code, never a Rust enum.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiError {
    kind: u32,
    message: RString,
    temporary: bool,
}

/// A fallible result across the boundary.
pub type FfiResult<T> = RResult<T, FfiError>;

impl From<StoreError> for FfiError {
    fn from(err: StoreError) -> Self {
        FfiError {
            kind: err.kind.code(),
            message: err.message.into(),
            temporary: err.temporary,
        }
    }
}

impl From<FfiError> for StoreError {
    fn from(err: FfiError) -> Self {
        StoreError {
            kind: ErrorKind::from_code(err.kind),
            message: err.message.into(),
            temporary: err.temporary,
        }
    }
}

/// The error a caught panic turns into.
pub(crate) fn panicked(payload: &(dyn Any + Send)) -> StoreError {
    let detail = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload");
    StoreError::new(ErrorKind::Unexpected, format!("plugin panicked: {detail}"))
}

/// Runs a synchronous entry point, turning a panic into an `Unexpected` error: unwinding out of an
/// `extern "C"` function would abort the host.
pub(crate) fn guard<T>(entry: impl FnOnce() -> Result<T, StoreError>) -> FfiResult<T> {
    catch_unwind(AssertUnwindSafe(entry))
        .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
        .map_err(FfiError::from)
        .into()
}
