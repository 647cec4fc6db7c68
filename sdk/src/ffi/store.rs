//! The store object: a driver behind a `#[sabi_trait]` vtable, with `async-ffi` futures.

use std::sync::Arc;

use abi_stable::StableAbi;
use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, ROption, RString, RVec};
use async_ffi::{FfiFuture, FutureExt as _};
use futures::FutureExt as _;

use super::{FfiError, FfiResult, FfiStreamBox, export_stream, guard, import_stream, panicked};
use crate::{
    Acl, Capabilities, ContextCapabilities, ErrorKind, ReadRange, RequestContext, StoreDriver,
    StoreError,
};

// `Capabilities` cross as bit flags, so a newer SDK can add flags without changing the layout; a
// flag an older plugin does not know is simply absent (false). Bits are never reused.
const READ: u64 = 1 << 0;
const WRITE: u64 = 1 << 1;
const DELETE: u64 = 1 << 2;
const SIZE: u64 = 1 << 3;
const RANGED_READ: u64 = 1 << 4;
// ABI 1.1: the `ContextCapabilities` flags.
const PER_REQUEST_CONTEXT: u64 = 1 << 5;
const ACLS: u64 = 1 << 6;
// ABI 1.3: listing (the method is on the 1.3 companion object, `FfiStoreExt`).
const LIST: u64 = 1 << 7;

fn encode_capabilities(caps: Capabilities, context: ContextCapabilities) -> u64 {
    [
        (caps.read, READ),
        (caps.write, WRITE),
        (caps.delete, DELETE),
        (caps.size, SIZE),
        (caps.ranged_read, RANGED_READ),
        (caps.list, LIST),
        (context.per_request_context, PER_REQUEST_CONTEXT),
        (context.acls, ACLS),
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
        list: has(LIST),
    }
}

#[cfg(any(feature = "host", test))]
fn decode_context_capabilities(bits: u64) -> ContextCapabilities {
    ContextCapabilities {
        per_request_context: bits & PER_REQUEST_CONTEXT != 0,
        acls: bits & ACLS != 0,
    }
}

/// [`RequestContext`] across the boundary (ABI 1.1). Empty strings stand for absent values. It has
/// no `Debug`: the token must not reach a log by accident.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiRequestContext {
    auth_token: RString,
    project_id: RString,
    service_catalog_json: RString,
}

impl From<&RequestContext> for FfiRequestContext {
    fn from(ctx: &RequestContext) -> Self {
        FfiRequestContext {
            auth_token: ctx.auth_token.as_str().into(),
            project_id: ctx.project_id.as_deref().unwrap_or_default().into(),
            service_catalog_json: ctx
                .service_catalog_json
                .as_deref()
                .unwrap_or_default()
                .into(),
        }
    }
}

impl From<FfiRequestContext> for RequestContext {
    fn from(ctx: FfiRequestContext) -> Self {
        let present = |value: RString| Some(String::from(value)).filter(|v| !v.is_empty());
        RequestContext {
            auth_token: ctx.auth_token.into(),
            project_id: present(ctx.project_id),
            service_catalog_json: present(ctx.service_catalog_json),
        }
    }
}

/// [`Acl`] across the boundary (ABI 1.1).
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiAcl {
    public: bool,
    read_projects: RVec<RString>,
}

impl From<&Acl> for FfiAcl {
    fn from(acl: &Acl) -> Self {
        FfiAcl {
            public: acl.public,
            read_projects: acl
                .read_projects
                .iter()
                .map(|p| p.as_str().into())
                .collect(),
        }
    }
}

impl From<FfiAcl> for Acl {
    fn from(acl: FfiAcl) -> Self {
        Acl {
            public: acl.public,
            read_projects: acl.read_projects.into_iter().map(String::from).collect(),
        }
    }
}

/// What a host gets when it calls a method a plugin built for an older ABI minor lacks (the host
/// checks the capability bits first, so this is a safety net).
fn absent<T: Send + 'static>(method: &str) -> FfiFuture<FfiResult<T>> {
    let err = FfiError::from(StoreError::new(
        ErrorKind::Unsupported,
        format!("the plugin was built for an older store plugin ABI and has no `{method}`"),
    ));
    async move { FfiResult::RErr(err) }.into_ffi()
}

/// [`ReadRange`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct FfiReadRange {
    offset: u64,
    length: ROption<u64>,
}

/// [`PutOutcome`](crate::PutOutcome) across the boundary; the metadata travels as a JSON object text.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiPutOutcome {
    location: RString,
    size: u64,
    metadata_json: RString,
}

