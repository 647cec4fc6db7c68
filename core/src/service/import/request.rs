//! An import as the API layer hands it over: the method and its source,
//! the target stores, and the body as sent (kept in the task's input).

use serde_json::Value;
use uuid::Uuid;

use crate::service::{ServiceError, ServiceResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    GlanceDirect,
    WebDownload { uri: String },
    CopyImage,
    GlanceDownload(RemoteImage),
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GlanceDirect => "glance-direct",
            Self::WebDownload { .. } => "web-download",
            Self::CopyImage => "copy-image",
            Self::GlanceDownload(_) => "glance-download",
        }
    }
}

/// The image a glance-download import reads, as the body names it; checked
/// by `start` (Glance checks it after the image's status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteImage {
    pub image_id: Option<String>,
    pub region: Option<String>,
    /// `public` unless the body says otherwise.
    pub interface: String,
}

impl RemoteImage {
    /// The remote image's id and region, both required.
    pub fn check(&self) -> ServiceResult<(Uuid, &str)> {
        let region = self
            .region
            .as_deref()
            .ok_or(ServiceError::GlanceDownloadNeeds("glance_region"))?;
        let image_id = self
            .image_id
            .as_deref()
            .ok_or(ServiceError::GlanceDownloadNeeds("glance_image_id"))?;
        let id = Uuid::parse_str(image_id)
            .map_err(|_| ServiceError::RemoteImageId(image_id.to_owned()))?;
        Ok((id, region))
    }
}

/// A `POST /import` body, parsed by the API layer.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub method: Method,
    pub stores: Option<Vec<String>>,
    pub all_stores: bool,
    pub all_stores_must_succeed: bool,
    /// `X-Image-Meta-Store`.
    pub header_store: Option<String>,
    /// The stage host another node forwarded this import to
    /// ([`crate::remote::stage_host::FORWARDED_HEADER`]); `None` from a client.
    pub forwarded_to: Option<String>,
    /// The body as sent, kept in the task's input.
    pub body: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_image_needs_a_region_and_a_uuid() {
        let remote = |id: Option<&str>, region: Option<&str>| RemoteImage {
            image_id: id.map(str::to_owned),
            region: region.map(str::to_owned),
            interface: "public".into(),
        };
        let id = Uuid::new_v4().to_string();
        assert!(matches!(
            remote(Some(&id), None).check(),
            Err(ServiceError::GlanceDownloadNeeds("glance_region"))
        ));
        assert!(matches!(
            remote(None, Some("r2")).check(),
            Err(ServiceError::GlanceDownloadNeeds("glance_image_id"))
        ));
        let err = remote(Some("nope"), Some("r2")).check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "Remote image id does not look like a UUID: nope"
        );
        let remote = remote(Some(&id), Some("r2"));
        assert_eq!(
            remote.check().unwrap(),
            (Uuid::parse_str(&id).unwrap(), "r2")
        );
    }
}
