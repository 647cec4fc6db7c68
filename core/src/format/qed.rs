//! QEMU enhanced disk: recognised by its magic so that it is never mistaken
//! for raw data, and never accepted: nothing uses it any more.

use super::region::Region;
use super::{Format, FormatError, SafetyFailure};

#[derive(Debug)]
pub(crate) struct Qed {
    header: Region,
}

impl Qed {
    pub fn new() -> Self {
        Self {
            header: Region::new(0, 512),
        }
    }
}

impl Format for Qed {
    fn name(&self) -> &'static str {
        "qed"
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
        self.header.complete() && self.header.data().starts_with(b"QED\0")
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        vec![SafetyFailure::new(
            "banned",
            "This file format is not allowed",
        )]
    }

    fn held(&self) -> usize {
        self.header.data().len()
    }
}