/// [`GetOutcome`](crate::GetOutcome) across the boundary.
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

    // ABI 1.1. Methods after the last prefix field may be absent from an older plugin's vtable:
    // their default bodies are what the host gets then (abi_stable's optional accessors).

    fn put_as(
        &self,
        ctx: FfiRequestContext,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>> {
        drop((ctx, image_id, size_hint, data));
        absent("put_as")
    }

    fn get_as(
        &self,
        ctx: FfiRequestContext,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>> {
        drop((ctx, location, range));
        absent("get_as")
    }

    fn delete_as(&self, ctx: FfiRequestContext, location: RString) -> FfiFuture<FfiResult<()>> {
        drop((ctx, location));
        absent("delete_as")
    }

    fn size_as(&self, ctx: FfiRequestContext, location: RString) -> FfiFuture<FfiResult<u64>> {
        drop((ctx, location));
        absent("size_as")
    }

    fn set_acls(
        &self,
        ctx: FfiRequestContext,
        location: RString,
        acl: FfiAcl,
    ) -> FfiFuture<FfiResult<()>> {
        drop((ctx, location, acl));
        absent("set_acls")
    }
}

/// An owned, type-erased [`FfiStore`].
pub type FfiStoreBox = FfiStore_TO<'static, RBox<()>>;

/// Exports a driver. Each method only builds a future; the driver is called when the host polls it,
/// inside a panic guard, so a panicking driver yields an `Unexpected` error.
pub(crate) struct Exported<D>(pub(crate) Arc<D>);

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
        guard(|| {
            Ok(encode_capabilities(
                self.0.capabilities(),
                self.0.context_capabilities(),
            ))
        })
    }

    // Each operation has two slots (ABI 1.0's plain one and 1.1's `*_as`) but one driver method:
    // the plain slot is the `*_as` one without a caller.

    fn put(
        &self,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>> {
        export_put(&self.0, None, image_id, size_hint, data)
    }

    fn get(
        &self,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>> {
        export_get(&self.0, None, location, range)
    }

    fn delete(&self, location: RString) -> FfiFuture<FfiResult<()>> {
        export_delete(&self.0, None, location)
    }

    fn size(&self, location: RString) -> FfiFuture<FfiResult<u64>> {
        export_size(&self.0, None, location)
    }

    fn put_as(
        &self,
        ctx: FfiRequestContext,
        image_id: RString,
        size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>> {
        export_put(&self.0, Some(ctx.into()), image_id, size_hint, data)
    }

    fn get_as(
        &self,
        ctx: FfiRequestContext,
        location: RString,
        range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>> {
        export_get(&self.0, Some(ctx.into()), location, range)
    }

    fn delete_as(&self, ctx: FfiRequestContext, location: RString) -> FfiFuture<FfiResult<()>> {
        export_delete(&self.0, Some(ctx.into()), location)
    }

    fn size_as(&self, ctx: FfiRequestContext, location: RString) -> FfiFuture<FfiResult<u64>> {
        export_size(&self.0, Some(ctx.into()), location)
    }

    fn set_acls(
        &self,
        ctx: FfiRequestContext,
        location: RString,
        acl: FfiAcl,
    ) -> FfiFuture<FfiResult<()>> {
        let driver = Arc::clone(&self.0);
        guarded(async move {
            driver
                .set_acls(&ctx.into(), &location, &Acl::from(acl))
                .await
        })
    }
}

fn export_put<D: StoreDriver>(
    driver: &Arc<D>,
    caller: Option<RequestContext>,
    image_id: RString,
    size_hint: ROption<u64>,
    data: FfiStreamBox,
) -> FfiFuture<FfiResult<FfiPutOutcome>> {
    let driver = Arc::clone(driver);
    guarded(async move {
        let outcome = driver
            .put(
                caller.as_ref(),
                &image_id,
                size_hint.into_option(),
                import_stream(data),
            )
            .await?;
        Ok(FfiPutOutcome::from(outcome))
    })
}

fn export_get<D: StoreDriver>(
    driver: &Arc<D>,
    caller: Option<RequestContext>,
    location: RString,
    range: ROption<FfiReadRange>,
) -> FfiFuture<FfiResult<FfiGetOutcome>> {
    let driver = Arc::clone(driver);
    guarded(async move {
        let outcome = driver
            .get(caller.as_ref(), &location, import_range(range))
            .await?;
        Ok(FfiGetOutcome::from(outcome))
    })
}

fn export_delete<D: StoreDriver>(
    driver: &Arc<D>,
    caller: Option<RequestContext>,
    location: RString,
) -> FfiFuture<FfiResult<()>> {
    let driver = Arc::clone(driver);
    guarded(async move { driver.delete(caller.as_ref(), &location).await })
}

fn export_size<D: StoreDriver>(
    driver: &Arc<D>,
    caller: Option<RequestContext>,
    location: RString,
) -> FfiFuture<FfiResult<u64>> {
    let driver = Arc::clone(driver);
    guarded(async move { driver.size(caller.as_ref(), &location).await })
}

impl From<crate::PutOutcome> for FfiPutOutcome {
    fn from(outcome: crate::PutOutcome) -> Self {
        FfiPutOutcome {
            location: outcome.location.into(),
            size: outcome.size,
            metadata_json: serde_json::Value::Object(outcome.metadata)
                .to_string()
                .into(),
        }
    }
}

impl From<crate::GetOutcome> for FfiGetOutcome {
    fn from(outcome: crate::GetOutcome) -> Self {
        FfiGetOutcome {
            total_size: outcome.total_size,
            data: export_stream(outcome.data),
        }
    }
}

fn import_range(range: ROption<FfiReadRange>) -> Option<ReadRange> {
    range.into_option().map(|range| ReadRange {
        offset: range.offset,
        length: range.length.into_option(),
    })
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

    use super::{
        FfiAcl, FfiGetOutcome, FfiPutOutcome, FfiReadRange, FfiStoreBox, decode_capabilities,
        decode_context_capabilities,
    };
    use crate::ffi::{FfiResult, export_stream, import_stream};
    use crate::{
        Acl, Capabilities, ContextCapabilities, DataStream, ErrorKind, GetOutcome, PutOutcome,
        ReadRange, RequestContext, StoreError,
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

    pub(crate) fn capabilities(
        store: &FfiStoreBox,
    ) -> Result<(Capabilities, ContextCapabilities), StoreError> {
        store
            .capabilities()
            .into_result()
            .map(|bits| (decode_capabilities(bits), decode_context_capabilities(bits)))
            .map_err(StoreError::from)
    }

    // The host has one function per operation; a caller selects the plugin's `*_as` slot.

    pub(crate) async fn put(
        store: &FfiStoreBox,
        caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let (image_id, size_hint, data) = (image_id.into(), size_hint.into(), export_stream(data));
        let future = match caller {
            Some(ctx) => store.put_as(ctx.into(), image_id, size_hint, data),
            None => store.put(image_id, size_hint, data),
        };
        import_put_outcome(await_ffi(future).await?)
    }

    fn import_put_outcome(outcome: FfiPutOutcome) -> Result<PutOutcome, StoreError> {
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
        caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let (location, range) = (location.into(), ROption::from(export_range(range)));
        let future = match caller {
            Some(ctx) => store.get_as(ctx.into(), location, range),
            None => store.get(location, range),
        };
        Ok(import_get_outcome(await_ffi(future).await?))
    }

    fn export_range(range: Option<ReadRange>) -> Option<FfiReadRange> {
        range.map(|range| FfiReadRange {
            offset: range.offset,
            length: range.length.into(),
        })
    }

    fn import_get_outcome(outcome: FfiGetOutcome) -> GetOutcome {
        GetOutcome {
            total_size: outcome.total_size,
            data: import_stream(outcome.data),
        }
    }

    pub(crate) async fn delete(
        store: &FfiStoreBox,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        await_ffi(match caller {
            Some(ctx) => store.delete_as(ctx.into(), location.into()),
            None => store.delete(location.into()),
        })
        .await
    }

    pub(crate) async fn size(
        store: &FfiStoreBox,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        await_ffi(match caller {
            Some(ctx) => store.size_as(ctx.into(), location.into()),
            None => store.size(location.into()),
        })
        .await
    }

    pub(crate) async fn set_acls(
        store: &FfiStoreBox,
        ctx: &RequestContext,
        location: &str,
        acl: &Acl,
    ) -> Result<(), StoreError> {
        await_ffi(store.set_acls(ctx.into(), location.into(), FfiAcl::from(acl))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_bits_round_trip_each_flag() {
        let all = Capabilities::full();
        let none = ContextCapabilities::default();
        assert_eq!(decode_capabilities(encode_capabilities(all, none)), all);
        let read_only = Capabilities {
            read: true,
            ..Capabilities::default()
        };
        assert_eq!(encode_capabilities(read_only, none), 1);
        assert_eq!(
            decode_capabilities(1 | 1 << 40),
            read_only,
            "unknown bits are ignored"
        );
    }

    #[test]
    fn context_capability_bits_are_their_own() {
        let context = ContextCapabilities {
            per_request_context: true,
            acls: true,
        };
        let bits = encode_capabilities(Capabilities::default(), context);
        assert_eq!(bits, 1 << 5 | 1 << 6);
        assert_eq!(decode_context_capabilities(bits), context);
        assert_eq!(decode_capabilities(bits), Capabilities::default());
        assert_eq!(
            decode_context_capabilities(0b1_1111),
            ContextCapabilities::default(),
            "a 1.0 plugin's bits say nothing about contexts"
        );
    }

    #[test]
    fn request_contexts_cross_with_absent_values_as_empty_strings() {
        let ctx = RequestContext::new("tok", Some("p1".into()));
        let back = RequestContext::from(FfiRequestContext::from(&ctx));
        assert_eq!(back, ctx);
        let anonymous = RequestContext::default();
        assert_eq!(
            RequestContext::from(FfiRequestContext::from(&anonymous)),
            anonymous
        );
        let acl = Acl::new(false, vec!["a".into(), "b".into()]);
        assert_eq!(Acl::from(FfiAcl::from(&acl)), acl);
    }
}
