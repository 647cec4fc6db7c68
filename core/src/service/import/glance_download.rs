//! glance-download step 1: import an image of another region's image
//! service. The endpoint comes from the caller's Keystone catalog; the remote
//! image's metadata and data are read with the caller's token; its formats
//! and the `[glance_download] extra_properties` are copied onto the image.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::request::RemoteImage;
use super::source::{fetch_to_staging, pin};
use crate::app::App;
use crate::auth::UserToken;
use crate::domain::Image;
use crate::domain::rules::{KeyClass, classify};
use crate::fetch::{self, FetchError};
use crate::service::images::modify;
use crate::service::{ServiceError, ServiceResult};

/// The image's formats and properties before glance-download copied the
/// remote image's over them, put back if the import fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Restore {
    disk_format: Option<String>,
    container_format: Option<String>,
    /// Each copied property with its earlier value, if it had one.
    properties: Vec<(String, Option<String>)>,
}

impl Restore {
    /// Puts the remembered values back on `img`.
    pub fn apply(&self, img: &mut Image) {
        img.disk_format = self.disk_format.clone();
        img.container_format = self.container_format.clone();
        for (key, before) in &self.properties {
            match before {
                Some(value) => img.properties.insert(key.clone(), value.clone()),
                None => img.properties.remove(key),
            };
        }
    }
}

/// Why a remote image cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Unimportable {
    #[error("Source image status should be active instead of {0}")]
    NotActive(String),
    #[error("the size of remote image {0} could not be determined")]
    NoSize(Uuid),
}

/// What the import takes from the remote image's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RemoteMetadata {
    size: u64,
    disk_format: Option<String>,
    container_format: Option<String>,
    /// The extra properties to copy, as strings.
    copied: Vec<(String, String)>,
}

impl RemoteMetadata {
    /// Reads the remote image's record; only an active image with a size
    /// can be imported. `prefixes` selects the extra properties to copy.
    fn read(
        data: &Map<String, Value>,
        remote_id: Uuid,
        prefixes: &[String],
    ) -> Result<Self, Unimportable> {
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        let status = text("status").unwrap_or_default();
        if status != "active" {
            return Err(Unimportable::NotActive(status));
        }
        let size = data
            .get("size")
            .and_then(Value::as_u64)
            .ok_or(Unimportable::NoSize(remote_id))?;
        let copied = data
            .iter()
            .filter(|(key, _)| {
                classify(key) == KeyClass::Extra
                    && prefixes.iter().any(|p| key.starts_with(p.as_str()))
            })
            .map(|(key, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key.clone(), value)
            })
            .collect();
        Ok(Self {
            size,
            disk_format: text("disk_format"),
            container_format: text("container_format"),
            copied,
        })
    }
}

/// Find the remote image service in the caller's catalog, read the remote
/// image's metadata, fetch its data into staging, then copy its formats and
/// extra properties onto image `id`. Returns what to put back on failure.
pub(super) async fn fetch(
    app: &App,
    id: Uuid,
    remote: &RemoteImage,
    token: Option<&UserToken>,
) -> ServiceResult<Restore> {
    let failed = ServiceError::GlanceDownloadFailed;
    let (remote_id, region) = remote.check()?;
    let token = token.ok_or_else(|| failed("the request carried no Keystone token".into()))?;
    let catalog = app
        .auth
        .catalog(token)
        .await
        .map_err(|e| failed(format!("could not read the service catalog: {e}")))?;
    let endpoint = catalog
        .iter()
        .find(|e| {
            e.service_type == "image"
                && e.region.as_deref() == Some(region)
                && e.interface == remote.interface
        })
        .map(|e| e.url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            failed(format!(
                "no {} image service endpoint for region '{region}' in the catalog",
                remote.interface
            ))
        })?;
    let metadata_uri = format!("{endpoint}/v2/images/{remote_id}");
    let data_uri = format!("{metadata_uri}/file");
    let pinned = pin(app, &data_uri, "glance-download").await.map_err(|_| {
        failed(format!(
            "processed URI for glance-download does not pass filtering: {}",
            fetch::redact(&data_uri)
        ))
    })?;

    let data = pinned
        .json(&metadata_uri, Some(token.expose()))
        .await
        .map_err(|e| {
            failed(match e {
                FetchError::Status(status) => {
                    format!("the remote image service answered {status} for image {remote_id}")
                }
                FetchError::Body(why) => format!("unreadable remote image metadata: {why}"),
                FetchError::Request(why) => why,
            })
        })?;
    let meta = RemoteMetadata::read(
        &data,
        remote_id,
        &app.config.glance_download.extra_properties,
    )
    .map_err(|e| failed(e.to_string()))?;

    let written = fetch_to_staging(app, id, &data_uri, &pinned, Some(token)).await?;
    if written != meta.size {
        return Err(failed(format!(
            "downloaded data size {written} is different from expected {}",
            meta.size
        )));
    }

    let mut restore = None;
    modify(app, id, |img| {
        restore = Some(Restore {
            disk_format: img.disk_format.clone(),
            container_format: img.container_format.clone(),
            properties: meta
                .copied
                .iter()
                .map(|(k, _)| (k.clone(), img.properties.get(k).cloned()))
                .collect(),
        });
        if meta.disk_format.is_some() {
            img.disk_format = meta.disk_format.clone();
        }
        if meta.container_format.is_some() {
            img.container_format = meta.container_format.clone();
        }
        for (key, value) in &meta.copied {
            img.properties.insert(key.clone(), value.clone());
        }
        Ok(())
    })
    .await?;
    // `modify` ran the change before it could succeed.
    restore.ok_or_else(|| failed("the image could not be updated".into()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn only_an_active_remote_image_with_a_size_is_read() {
        let id = Uuid::nil();
        let err = RemoteMetadata::read(&object(json!({"status": "queued"})), id, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Source image status should be active instead of queued"
        );
        let err = RemoteMetadata::read(&object(json!({"status": "active"})), id, &[]).unwrap_err();
        assert_eq!(err, Unimportable::NoSize(id));
    }

    #[test]
    fn formats_and_prefixed_extra_properties_are_taken() {
        let data = object(json!({
            "status": "active", "size": 3, "disk_format": "qcow2", "container_format": "bare",
            "hw_machine_type": "q35", "hw_rng": true, "os_distro": "debian", "name": "n",
        }));
        let meta = RemoteMetadata::read(&data, Uuid::nil(), &["hw_".to_owned()]).unwrap();
        assert_eq!(meta.size, 3);
        assert_eq!(meta.disk_format.as_deref(), Some("qcow2"));
        assert_eq!(
            meta.copied,
            [
                ("hw_machine_type".to_owned(), "q35".to_owned()),
                ("hw_rng".to_owned(), "true".to_owned())
            ]
        );
    }

    #[test]
    fn restore_puts_back_what_was_there() {
        let mut img = Image::new(Uuid::nil(), None, chrono::Utc::now());
        img.properties.insert("hw_a".into(), "old".into());
        let restore = Restore {
            disk_format: None,
            container_format: Some("bare".into()),
            properties: vec![("hw_a".into(), Some("old".into())), ("hw_b".into(), None)],
        };
        img.disk_format = Some("qcow2".into());
        img.properties.insert("hw_a".into(), "new".into());
        img.properties.insert("hw_b".into(), "new".into());
        restore.apply(&mut img);
        assert_eq!(img.disk_format, None);
        assert_eq!(img.container_format.as_deref(), Some("bare"));
        assert_eq!(img.properties.get("hw_a").map(String::as_str), Some("old"));
        assert!(!img.properties.contains_key("hw_b"));
    }
}
