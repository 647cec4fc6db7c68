//! The metadef provider plugin: its own root module, and the provider behind a `#[sabi_trait]`
//! vtable with `async-ffi` futures. Documents cross as JSON text.

use std::sync::Arc;

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RStr, RString, RVec};
use async_ffi::FfiFuture;

use super::{FfiResult, HostLogger, guard, guarded, log};
use crate::metadef::{MetadefProvider, NamespaceEntry, NamespaceVisibility};
use crate::{ErrorKind, OpenContext, StoreError};

/// A metadef plugin's entry points. A prefix type, like the store plugin's root module: fields are
/// only ever appended after the last one.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = MetadefPluginModuleRef)))]
pub struct MetadefPluginModule {
    /// The `glint-sdk` version the plugin was built with, for messages.
    pub sdk_version: RStr<'static>,
    /// [`MetadefProvider::DRIVER`].
    pub driver_name: RStr<'static>,
    /// Hands the host's log sink to the plugin; called once, right after loading.
    pub set_logger: extern "C" fn(HostLogger),
    /// Opens a provider: `(provider name, options as JSON text)`.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(RStr<'_>, RStr<'_>) -> FfiResult<FfiMetadefProviderBox>,
}

impl RootModule for MetadefPluginModuleRef {
    abi_stable::declare_root_module_statics! {MetadefPluginModuleRef}
    const BASE_NAME: &'static str = "glint_metadef";
    const NAME: &'static str = "glint_metadef";
    // The metadef plugin ABI version, checked by the host's own rule (see `crate::abi`).
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(crate::abi::METADEF_ABI_VERSION);
}

/// The root module for provider `P`; called once, at load, by the code
/// [`crate::export_metadef_provider!`] generates (the module is leaked: plugins are never unloaded).
pub fn metadef_plugin_module<P: MetadefProvider>() -> MetadefPluginModuleRef {
    MetadefPluginModule {
        sdk_version: RStr::from_str(env!("CARGO_PKG_VERSION")),
        driver_name: RStr::from_str(P::DRIVER),
        set_logger: set_logger::<P>,
        open: open::<P>,
    }
    .leak_into_prefix()
}

extern "C" fn set_logger<P: MetadefProvider>(logger: HostLogger) {
    let _ = guard(|| {
        log::install(logger, P::DRIVER);
        Ok(())
    });
}

extern "C" fn open<P: MetadefProvider>(
    name: RStr<'_>,
    config: RStr<'_>,
) -> FfiResult<FfiMetadefProviderBox> {
    guard(|| {
        let config = serde_json::from_str(config.as_str()).map_err(|err| {
            StoreError::new(
                ErrorKind::ConfigInvalid,
                format!("provider options are not valid JSON: {err}"),
            )
        })?;
        let provider = P::open(OpenContext::new(name.as_str()), config)?;
        Ok(FfiMetadefProviderBox::from_value(
            Exported(Arc::new(provider)),
            TD_Opaque,
        ))
    })
}

// Provider flags cross as bits; a bit is never reused, and an absent bit reads as false, so a
// provider that says nothing is read-only.
const WRITABLE: u64 = 1 << 0;

// Visibilities cross as codes, never as a Rust enum.
const PUBLIC: u32 = 1;
const PRIVATE: u32 = 2;

/// [`NamespaceEntry`] across the boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiNamespaceEntry {
    namespace: RString,
    visibility: u32,
    owner: ROption<RString>,
    source: RString,
    updated_at: ROption<i64>,
}

impl From<NamespaceEntry> for FfiNamespaceEntry {
    fn from(entry: NamespaceEntry) -> Self {
        FfiNamespaceEntry {
            namespace: entry.namespace.into(),
            visibility: match entry.visibility {
                NamespaceVisibility::Public => PUBLIC,
                NamespaceVisibility::Private => PRIVATE,
            },
            owner: entry.owner.map(RString::from).into(),
            source: entry.source.into(),
            updated_at: entry.updated_at.into(),
        }
    }
}

/// An opened metadef provider, as the host calls it. Methods are only ever appended after the
/// last one.
#[sabi_trait]
pub trait FfiMetadefProvider: Send + Sync {
    fn flags(&self) -> FfiResult<u64>;

    fn list_namespaces(&self) -> FfiFuture<FfiResult<RVec<FfiNamespaceEntry>>>;

    #[sabi(last_prefix_field)]
    fn get_namespace(&self, name: RString) -> FfiFuture<FfiResult<RString>>;
}

/// An owned, type-erased [`FfiMetadefProvider`].
pub type FfiMetadefProviderBox = FfiMetadefProvider_TO<'static, RBox<()>>;

/// Exports a provider; as for stores, each method only builds a future and the provider is called,
/// inside a panic guard, when the host polls it.
struct Exported<P>(Arc<P>);

impl<P: MetadefProvider> FfiMetadefProvider for Exported<P> {
    fn flags(&self) -> FfiResult<u64> {
        guard(|| Ok(if self.0.read_only() { 0 } else { WRITABLE }))
    }

    fn list_namespaces(&self) -> FfiFuture<FfiResult<RVec<FfiNamespaceEntry>>> {
        let provider = Arc::clone(&self.0);
        guarded(async move {
            let entries = provider.list_namespaces().await?;
            Ok(entries.into_iter().map(FfiNamespaceEntry::from).collect())
        })
    }

    fn get_namespace(&self, name: RString) -> FfiFuture<FfiResult<RString>> {
        let provider = Arc::clone(&self.0);
        guarded(async move { Ok(provider.get_namespace(&name).await?.into()) })
    }
}

/// The host's view of an opened provider: plain Rust types in, plain Rust types out.
#[cfg(feature = "host")]
pub(crate) mod import {
    use super::{FfiMetadefProviderBox, FfiNamespaceEntry, PRIVATE, PUBLIC, WRITABLE};
    use crate::ffi::store::import::await_ffi;
    use crate::metadef::{NamespaceEntry, NamespaceVisibility};
    use crate::{ErrorKind, StoreError};

    /// Whether the provider is read-only.
    pub(crate) fn read_only(provider: &FfiMetadefProviderBox) -> Result<bool, StoreError> {
        let flags = provider.flags().into_result().map_err(StoreError::from)?;
        Ok(flags & WRITABLE == 0)
    }

    pub(crate) async fn list_namespaces(
        provider: &FfiMetadefProviderBox,
    ) -> Result<Vec<NamespaceEntry>, StoreError> {
        let entries = await_ffi(provider.list_namespaces()).await?;
        entries.into_iter().map(entry).collect()
    }

    pub(crate) async fn get_namespace(
        provider: &FfiMetadefProviderBox,
        name: &str,
    ) -> Result<String, StoreError> {
        Ok(await_ffi(provider.get_namespace(name.into())).await?.into())
    }

    fn entry(entry: FfiNamespaceEntry) -> Result<NamespaceEntry, StoreError> {
        let visibility = match entry.visibility {
            PUBLIC => NamespaceVisibility::Public,
            PRIVATE => NamespaceVisibility::Private,
            code => {
                return Err(StoreError::new(
                    ErrorKind::Unexpected,
                    format!(
                        "the plugin listed namespace {} with an unknown visibility code {code}",
                        entry.namespace
                    ),
                ));
            }
        };
        Ok(NamespaceEntry {
            namespace: entry.namespace.into(),
            visibility,
            owner: entry.owner.into_option().map(Into::into),
            source: entry.source.into(),
            updated_at: entry.updated_at.into_option(),
        })
    }
}
