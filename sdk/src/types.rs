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
    /// `list` works: the driver can enumerate the objects it holds (store plugin ABI 1.3). Not in
    /// [`Capabilities::full`]: a driver opts in by implementing `list`.
    pub list: bool,
}

impl Capabilities {
    /// Every operation: read, write, delete, size and ranged reads.
    pub const fn full() -> Self {
        Capabilities {
            read: true,
            write: true,
            delete: true,
            size: true,
            ranged_read: true,
            list: false,
        }
    }

    /// A store the host only reads from: read, size and ranged reads, no write or delete.
    pub const fn read_only() -> Self {
        Capabilities {
            write: false,
            delete: false,
            ..Capabilities::full()
        }
    }
}

/// A byte range already resolved by the host against the HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRange {
    /// First byte to return.
    pub offset: u64,
    /// How many bytes to return at most; `None` reads to the end.
    pub length: Option<u64>,
}

impl ReadRange {
    /// The bytes a `get` of `range` yields from an object of `total_size` bytes, as
    /// `(offset, length)`: the whole object without a range, else from the range's offset to
    /// its length or the end, whichever comes first. An offset at or beyond the end fails with
    /// `RangeNotSatisfiable`, as [`crate::StoreDriver::get`] requires.
    pub fn resolve(range: Option<ReadRange>, total_size: u64) -> Result<(u64, u64), StoreError> {
        let Some(range) = range else {
            return Ok((0, total_size));
        };
        if range.offset >= total_size {
            return Err(StoreError::new(
                crate::ErrorKind::RangeNotSatisfiable,
                format!(
                    "offset {} is not before the end of a {total_size}-byte image",
                    range.offset
                ),
            ));
        }
        let available = total_size - range.offset;
        let length = range
            .length
            .map_or(available, |length| length.min(available));
        Ok((range.offset, length))
    }
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

/// What a driver does with the caller of an operation (store plugin ABI 1.1). Separate from
/// [`Capabilities`] so drivers written for ABI 1.0 build unchanged.
///
/// Construct it with `..ContextCapabilities::default()` so new flags (default false) do not break
/// drivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContextCapabilities {
    /// The driver acts with the caller's credentials: the host calls the `*_as` methods of
    /// [`crate::StoreDriver`] with a [`RequestContext`] instead of the plain ones.
    pub per_request_context: bool,
    /// `set_acls` works: the driver grants read access to the image's data to the projects the
    /// host names (Glance's `set_acls`).
    pub acls: bool,
}

/// The caller of one store operation, for drivers with
/// [`ContextCapabilities::per_request_context`]: Glance's request context as glance_store sees it.
///
/// The token is a live credential: `Debug` never shows it, and a driver must never log it.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The caller's validated token (`X-Auth-Token`); empty when the host has none.
    pub auth_token: String,
    /// The project the token is scoped to.
    pub project_id: Option<String>,
    /// The token's service catalog as Keystone's JSON list (`token.catalog`), when the host has it.
    pub service_catalog_json: Option<String>,
}

impl RequestContext {
    /// The context of a caller holding `auth_token`, scoped to `project_id`.
    pub fn new(auth_token: impl Into<String>, project_id: Option<String>) -> Self {
        Self {
            auth_token: auth_token.into(),
            project_id,
            service_catalog_json: None,
        }
    }

    /// The same context with the token's service catalog (Keystone's JSON list).
    pub fn with_service_catalog(mut self, catalog_json: impl Into<String>) -> Self {
        self.service_catalog_json = Some(catalog_json.into());
        self
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field(
                "auth_token",
                &if self.auth_token.is_empty() {
                    "<none>"
                } else {
                    "<hidden>"
                },
            )
            .field("project_id", &self.project_id)
            .field(
                "service_catalog_json",
                &self
                    .service_catalog_json
                    .as_ref()
                    .map(|c| format!("<{} bytes>", c.len())),
            )
            .finish()
    }
}

/// Who may read an image's data, as the host computes it from the image (Glance's `set_acls`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acl {
    /// Public or community images: every authenticated caller may read.
    pub public: bool,
    /// Projects the image is shared with (its members), when not public.
    pub read_projects: Vec<String>,
}

impl Acl {
    /// The access of an image: `public`, else readable by `read_projects`.
    pub fn new(public: bool, read_projects: Vec<String>) -> Self {
        Self {
            public,
            read_projects,
        }
    }
}

