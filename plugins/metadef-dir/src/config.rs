//! The directory provider's options (`[metadefs.providers.<name>.options]`).

use std::path::PathBuf;

use glint_sdk::metadef::NamespaceVisibility;
use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

/// Longest owner Glance accepts.
const MAX_OWNER: usize = 255;

/// The owner of a namespace whose file names none, as `glint metadefs load` and Glance's
/// `load_metadefs` have it.
pub const DEFAULT_OWNER: &str = "admin";

/// Options of a directory provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    path: PathBuf,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    owner: Option<String>,
}

/// Checked options.
#[derive(Debug, Clone)]
pub struct DirConfig {
    /// Absolute path of the directory whose `*.json` files are served.
    pub path: PathBuf,
    /// Replaces every namespace's own visibility when set.
    pub visibility: Option<NamespaceVisibility>,
    /// Replaces every namespace's own owner when set.
    pub owner: Option<String>,
}

impl DirConfig {
    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let invalid = |message: String| StoreError::new(ErrorKind::ConfigInvalid, message);
        let raw: Raw = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid dir provider options: {err}")))?;
        if !raw.path.is_absolute() {
            return Err(invalid(format!(
                "option `path` must be an absolute path, got {}",
                raw.path.display()
            )));
        }
        let visibility = match raw.visibility.as_deref() {
            None => None,
            Some(name) => Some(NamespaceVisibility::parse(name).ok_or_else(|| {
                invalid(format!(
                    "option `visibility` must be \"public\" or \"private\", got {name:?}"
                ))
            })?),
        };
        if let Some(owner) = &raw.owner
            && (owner.is_empty() || owner.chars().count() > MAX_OWNER)
        {
            return Err(invalid(format!(
                "option `owner` must be 1 to {MAX_OWNER} characters"
            )));
        }
        Ok(DirConfig {
            path: raw.path,
            visibility,
            owner: raw.owner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(options: serde_json::Value) -> String {
        let err = DirConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn only_the_path_is_required() {
        let config = DirConfig::parse(json!({ "path": "/etc/glint/metadefs" })).unwrap();
        assert!(config.visibility.is_none() && config.owner.is_none());
        let config =
            DirConfig::parse(json!({ "path": "/x", "visibility": "private", "owner": "p1" }))
                .unwrap();
        assert_eq!(config.visibility, Some(NamespaceVisibility::Private));
        assert_eq!(config.owner.as_deref(), Some("p1"));
    }

    #[test]
    fn errors_name_the_option() {
        assert!(message(json!({})).contains("`path`"));
        assert!(message(json!({ "path": "relative" })).contains("`path`"));
        assert!(message(json!({ "path": "/x", "visibility": "shared" })).contains("`visibility`"));
        assert!(message(json!({ "path": "/x", "owner": "" })).contains("`owner`"));
        assert!(message(json!({ "path": "/x", "paths": [] })).contains("`paths`"));
    }
}
