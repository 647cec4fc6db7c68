//! Plain data exchanged between the host and a driver.

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::StoreError;

/// Image data: a pull stream of owned byte buffers, in order, ending at the end of the data.
///
/// Back-pressure comes from polling: a producer hands out the next buffer only when asked.
pub type DataStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// What a driver can do, as data. The host refuses an operation whose flag is false with
/// [`crate::ErrorKind::Unsupported`] before calling the driver.
///
/// Construct it with `..Capabilities::default()` so new flags (default false) do not break drivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `get` works.
    pub read: bool,
    /// `put` works.
    pub write: bool,
    /// `delete` works.
    pub delete: bool,
    /// `size` works.
    pub size: bool,
    /// `get` honours a [`ReadRange`].
    pub ranged_read: bool,
}

/// A byte range already resolved by the host against the HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRange {
    /// First byte to return.
    pub offset: u64,
    /// How many bytes to return at most; `None` reads to the end.
    pub length: Option<u64>,
}

/// The result of a successful `put`.
#[derive(Debug, Clone, PartialEq)]
pub struct PutOutcome {
    /// Where the data lives, as the driver will accept it back (e.g. `file:///var/lib/glint/<id>`).
    pub location: String,
    /// Bytes stored.
    pub size: u64,
    /// Driver-specific facts worth recording with the location (Glance's location metadata).
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// The result of a successful `get`.
pub struct GetOutcome {
    /// Size of the whole stored object, whatever range was requested.
    pub total_size: u64,
    /// The requested bytes.
    pub data: DataStream,
}

impl std::fmt::Debug for GetOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetOutcome")
            .field("total_size", &self.total_size)
            .finish_non_exhaustive()
    }
}

/// What a driver learns about the store it is opened for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenContext {
    /// The store's id in the host configuration (`[stores.<id>]`), for logs and messages.
    pub store_id: String,
}

impl OpenContext {
    /// The context for the store `store_id`.
    pub fn new(store_id: impl Into<String>) -> Self {
        Self {
            store_id: store_id.into(),
        }
    }
}
