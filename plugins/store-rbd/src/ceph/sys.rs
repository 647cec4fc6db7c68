//! The librados and librbd C functions this driver uses (Ceph 16.2 "Pacific" headers:
//! `rados/librados.h`, `rbd/librbd.h`), resolved at run time from the system's libraries.
//!
//! Nothing is linked: building the crate needs no Ceph package, and a process loads librados and
//! librbd only when it opens an rbd store. Every function below is looked up when the libraries
//! are loaded, so a missing library or function is one clear error at that point, never a
//! failure at the first call. Loaded libraries are never unloaded.
//!
//! Only plain integers, pointers and C strings cross here: no C struct is mirrored except
//! `rbd_image_spec_t` and `rbd_linked_image_spec_t`, both stable since Ceph 14, and
//! `rbd_image_watcher_t`, stable since Ceph 13.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

pub type RadosT = *mut c_void;
pub type IoctxT = *mut c_void;
pub type ImageT = *mut c_void;
pub type CompletionT = *mut c_void;
pub type CompletionCallback = unsafe extern "C" fn(completion: CompletionT, arg: *mut c_void);

/// `rbd_image_spec_t`.
#[repr(C)]
pub struct ImageSpec {
    pub id: *mut c_char,
    pub name: *mut c_char,
}

/// `rbd_linked_image_spec_t`.
#[repr(C)]
pub struct LinkedImageSpec {
    pub pool_id: i64,
    pub pool_name: *mut c_char,
    pub pool_namespace: *mut c_char,
    pub image_id: *mut c_char,
    pub image_name: *mut c_char,
    pub trash: bool,
}

/// `rbd_image_watcher_t`: a client watching an image's header (it has the image open for
/// writing).
#[repr(C)]
pub struct ImageWatcher {
    pub addr: *mut c_char,
    pub id: i64,
    pub cookie: u64,
}

/// `RBD_FEATURE_LAYERING`: clones can be made from protected snapshots.
pub const RBD_FEATURE_LAYERING: u64 = 1;
/// `LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL`.
pub const FADVISE_SEQUENTIAL: c_int = 0x8;

pub type DiffCallback =
    unsafe extern "C" fn(offset: u64, len: usize, exists: c_int, arg: *mut c_void) -> c_int;

/// One of the two libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    Rados,
    Rbd,
}

impl Lib {
    /// The soname the Ceph 16.2 (and later) packages install.
    pub fn soname(self) -> &'static str {
        match self {
            Lib::Rados => "librados.so.2",
            Lib::Rbd => "librbd.so.1",
        }
    }

    /// The development symlink, tried when the soname is not found.
    fn unversioned(self) -> &'static str {
        match self {
            Lib::Rados => "librados.so",
            Lib::Rbd => "librbd.so",
        }
    }

    /// The Debian/Ubuntu package that installs the soname.
    pub fn package(self) -> &'static str {
        match self {
            Lib::Rados => "librados2",
            Lib::Rbd => "librbd1",
        }
    }

    /// The store option that names the file.
    pub fn option(self) -> &'static str {
        match self {
            Lib::Rados => "librados_path",
            Lib::Rbd => "librbd_path",
        }
    }
}

