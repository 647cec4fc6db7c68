//! Image locations (API 2.17): add a location to a `queued` image, list an
//! image's locations.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{JsonBody, JsonDoc};
use super::error::{ApiError, BadValidationData, RequestError};
use super::{ApiTags, context};
use crate::app::App;
use crate::service::locations::{self, ValidationData};

pub struct LocationsApi;

/// The hash algorithms `validation_data` may name, with their digest sizes.
const ALGORITHMS: [(&str, usize); 4] = [("sha1", 20), ("sha256", 32), ("sha512", 64), ("md5", 16)];

/// Parses and checks the request's `validation_data` object (absent or
/// empty: `None`).
fn validation_data(value: Option<&Value>) -> Result<Option<ValidationData>, BadValidationData> {
    let Some(value) = value else {
        return Ok(None);
    };
    let object = value.as_object().ok_or(BadValidationData::NotAnObject)?;
    if let Some(extra) = object
        .keys()
        .find(|k| *k != "os_hash_algo" && *k != "os_hash_value")
    {
        return Err(BadValidationData::Unexpected(extra.clone()));
    }
    let field = |name: &str| match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(BadValidationData::NotAString(other.to_string())),
    };
    let (algo, value) = match (field("os_hash_algo")?, field("os_hash_value")?) {
        (None, None) => return Ok(None),
        (Some(algo), Some(value)) => (algo, value),
        (Some(_), None) => {
            return Err(BadValidationData::Dependency {
                needed: "os_hash_value",
                given: "os_hash_algo",
            });
        }
        (None, Some(_)) => {
            return Err(BadValidationData::Dependency {
                needed: "os_hash_algo",
                given: "os_hash_value",
            });
        }
    };
    let Some((_, size)) = ALGORITHMS.iter().find(|(name, _)| *name == algo) else {
        return Err(BadValidationData::UnknownAlgorithm(algo));
    };
    let Ok(bytes) = hex::decode(&value) else {
        return Err(BadValidationData::NotHex(value));
    };
    if bytes.len() != *size {
        return Err(BadValidationData::WrongSize {
            value,
            algo,
            size: *size,
        });
    }
    Ok(Some(ValidationData {
        os_hash_algo: algo,
        os_hash_value: value.to_ascii_lowercase(),
    }))
}

/// A new location.
#[derive(Debug, Object)]
#[oai(rename = "LocationCreate")]
pub struct LocationCreateDoc {
    /// Where the data is, e.g. an `http(s)://` URL served by a configured http store.
    pub url: String,
    /// The expected hash of the data; both fields or neither.
    pub validation_data: Option<ValidationDataDoc>,
}

/// The expected hash of a location's data.
#[derive(Debug, Object)]
#[oai(rename = "LocationValidationData")]
pub struct ValidationDataDoc {
    /// sha1, sha256, sha512 or md5.
    pub os_hash_algo: String,
    /// Hex digest of the data in `os_hash_algo`.
    pub os_hash_value: String,
}

/// One location of an image.
#[derive(Debug, Object)]
#[oai(rename = "Location")]
pub struct LocationDoc {
    pub url: String,
    /// `store` names the store holding this copy.
    pub metadata: serde_json::Value,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// The location is being added: the image goes `active` (or `importing`
    /// while `validation_data` is checked), and its hash is computed in the background.
    #[oai(status = 202)]
    Accepted,
}

#[OpenApi(tag = "ApiTags::Images")]
impl LocationsApi {
    /// Add a location to a `queued` image (policy `add_image_location`).
    #[oai(
        path = "/v2/images/:image_id/locations",
        method = "post",
        operation_id = "addImageLocation"
    )]
    async fn add(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: JsonBody<LocationCreateDoc>,
    ) -> Result<Accepted, ApiError> {
        let id = super::image_id(&image_id)?;
        let Some(object) = body.value.as_object() else {
            return Err(RequestError::LocationBodyNotObject.into());
        };
        let url = match object.get("url") {
            Some(Value::String(url)) => url.as_str(),
            Some(other) => {
                return Err(RequestError::LocationUrlNotString(other.to_string()).into());
            }
            None => return Err(RequestError::LocationUrlMissing.into()),
        };
        let validation = validation_data(object.get("validation_data"))?;
        locations::add_location(app.0, context(req), id, url, validation).await?;
        Ok(Accepted::Accepted)
    }

    /// An image's locations, `[{url, metadata}]` (policy
    /// `fetch_image_location`: the `service` role).
    #[oai(
        path = "/v2/images/:image_id/locations",
        method = "get",
        operation_id = "listImageLocations"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<JsonDoc<Vec<LocationDoc>>, ApiError> {
        let id = super::image_id(&image_id)?;
        let found = locations::list(app.0, context(req), id).await?;
        let shown: Vec<Value> = found
            .iter()
            .map(|l| json!({"url": l.url, "metadata": l.metadata}))
            .collect();
        Ok(JsonDoc::new(Value::Array(shown)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn validation_data_is_checked_like_glance() {
        assert_eq!(validation_data(None).unwrap(), None);
        assert_eq!(validation_data(Some(&json!({}))).unwrap(), None);
        let sha256 = "AB".repeat(32);
        let ok = validation_data(Some(
            &json!({"os_hash_algo": "sha256", "os_hash_value": sha256}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(ok.os_hash_algo, "sha256");
        assert_eq!(ok.os_hash_value, "ab".repeat(32));
        for (bad, message) in [
            (
                json!({"os_hash_value": sha256}),
                "'os_hash_algo' is a dependency of 'os_hash_value'".to_owned(),
            ),
            (
                json!({"os_hash_algo": "sha256"}),
                "'os_hash_value' is a dependency of 'os_hash_algo'".to_owned(),
            ),
            (
                json!({"os_hash_algo": "sha123", "os_hash_value": sha256}),
                "'sha123' is not one of ['sha1', 'sha256', 'sha512', 'md5']".to_owned(),
            ),
            (
                json!({"os_hash_algo": "sha512", "os_hash_value": sha256}),
                format!(
                    "os_hash_value: ({sha256}) is not the correct size for (sha512) (should be (64) bytes)"
                ),
            ),
            (
                json!({"os_hash_algo": "sha256", "os_hash_value": "zz"}),
                "os_hash_value (zz) is not a valid hexadecimal value".to_owned(),
            ),
            (
                json!({"os_hash_algo": "sha256", "os_hash_value": 7}),
                "7 is not of type 'string'".to_owned(),
            ),
            (
                json!({"os_hash_algo": "sha256", "os_hash_value": sha256, "checksum": "x"}),
                "Additional properties are not allowed ('checksum' was unexpected)".to_owned(),
            ),
            (
                json!("sha256"),
                "validation_data must be an object.".to_owned(),
            ),
        ] {
            assert_eq!(
                validation_data(Some(&bad)).unwrap_err().to_string(),
                message,
                "{bad}"
            );
        }
    }
}
