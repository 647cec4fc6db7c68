//! The trait a store plugin implements.

use std::future::Future;

use crate::{
    Acl, Capabilities, ContextCapabilities, DataStream, DriverDescription, GetOutcome, ListPage,
    OpenContext, PutOutcome, ReadRange, RequestContext, StoreError,
};

/// A storage backend for image data.
///
/// Implement it in safe Rust and export it with [`crate::export_store_plugin!`]. Every method may be
/// called concurrently from any host thread; returned futures are polled by the host's runtime, so
/// blocking or runtime-bound work belongs on the plugin's own threads ([`crate::runtime`]).
///
/// Each `# Behavior` line below is enforced by the conformance suite in `glint-sdk-testkit`.
pub trait StoreDriver: Send + Sync + Sized + 'static {
    /// The driver name a store configuration selects (`driver = "file"`).
    const DRIVER: &'static str;

    /// The driver's name, the URL schemes of its locations and its option defaults, asked once
    /// when the plugin is loaded (ABI 1.2).
    ///
    /// # Behavior
    /// - `name` is [`StoreDriver::DRIVER`]; a store location URL whose scheme is among
    ///   `schemes` is this driver's to read.
    /// - `option_defaults` holds the value `open` uses for each option a configuration leaves
    ///   out (credentials never have one).
    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &[])
    }

    /// Opens one configured store.
    ///
    /// # Behavior
    /// - `config` is the store's options as JSON; unknown or malformed options fail with
    ///   `ConfigInvalid` and a message naming the option.
    /// - Called once per configured store, possibly several times for different stores.
    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError>;

    /// What this store supports.
    ///
    /// # Behavior
    /// - Called once when the store is opened; the host caches the answer and refuses an
    ///   unsupported operation with `Unsupported` without calling the driver.
    fn capabilities(&self) -> Capabilities;

    /// Stores the image data for `image_id` and returns where it lives.
    ///
    /// # Behavior
    /// - Consumes `data` to its end; a later `get` of the returned location yields exactly those
    ///   bytes, and `size` is their count.
    /// - An empty stream stores an empty object.
    /// - An object already stored for `image_id` fails with `AlreadyExists` and is left intact.
    /// - If `data` yields an error, that error is returned and nothing is left behind: the id can be
    ///   stored again and no object is readable.
    /// - If the future is dropped before it completes, nothing is left behind.
    /// - If `size_hint` is `Some` and the byte count differs, the put fails and nothing is left behind.
    /// - Data is durable when `Ok` is returned.
    /// - Concurrent puts of different ids do not interfere.
    ///
    /// `caller`, here and in every operation below, is the caller the host acts for; it is only
    /// ever `Some` for a driver with [`ContextCapabilities::per_request_context`].
    fn put(
        &self,
        caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send {
        let _ = (caller, image_id, size_hint, data);
        async { Err(StoreError::unsupported("put")) }
    }

    /// Reads the object at `location`, or a range of it.
    ///
    /// # Behavior
    /// - `total_size` is the size of the whole object, whatever the range.
    /// - With a range, yields bytes `offset .. min(offset + length, total_size)`
    ///   ([`ReadRange::resolve`] computes them).
    /// - A range whose offset is at or beyond the end fails with `RangeNotSatisfiable`.
    /// - A missing object fails with `NotFound`.
    fn get(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> impl Future<Output = Result<GetOutcome, StoreError>> + Send;

    /// Deletes the object at `location`.
    ///
    /// # Behavior
    /// - Afterwards `get` and `size` of the location fail with `NotFound`.
    /// - A missing object fails with `NotFound`.
    fn delete(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (caller, location);
        async { Err(StoreError::unsupported("delete")) }
    }

    /// The size in bytes of the object at `location`.
    ///
    /// # Behavior
    /// - Equals the byte count the `put` stored.
    /// - A missing object fails with `NotFound`.
    fn size(
        &self,
        caller: Option<&RequestContext>,
        location: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = (caller, location);
        async { Err(StoreError::unsupported("size")) }
    }

    /// What this driver does with the caller of an operation (ABI 1.1).
    ///
    /// # Behavior
    /// - Called once when the store is opened, like [`StoreDriver::capabilities`]. With
    ///   `per_request_context`, the host passes the caller (`Some`) to every operation it makes
    ///   on behalf of one; without it, drivers always get `None`, so no credential reaches a
    ///   driver that does not use it. With `acls`, the host calls `set_acls` after the image's
    ///   sharing changes.
    fn context_capabilities(&self) -> ContextCapabilities {
        ContextCapabilities::default()
    }

    /// Grants read access to the data at `location` as `acl` says, replacing earlier grants
    /// (Glance's `set_acls`), on behalf of the caller `ctx`.
    ///
    /// # Behavior
    /// - Afterwards, the projects of `acl.read_projects` (every caller when `acl.public`) may read
    ///   the data with their own credentials, and projects granted before but not named any more
    ///   may not.
    /// - A missing object fails with `NotFound`.
    fn set_acls(
        &self,
        ctx: &RequestContext,
        location: &str,
        acl: &Acl,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (ctx, location, acl);
        async { Err(StoreError::unsupported("set_acls")) }
    }

    /// One page of the objects this store holds, from `cursor` (`None`: the first page), for a
    /// driver with [`Capabilities::list`] (ABI 1.3). The host uses it to find data no image names.
    ///
    /// # Behavior
    /// - Following `next` from the first page to the last yields every object `put` stored and
    ///   `delete` has not removed, each once, with its location as `put` returned it and its size.
    /// - A deleted object is not listed; an object being written (not yet returned by `put`) is
    ///   not listed either. What a write left behind when its writer died (the process killed
    ///   mid-`put`) may be listed, under a location `delete` accepts, so the host can remove it.
    /// - Page size is the driver's choice; an empty store has one empty page.
    fn list(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<ListPage, StoreError>> + Send {
        let _ = cursor;
        async { Err(StoreError::unsupported("list")) }
    }
}
