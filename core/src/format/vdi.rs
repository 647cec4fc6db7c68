//! VirtualBox VDI: a little-endian 512-byte header, signature `0xbeda107f` at
//! offset 0x40, disk size in bytes at 0x170.

use super::region::{Region, le_u32, le_u64};
use super::{Format, FormatError, SafetyFailure};

const SIGNATURE: u32 = 0xbeda_107f;

#[derive(Debug)]
pub(crate) struct Vdi {
    header: Region,
}

impl Vdi {
    pub fn new() -> Self {
        Self {
            header: Region::new(0, 512),
        }
    }
}

impl Format for Vdi {
    fn name(&self) -> &'static str {
        "vdi"
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

    fn matches(&self) -> bool {
        self.header.complete() && le_u32(self.header.data(), 0x40) == Some(SIGNATURE)
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        Ok(if self.matches() {
            le_u64(self.header.data(), 0x170).unwrap_or(0)
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
