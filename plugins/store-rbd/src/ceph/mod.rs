//! A small safe layer over librados and librbd: a connected cluster, a pool's I/O context, an
//! open image. The only `unsafe` of this crate lives here and in `sys`, which loads the two
//! libraries at run time ([`load_libraries`]).
//!
//! Every call blocks the calling thread until the cluster answers: the driver makes them on the
//! plugin's blocking threads only. The module is public so that tests and tools can inspect
//! what the driver stored (snapshots, allocated extents, clones).

mod aio;
mod sys;

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use aio::{AioRead, AioWrite};
pub use sys::{Lib, LibraryError};

/// Loads librados and librbd for the process, if not loaded yet: the named files, or else
/// `librados.so.2` and `librbd.so.1` (then `librados.so`, `librbd.so`) from the system's library
/// path. Every function this module calls is looked up now. The first load serves the whole
/// process and is never unloaded; a later call naming a file checks that it is that same
/// library. [`Cluster::connect`] loads the system's libraries itself when nothing was loaded.
pub fn load_libraries(librados: Option<&Path>, librbd: Option<&Path>) -> Result<(), LibraryError> {
    sys::load(sys::Paths { librados, librbd }).map(drop)
}

/// A failed librados/librbd call: which function, and the errno it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephError {
    /// The C function that failed (`rbd_open`, …).
    pub op: &'static str,
    /// The positive errno value (`libc` numbering).
    pub errno: i32,
}

impl CephError {
    fn check(op: &'static str, code: i64) -> Result<i64, CephError> {
        if code < 0 {
            Err(CephError {
                op,
                errno: i32::try_from(-code).unwrap_or(i32::MAX),
            })
        } else {
            Ok(code)
        }
    }
}

impl fmt::Display for CephError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}",
            self.op,
            std::io::Error::from_raw_os_error(self.errno)
        )
    }
}

impl std::error::Error for CephError {}

/// errno values the driver distinguishes.
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EINTR: i32 = 4;
    pub const EIO: i32 = 5;
    pub const EAGAIN: i32 = 11;
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const EROFS: i32 = 30;
    pub const ERANGE: i32 = 34;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOTEMPTY: i32 = 39;
    pub const ELIBACC: i32 = 79;
    pub const ENOTCONN: i32 = 107;
    pub const ESHUTDOWN: i32 = 108;
    pub const ETIMEDOUT: i32 = 110;
    pub const ECONNREFUSED: i32 = 111;
    pub const EHOSTUNREACH: i32 = 113;
    pub const EDQUOT: i32 = 122;
}

fn c_string(op: &'static str, value: &str) -> Result<CString, CephError> {
    CString::new(value).map_err(|_| CephError {
        op,
        errno: errno::EINVAL,
    })
}

/// How to reach a cluster.
#[derive(Debug, Clone)]
pub struct ConnectOptions<'a> {
    /// The `ceph.conf` to read (monitor addresses, defaults).
    pub conf: &'a Path,
    /// The cephx id, without `client.` (`None`: librados' default, `admin`).
    pub user: Option<&'a str>,
    /// The keyring file, when not the one `ceph.conf` names.
    pub keyring: Option<&'a Path>,
    /// Seconds to wait for the monitors at connect, and for any monitor or OSD operation.
    pub timeout_secs: u64,
}

/// A connected cluster handle (`rados_t`), shut down when dropped.
pub struct Cluster {
    raw: sys::RadosT,
    api: &'static sys::Api,
    fsid: String,
}

// SAFETY: librados documents a `rados_t` as safe to use from several threads at once; this type
// never mutates its configuration after `connect`.
unsafe impl Send for Cluster {}
// SAFETY: as above.
unsafe impl Sync for Cluster {}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster").field("fsid", &self.fsid).finish()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `rados_create2`; every I/O context and image holds an `Arc` of
        // this cluster, so none is left when it is shut down.
        unsafe { (self.api.rados_shutdown)(self.raw) };
    }
}