/// Why the libraries could not be used. The messages complete "store 'x' (rbd) …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryError {
    /// The library could not be loaded (not installed, not a library, a dependency missing).
    Open {
        lib: Lib,
        /// The file the store's options named, if any.
        path: Option<PathBuf>,
        /// The dynamic loader's message.
        reason: String,
    },
    /// The library lacks a function this driver calls (a Ceph release older than 16.2).
    Symbol {
        lib: Lib,
        symbol: &'static str,
        reason: String,
    },
    /// The options name a file other than the library the process already uses for its rbd
    /// stores; two copies of librados/librbd in one process are not supported.
    Conflict { lib: Lib, path: PathBuf },
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LibraryError::Open {
                lib,
                path: None,
                reason,
            } => write!(
                f,
                "needs {} (Debian package {}): {reason}",
                lib.soname(),
                lib.package()
            ),
            LibraryError::Open {
                lib,
                path: Some(path),
                reason,
            } => write!(
                f,
                "needs {} at {} (option `{}`): {reason}",
                lib.soname(),
                path.display(),
                lib.option()
            ),
            LibraryError::Symbol {
                lib,
                symbol,
                reason,
            } => write!(
                f,
                "needs {} with {symbol} (Ceph 16.2 or later, Debian package {}): {reason}",
                lib.soname(),
                lib.package()
            ),
            LibraryError::Conflict { lib, path } => write!(
                f,
                "cannot use {} (option `{}`): this process already uses another {} for its rbd stores; give every rbd store the same `librados_path` and `librbd_path`",
                path.display(),
                lib.option(),
                lib.soname()
            ),
        }
    }
}

impl std::error::Error for LibraryError {}

/// The dynamic loader's own message (`dlerror`), which libloading keeps as the error's source.
fn reason(err: &libloading::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

/// Opens one library for the rest of the process: the named file, or else the soname, then the
/// unversioned name, from the system's library path. `RTLD_NOW` resolves the library's own
/// dependencies here, so a broken installation fails now rather than at a later call.
fn open(lib: Lib, path: Option<&Path>) -> Result<&'static Library, LibraryError> {
    let flags = RTLD_NOW | RTLD_LOCAL;
    let opened = match path {
        Some(path) => {
            let name = path.to_str().ok_or_else(|| LibraryError::Open {
                lib,
                path: Some(path.to_owned()),
                reason: "the path is not UTF-8".to_owned(),
            })?;
            // SAFETY: the file is the operator's librados/librbd; loading runs its initialisers,
            // which is what linking it did. It is never unloaded, so its finalisers never run
            // while the process still holds pointers into it.
            unsafe { Library::open(Some(name), flags) }.map_err(|err| LibraryError::Open {
                lib,
                path: Some(path.to_owned()),
                reason: reason(&err),
            })?
        }
        // SAFETY: as above, for the system's library.
        None => match unsafe { Library::open(Some(lib.soname()), flags) } {
            Ok(library) => library,
            Err(first) => {
                // SAFETY: as above.
                unsafe { Library::open(Some(lib.unversioned()), flags) }.map_err(|_| {
                    LibraryError::Open {
                        lib,
                        path: None,
                        reason: reason(&first),
                    }
                })?
            }
        },
    };
    // Never dropped, so never `dlclose`d.
    Ok(Box::leak(Box::new(opened)))
}

/// The address of one function of `library`, for comparing two loads.
fn address(library: &Library, lib: Lib, symbol: &'static str) -> Result<usize, LibraryError> {
    // SAFETY: only the address is read; nothing is called through it.
    unsafe { library.get::<*mut c_void>(symbol) }
        .map(|found| *found as usize)
        .map_err(|err| LibraryError::Symbol {
            lib,
            symbol: symbol.trim_end_matches('\0'),
            reason: reason(&err),
        })
}

