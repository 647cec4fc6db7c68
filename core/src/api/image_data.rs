//! Image data: upload and download.

use std::sync::Arc;

use poem::web::Data;

use futures::TryStreamExt;
use poem::Body;
use poem::IntoResponse;
use poem::Request;
use poem::http::header;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiResponse, OpenApi};

use super::body::DataBody;
use super::error::{ApiError, RequestError};
use super::images::NoContent;
use super::range::{RangeError, parse_content_range, parse_range};
use super::{ApiTags, context};
use crate::app::App;
use crate::service::{ServiceError, download, upload};

pub struct ImageDataApi;

/// An error answered to a request whose body may not have been read to its end (a refused
/// upload, or one a store failed midway): the connection closes after the answer, and says so,
/// so that the client does not send its next request on a connection the server is closing.
pub(super) fn closing(e: ApiError) -> ApiError {
    e.with_header(header::CONNECTION, "close")
}

#[derive(ApiResponse)]
pub enum DownloadResponse {
    /// The whole image.
    #[oai(status = 200)]
    Full(
        Binary<Body>,
        #[oai(header = "Content-Length")] u64,
        /// md5 of the image, hex (not base64).
        #[oai(header = "Content-MD5")]
        Option<String>,
    ),
    /// The requested byte range.
    #[oai(status = 206)]
    Partial(
        Binary<Body>,
        #[oai(header = "Content-Length")] u64,
        #[oai(header = "Content-MD5")] Option<String>,
        /// `bytes first-last/size`
        #[oai(header = "Content-Range")]
        String,
    ),
    /// The image has no data: an empty body (with webob's default content type, as Glance's).
    #[oai(status = 204)]
    NoData(NoBody),
}

/// The empty body of a 204. Declared (as webob's default `text/html`, which the answer
/// carries) so that the three success answers of a download all have a body, as clients
/// generated from the spec read them.
pub struct NoBody;

impl Payload for NoBody {
    const CONTENT_TYPE: &'static str = "text/html";

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new_with_format("string", "binary");
        schema.max_length = Some(0);
        MetaSchemaRef::Inline(Box::new(schema))
    }
}

impl IntoResponse for NoBody {
    fn into_response(self) -> poem::Response {
        // The content type is set for every 204 on the way out.
        poem::Response::builder().body(Vec::<u8>::new())
    }
}

#[OpenApi(tag = "ApiTags::ImageData")]
impl ImageDataApi {
    /// Upload image data (`application/octet-stream`, chunked transfer accepted).
    ///
    /// md5 `checksum` and sha512 `os_hash_value` are computed while the bytes
    /// stream to the store; the image becomes `active` once the data is durable.
    #[oai(
        path = "/v2/images/:image_id/file",
        method = "put",
        operation_id = "uploadImageData"
    )]
    async fn upload(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: DataBody,
        /// Expected size in bytes; a mismatch is refused.
        #[oai(name = "x-openstack-image-size")]
        image_size: poem_openapi::param::Header<Option<String>>,
        /// Target store; the default store when absent.
        #[oai(name = "X-Image-Meta-Store")]
        store: poem_openapi::param::Header<Option<String>>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id).map_err(closing)?;
        let expected_size = match image_size.0 {
            Some(s) => Some(
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| closing(RequestError::BadImageSize(s.clone()).into()))?,
            ),
            None => body.content_length,
        };
        let request = upload::UploadRequest {
            image_id: id,
            store: store.0,
            expected_size,
            body: body.stream,
        };
        upload::upload(app.0, context(req), request)
            .await
            .map_err(|e| closing(e.into()))?;
        Ok(NoContent::NoContent)
    }

    /// Download image data; `Range: bytes=...` gives a partial answer.
    #[oai(
        path = "/v2/images/:image_id/file",
        method = "get",
        operation_id = "downloadImageData"
    )]
    async fn download(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        /// Stores to read from first, comma-separated; the image's other
        /// copies remain a fallback. An unknown store is refused (400).
        #[oai(name = "prefer")]
        prefer: poem_openapi::param::Query<Option<String>>,
    ) -> Result<DownloadResponse, ApiError> {
        let id = super::image_id(&image_id)?;
        let range = if let Some(r) = req.header(header::RANGE) {
            Some(parse_range(r))
        } else {
            req.header(header::CONTENT_RANGE).map(parse_content_range)
        };
        let range = match range.transpose() {
            Ok(r) => r,
            Err(RangeError::MultiRange) => {
                return Err(RequestError::MultipleRanges.into());
            }
            Err(RangeError::Unsatisfiable) => {
                // Glance answers 416 for an unreadable range whatever the image.
                let image = crate::service::images::get(app.0, context(req), id).await?;
                let header = match req.header(header::RANGE) {
                    Some(_) => "Range",
                    None => "Content-Range",
                };
                return Err(ServiceError::RangeNotSatisfiable {
                    size: image.size.unwrap_or(0) as u64,
                    detail: format!("Invalid {header} header."),
                }
                .into());
            }
        };
        let prefer: Vec<String> = prefer
            .0
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let Some(dl) = download::download(app.0, context(req), id, range, &prefer).await? else {
            return Ok(DownloadResponse::NoData(NoBody));
        };
        let body = Binary(Body::from_bytes_stream(
            dl.data.map_err(std::io::Error::other),
        ));
        Ok(match dl.span {
            None => DownloadResponse::Full(body, dl.length, dl.checksum),
            Some(s) => DownloadResponse::Partial(
                body,
                dl.length,
                dl.checksum,
                format!("bytes {}-{}/{}", s.first, s.last, s.size),
            ),
        })
    }
}
