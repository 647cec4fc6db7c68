//! Operating-system calls that std has no safe wrapper for, offered to drivers.

use std::fs::File;

/// Start writing `len` bytes at `offset` of `file` back to disk now, without waiting for them.
///
/// A driver that streams a large object and fsyncs at the end calls this every few MiB, so the
/// disk works while the data still arrives and the final fsync has little left to do. Errors are
/// harmless (the final fsync still makes the data durable); on systems without the call it does
/// nothing.
#[cfg(target_os = "linux")]
pub fn start_writeback(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Ok(());
    };
    // SAFETY: the descriptor stays open while `file` is borrowed, and sync_file_range reads and
    // writes no memory of this process.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub fn start_writeback(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Ok(())
}
