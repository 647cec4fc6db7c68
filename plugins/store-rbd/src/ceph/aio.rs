//! Asynchronous image I/O: a write or read is queued at once and waited for later, so several
//! can be in flight on one image. Each operation owns its buffer until it is waited for;
//! dropping one waits too, so librbd never touches a freed buffer.

use std::marker::PhantomData;

use super::{CephError, Image, sys};

/// One queued operation's completion (`rbd_completion_t`), released exactly once.
struct Completion {
    raw: sys::CompletionT,
    api: &'static sys::Api,
}

impl Completion {
    fn new(api: &'static sys::Api) -> Result<Completion, CephError> {
        let mut raw: sys::CompletionT = std::ptr::null_mut();
        // SAFETY: valid out-pointer; no callback, so no argument is ever dereferenced.
        let code = unsafe { (api.rbd_aio_create_completion)(std::ptr::null_mut(), None, &mut raw) };
        CephError::check("rbd_aio_create_completion", code.into())?;
        Ok(Completion { raw, api })
    }

    /// Releases a completion whose operation was refused, so nothing refers to it.
    fn abandon(mut self) {
        self.release();
    }

    /// Waits for the operation; its return value (bytes, or a negative errno).
    fn wait(mut self) -> isize {
        // SAFETY: a live completion of a queued operation.
        let code = unsafe {
            (self.api.rbd_aio_wait_for_complete)(self.raw);
            (self.api.rbd_aio_get_return_value)(self.raw)
        };
        self.release();
        code
    }

    fn release(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: a live completion whose operation is over or was never queued, released
            // exactly once (the pointer is cleared).
            unsafe { (self.api.rbd_aio_release)(self.raw) };
            self.raw = std::ptr::null_mut();
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: a live completion of a queued operation: wait before releasing it, so the
            // operation's buffer outlives librbd's use of it (the owner drops it after this).
            unsafe { (self.api.rbd_aio_wait_for_complete)(self.raw) };
            self.release();
        }
    }
}

/// A write in flight: [`AioWrite::wait`] for its result; dropping it waits too, so its buffer
/// is never freed while librbd may still read it.
pub struct AioWrite<'image> {
    // Declared before `data`: fields drop in order, so the wait comes before the free.
    completion: Completion,
    data: Vec<u8>,
    _image: PhantomData<&'image Image>,
}

impl AioWrite<'_> {
    /// Waits for the write; gives the buffer back for reuse.
    pub fn wait(self) -> Result<Vec<u8>, CephError> {
        let code = self.completion.wait();
        CephError::check("rbd_aio_write2", code as i64)?;
        Ok(self.data)
    }
}

/// A read in flight: [`AioRead::wait`] for the bytes; dropping it waits too, so librbd never
/// writes into a freed buffer.
pub struct AioRead<'image> {
    // Declared before `data`: fields drop in order, so the wait comes before the free.
    completion: Completion,
    data: Vec<u8>,
    len: usize,
    _image: PhantomData<&'image Image>,
}

impl AioRead<'_> {
    /// Waits for the read; the bytes read (fewer than asked only at the end of the image).
    pub fn wait(self) -> Result<Vec<u8>, CephError> {
        let code = self.completion.wait();
        let read = CephError::check("rbd_aio_read2", code as i64)? as usize;
        let mut data = self.data;
        // SAFETY: the read is over and librbd initialised the first `read` bytes of the
        // buffer's capacity, which holds `len`.
        unsafe { data.set_len(read.min(self.len)) };
        Ok(data)
    }
}

impl Image {
    /// Starts writing all of `data` at `offset`; the write is done when [`AioWrite::wait`]
    /// returns. The buffer stays with the operation until then.
    pub fn aio_write(&self, offset: u64, data: Vec<u8>) -> Result<AioWrite<'_>, CephError> {
        let completion = Completion::new(self.api)?;
        // SAFETY: open handle; `data` moves into the returned `AioWrite` (its heap buffer does
        // not move), whose completion waits for the write before the buffer is freed, and which
        // cannot outlive this image.
        let code = unsafe {
            (self.api.rbd_aio_write2)(
                self.raw,
                offset,
                data.len(),
                data.as_ptr().cast(),
                completion.raw,
                sys::FADVISE_SEQUENTIAL,
            )
        };
        if let Err(err) = CephError::check("rbd_aio_write2", code.into()) {
            completion.abandon();
            return Err(err);
        }
        Ok(AioWrite {
            completion,
            data,
            _image: PhantomData,
        })
    }

    /// Starts reading up to `len` bytes at `offset` into a new buffer; [`AioRead::wait`]
    /// returns them.
    pub fn aio_read(&self, offset: u64, len: usize) -> Result<AioRead<'_>, CephError> {
        let completion = Completion::new(self.api)?;
        let mut data: Vec<u8> = Vec::with_capacity(len);
        // SAFETY: open handle; the buffer is writable for `len` bytes and librbd writes at most
        // that many. It moves into the returned `AioRead` (its heap buffer does not move), whose
        // completion waits for the read before the buffer is freed, and which cannot outlive
        // this image.
        let code = unsafe {
            (self.api.rbd_aio_read2)(
                self.raw,
                offset,
                len,
                data.as_mut_ptr().cast(),
                completion.raw,
                sys::FADVISE_SEQUENTIAL,
            )
        };
        if let Err(err) = CephError::check("rbd_aio_read2", code.into()) {
            completion.abandon();
            return Err(err);
        }
        Ok(AioRead {
            completion,
            data,
            len,
            _image: PhantomData,
        })
    }
}
