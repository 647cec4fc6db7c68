//! The trait a metadata-definitions (metadef) provider plugin implements, and the data it returns.
//!
//! A provider serves namespaces of metadata definitions from somewhere other than the server's
//! database (a directory of definitions files, a repository, another service). Documents cross the
//! plugin boundary as JSON text in Glance's definitions-file format, so the host checks every one
//! with the same rules as `glint metadefs load` and new document fields never change the ABI.

use std::future::Future;

use crate::{OpenContext, StoreError};

/// Who may see a namespace, as in Glance: everyone, or its owner's project (and administrators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamespaceVisibility {
    Public,
    Private,
}

impl NamespaceVisibility {
    /// The name Glance uses: `public` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    /// The visibility named `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// One namespace a provider serves, as its list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceEntry {
    /// The namespace name (`OS::Compute::Hypervisor`), unique within the provider.
    pub namespace: String,
    /// Its visibility; equal to the `visibility` of its document.
    pub visibility: NamespaceVisibility,
    /// Its owner; equal to the `owner` of its document.
    pub owner: Option<String>,
    /// Where it comes from, for messages about it (a file name, a URL); never parsed.
    pub source: String,
    /// When its definition last changed, in seconds since the Unix epoch, if the provider knows.
    pub updated_at: Option<i64>,
}

/// A source of metadef namespaces.
///
/// Implement it in safe Rust and export it with [`crate::export_metadef_provider!`]. Every method may
/// be called concurrently from any host thread; returned futures are polled by the host's runtime, so
/// blocking or runtime-bound work belongs on the plugin's own threads ([`crate::runtime`]).
///
/// The host keeps the filtering, sorting and paging of lists, the visibility rules and the API; a
/// provider only answers what it has. Each `# Behavior` line below is enforced by the metadef
/// provider conformance suite in `glint-sdk-testkit`.
pub trait MetadefProvider: Send + Sync + Sized + 'static {
    /// The driver name a provider configuration selects (`driver = "dir"`).
    const DRIVER: &'static str;

    /// Opens one configured provider.
    ///
    /// # Behavior
    /// - `config` is the provider's options as JSON; unknown or malformed options fail with
    ///   `ConfigInvalid` and a message naming the option.
    /// - Called once per configured provider, possibly several times for different providers.
    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError>;

    /// Whether the provider's namespaces are read-only.
    ///
    /// # Behavior
    /// - Called once when the provider is opened; the host caches the answer.
    /// - A read-only provider's namespaces refuse every change through the API, and the host
    ///   never asks the provider to change anything.
    fn read_only(&self) -> bool {
        true
    }

    /// Every namespace the provider serves, in any order.
    ///
    /// # Behavior
    /// - Names are unique.
    /// - Each listed namespace can be fetched with [`MetadefProvider::get_namespace`], and its
    ///   document's `visibility` and `owner` equal the entry's.
    /// - Two calls without a change at the source give the same entries.
    fn list_namespaces(
        &self,
    ) -> impl Future<Output = Result<Vec<NamespaceEntry>, StoreError>> + Send;

    /// The namespace `name` as one JSON document in Glance's definitions-file format: the
    /// namespace's fields with its `resource_type_associations`, `properties`, `objects` and `tags`.
    ///
    /// # Behavior
    /// - The document is a JSON object whose `namespace` is `name`.
    /// - A name the provider does not serve fails with `NotFound`.
    /// - Two calls without a change at the source give the same document.
    fn get_namespace(&self, name: &str) -> impl Future<Output = Result<String, StoreError>> + Send;
}
