//! Disk-image format inspection while the upload's bytes pass.
//!
//! Every known format has a streaming inspector that keeps only the header
//! windows its format needs (at most about 1 MiB, for a VMDK descriptor), so an
//! image is never buffered. When the stream ends, [`ImageCheck::finish`] decides
//! as Glance does whether the content may be stored under the image's
//! `disk_format`, runs the format's safety checks (a qcow2 with a backing or
//! external data file, a VMDK whose extents name other files, a malformed
//! MBR/GPT, ...) and yields the image's `virtual_size`.
//!
//! The same feed serves every way data reaches a store: the upload body, and
//! staged data imported later.

mod check;
mod gpt;
mod iso;
mod luks;
mod qcow2;
mod qed;
mod region;
mod vdi;
mod vhd;
mod vhdx;
mod vmdk;

#[cfg(test)]
mod tests;

pub use check::{FormatPolicy, Refusal};

use crate::config::ImageFormatConfig;

/// Why an inspector gave up on the stream: the content is not (a usable) instance
/// of its format. Such an inspector stops reading; the others go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

impl FormatError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// One failed safety check: its name (as Glance's configuration names it) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyFailure {
    pub check: &'static str,
    pub reason: String,
}

impl SafetyFailure {
    pub(crate) fn new(check: &'static str, reason: impl Into<String>) -> Self {
        Self {
            check,
            reason: reason.into(),
        }
    }
}

/// A streaming inspector for one format.
pub(crate) trait Format: Send + std::fmt::Debug {
    /// The format's name, as `disk_format` and `qemu-img` spell it.
    fn name(&self) -> &'static str;
    /// Look at `chunk`, which starts at stream position `pos`.
    fn feed(&mut self, pos: u64, chunk: &[u8]) -> Result<(), FormatError>;
    /// Whether further bytes could still change what this inspector knows.
    fn wants(&self) -> bool;
    /// The stream has ended: windows waiting for more data get no more.
    fn end(&mut self);
    /// After `end`: interpret what short windows hold.
    fn settle(&mut self) -> Result<(), FormatError> {
        Ok(())
    }
    /// Every window this format needs has been captured.
    fn complete(&self) -> bool;
    /// The content looks like this format.
    fn matches(&self) -> bool;
    /// The disk's size as a guest sees it; 0 when unknown. `size` is the
    /// length of the whole stream.
    fn virtual_size(&self, size: u64) -> Result<u64, FormatError> {
        Ok(size)
    }
    /// Run every safety check; an empty list means the image is safe.
    fn safety_check(&self) -> Vec<SafetyFailure>;
    /// Bytes of the stream this inspector holds.
    fn held(&self) -> usize;
}

/// Content no other format claims: nothing to capture, nothing to check.
#[derive(Debug, Default)]
struct Raw;

impl Format for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }
    fn feed(&mut self, _: u64, _: &[u8]) -> Result<(), FormatError> {
        Ok(())
    }
    fn wants(&self) -> bool {
        false
    }
    fn end(&mut self) {}
    fn complete(&self) -> bool {
        true
    }
    fn matches(&self) -> bool {
        true
    }
    fn safety_check(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }
    fn held(&self) -> usize {
        0
    }
}

/// The formats inspected, in the order they are reported.
pub const ALL_FORMATS: &[&str] = &[
    "raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks",
];

fn inspector(name: &str) -> Option<Box<dyn Format>> {
    Some(match name {
        "raw" => Box::new(Raw),
        "qcow2" => Box::new(qcow2::Qcow2::new()),
        "vhd" => Box::new(vhd::Vhd::new()),
        "vhdx" => Box::new(vhdx::Vhdx::new()),
        "vmdk" => Box::new(vmdk::Vmdk::new()),
        "vdi" => Box::new(vdi::Vdi::new()),
        "qed" => Box::new(qed::Qed::new()),
        "iso" => Box::new(iso::Iso::new()),
        "gpt" => Box::new(gpt::Gpt::new()),
        "luks" => Box::new(luks::Luks::new()),
        _ => return None,
    })
}

