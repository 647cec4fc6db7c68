//! VMware VMDK, as far as a single uploaded file can be one safely: the
//! `monolithicSparse` and `streamOptimized` kinds, whose one file holds a
//! little-endian "hosted sparse extent" header and an embedded text descriptor.
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `KDMV` |
//! | 4 | version (1 to 3) |
//! | 12 | capacity in 512-byte sectors (u64) |
//! | 28 | descriptor offset in sectors (u64; always 1) |
//! | 36 | descriptor size in sectors (u64) |
//! | 56 | grain directory offset (u64; all ones: read the footer at the end) |
//!
//! The descriptor is text: `key=value` header lines, `ddb.*` lines and extent
//! lines (`RW <sectors> SPARSE "file"`). A file that is only a descriptor (no
//! binary header) is recognised too, so that one pointing at host files is
//! refused rather than taken for raw data. Kept: the 512-byte header, the
//! descriptor (at most 1 MiB), and for streamOptimized the last 1.5 KiB.

use super::region::{Region, Tail, le_u32, le_u64};
use super::{Format, FormatError, SafetyFailure};

const MAGIC: &[u8] = b"KDMV";
/// The shortest header worth interpreting.
const MIN_HEADER: usize = 64;
/// qemu reads at most this much descriptor.
const MAX_DESCRIPTOR: u64 = (1 << 20) - 1;
/// How much of a file without a binary header is read as its descriptor.
const TEXT_DESCRIPTOR: usize = 64 * 1024;
const GD_AT_END: u64 = u64::MAX;
/// Footer marker, footer, end-of-stream marker.
const FOOTER: usize = 3 * 512;
const MARKER_EOS: u32 = 0;
const MARKER_FOOTER: u32 = 3;
const SINGLE_FILE_KINDS: [&str; 2] = ["monolithicsparse", "streamoptimized"];
const EXTENT_ACCESS: [&str; 3] = ["rw", "rdonly", "noaccess"];
/// A createType value longer than this is not a name.
const MAX_KIND: usize = 64;

#[derive(Debug, PartialEq, Eq)]
struct SparseHeader {
    magic: [u8; 4],
    version: u32,
    capacity: u64,
    descriptor_sector: u64,
    descriptor_sectors: u64,
    gd_offset: u64,
}

impl SparseHeader {
    fn parse(d: &[u8]) -> Option<Self> {
        Some(Self {
            magic: d.get(..4)?.try_into().ok()?,
            version: le_u32(d, 4)?,
            capacity: le_u64(d, 12)?,
            descriptor_sector: le_u64(d, 28)?,
            descriptor_sectors: le_u64(d, 36)?,
            gd_offset: le_u64(d, 56)?,
        })
    }
}

#[derive(Debug)]
pub(crate) struct Vmdk {
    /// `None` once the file turned out to be a bare text descriptor.
    header: Option<Region>,
    header_read: bool,
    /// The embedded descriptor, or the start of a text-only file.
    descriptor: Region,
    descriptor_read: bool,
    footer: Option<Tail>,
    /// The descriptor, lower-cased; `None` when it is not ASCII.
    text: Option<String>,
    /// The `createType`, lower-cased; "formatnotfound" when there is none.
    kind: Option<String>,
}

impl Vmdk {
    pub fn new() -> Self {
        Self {
            header: Some(Region::at_least(0, 512, MIN_HEADER)),
            header_read: false,
            descriptor: Region::at_least(0, TEXT_DESCRIPTOR, 4),
            descriptor_read: false,
            footer: None,
            text: None,
            kind: None,
        }
    }

    fn process(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        if !self.header_read
            && let Some(h) = &self.header
            && h.complete()
        {
            self.header_read = true;
            self.read_header(pos, chunk)?;
        }
        if !self.descriptor_read && self.descriptor.complete() {
            self.descriptor_read = true;
            self.read_descriptor();
        }
        Ok(())
    }