impl Cluster {
    /// Creates a handle, reads the configuration, and connects (blocking up to the timeout).
    ///
    /// Without a [`load_libraries`] before, this loads the system's libraries; when they
    /// cannot be loaded it fails with `ELIBACC` as `dlopen`, and logs the loader's message.
    pub fn connect(options: &ConnectOptions<'_>) -> Result<Arc<Cluster>, CephError> {
        let api = sys::load(sys::Paths::default()).map_err(|err| {
            tracing::error!(%err, "cannot load the Ceph libraries");
            CephError {
                op: "dlopen",
                errno: errno::ELIBACC,
            }
        })?;
        let name = c_string(
            "rados_create2",
            &format!("client.{}", options.user.unwrap_or("admin")),
        )?;
        let cluster_name = c_string("rados_create2", "ceph")?;
        let mut raw: sys::RadosT = std::ptr::null_mut();
        // SAFETY: valid out-pointer and NUL-terminated strings that outlive the call.
        let code =
            unsafe { (api.rados_create2)(&mut raw, cluster_name.as_ptr(), name.as_ptr(), 0) };
        CephError::check("rados_create2", code.into())?;
        // From here on, `Drop` shuts the handle down on every error path.
        let mut cluster = Cluster {
            raw,
            api,
            fsid: String::new(),
        };
        let conf = c_string(
            "rados_conf_read_file",
            options.conf.to_str().ok_or(CephError {
                op: "rados_conf_read_file",
                errno: errno::EINVAL,
            })?,
        )?;
        // SAFETY: `raw` is a live, unconnected handle; `conf` is NUL-terminated.
        let code = unsafe { (api.rados_conf_read_file)(cluster.raw, conf.as_ptr()) };
        CephError::check("rados_conf_read_file", code.into())?;
        if let Some(keyring) = options.keyring {
            let path = keyring.to_str().ok_or(CephError {
                op: "rados_conf_set",
                errno: errno::EINVAL,
            })?;
            cluster.set("keyring", path)?;
        }
        // librados' own messages would bypass the host's log format on its stderr; errors
        // reach the host as store errors, and a `log file` in `ceph.conf` still gets them.
        cluster.set("log_to_stderr", "false")?;
        cluster.set("err_to_stderr", "false")?;
        let timeout = options.timeout_secs.to_string();
        for option in [
            "client_mount_timeout",
            "rados_mon_op_timeout",
            "rados_osd_op_timeout",
        ] {
            cluster.set(option, &timeout)?;
        }
        // SAFETY: `raw` is a configured, unconnected handle.
        let code = unsafe { (api.rados_connect)(cluster.raw) };
        CephError::check("rados_connect", code.into())?;
        let mut buf = [0 as c_char; 64];
        // SAFETY: `buf` is writable for its length; librados NUL-terminates on success.
        let code = unsafe { (api.rados_cluster_fsid)(cluster.raw, buf.as_mut_ptr(), buf.len()) };
        CephError::check("rados_cluster_fsid", code.into())?;
        // SAFETY: a successful call wrote a NUL-terminated string into `buf`.
        cluster.fsid = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Ok(Arc::new(cluster))
    }

    fn set(&self, option: &str, value: &str) -> Result<(), CephError> {
        let option = c_string("rados_conf_set", option)?;
        let value = c_string("rados_conf_set", value)?;
        // SAFETY: live handle; both strings are NUL-terminated and outlive the call.
        let code = unsafe { (self.api.rados_conf_set)(self.raw, option.as_ptr(), value.as_ptr()) };
        CephError::check("rados_conf_set", code.into()).map(drop)
    }

    /// The cluster's fsid, as `ceph fsid` prints it.
    pub fn fsid(&self) -> &str {
        &self.fsid
    }