#[derive(Debug)]
struct Slot {
    format: Box<dyn Format>,
    /// Set when the inspector gave up; it then sees no more data.
    failed: Option<FormatError>,
}

/// All inspectors side by side over one stream.
#[derive(Debug)]
pub struct Inspection {
    slots: Vec<Slot>,
    size: u64,
    ended: bool,
}

impl Default for Inspection {
    fn default() -> Self {
        Self::new()
    }
}

impl Inspection {
    pub fn new() -> Self {
        Self {
            slots: ALL_FORMATS
                .iter()
                .filter_map(|n| inspector(n))
                .map(|format| Slot {
                    format,
                    failed: None,
                })
                .collect(),
            size: 0,
            ended: false,
        }
    }

    /// Present the next bytes of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        debug_assert!(!self.ended, "fed after the end");
        let pos = self.size;
        self.size += chunk.len() as u64;
        for slot in &mut self.slots {
            if slot.failed.is_none()
                && slot.format.wants()
                && let Err(e) = slot.format.feed(pos, chunk)
            {
                tracing::trace!(format = slot.format.name(), reason = %e, "not this format");
                slot.failed = Some(e);
            }
        }
    }

    /// The stream has ended: settle every inspector.
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        for slot in &mut self.slots {
            slot.format.end();
            if slot.failed.is_none()
                && let Err(e) = slot.format.settle()
            {
                slot.failed = Some(e);
            }
        }
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The formats the content matches, in `ALL_FORMATS` order; `raw` alone
    /// when no specific format does. Call after [`Inspection::end`].
    pub(crate) fn matches(&self) -> Vec<&dyn Format> {
        let specific: Vec<&dyn Format> = self
            .slots
            .iter()
            .map(|s| s.format.as_ref())
            .filter(|f| f.name() != "raw" && f.matches())
            .collect();
        if specific.is_empty() {
            self.slots
                .iter()
                .map(|s| s.format.as_ref())
                .filter(|f| f.name() == "raw")
                .collect()
        } else {
            specific
        }
    }

    /// Bytes of the stream all inspectors hold together.
    pub fn held_bytes(&self) -> usize {
        self.slots.iter().map(|s| s.format.held()).sum()
    }

    /// The names of [`Inspection::matches`].
    pub fn detected(&self) -> Vec<&'static str> {
        self.matches().iter().map(|f| f.name()).collect()
    }
}

/// Format inspection of one image's data, with the decision Glance makes at
/// the end of the stream.
#[derive(Debug)]
pub struct ImageCheck {
    inspection: Inspection,
    disk_format: String,
    policy: FormatPolicy,
}

impl ImageCheck {
    /// The check for data of an image with these formats; `None` when its
    /// container is not `bare` (the data is then not a disk image, and Glance
    /// does not inspect it either).
    pub fn for_image(
        container_format: Option<&str>,
        disk_format: Option<&str>,
        config: &ImageFormatConfig,
    ) -> Option<Self> {
        if container_format != Some("bare") {
            return None;
        }
        Some(Self {
            inspection: Inspection::new(),
            disk_format: disk_format?.to_owned(),
            policy: FormatPolicy::from_config(config),
        })
    }

    /// Present the next bytes of the image.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.inspection.feed(chunk);
    }

    /// Every byte has passed: the image's `virtual_size` (`None` when it
    /// cannot be known), or why the data must not become this image.
    pub fn finish(mut self) -> Result<Option<u64>, Refusal> {
        self.inspection.end();
        check::verdict(&self.inspection, &self.disk_format, &self.policy)
    }

    /// As [`ImageCheck::finish`], with a match required whatever the
    /// configuration says, and with the formats the content matches (see
    /// [`Inspection::detected`]): the checks before a conversion.
    pub fn finish_strict(mut self) -> (Vec<&'static str>, Result<Option<u64>, Refusal>) {
        self.inspection.end();
        self.policy.require_match = true;
        let detected = self.inspection.detected();
        let verdict = check::verdict(&self.inspection, &self.disk_format, &self.policy);
        (detected, verdict)
    }
}
