//! Hand-written declarations of the librados and librbd C functions this driver uses
//! (Ceph 16.2 "Pacific" headers: `rados/librados.h`, `rbd/librbd.h`).
//!
//! Only plain integers, pointers and C strings cross here: no C struct is mirrored except
//! `rbd_image_spec_t` and `rbd_linked_image_spec_t`, both stable since Ceph 14.

use std::ffi::{c_char, c_int, c_void};

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

/// `RBD_FEATURE_LAYERING`: clones can be made from protected snapshots.
pub const RBD_FEATURE_LAYERING: u64 = 1;
/// `LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL`.
pub const FADVISE_SEQUENTIAL: c_int = 0x8;

pub type DiffCallback =
    unsafe extern "C" fn(offset: u64, len: usize, exists: c_int, arg: *mut c_void) -> c_int;

#[link(name = "rados")]
unsafe extern "C" {
    pub fn rados_create2(
        cluster: *mut RadosT,
        cluster_name: *const c_char,
        name: *const c_char,
        flags: u64,
    ) -> c_int;
    pub fn rados_conf_read_file(cluster: RadosT, path: *const c_char) -> c_int;
    pub fn rados_conf_set(cluster: RadosT, option: *const c_char, value: *const c_char) -> c_int;
    pub fn rados_connect(cluster: RadosT) -> c_int;
    pub fn rados_shutdown(cluster: RadosT);
    pub fn rados_cluster_fsid(cluster: RadosT, buf: *mut c_char, len: usize) -> c_int;
    pub fn rados_ioctx_create(
        cluster: RadosT,
        pool_name: *const c_char,
        ioctx: *mut IoctxT,
    ) -> c_int;
    pub fn rados_ioctx_destroy(ioctx: IoctxT);
}

#[link(name = "rbd")]
unsafe extern "C" {
    pub fn rbd_create2(
        io: IoctxT,
        name: *const c_char,
        size: u64,
        features: u64,
        order: *mut c_int,
    ) -> c_int;
    pub fn rbd_clone2(
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
    pub fn rbd_remove(io: IoctxT, name: *const c_char) -> c_int;
    pub fn rbd_rename(io: IoctxT, srcname: *const c_char, destname: *const c_char) -> c_int;
    pub fn rbd_trash_move(io: IoctxT, name: *const c_char, delay: u64) -> c_int;
    pub fn rbd_list2(io: IoctxT, images: *mut ImageSpec, max_images: *mut usize) -> c_int;
    pub fn rbd_image_spec_list_cleanup(images: *mut ImageSpec, num_images: usize);

    pub fn rbd_open(
        io: IoctxT,
        name: *const c_char,
        image: *mut ImageT,
        snap_name: *const c_char,
    ) -> c_int;
    pub fn rbd_open_read_only(
        io: IoctxT,
        name: *const c_char,
        image: *mut ImageT,
        snap_name: *const c_char,
    ) -> c_int;
    pub fn rbd_close(image: ImageT) -> c_int;
    pub fn rbd_get_size(image: ImageT, size: *mut u64) -> c_int;
    pub fn rbd_resize(image: ImageT, size: u64) -> c_int;
    pub fn rbd_write2(
        image: ImageT,
        ofs: u64,
        len: usize,
        buf: *const c_char,
        op_flags: c_int,
    ) -> isize;
    pub fn rbd_read2(
        image: ImageT,
        ofs: u64,
        len: usize,
        buf: *mut c_char,
        op_flags: c_int,
    ) -> isize;
    pub fn rbd_flush(image: ImageT) -> c_int;
    pub fn rbd_aio_create_completion(
        cb_arg: *mut c_void,
        complete_cb: Option<CompletionCallback>,
        completion: *mut CompletionT,
    ) -> c_int;
    pub fn rbd_aio_write2(
        image: ImageT,
        off: u64,
        len: usize,
        buf: *const c_char,
        completion: CompletionT,
        op_flags: c_int,
    ) -> c_int;
    pub fn rbd_aio_wait_for_complete(completion: CompletionT) -> c_int;
    pub fn rbd_aio_get_return_value(completion: CompletionT) -> isize;
    pub fn rbd_aio_release(completion: CompletionT);
    pub fn rbd_diff_iterate2(
        image: ImageT,
        fromsnapname: *const c_char,
        ofs: u64,
        len: u64,
        include_parent: u8,
        whole_object: u8,
        cb: DiffCallback,
        arg: *mut c_void,
    ) -> c_int;

    pub fn rbd_snap_create(image: ImageT, snapname: *const c_char) -> c_int;
    pub fn rbd_snap_remove(image: ImageT, snapname: *const c_char) -> c_int;
    pub fn rbd_snap_protect(image: ImageT, snap_name: *const c_char) -> c_int;
    pub fn rbd_snap_unprotect(image: ImageT, snap_name: *const c_char) -> c_int;
    pub fn rbd_snap_is_protected(
        image: ImageT,
        snap_name: *const c_char,
        is_protected: *mut c_int,
    ) -> c_int;
    pub fn rbd_list_children3(
        image: ImageT,
        images: *mut LinkedImageSpec,
        max_images: *mut usize,
    ) -> c_int;
    pub fn rbd_linked_image_spec_list_cleanup(images: *mut LinkedImageSpec, num_images: usize);
}