    /// An I/O context on `pool`.
    pub fn ioctx(self: &Arc<Self>, pool: &str) -> Result<Arc<IoCtx>, CephError> {
        let pool = c_string("rados_ioctx_create", pool)?;
        let mut raw: sys::IoctxT = std::ptr::null_mut();
        // SAFETY: connected handle, NUL-terminated name, valid out-pointer.
        let code = unsafe { (self.api.rados_ioctx_create)(self.raw, pool.as_ptr(), &mut raw) };
        CephError::check("rados_ioctx_create", code.into())?;
        Ok(Arc::new(IoCtx {
            raw,
            api: self.api,
            _cluster: Arc::clone(self),
        }))
    }
}

/// An I/O context on one pool (`rados_ioctx_t`), destroyed when dropped.
pub struct IoCtx {
    raw: sys::IoctxT,
    api: &'static sys::Api,
    _cluster: Arc<Cluster>,
}

// SAFETY: librados I/O contexts may be shared between threads as long as their snapshot context
// and namespace are not changed, which this type never does.
unsafe impl Send for IoCtx {}
// SAFETY: as above.
unsafe impl Sync for IoCtx {}

impl Drop for IoCtx {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `rados_ioctx_create`; every image holds an `Arc` of this
        // context, so none is open when it is destroyed.
        unsafe { (self.api.rados_ioctx_destroy)(self.raw) };
    }
}

impl fmt::Debug for IoCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoCtx").finish_non_exhaustive()
    }
}

/// The order (log2 of the object size) librbd accepts: 4 KiB to 32 MiB objects.
pub const ORDERS: std::ops::RangeInclusive<u32> = 12..=25;

impl IoCtx {
    /// Creates a format-2 image with only the layering feature and objects of `2^order` bytes.
    pub fn create_image(&self, name: &str, size: u64, order: u32) -> Result<(), CephError> {
        let name = c_string("rbd_create2", name)?;
        let mut order = order as c_int;
        // SAFETY: live context, NUL-terminated name, valid in/out order.
        let code = unsafe {
            (self.api.rbd_create2)(
                self.raw,
                name.as_ptr(),
                size,
                sys::RBD_FEATURE_LAYERING,
                &mut order,
            )
        };
        CephError::check("rbd_create2", code.into()).map(drop)
    }

    /// Clones `parent@snapshot` (a protected snapshot) as `child`, in this pool.
    pub fn clone_image(&self, parent: &str, snapshot: &str, child: &str) -> Result<(), CephError> {
        let parent = c_string("rbd_clone2", parent)?;
        let snapshot = c_string("rbd_clone2", snapshot)?;
        let child = c_string("rbd_clone2", child)?;
        let mut order: c_int = 0;
        // SAFETY: live contexts and NUL-terminated names; order 0 means "the parent's".
        let code = unsafe {
            (self.api.rbd_clone2)(
                self.raw,
                parent.as_ptr(),
                snapshot.as_ptr(),
                self.raw,
                child.as_ptr(),
                sys::RBD_FEATURE_LAYERING,
                &mut order,
                0,
                0,
            )
        };
        CephError::check("rbd_clone2", code.into()).map(drop)
    }

    /// Removes an image that has no snapshots left.
    pub fn remove_image(&self, name: &str) -> Result<(), CephError> {
        let name = c_string("rbd_remove", name)?;
        // SAFETY: live context, NUL-terminated name.
        let code = unsafe { (self.api.rbd_remove)(self.raw, name.as_ptr()) };
        CephError::check("rbd_remove", code.into()).map(drop)
    }

    /// Renames an image; fails with `EEXIST` when `to` exists.
    pub fn rename_image(&self, from: &str, to: &str) -> Result<(), CephError> {
        let from = c_string("rbd_rename", from)?;
        let to = c_string("rbd_rename", to)?;
        // SAFETY: live context, NUL-terminated names.
        let code = unsafe { (self.api.rbd_rename)(self.raw, from.as_ptr(), to.as_ptr()) };
        CephError::check("rbd_rename", code.into()).map(drop)
    }

    /// Moves an image to the pool's trash (it leaves the image namespace at once).
    pub fn trash_image(&self, name: &str) -> Result<(), CephError> {
        let name = c_string("rbd_trash_move", name)?;
        // SAFETY: live context, NUL-terminated name.
        let code = unsafe { (self.api.rbd_trash_move)(self.raw, name.as_ptr(), 0) };
        CephError::check("rbd_trash_move", code.into()).map(drop)
    }