    fn read_header(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        let data = self.header.as_ref().map(Region::data).unwrap_or_default();
        let h = SparseHeader::parse(data)
            .ok_or_else(|| FormatError::new("VMDK header is truncated"))?;
        if h.magic != MAGIC {
            if is_text(data) {
                // Perhaps a descriptor file on its own: qemu would follow it.
                self.header = None;
                return Ok(());
            }
            return Err(FormatError::new("Signature KDMV not found"));
        }
        if !(1..=3).contains(&h.version) {
            return Err(FormatError::new(format!(
                "Unsupported format version {}",
                h.version
            )));
        }
        if h.gd_offset == GD_AT_END && self.footer.is_none() {
            // streamOptimized: the footer at the end takes precedence.
            let mut footer = Tail::new(FOOTER);
            footer.capture(chunk);
            self.footer = Some(footer);
        }
        if h.descriptor_sector != 1 {
            return Err(FormatError::new("Wrong descriptor location"));
        }
        let len = h.descriptor_sectors.saturating_mul(512).min(MAX_DESCRIPTOR);
        let mut descriptor = Region::new(512, len as usize);
        descriptor.capture(pos, chunk);
        self.descriptor = descriptor;
        Ok(())
    }

    fn read_descriptor(&mut self) {
        let mut data = self.descriptor.data();
        if let Some(nul) = data.iter().position(|&b| b == 0) {
            data = &data[..nul];
        }
        if !data.is_ascii() {
            tracing::debug!("VMDK descriptor is not ASCII");
            return;
        }
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        let key = "createtype=\"";
        let kind = match text.find(key) {
            None => "formatnotfound".to_owned(),
            Some(at) => {
                let start = at + key.len();
                match text[start..].find('"') {
                    Some(len) if len < MAX_KIND => text[start..start + len].to_owned(),
                    Some(_) => "formatnotfound".to_owned(),
                    // Unterminated: what remains, less its last character.
                    None => text
                        .get(start..text.len().saturating_sub(1))
                        .unwrap_or_default()
                        .to_owned(),
                }
            }
        };
        self.text = Some(text);
        self.kind = Some(kind);
    }

    fn single_file(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| SINGLE_FILE_KINDS.contains(&k))
    }

    fn check_descriptor(&self) -> Result<(), SafetyFailure> {
        let failed = |reason: &str| SafetyFailure::new("descriptor", reason);
        let Some(text) = self.text.as_deref().filter(|t| !t.is_empty()) else {
            return Err(failed("No descriptor found"));
        };
        if !self.single_file() {
            tracing::warn!(kind = ?self.kind, "unsupported VMDK subformat");
            return Err(failed("Unsupported subformat"));
        }
        let mut extents = Vec::new();
        // Every line must be understood; anything else is refused.
        for line in text.split('\n').map(py_strip) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("ddb") {
                continue;
            }
            if line
                .split_once('=')
                .is_some_and(|(key, _)| !key.contains(' '))
            {
                continue;
            }
            if EXTENT_ACCESS.contains(&line.split(' ').next().unwrap_or_default()) {
                extents.push(line);
                continue;
            }
            tracing::warn!(line, "unsupported line in VMDK descriptor");
            return Err(failed("Invalid VMDK descriptor data"));
        }
        if extents.iter().any(|e| e.contains('/')) {
            return Err(failed("Invalid extent filenames found"));
        }
        if extents.is_empty() {
            return Err(failed("No extents found"));
        }
        Ok(())
    }

    fn check_footer(&self, footer: &Tail) -> Result<(), SafetyFailure> {
        let failed = |reason: &str| SafetyFailure::new("footer", reason);
        let h = self
            .header
            .as_ref()
            .and_then(|h| SparseHeader::parse(h.data()))
            .ok_or_else(|| failed(UNEXPECTED))?;
        let d = footer.data();
        if d.len() < FOOTER {
            return Err(failed(UNEXPECTED));
        }
        let f = SparseHeader::parse(d.get(512..).unwrap_or_default())
            .ok_or_else(|| failed(UNEXPECTED))?;
        if h.magic != f.magic {
            return Err(failed("Header and footer signature do not match"));
        }
        if h.version != f.version {
            return Err(failed("Header and footer versions do not match"));
        }
        if (h.descriptor_sector, h.descriptor_sectors)
            != (f.descriptor_sector, f.descriptor_sectors)
        {
            return Err(failed(
                "Footer specifies a different descriptor than header",
            ));
        }
        if f.gd_offset == GD_AT_END {
            return Err(failed("Footer indicates another footer"));
        }
        let marker = |m: &[u8]| {
            (
                le_u64(m, 0).unwrap_or(u64::MAX),
                le_u32(m, 8).unwrap_or(u32::MAX),
                le_u32(m, 12).unwrap_or(u32::MAX),
                m.get(16..512).is_some_and(|z| z.iter().all(|&b| b == 0)),
            )
        };
        let (_, size, kind, zero) = marker(&d[..512]);
        if size != 0 || kind != MARKER_FOOTER || !zero {
            return Err(failed("Footer marker is invalid"));
        }
        let (value, size, kind, zero) = marker(&d[1024..]);
        if value != 0 || size != 0 || kind != MARKER_EOS || !zero {
            return Err(failed("End-of-stream marker is invalid"));
        }
        Ok(())
    }
}

