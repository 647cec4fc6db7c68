//! Microsoft VHD (qemu's "vpc"): a big-endian 512-byte footer copy at the start
//! of the file, magic `conectix`, current size at offset 40.

use super::region::{Region, be_u64};
use super::{Format, FormatError, SafetyFailure};

#[derive(Debug)]
pub(crate) struct Vhd {
    header: Region,
}

impl Vhd {
    pub fn new() -> Self {
        Self {
            header: Region::new(0, 512),
        }
    }
}

impl Format for Vhd {
    fn name(&self) -> &'static str {
        "vhd"
    }

    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        self.header.capture(pos, chunk);
        Ok(())
    }

    fn wants(&self) -> bool {
        self.header.wants()
    }

    fn end(&mut self) {
        self.header.end();
    }

    fn complete(&self) -> bool {
        self.header.complete()
    }

    /// The magic alone decides, even in a file too short for the rest.
    fn matches(&self) -> bool {
        self.header.data().starts_with(b"conectix")
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        Ok(if self.header.complete() && self.matches() {
            be_u64(self.header.data(), 40).unwrap_or(0)
        } else {
            0
        })
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }

    fn held(&self) -> usize {
        self.header.data().len()
    }
}
