//! The store's entry points since ABI 1.3, on a companion object opened with the store.
//!
//! Appending to `FfiStore`'s vtable would force a frozen copy of every older vtable and of every
//! root module that names it; instead a 1.3 plugin's root module has `open_ext`, which opens the
//! store once and returns this object: it hands out the store itself (`store`) and carries the
//! new methods, sharing one driver. A host that finds no `open_ext` (an older plugin) calls
//! `open` and has no extension: every 1.3 method is absent.

use std::sync::Arc;

use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, ROption, RString};
use async_ffi::FfiFuture;

use super::store::{Exported, guarded};
use super::{FfiResult, FfiStoreBox};
use crate::{StoreDriver, StoreError};

/// An opened store's 1.3 entry points. Methods are only ever appended after the last one.
#[sabi_trait]
pub trait FfiStoreExt: Send + Sync {
    /// The opened store itself, sharing this object's driver.
    fn store(&self) -> FfiStoreBox;

    /// [`StoreDriver::list`]: one page as a JSON [`crate::ListPage`], from `cursor`.
    #[sabi(last_prefix_field)]
    fn list(&self, cursor: ROption<RString>) -> FfiFuture<FfiResult<RString>>;
}

/// An owned, type-erased [`FfiStoreExt`].
pub type FfiStoreExtBox = FfiStoreExt_TO<'static, RBox<()>>;

struct ExportedExt<D>(Arc<D>);

impl<D: StoreDriver> FfiStoreExt for ExportedExt<D> {
    fn store(&self) -> FfiStoreBox {
        FfiStoreBox::from_value(Exported(Arc::clone(&self.0)), TD_Opaque)
    }

    fn list(&self, cursor: ROption<RString>) -> FfiFuture<FfiResult<RString>> {
        let driver = Arc::clone(&self.0);
        guarded(async move {
            let page = driver
                .list(cursor.as_ref().map(RString::as_str).into_option())
                .await?;
            serde_json::to_string(&page)
                .map(RString::from)
                .map_err(|err| {
                    StoreError::new(
                        crate::ErrorKind::Unexpected,
                        format!("the listing page is not JSON: {err}"),
                    )
                })
        })
    }
}

/// Wraps an opened driver for the host, with its 1.3 entry points.
pub(crate) fn export_store_ext<D: StoreDriver>(driver: D) -> FfiStoreExtBox {
    FfiStoreExtBox::from_value(ExportedExt(Arc::new(driver)), TD_Opaque)
}

#[cfg(feature = "host")]
pub(crate) mod import {
    use abi_stable::std_types::ROption;

    use super::FfiStoreExtBox;
    use crate::ffi::store::import::await_ffi;
    use crate::{ErrorKind, ListPage, StoreError};

    pub(crate) async fn list(
        ext: &FfiStoreExtBox,
        cursor: Option<&str>,
    ) -> Result<ListPage, StoreError> {
        let json = await_ffi(ext.list(ROption::from(cursor.map(Into::into)))).await?;
        serde_json::from_str(&json).map_err(|err| {
            StoreError::new(
                ErrorKind::Unexpected,
                format!("the plugin returned a listing page that is not one: {err}"),
            )
        })
    }
}