/// Printable ASCII and white space only, as a text descriptor is.
/// The reason a check gives when the data is not what it should be at all.
const UNEXPECTED: &str = "Unexpected error";

fn is_text(data: &[u8]) -> bool {
    data.iter()
        .all(|&b| (0x20..0x7f).contains(&b) || is_py_space(b))
}

/// White space as Python's `str.isspace` sees ASCII (the separators 0x1c-0x1f too).
fn is_py_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ')
}

fn py_strip(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_ascii() && is_py_space(c as u8))
}

impl Format for Vmdk {
    fn name(&self) -> &'static str {
        "vmdk"
    }

    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError> {
        if let Some(h) = self.header.as_mut() {
            h.capture(pos, chunk);
        }
        self.descriptor.capture(pos, chunk);
        if let Some(f) = self.footer.as_mut() {
            f.capture(chunk);
        }
        self.process(pos, chunk)
    }

    fn wants(&self) -> bool {
        self.footer.is_some()
            || self.header.as_ref().is_some_and(Region::wants)
            || self.descriptor.wants()
    }

    fn end(&mut self) {
        if let Some(h) = self.header.as_mut() {
            h.end();
        }
        self.descriptor.end();
        if let Some(f) = self.footer.as_mut() {
            f.end();
        }
    }

    fn settle(&mut self) -> Result<(), FormatError> {
        self.process(u64::MAX, &[])
    }

    fn complete(&self) -> bool {
        self.header.as_ref().is_none_or(Region::complete)
            && self.descriptor.complete()
            && self.footer.as_ref().is_none_or(Tail::complete)
    }

    fn matches(&self) -> bool {
        match &self.header {
            Some(h) => h.data().starts_with(MAGIC),
            None => self.kind.as_deref().is_some_and(|k| k != "formatnotfound"),
        }
    }

    fn virtual_size(&self, _: u64) -> Result<u64, FormatError> {
        if self.text.as_deref().is_none_or(str::is_empty) || !self.single_file() {
            return Ok(0);
        }
        let h = self
            .header
            .as_ref()
            .and_then(|h| SparseHeader::parse(h.data()))
            .ok_or_else(|| {
                FormatError::new("a VMDK descriptor claims a sparse kind but has no header")
            })?;
        h.capacity
            .checked_mul(512)
            .ok_or_else(|| FormatError::new("VMDK capacity overflows"))
    }

    fn safety_check(&self) -> Vec<SafetyFailure> {
        let mut failures = Vec::new();
        if let Err(failure) = self.check_descriptor() {
            failures.push(failure);
        }
        if let Some(footer) = &self.footer
            && let Err(failure) = self.check_footer(footer)
        {
            failures.push(failure);
        }
        failures
    }

    fn held(&self) -> usize {
        self.header.as_ref().map_or(0, |h| h.data().len())
            + self.descriptor.data().len()
            + self.footer.as_ref().map_or(0, |f| f.data().len())
    }
}