    /// The names of the images in the pool.
    pub fn list_images(&self) -> Result<Vec<String>, CephError> {
        let mut capacity = 0usize;
        loop {
            let mut specs: Vec<sys::ImageSpec> = Vec::with_capacity(capacity);
            let mut count = capacity;
            // SAFETY: `specs` has room for `count` entries; librbd fills at most that many, or
            // answers ERANGE with the count it needs.
            let code = unsafe { (self.api.rbd_list2)(self.raw, specs.as_mut_ptr(), &mut count) };
            if code == -errno::ERANGE {
                capacity = count.max(capacity * 2).max(16);
                continue;
            }
            CephError::check("rbd_list2", code.into())?;
            // SAFETY: librbd initialised the first `count` entries.
            unsafe { specs.set_len(count) };
            let names = specs
                .iter()
                // SAFETY: each entry holds a NUL-terminated name owned by librbd until cleanup.
                .map(|spec| {
                    unsafe { CStr::from_ptr(spec.name) }
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            // SAFETY: frees the strings librbd allocated for these entries, exactly once.
            unsafe { (self.api.rbd_image_spec_list_cleanup)(specs.as_mut_ptr(), count) };
            return Ok(names);
        }
    }

    /// Opens an image for writing, or at `snapshot` (read-only by nature).
    pub fn open(self: &Arc<Self>, name: &str, snapshot: Option<&str>) -> Result<Image, CephError> {
        self.open_with("rbd_open", self.api.rbd_open, name, snapshot)
    }

    /// Opens an image read-only (no watch on its header), at `snapshot` or its head.
    pub fn open_read_only(
        self: &Arc<Self>,
        name: &str,
        snapshot: Option<&str>,
    ) -> Result<Image, CephError> {
        self.open_with(
            "rbd_open_read_only",
            self.api.rbd_open_read_only,
            name,
            snapshot,
        )
    }

    fn open_with(
        self: &Arc<Self>,
        op: &'static str,
        open: unsafe extern "C" fn(
            sys::IoctxT,
            *const c_char,
            *mut sys::ImageT,
            *const c_char,
        ) -> c_int,
        name: &str,
        snapshot: Option<&str>,
    ) -> Result<Image, CephError> {
        let name = c_string(op, name)?;
        let snapshot = snapshot.map(|snap| c_string(op, snap)).transpose()?;
        let mut raw: sys::ImageT = std::ptr::null_mut();
        // SAFETY: live context, NUL-terminated strings (or NULL for "no snapshot"), valid
        // out-pointer.
        let code = unsafe {
            open(
                self.raw,
                name.as_ptr(),
                &mut raw,
                snapshot
                    .as_ref()
                    .map_or(std::ptr::null(), |snap| snap.as_ptr()),
            )
        };
        CephError::check(op, code.into())?;
        Ok(Image {
            raw,
            api: self.api,
            _ioctx: Arc::clone(self),
        })
    }
}

/// An open image (`rbd_image_t`), closed when dropped.
pub struct Image {
    raw: sys::ImageT,
    api: &'static sys::Api,
    _ioctx: Arc<IoCtx>,
}

// SAFETY: an image handle may move between threads; `&mut self`-free methods below are only
// called by one thread at a time because `Image` is not `Sync`.
unsafe impl Send for Image {}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image").finish_non_exhaustive()
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: `raw` is an open image handle, closed exactly once here.
        let code = unsafe { (self.api.rbd_close)(self.raw) };
        if code < 0 {
            tracing::warn!(errno = -code, "rbd_close failed");
        }
    }
}

/// One extent reported by [`Image::extents`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub offset: u64,
    pub len: u64,
    /// Data exists there (true) or the extent is known to be zeroes (false).
    pub exists: bool,
}

