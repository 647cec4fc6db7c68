//! The settings of import plugins, of how imports write and downloads read
//! copies, and of task expiry, with Glance's section and option names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An import plugin, by Glance's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportPluginName {
    /// Convert the staged data with `qemu-img` (`[image_conversion]`).
    ImageConversion,
    /// Decompress zip, gzip and lha/lzh data (`[image_decompression]`).
    ImageDecompression,
    /// Add properties to the image (`[inject_metadata_properties]`).
    InjectImageMetadata,
}

impl ImportPluginName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImageConversion => "image_conversion",
            Self::ImageDecompression => "image_decompression",
            Self::InjectImageMetadata => "inject_image_metadata",
        }
    }
}

/// Glance's `[image_import_opts]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageImportOptsConfig {
    /// The plugins run, in this order, on glance-direct, web-download and
    /// glance-download imports, once the data is staged and before it is
    /// stored (never on copy-image).
    pub image_import_plugins: Vec<ImportPluginName>,
}

/// What `image_conversion` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Raw,
    Qcow2,
    Vmdk,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Qcow2 => "qcow2",
            Self::Vmdk => "vmdk",
        }
    }
}

/// Glance's `[image_conversion]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConversionConfig {
    /// The disk format imported images are converted to.
    pub output_format: OutputFormat,
}

/// The bound of the `image_decompression` plugin (Glance has none).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDecompressionConfig {
    /// Most bytes one decompressed image may have; `[api] image_size_cap`
    /// bounds it too. Larger output fails the import (a decompression bomb).
    pub max_output_bytes: u64,
}

/// Glance's `[inject_metadata_properties]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectMetadataConfig {
    /// Callers with one of these roles get no injected properties.
    pub ignore_user_roles: Vec<String>,
    /// The properties injected into imported images.
    #[serde(default)]
    pub inject: BTreeMap<String, String>,
}

/// Which copy of an image a download reads first (Glance's `location_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationStrategy {
    /// In the order of the image's locations (after store weights).
    LocationOrder,
    /// By store type, in `[store_type_location_strategy] store_type_preference` order.
    StoreType,
}

/// Glance's `[store_type_location_strategy]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTypeLocationStrategyConfig {
    /// Store types (drivers: `rbd`, `file` or Glance's `filesystem`, `swift`,
    /// `http`, `vmware`, ...) in the order downloads read them; copies in
    /// stores of other types come last.
    pub store_type_preference: Vec<String>,
}

/// Glance's `[task]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// Hours a finished task is kept; the reaper then removes it.
    pub task_time_to_live: u64,
}
