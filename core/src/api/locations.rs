//! Image locations (API 2.17): add a location to a `queued` image, list an
//! image's locations.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{JsonBody, JsonDoc};
use super::error::ApiError;
use super::{ApiTags, context};
use crate::app::App;
use crate::service::locations::{self, ValidationData};

pub struct LocationsApi;

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
            return Err(ApiError::bad_request("The request body must be an object."));
        };
        let url = match object.get("url") {
            Some(Value::String(url)) => url.as_str(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "{other} is not of type 'string'"
                )));
            }
            None => return Err(ApiError::bad_request("'url' is a required property")),
        };
        let validation = ValidationData::parse(object.get("validation_data"))?;
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
