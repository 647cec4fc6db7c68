//! An owned byte buffer that crosses the boundary without copying.

use abi_stable::StableAbi;
use bytes::Bytes;

/// A byte buffer owned by whichever side produced it, released through that side's `drop_fn`.
///
/// Made from a [`Bytes`] (boxed as the owner) and turned back into one with [`Bytes::from_owner`], so
/// a chunk moves from a plugin to hyper, or from the request body to a plugin, without a copy.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiBuf {
    ptr: *const u8,
    len: usize,
    owner: *mut (),
    drop_fn: unsafe extern "C" fn(*mut ()),
}

// SAFETY: the owner is a boxed `Bytes`, which is `Send + Sync`; the buffer only hands out shared
// reads of memory that the owner keeps alive and immutable.
unsafe impl Send for FfiBuf {}
// SAFETY: as above, `&FfiBuf` only allows reading the immutable bytes.
unsafe impl Sync for FfiBuf {}

/// Releases the `Box<Bytes>` behind an `FfiBuf`.
///
/// # Safety
/// `owner` must come from `Box::into_raw(Box<Bytes>)` in `From<Bytes> for FfiBuf` and be released once.
unsafe extern "C" fn drop_boxed_bytes(owner: *mut ()) {
    // SAFETY: guaranteed by the caller, see above; dropping `Bytes` only decrements a refcount and
    // frees memory, it does not unwind.
    drop(unsafe { Box::from_raw(owner.cast::<Bytes>()) });
}

impl From<Bytes> for FfiBuf {
    fn from(bytes: Bytes) -> Self {
        let owner = Box::new(bytes);
        // `Bytes` never stores its data inline, so the pointer stays valid when the box moves.
        let (ptr, len) = (owner.as_ptr(), owner.len());
        FfiBuf {
            ptr,
            len,
            owner: Box::into_raw(owner).cast(),
            drop_fn: drop_boxed_bytes,
        }
    }
}

impl From<FfiBuf> for Bytes {
    fn from(buf: FfiBuf) -> Self {
        Bytes::from_owner(buf)
    }
}

impl AsRef<[u8]> for FfiBuf {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` is the slice of a `Bytes` kept alive by `owner` until `drop`, and
        // `Bytes` data is never mutated.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for FfiBuf {
    fn drop(&mut self) {
        // SAFETY: `owner` and `drop_fn` were paired by `From<Bytes>` on the producing side, and the
        // owner is released exactly once, here. Plugin libraries are never unloaded, so `drop_fn`
        // stays callable.
        unsafe { (self.drop_fn)(self.owner) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_without_copying() {
        let original = Bytes::from(vec![7u8; 4096]);
        let address = original.as_ptr();
        let back = Bytes::from(FfiBuf::from(original.clone()));
        assert_eq!(back, original);
        assert_eq!(back.as_ptr(), address);
        let empty = Bytes::from(FfiBuf::from(Bytes::new()));
        assert!(empty.is_empty());
    }
}
