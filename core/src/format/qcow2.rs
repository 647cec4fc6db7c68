//! QEMU copy-on-write v2/v3: a big-endian header at the start of the file
//! (qemu's docs/interop/qcow2.txt).
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `QFI\xfb` |
//! | 4 | version (2 or 3) |
//! | 8 | backing file name offset (0: none) |
//! | 24 | virtual size in bytes |
//! | 72 | incompatible feature bits (version 3) |

use super::region::{Region, be_u32, be_u64};
use super::{Format, FormatError, SafetyFailure};

const MAGIC: &[u8] = b"QFI\xfb";
const BACKING_FILE_OFFSET: usize = 8;
const SIZE: usize = 24;
const INCOMPATIBLE_FEATURES: usize = 72;
/// Incompatible feature bit 2: guest data lives in an external file.
const DATA_FILE_BIT: u64 = 1 << 2;
/// Incompatible features this check knows: dirty, corrupt, external data
/// file, compression type. Anything else (extended L2 entries included) is refused.
const KNOWN_FEATURES: u64 = 0b1111;

#[derive(Debug)]
pub(crate) struct Qcow2 {
    header: Region,
}

impl Qcow2 {
    pub fn new() -> Self {
        Self {
            header: Region::new(0, 512),
        }
    }

    fn header(&self) -> &[u8] {
        self.header.data()
    }

    fn features(&self) -> u64 {
        be_u64(self.header(), INCOMPATIBLE_FEATURES).unwrap_or(0)
    }
}

impl Format for Qcow2 {
    fn name(&self) -> &'static str {
        "qcow2"
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
        self.header.complete() && self.header().starts_with(MAGIC)
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        Ok(if self.matches() {
            be_u64(self.header(), SIZE).unwrap_or(0)
        } else {
            0
        })
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        let mut failures = Vec::new();
        if be_u64(self.header(), BACKING_FILE_OFFSET).unwrap_or(0) != 0 {
            failures.push(SafetyFailure::new(
                "backing_file",
                "Image has a backing file",
            ));
        }
        // Checked whatever the version says: a version 2 header claiming
        // version 3's fields is no safer.
        if self.features() & DATA_FILE_BIT != 0 {
            failures.push(SafetyFailure::new("data_file", "Image has data_file set"));
        }
        match be_u32(self.header(), 4) {
            Some(2) => {}
            Some(3) => {
                if self.features() & !KNOWN_FEATURES != 0 {
                    failures.push(SafetyFailure::new(
                        "unknown_features",
                        "Unknown QCOW2 features found",
                    ));
                }
            }
            _ => failures.push(SafetyFailure::new(
                "unknown_features",
                "Unsupported qcow2 version",
            )),
        }
        failures
    }

    fn held(&self) -> usize {
        self.header.data().len()
    }
}