impl Image {
    fn snap_call(
        &self,
        op: &'static str,
        call: unsafe extern "C" fn(sys::ImageT, *const c_char) -> c_int,
        snapshot: &str,
    ) -> Result<(), CephError> {
        let snapshot = c_string(op, snapshot)?;
        // SAFETY: open handle, NUL-terminated snapshot name.
        let code = unsafe { call(self.raw, snapshot.as_ptr()) };
        CephError::check(op, code.into()).map(drop)
    }

    /// The image size in bytes (at the snapshot it was opened at).
    pub fn size(&self) -> Result<u64, CephError> {
        let mut size = 0u64;
        // SAFETY: open handle, valid out-pointer.
        let code = unsafe { (self.api.rbd_get_size)(self.raw, &mut size) };
        CephError::check("rbd_get_size", code.into())?;
        Ok(size)
    }

    /// Grows or shrinks the image.
    pub fn resize(&self, size: u64) -> Result<(), CephError> {
        // SAFETY: open handle.
        let code = unsafe { (self.api.rbd_resize)(self.raw, size) };
        CephError::check("rbd_resize", code.into()).map(drop)
    }

    /// Writes all of `data` at `offset`.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), CephError> {
        // SAFETY: open handle; `data` is readable for its length during the call.
        let code = unsafe {
            (self.api.rbd_write2)(
                self.raw,
                offset,
                data.len(),
                data.as_ptr().cast(),
                sys::FADVISE_SEQUENTIAL,
            )
        };
        let written = CephError::check("rbd_write2", code as i64)?;
        if written as usize != data.len() {
            return Err(CephError {
                op: "rbd_write2",
                errno: errno::EIO,
            });
        }
        Ok(())
    }

    /// Appends up to `len` bytes read at `offset` to `buf`; returns how many were read (fewer
    /// only at the end of the image).
    pub fn read_into(
        &self,
        offset: u64,
        len: usize,
        buf: &mut Vec<u8>,
    ) -> Result<usize, CephError> {
        buf.reserve(len);
        let spare = buf.spare_capacity_mut();
        // SAFETY: open handle; `spare` is writable for at least `len` bytes, and librbd writes at
        // most `len`.
        let code = unsafe {
            (self.api.rbd_read2)(
                self.raw,
                offset,
                len,
                spare.as_mut_ptr().cast(),
                sys::FADVISE_SEQUENTIAL,
            )
        };
        let read = CephError::check("rbd_read2", code as i64)? as usize;
        let read = read.min(len);
        // SAFETY: librbd initialised the first `read` spare bytes.
        unsafe { buf.set_len(buf.len() + read) };
        Ok(read)
    }

    /// Waits until every acknowledged write is on the OSDs.
    pub fn flush(&self) -> Result<(), CephError> {
        // SAFETY: open handle.
        let code = unsafe { (self.api.rbd_flush)(self.raw) };
        CephError::check("rbd_flush", code.into()).map(drop)
    }

    pub fn snap_create(&self, snapshot: &str) -> Result<(), CephError> {
        self.snap_call("rbd_snap_create", self.api.rbd_snap_create, snapshot)
    }

    pub fn snap_remove(&self, snapshot: &str) -> Result<(), CephError> {
        self.snap_call("rbd_snap_remove", self.api.rbd_snap_remove, snapshot)
    }

    pub fn snap_protect(&self, snapshot: &str) -> Result<(), CephError> {
        self.snap_call("rbd_snap_protect", self.api.rbd_snap_protect, snapshot)
    }

    /// Fails with `EBUSY` while clones of the snapshot exist, `EINVAL` if it is not protected.
    pub fn snap_unprotect(&self, snapshot: &str) -> Result<(), CephError> {
        self.snap_call("rbd_snap_unprotect", self.api.rbd_snap_unprotect, snapshot)
    }

    pub fn snap_is_protected(&self, snapshot: &str) -> Result<bool, CephError> {
        let snapshot = c_string("rbd_snap_is_protected", snapshot)?;
        let mut protected: c_int = 0;
        // SAFETY: open handle, NUL-terminated name, valid out-pointer.
        let code = unsafe {
            (self.api.rbd_snap_is_protected)(self.raw, snapshot.as_ptr(), &mut protected)
        };
        CephError::check("rbd_snap_is_protected", code.into())?;
        Ok(protected != 0)
    }

    /// The clones of the snapshot this image is open at, as `pool/image` names.
    pub fn children(&self) -> Result<Vec<String>, CephError> {
        let mut capacity = 0usize;
        loop {
            let mut specs: Vec<sys::LinkedImageSpec> = Vec::with_capacity(capacity);
            let mut count = capacity;
            // SAFETY: `specs` has room for `count` entries; librbd fills at most that many, or
            // answers ERANGE with the count it needs.
            let code =
                unsafe { (self.api.rbd_list_children3)(self.raw, specs.as_mut_ptr(), &mut count) };
            if code == -errno::ERANGE {
                capacity = count.max(capacity * 2).max(4);
                continue;
            }
            CephError::check("rbd_list_children3", code.into())?;
            // SAFETY: librbd initialised the first `count` entries.
            unsafe { specs.set_len(count) };
            let text = |ptr: *mut c_char| {
                if ptr.is_null() {
                    String::new()
                } else {
                    // SAFETY: a non-null field is a NUL-terminated string owned by librbd.
                    unsafe { CStr::from_ptr(ptr) }
                        .to_string_lossy()
                        .into_owned()
                }
            };
            let names = specs
                .iter()
                .map(|spec| format!("{}/{}", text(spec.pool_name), text(spec.image_name)))
                .collect();
            // SAFETY: frees the strings librbd allocated for these entries, exactly once.
            unsafe { (self.api.rbd_linked_image_spec_list_cleanup)(specs.as_mut_ptr(), count) };
            return Ok(names);
        }
    }

    /// How many clients watch the image's header: each one that has it open for writing, until
    /// it closes it or, if its process died, until the OSD's watch timeout (30 s by default).
    pub fn watchers(&self) -> Result<usize, CephError> {
        let mut capacity = 4usize;
        loop {
            let mut watchers: Vec<sys::ImageWatcher> = Vec::with_capacity(capacity);
            let mut count = capacity;
            // SAFETY: `watchers` has room for `count` entries; librbd fills at most that many,
            // or answers ERANGE with the count it needs.
            let code = unsafe {
                (self.api.rbd_watchers_list)(self.raw, watchers.as_mut_ptr(), &mut count)
            };
            if code == -errno::ERANGE {
                capacity = count.max(capacity * 2);
                continue;
            }
            CephError::check("rbd_watchers_list", code.into())?;
            // SAFETY: frees the addresses librbd allocated for the first `count` entries, which
            // it initialised, exactly once.
            unsafe { (self.api.rbd_watchers_list_cleanup)(watchers.as_mut_ptr(), count) };
            return Ok(count);
        }
    }

    /// The extents of data written since the image was created, up to `len` bytes from 0.
    pub fn extents(&self, len: u64) -> Result<Vec<Extent>, CephError> {
        unsafe extern "C" fn collect(
            offset: u64,
            len: usize,
            exists: c_int,
            arg: *mut c_void,
        ) -> c_int {
            // SAFETY: `arg` is the `Vec<Extent>` passed below, alive and exclusively borrowed for
            // the whole `rbd_diff_iterate2` call.
            let extents = unsafe { &mut *arg.cast::<Vec<Extent>>() };
            extents.push(Extent {
                offset,
                len: len as u64,
                exists: exists != 0,
            });
            0
        }
        let mut extents: Vec<Extent> = Vec::new();
        // SAFETY: open handle; NULL "from" snapshot means "since creation"; the callback only
        // touches `extents`, which outlives the call.
        let code = unsafe {
            (self.api.rbd_diff_iterate2)(
                self.raw,
                std::ptr::null(),
                0,
                len,
                0,
                0,
                collect,
                (&mut extents as *mut Vec<Extent>).cast(),
            )
        };
        CephError::check("rbd_diff_iterate2", code.into())?;
        Ok(extents)
    }
}
