//! Microsoft VHDX (MS-VHDX): little-endian structures linked by offsets and
//! named by GUIDs. The virtual size is three hops into the file:
//!
//! 1. the file identifier at 0 starts with `vhdxfile`;
//! 2. the region table at 192 KiB (`regi`, entry count at +8, 32-byte entries
//!    from +16: GUID, file offset u64, length u32, required u32) locates the
//!    metadata region;
//! 3. the metadata table there (`metadata`, entry count u16 at +10, 32-byte
//!    entries from +32: GUID, offset u32 from the region's start, length u32)
//!    locates the "virtual disk size" item, a u64.
//!
//! Only the region table (64 KiB), the metadata table (at most 64 KiB) and the
//! 8-byte item are kept.

use super::region::{Region, le_u16, le_u32, le_u64};
use super::{Format, FormatError, SafetyFailure};

const REGION_TABLE: u64 = 192 * 1024;
const TABLE_SIZE: usize = 64 * 1024;
const MAX_ENTRIES: u32 = 2047;
/// Each 64 KiB table holds a 32-byte (metadata) or 16-byte (region) header
/// and at most 2047 entries of 32 bytes.
const METADATA_TABLE: usize = 32 * 2048;
const REGION_SIGNATURE: &[u8] = b"regi";

/// A GUID as MS-VHDX stores it: the first three groups little-endian.
const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> [u8; 16] {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ]
}

/// 8B7CA206-4790-4B9A-B8FE-575F050F886E
const METADATA_REGION: [u8; 16] = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
/// 2FA54224-CD1B-4876-B211-5DBED83BF4B8
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);

#[derive(Debug)]
pub(crate) struct Vhdx {
    ident: Region,
    regions: Region,
    metadata: Option<Region>,
    size_item: Option<Region>,
    /// The complete table had no entry for what was looked for.
    search_over: bool,
}

impl Vhdx {
    pub fn new() -> Self {
        Self {
            ident: Region::new(0, 32),
            regions: Region::new(REGION_TABLE, TABLE_SIZE),
            metadata: None,
            size_item: None,
            search_over: false,
        }
    }

    /// Follow the links as far as the captured windows allow. A window found
    /// here may start inside `chunk`, so it is offered the chunk at once.
    fn follow(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        if self.search_over {
            return Ok(());
        }
        if self.metadata.is_none() && self.regions.complete() {
            match self.find_metadata_region()? {
                Some(mut r) => {
                    r.capture(pos, chunk);
                    self.metadata = Some(r);
                }
                None => self.search_over = true,
            }
        }
        if self.size_item.is_none()
            && let Some(mut r) = self.find_size_item()?
        {
            r.capture(pos, chunk);
            self.size_item = Some(r);
        }
        Ok(())
    }

    fn find_metadata_region(&self) -> Result<Option<Region>, FormatError> {
        let t = self.regions.data();
        if !t.starts_with(REGION_SIGNATURE) {
            return Err(FormatError::new(format!(
                "Region signature not found at {:x}",
                self.regions.offset()
            )));
        }
        let count = le_u32(t, 8).unwrap_or(0);
        if count > MAX_ENTRIES {
            return Err(FormatError::new(format!(
                "Region count is {count} (limit {MAX_ENTRIES})"
            )));
        }
        for i in 0..count as usize {
            let e = &t[16 + 32 * i..16 + 32 * (i + 1)];
            if e[..16] == METADATA_REGION {
                let offset = le_u64(e, 16).unwrap_or(0);
                // The region's length covers the items too; only the table is needed.
                return Ok(Some(Region::new(offset, METADATA_TABLE)));
            }
        }
        Ok(None)
    }

    fn find_size_item(&mut self) -> Result<Option<Region>, FormatError> {
        let Some(meta) = self.metadata.as_mut() else {
            return Ok(None);
        };
        let t = meta.data();
        if t.len() < 32 {
            return Ok(None);
        }
        if !t.starts_with(b"metadata") {
            return Err(FormatError::new("Invalid signature for metadata region"));
        }
        let count = le_u16(t, 10).unwrap_or(0) as u32;
        if count > MAX_ENTRIES {
            return Err(FormatError::new(format!(
                "Metadata item count is {count} (limit {MAX_ENTRIES})"
            )));
        }
        let entries = 32 + 32 * count as usize;
        if t.len() < entries {
            return Ok(None);
        }
        for i in 0..count as usize {
            let e = &t[32 + 32 * i..32 + 32 * (i + 1)];
            if e[..16] == VIRTUAL_DISK_SIZE {
                let offset = le_u32(e, 16).unwrap_or(0) as u64;
                let len = (le_u32(e, 20).unwrap_or(0) as usize).min(METADATA_TABLE);
                let start = meta.offset() + offset;
                meta.truncate_here();
                return Ok(Some(Region::new(start, len)));
            }
        }
        self.search_over = true;
        Ok(None)
    }
}

impl Format for Vhdx {
    fn name(&self) -> &'static str {
        "vhdx"
    }

    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        self.ident.capture(pos, chunk);
        self.regions.capture(pos, chunk);
        if let Some(m) = self.metadata.as_mut() {
            m.capture(pos, chunk);
        }
        if let Some(s) = self.size_item.as_mut() {
            s.capture(pos, chunk);
        }
        self.follow(pos, chunk)
    }

    fn wants(&self) -> bool {
        self.ident.wants()
            || self.regions.wants()
            || (!self.search_over && (self.metadata.is_none() || self.size_item.is_none()))
            || self.metadata.as_ref().is_some_and(Region::wants)
            || self.size_item.as_ref().is_some_and(Region::wants)
    }

    fn end(&mut self) {
        self.ident.end();
        self.regions.end();
        if let Some(m) = self.metadata.as_mut() {
            m.end();
        }
        if let Some(s) = self.size_item.as_mut() {
            s.end();
        }
    }

    fn complete(&self) -> bool {
        self.ident.complete()
            && self.regions.complete()
            && self.metadata.as_ref().is_none_or(Region::complete)
            && self.size_item.as_ref().is_none_or(Region::complete)
    }

    fn matches(&self) -> bool {
        self.ident.data().starts_with(b"vhdxfile")
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        match &self.size_item {
            Some(item) if item.complete() => {
                let d = item.data();
                if d.len() != 8 {
                    return Err(FormatError::new(format!(
                        "VHDX virtual disk size item is {} bytes, not 8",
                        d.len()
                    )));
                }
                Ok(le_u64(d, 0).unwrap_or(0))
            }
            _ => Ok(0),
        }
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }

    fn held(&self) -> usize {
        self.ident.data().len()
            + self.regions.data().len()
            + self.metadata.as_ref().map_or(0, |r| r.data().len())
            + self.size_item.as_ref().map_or(0, |r| r.data().len())
    }
}
