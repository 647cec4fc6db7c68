//! The decision at the end of the stream: may this content be stored under the
//! image's `disk_format`, is it safe, and what is its virtual size.

use super::{ALL_FORMATS, Format, Inspection, SafetyFailure};
use crate::config::ImageFormatConfig;

/// The `[image_format]` settings the decision depends on.
#[derive(Debug, Clone, Default)]
pub struct FormatPolicy {
    /// Refuse content that is not the image's `disk_format`; when false a
    /// mismatch is only logged (safety checks still refuse).
    pub require_match: bool,
    /// Safety checks that only warn for content detected as `gpt`.
    pub gpt_nonfatal: Vec<String>,
}

impl FormatPolicy {
    pub fn from_config(config: &ImageFormatConfig) -> Self {
        Self {
            require_match: config.require_image_format_match,
            gpt_nonfatal: config.gpt_safety_checks_nonfatal.clone(),
        }
    }
}

/// Why data was refused. The `Display` text is what the client is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The content is not the declared format, is several formats at once,
    /// or is too short to be checked.
    #[error("{0}")]
    Format(String),
    /// The content is the declared format but one of its safety checks failed.
    #[error("Image failed safety checks")]
    Unsafe {
        format: &'static str,
        failures: Vec<SafetyFailure>,
    },
    /// The headers could not be interpreted.
    #[error("Image format inspection failed")]
    Failed(String),
}

pub(crate) fn verdict(
    inspection: &Inspection,
    disk_format: &str,
    policy: &FormatPolicy,
) -> Result<Option<u64>, Refusal> {
    let size = inspection.size();
    let matches = inspection.matches();
    let mut names: Vec<&str> = matches.iter().map(|f| f.name()).collect();
    names.sort_unstable();
    // A bootable ISO may legitimately carry a GPT boot loader in front.
    let inspector: &dyn Format = if names == ["gpt", "iso"] {
        tracing::debug!("content is both iso and gpt: taken as iso");
        matches
            .into_iter()
            .find(|f| f.name() == "iso")
            .expect("iso is among the matches")
    } else if matches.len() > 1 {
        // One header hidden inside another is never accepted.
        let all: Vec<&str> = matches.iter().map(|f| f.name()).collect();
        return mismatch(
            policy,
            format!("Multiple formats detected: {}", all.join(",")),
            None,
        );
    } else {
        matches[0]
    };

    let format = inspector.name();
    let virtual_size = if format == disk_format {
        match inspector.virtual_size(size) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(format, error = %e, "unable to determine the stream's format");
                if policy.require_match {
                    return Err(Refusal::Failed(e.0));
                }
                return Ok(None);
            }
        }
    } else if format == "raw" && !ALL_FORMATS.contains(&disk_format) {
        // ami, aki, ploop, ...: not inspectable, and nothing else recognised.
        tracing::info!(disk_format, "image format is not an inspectable type");
        0
    } else if disk_format == "raw" {
        // Anything may be stored as raw; its size is then its length.
        tracing::warn!(
            format,
            "image claims the raw disk_format but its content is {format}"
        );
        size
    } else {
        return mismatch(
            policy,
            format!("Image disk_format {disk_format} does not match stream data {format}"),
            None,
        );
    };
    let virtual_size = (virtual_size != 0).then_some(virtual_size);

    if !inspector.complete() {
        return mismatch(
            policy,
            "Incomplete file cannot be safety checked".into(),
            virtual_size,
        );
    }
    if !inspector.matches() {
        return mismatch(
            policy,
            format!("Unable to safety check format {format} because content does not match"),
            virtual_size,
        );
    }
    let failures = inspector.safety_check();
    if !failures.is_empty() {
        let fatal = failures
            .iter()
            .any(|f| !policy.gpt_nonfatal.iter().any(|n| n == f.check));
        for f in &failures {
            tracing::warn!(format, check = f.check, reason = %f.reason, "safety check failed");
        }
        if format != "gpt" || fatal {
            return Err(Refusal::Unsafe { format, failures });
        }
    }
    Ok(virtual_size)
}

/// Glance's `ImageFormatError`: fatal only when a match is required.
fn mismatch(
    policy: &FormatPolicy,
    message: String,
    virtual_size: Option<u64>,
) -> Result<Option<u64>, Refusal> {
    if policy.require_match {
        Err(Refusal::Format(message))
    } else {
        tracing::warn!(%message, "image format did not match; unable to calculate virtual size");
        Ok(virtual_size)
    }
}
