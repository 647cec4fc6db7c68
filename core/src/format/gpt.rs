//! MBR and GPT partitioned disks, recognised in the first sector: the boot
//! signature `55 aa` at offset 510 and four 16-byte partition entries from
//! offset 446. A GPT disk has a protective MBR: one entry of type `0xee` that
//! starts at LBA 1 (UEFI 2.10, 5.2.3).

use super::region::{Region, le_u32};
use super::{Format, FormatError, SafetyFailure};

const ENTRIES: usize = 446;
const GPT_PROTECTIVE: u8 = 0xee;
const FIXED_DISK_MEDIA: u8 = 0xf8;

#[derive(Debug)]
pub(crate) struct Gpt {
    mbr: Region,
}

impl Gpt {
    pub fn new() -> Self {
        Self {
            mbr: Region::new(0, 512),
        }
    }

    /// A FAT file system's boot sector carries the same signature; its BIOS
    /// parameter block (two FATs, fixed-disk media) tells it apart.
    fn is_fat(&self) -> bool {
        let d = self.mbr.data();
        d.get(0x10) == Some(&2) && d.get(0x15) == Some(&FIXED_DISK_MEDIA)
    }

    fn check_partitions(&self) -> Result<(), SafetyFailure> {
        let failed = |reason: String| SafetyFailure::new("mbr", reason);
        let d = self.mbr.data();
        if d.len() < 512 {
            return Err(failed("Incomplete MBR".into()));
        }
        let mut used = Vec::new();
        let mut gpt = false;
        for i in 0..4 {
            let e = &d[ENTRIES + 16 * i..ENTRIES + 16 * (i + 1)];
            if e[0] != 0x00 && e[0] != 0x80 {
                return Err(failed(format!("MBR PTE {i} has invalid boot flag")));
            }
            let kind = e[4];
            if kind != 0 {
                used.push(i);
            }
            if kind == GPT_PROTECTIVE {
                gpt = true;
                if e[1..4] != [0x00, 0x02, 0x00] {
                    return Err(failed("GPT MBR has invalid start CHS".into()));
                }
                if le_u32(e, 8) != Some(1) {
                    return Err(failed("GPT MBR has invalid start LBA".into()));
                }
            }
        }
        if gpt && used != [0] {
            return Err(failed("GPT MBR defines invalid extra partitions".into()));
        }
        if used.is_empty() {
            return Err(failed("GPT MBR has no partitions defined".into()));
        }
        Ok(())
    }
}

impl Format for Gpt {
    fn name(&self) -> &'static str {
        "gpt"
    }

    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        self.mbr.capture(pos, chunk);
        Ok(())
    }

    fn wants(&self) -> bool {
        self.mbr.wants()
    }

    fn end(&mut self) {
        self.mbr.end();
    }

    fn complete(&self) -> bool {
        self.mbr.complete()
    }

    fn matches(&self) -> bool {
        self.mbr.complete()
            && self.mbr.data().get(510..512) == Some(&[0x55, 0xaa])
            && !self.is_fat()
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        self.check_partitions().err().into_iter().collect()
    }

    fn held(&self) -> usize {
        self.mbr.data().len()
    }
}
