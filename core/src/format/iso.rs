//! ISO 9660 and UDF: the first 16 sectors of 2 KiB are a free system area (a
//! boot loader, often an MBR/GPT), the first volume descriptor follows at 32 KiB.
//! The primary volume descriptor (type 1) holds the volume's block count (offset
//! 80) and block size (offset 128), both stored twice: little-endian first.

use super::region::{Region, le_u16, le_u32};
use super::{Format, FormatError, SafetyFailure};

const DESCRIPTOR: u64 = 32 * 1024;
const SIGNATURES: [&[u8]; 3] = [b"CD001", b"NSR02", b"NSR03"];

#[derive(Debug)]
pub(crate) struct Iso {
    /// The first volume descriptor. The system area before it is needed only
    /// to be present, so it is not kept.
    descriptor: Region,
}

impl Iso {
    pub fn new() -> Self {
        Self {
            descriptor: Region::new(DESCRIPTOR, 2048),
        }
    }
}

impl Format for Iso {
    fn name(&self) -> &'static str {
        "iso"
    }

    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        self.descriptor.capture(pos, chunk);
        Ok(())
    }

    fn wants(&self) -> bool {
        self.descriptor.wants()
    }

    fn end(&mut self) {
        self.descriptor.end();
    }

    fn complete(&self) -> bool {
        self.descriptor.complete()
    }

    fn matches(&self) -> bool {
        self.complete()
            && self
                .descriptor
                .data()
                .get(1..6)
                .is_some_and(|s| SIGNATURES.contains(&s))
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        let d = self.descriptor.data();
        if !self.matches() || d.first() != Some(&1) {
            return Ok(0);
        }
        let blocks = le_u32(d, 80).unwrap_or(0) as u64;
        let block_size = le_u16(d, 128).unwrap_or(0) as u64;
        Ok(blocks * block_size)
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }

    fn held(&self) -> usize {
        self.descriptor.data().len()
    }
}