/// What a driver says about itself, before any store is opened (store plugin ABI 1.2): the host
/// uses it to route location URLs to stores and to show a store's options with their defaults.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DriverDescription {
    /// [`crate::StoreDriver::DRIVER`].
    pub name: String,
    /// The URL schemes of the locations the driver hands out and accepts, lower case.
    pub schemes: Vec<String>,
    /// The options a store of this driver takes when its configuration leaves them out, with
    /// their values.
    pub option_defaults: serde_json::Map<String, serde_json::Value>,
    /// The option keys whose values are credentials (ABI 1.3): the host never shows or logs
    /// them. `None` from a plugin built before 1.3, which declared nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_options: Option<Vec<String>>,
}

impl DriverDescription {
    /// The description of driver `name`, whose locations use `schemes`.
    pub fn new(name: impl Into<String>, schemes: &[&str]) -> Self {
        DriverDescription {
            name: name.into(),
            schemes: schemes.iter().map(|s| s.to_ascii_lowercase()).collect(),
            option_defaults: serde_json::Map::new(),
            secret_options: None,
        }
    }

    /// The same description with `keys` declared as the options that hold credentials.
    pub fn with_secret_options(mut self, keys: &[&str]) -> Self {
        self.secret_options = Some(keys.iter().map(|k| (*k).to_owned()).collect());
        self
    }

    /// The same description with the option defaults `defaults` (a JSON object; anything else
    /// counts as none).
    pub fn with_option_defaults(mut self, defaults: serde_json::Value) -> Self {
        self.option_defaults = match defaults {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        self
    }
}

/// One object a store holds, as [`crate::StoreDriver::list`] reports it (ABI 1.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ListedObject {
    /// The location URL `get`, `size` and `delete` accept for it: the one `put` returned.
    pub location: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written, in seconds since the Unix epoch, when the store knows.
    pub modified: Option<u64>,
}

impl ListedObject {
    /// The object at `location` of `size` bytes, last written at `modified` (Unix seconds).
    pub fn new(location: impl Into<String>, size: u64, modified: Option<u64>) -> Self {
        Self {
            location: location.into(),
            size,
            modified,
        }
    }
}

/// One page of a store's listing (ABI 1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ListPage {
    /// The objects of this page, in the driver's order.
    pub objects: Vec<ListedObject>,
    /// The cursor of the next page, `None` on the last one.
    pub next: Option<String>,
}

impl ListPage {
    /// A page of `objects` followed by the page at cursor `next`, if any.
    pub fn new(objects: Vec<ListedObject>, next: Option<String>) -> Self {
        Self { objects, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_object_size() {
        let range = |offset, length| Some(ReadRange { offset, length });
        assert_eq!(ReadRange::resolve(None, 10).unwrap(), (0, 10));
        assert_eq!(ReadRange::resolve(None, 0).unwrap(), (0, 0));
        assert_eq!(ReadRange::resolve(range(3, None), 10).unwrap(), (3, 7));
        assert_eq!(ReadRange::resolve(range(3, Some(4)), 10).unwrap(), (3, 4));
        assert_eq!(ReadRange::resolve(range(8, Some(4)), 10).unwrap(), (8, 2));
        assert_eq!(
            ReadRange::resolve(range(9, Some(u64::MAX)), 10).unwrap(),
            (9, 1)
        );
        for offset in [10, 11, u64::MAX] {
            let err = ReadRange::resolve(range(offset, None), 10).unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::RangeNotSatisfiable, "{offset}");
        }
    }

    #[test]
    fn capability_constructors() {
        let full = Capabilities::full();
        assert!(full.read && full.write && full.delete && full.size && full.ranged_read);
        let ro = Capabilities::read_only();
        assert!(ro.read && ro.size && ro.ranged_read && !ro.write && !ro.delete);
    }

    #[test]
    fn request_context_debug_hides_the_token() {
        let ctx = RequestContext::new("gAAAAA-secret", Some("p1".into()))
            .with_service_catalog(r#"[{"type":"object-store"}]"#);
        let shown = format!("{ctx:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("object-store"), "{shown}");
        assert!(
            shown.contains("p1") && shown.contains("<hidden>"),
            "{shown}"
        );
    }
}
