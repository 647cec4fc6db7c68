//! LUKS version 1 encrypted volumes: a big-endian header with magic
//! `LUKS\xba\xbe`, the version at offset 6 and the payload offset (in 512-byte
//! sectors) at offset 104. Without a passphrase the content stays opaque: only
//! the version is checked.

use super::region::{Region, be_u16, be_u32};
use super::{Format, FormatError, SafetyFailure};

const MAGIC: &[u8] = b"LUKS\xba\xbe";
/// The fixed part of the header plus its eight key slots.
const HEADER: usize = 592;
/// The fields read here end at offset 168.
const FIELDS: usize = 168;

#[derive(Debug)]
pub(crate) struct Luks {
    header: Region,
}

impl Luks {
    pub fn new() -> Self {
        Self {
            header: Region::new(0, HEADER),
        }
    }
}

impl Format for Luks {
    fn name(&self) -> &'static str {
        "luks"
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
        self.header.data().starts_with(MAGIC)
    }

    /// What follows the header: exact only once the whole stream was seen.
    fn virtual_size(&self, size: u64) -> Result<u64, FormatError> {
        let payload = be_u32(self.header.data(), 104)
            .ok_or_else(|| FormatError::new("LUKS header is truncated"))?;
        Ok(size.saturating_sub(payload as u64 * 512))
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        let d = self.header.data();
        if d.len() < FIELDS {
            return vec![SafetyFailure::new("version", "Unexpected error")];
        }
        match be_u16(d, 6) {
            Some(1) => Vec::new(),
            Some(v) => vec![SafetyFailure::new(
                "version",
                format!("LUKS version {v} is not supported"),
            )],
            None => vec![SafetyFailure::new("version", "Unexpected error")],
        }
    }

    fn held(&self) -> usize {
        self.header.data().len()
    }
}