/// Declares the entry points as fields of [`Api`] with their exact C prototypes, and resolves
/// each from its library.
macro_rules! functions {
    ($( $lib:ident { $( fn $name:ident ( $( $arg:ident : $ty:ty ),* $(,)? ) $( -> $ret:ty )? ; )* } )*) => {
        /// The librados and librbd entry points, resolved once per process.
        pub struct Api {
            $( $( pub $name: unsafe extern "C" fn( $( $arg: $ty ),* ) $( -> $ret )?, )* )*
        }

        /// The two loaded libraries, by the block names of the declarations.
        struct Libraries {
            rados: (&'static Library, Lib),
            rbd: (&'static Library, Lib),
        }

        impl Api {
            fn resolve(libraries: &Libraries) -> Result<Api, LibraryError> {
                Ok(Api {
                    $( $(
                        $name: {
                            let (library, lib) = libraries.$lib;
                            let symbol = concat!(stringify!($name), "\0");
                            // SAFETY: the type is the function's C prototype in the Ceph 16.2
                            // headers (`rados/librados.h`, `rbd/librbd.h`), as declared in the
                            // `functions!` block at the end of this file.
                            unsafe {
                                library.get::<unsafe extern "C" fn( $( $ty ),* ) $( -> $ret )?>(symbol)
                            }
                            .map(|found| *found)
                            .map_err(|err| LibraryError::Symbol {
                                lib,
                                symbol: stringify!($name),
                                reason: reason(&err),
                            })?
                        },
                    )* )*
                })
            }
        }
    };
}

/// Where to load the libraries from; `None`: the system's library path.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paths<'a> {
    pub librados: Option<&'a Path>,
    pub librbd: Option<&'a Path>,
}

/// The process's libraries, loaded by the first store (or tool) that needed them.
static LOADED: Mutex<Option<&'static Api>> = Mutex::new(None);

/// The entry points, loading the libraries on first use. Later calls reuse them; a later call
/// that names a file checks that it is the library already in use (the same file loads as the
/// same library) and refuses another one.
pub fn load(paths: Paths<'_>) -> Result<&'static Api, LibraryError> {
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(api) = *loaded {
        for (lib, path, probe, in_use) in [
            (
                Lib::Rados,
                paths.librados,
                "rados_create2\0",
                api.rados_create2 as usize,
            ),
            (Lib::Rbd, paths.librbd, "rbd_open\0", api.rbd_open as usize),
        ] {
            let Some(path) = path else { continue };
            if address(open(lib, Some(path))?, lib, probe)? != in_use {
                return Err(LibraryError::Conflict {
                    lib,
                    path: path.to_owned(),
                });
            }
        }
        return Ok(api);
    }
    let libraries = Libraries {
        rados: (open(Lib::Rados, paths.librados)?, Lib::Rados),
        rbd: (open(Lib::Rbd, paths.librbd)?, Lib::Rbd),
    };
    let api: &'static Api = Box::leak(Box::new(Api::resolve(&libraries)?));
    *loaded = Some(api);
    Ok(api)
}

functions! {
    rados {
        fn rados_create2(
            cluster: *mut RadosT,
            cluster_name: *const c_char,
            name: *const c_char,
            flags: u64,
        ) -> c_int;
        fn rados_conf_read_file(cluster: RadosT, path: *const c_char) -> c_int;
        fn rados_conf_set(cluster: RadosT, option: *const c_char, value: *const c_char) -> c_int;
        fn rados_connect(cluster: RadosT) -> c_int;
        fn rados_shutdown(cluster: RadosT);
        fn rados_cluster_fsid(cluster: RadosT, buf: *mut c_char, len: usize) -> c_int;
        fn rados_ioctx_create(
            cluster: RadosT,
            pool_name: *const c_char,
            ioctx: *mut IoctxT,
        ) -> c_int;
        fn rados_ioctx_destroy(ioctx: IoctxT);
    }
    rbd {
        fn rbd_create2(
            io: IoctxT,
            name: *const c_char,
            size: u64,
            features: u64,
            order: *mut c_int,
        ) -> c_int;
        fn rbd_clone2(
            p_ioctx: IoctxT,
            p_name: *const c_char,
            p_snapname: *const c_char,
            c_ioctx: IoctxT,
            c_name: *const c_char,
            features: u64,
            c_order: *mut c_int,
            stripe_unit: u64,
            stripe_count: c_int,
        ) -> c_int;
        fn rbd_remove(io: IoctxT, name: *const c_char) -> c_int;
        fn rbd_rename(io: IoctxT, srcname: *const c_char, destname: *const c_char) -> c_int;
        fn rbd_trash_move(io: IoctxT, name: *const c_char, delay: u64) -> c_int;
        fn rbd_list2(io: IoctxT, images: *mut ImageSpec, max_images: *mut usize) -> c_int;
        fn rbd_image_spec_list_cleanup(images: *mut ImageSpec, num_images: usize);

        fn rbd_open(
            io: IoctxT,
            name: *const c_char,
            image: *mut ImageT,
            snap_name: *const c_char,
        ) -> c_int;
        fn rbd_open_read_only(
            io: IoctxT,
            name: *const c_char,
            image: *mut ImageT,
            snap_name: *const c_char,
        ) -> c_int;
        fn rbd_close(image: ImageT) -> c_int;
        fn rbd_get_size(image: ImageT, size: *mut u64) -> c_int;
        fn rbd_resize(image: ImageT, size: u64) -> c_int;
        fn rbd_write2(
            image: ImageT,
            ofs: u64,
            len: usize,
            buf: *const c_char,
            op_flags: c_int,
        ) -> isize;
        fn rbd_read2(
            image: ImageT,
            ofs: u64,
            len: usize,
            buf: *mut c_char,
            op_flags: c_int,
        ) -> isize;
        fn rbd_flush(image: ImageT) -> c_int;
        fn rbd_aio_create_completion(
            cb_arg: *mut c_void,
            complete_cb: Option<CompletionCallback>,
            completion: *mut CompletionT,
        ) -> c_int;
        fn rbd_aio_write2(
            image: ImageT,
            off: u64,
            len: usize,
            buf: *const c_char,
            completion: CompletionT,
            op_flags: c_int,
        ) -> c_int;
        fn rbd_aio_read2(
            image: ImageT,
            off: u64,
            len: usize,
            buf: *mut c_char,
            completion: CompletionT,
            op_flags: c_int,
        ) -> c_int;
        fn rbd_aio_wait_for_complete(completion: CompletionT) -> c_int;
        fn rbd_aio_get_return_value(completion: CompletionT) -> isize;
        fn rbd_aio_release(completion: CompletionT);
        fn rbd_diff_iterate2(
            image: ImageT,
            fromsnapname: *const c_char,
            ofs: u64,
            len: u64,
            include_parent: u8,
            whole_object: u8,
            cb: DiffCallback,
            arg: *mut c_void,
        ) -> c_int;

        fn rbd_snap_create(image: ImageT, snapname: *const c_char) -> c_int;
        fn rbd_snap_remove(image: ImageT, snapname: *const c_char) -> c_int;
        fn rbd_snap_protect(image: ImageT, snap_name: *const c_char) -> c_int;
        fn rbd_snap_unprotect(image: ImageT, snap_name: *const c_char) -> c_int;
        fn rbd_snap_is_protected(
            image: ImageT,
            snap_name: *const c_char,
            is_protected: *mut c_int,
        ) -> c_int;
        fn rbd_list_children3(
            image: ImageT,
            images: *mut LinkedImageSpec,
            max_images: *mut usize,
        ) -> c_int;
        fn rbd_linked_image_spec_list_cleanup(images: *mut LinkedImageSpec, num_images: usize);
        fn rbd_watchers_list(
            image: ImageT,
            watchers: *mut ImageWatcher,
            max_watchers: *mut usize,
        ) -> c_int;
        fn rbd_watchers_list_cleanup(watchers: *mut ImageWatcher, num_watchers: usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_library_and_the_package() {
        let missing = LibraryError::Open {
            lib: Lib::Rbd,
            path: None,
            reason: "librbd.so.1: cannot open shared object file: No such file or directory"
                .to_owned(),
        };
        assert_eq!(
            missing.to_string(),
            "needs librbd.so.1 (Debian package librbd1): librbd.so.1: cannot open shared object file: No such file or directory"
        );
        let old = LibraryError::Symbol {
            lib: Lib::Rados,
            symbol: "rados_create2",
            reason: "undefined symbol: rados_create2".to_owned(),
        };
        assert!(
            old.to_string()
                .starts_with("needs librados.so.2 with rados_create2 ")
        );
        assert!(old.to_string().contains("Debian package librados2"));
    }
}
