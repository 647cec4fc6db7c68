//! A store plugin as the SDK of store plugin ABI 1.0 built it: its root module and `FfiStore`
//! vtable are the frozen 1.0 ones (`glint_sdk::ffi::v1_0`), without the methods and capability
//! bits 1.1 added. The loader tests load it into the current host.
//!
//! It holds one object, at `v10://object`; `put` counts the bytes it is given. With the option
//! `{"claim_context_bits": true}` it also sets the capability bits 1.1 gave to the caller's
//! context and ACLs, which a 1.0 plugin cannot have meant: the host then reaches for methods its
//! vtable does not have.

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROk, ROption, RStr, RString};
use async_ffi::{FfiFuture, FutureExt as _};
use bytes::Bytes;
use futures::StreamExt as _;
use glint_sdk::ffi::v1_0::{FfiStore, FfiStoreBox, StorePluginModule, StorePluginModuleRef};
use glint_sdk::ffi::{
    FfiError, FfiGetOutcome, FfiPutOutcome, FfiReadRange, FfiResult, FfiStreamBox, HostLogger,
    import_stream,
};
use glint_sdk::{ErrorKind, GetOutcome, PutOutcome, StoreError};

const OBJECT: &[u8] = b"stored by an ABI 1.0 plugin";
const LOCATION: &str = "v10://object";

#[export_root_module]
fn root_module() -> StorePluginModuleRef {
    StorePluginModule {
        sdk_version: RStr::from_str("0.1.0"),
        driver_name: RStr::from_str("v10"),
        set_logger,
        open,
    }
    .leak_into_prefix()
}

extern "C" fn set_logger(_: HostLogger) {}

extern "C" fn open(_store_id: RStr<'_>, config: RStr<'_>) -> FfiResult<FfiStoreBox> {
    let claim = serde_json::from_str::<serde_json::Value>(config.as_str())
        .ok()
        .and_then(|config| config.get("claim_context_bits")?.as_bool())
        .unwrap_or(false);
    ROk(FfiStoreBox::from_value(OneObject { claim }, TD_Opaque))
}

struct OneObject {
    claim: bool,
}

fn ready<T: Send + 'static>(value: Result<T, StoreError>) -> FfiFuture<FfiResult<T>> {
    let value: FfiResult<T> = value.map_err(FfiError::from).into();
    async move { value }.into_ffi()
}

fn known(location: &str) -> Result<(), StoreError> {
    if location == LOCATION {
        Ok(())
    } else {
        Err(StoreError::new(
            ErrorKind::NotFound,
            format!("{location} does not exist"),
        ))
    }
}

impl FfiStore for OneObject {
    fn capabilities(&self) -> FfiResult<u64> {
        // read, write, delete, size: bits of ABI 1.0; 5 and 6 are 1.1's context and ACL bits.
        let context_bits = if self.claim { 1 << 5 | 1 << 6 } else { 0 };
        ROk(0b1111 | context_bits)
    }

    fn put(
        &self,
        _image_id: RString,
        _size_hint: ROption<u64>,
        data: FfiStreamBox,
    ) -> FfiFuture<FfiResult<FfiPutOutcome>> {
        async move {
            let mut size = 0;
            let mut data = import_stream(data);
            while let Some(chunk) = data.next().await {
                match chunk {
                    Ok(chunk) => size += chunk.len() as u64,
                    Err(err) => return Err(FfiError::from(err)).into(),
                }
            }
            let outcome = PutOutcome {
                location: LOCATION.into(),
                size,
                metadata: serde_json::Map::new(),
            };
            ROk(FfiPutOutcome::from(outcome))
        }
        .into_ffi()
    }

    fn get(
        &self,
        location: RString,
        _range: ROption<FfiReadRange>,
    ) -> FfiFuture<FfiResult<FfiGetOutcome>> {
        ready(known(&location).map(|()| {
            FfiGetOutcome::from(GetOutcome {
                total_size: OBJECT.len() as u64,
                data: futures::stream::iter([Ok(Bytes::from_static(OBJECT))]).boxed(),
            })
        }))
    }

    fn delete(&self, location: RString) -> FfiFuture<FfiResult<()>> {
        ready(known(&location))
    }

    fn size(&self, location: RString) -> FfiFuture<FfiResult<u64>> {
        ready(known(&location).map(|()| OBJECT.len() as u64))
    }
}
