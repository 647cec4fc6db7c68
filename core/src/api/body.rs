//! Request and response bodies with Glance's rules, declared truthfully in the spec.
//!
//! poem-openapi's own JSON payload coerces types (a JSON `false` becomes the
//! string "false"), so JSON arrives here as raw `serde_json::Value` and the
//! domain validates it; the documented schema comes from a separate type.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use poem::http::header;
use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{
    MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde_json::Value;

use super::error::{ApiError, RequestError};
use crate::domain::patch::{Dialect, MEDIA_TYPE_V20, MEDIA_TYPE_V21};

/// The bounds on a JSON body (`[api] max_json_body_bytes`, `max_json_depth`).
fn json_bounds(request: &Request) -> (usize, usize) {
    let defaults = || {
        let api = crate::config::ApiConfig::default();
        (api.max_json_body_bytes, api.max_json_depth)
    };
    request
        .data::<std::sync::Arc<crate::app::App>>()
        .map_or_else(defaults, |app| {
            (
                app.config.api.max_json_body_bytes,
                app.config.api.max_json_depth,
            )
        })
}

/// Whether arrays and objects nest deeper than `max` anywhere in `value`.
/// Iterative, so the check itself needs no deep stack.
fn nests_deeper(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

/// The request's media type without parameters, lower-cased.
fn media_type(request: &Request) -> Option<String> {
    let content_type = request.content_type()?;
    Some(
        content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// How much of an oversized body is still read, and for how long, before the 413 goes out.
/// A client that is still writing its body when the server answers and closes gets a reset
/// connection instead of the answer; reading a modest excess first lets it read the 413.
/// A body declared larger than this is refused at once, and the connection closes.
const DISCARD_BYTES: usize = 8 << 20;
const DISCARD_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a body of at most `max` bytes; a larger one is `BodyTooLarge`, whether its
/// `Content-Length` says so up front or its chunks run past the bound.
async fn read_bounded(
    body: poem::Body,
    declared: Option<usize>,
    max: usize,
) -> Result<Vec<u8>, RequestError> {
    let mut stream = body.into_bytes_stream();
    if declared.is_none_or(|n| n <= max) {
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
        loop {
            match stream.next().await {
                None => return Ok(bytes),
                // The client went away mid-body; nobody reads the answer.
                Some(Err(_)) => return Err(RequestError::BodyTooLarge),
                Some(Ok(chunk)) if bytes.len() + chunk.len() <= max => {
                    bytes.extend_from_slice(&chunk);
                }
                Some(Ok(_)) => break,
            }
        }
    }
    if declared.is_none_or(|n| n.saturating_sub(max) <= DISCARD_BYTES) {
        let discard = async {
            let mut read = 0;
            while let Some(Ok(chunk)) = stream.next().await {
                read += chunk.len();
                if read > DISCARD_BYTES {
                    break;
                }
            }
        };
        // A client that sends slower than this is not waited for.
        let _ = tokio::time::timeout(DISCARD_TIME, discard).await;
    }
    Err(RequestError::BodyTooLarge)
}

async fn read_json(request: &Request, body: &mut RequestBody) -> Result<Value, ApiError> {
    let body = body.take().map_err(|_| RequestError::BodyExpected)?;
    let (max_bytes, max_depth) = json_bounds(request);
    let declared = request
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = read_bounded(body, declared, max_bytes).await?;
    if bytes.is_empty() {
        return Err(RequestError::BodyExpected.into());
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| RequestError::MalformedJson)?;
    if !(value.is_object() || value.is_array()) {
        return Err(RequestError::NotListOrDict.into());
    }
    if nests_deeper(&value, max_depth) {
        return Err(RequestError::JsonTooDeep(max_depth).into());
    }
    Ok(value)
}

/// A JSON request body documented as `D`, delivered as raw JSON.
pub struct JsonBody<D> {
    pub value: Value,
    _doc: PhantomData<D>,
}

impl<'a, D: Type> ApiExtractor<'a> for JsonBody<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: D::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(Self {
            value: read_json(request, body).await?,
            _doc: PhantomData,
        })
    }
}

/// A JSON-patch body in one of Glance's two media types, documented as `D`.
pub struct PatchBody<D> {
    pub dialect: Dialect,
    pub value: Value,
    _doc: PhantomData<D>,
}

impl<'a, D: Type> ApiExtractor<'a> for PatchBody<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        let media = |content_type| MetaMediaType {
            content_type,
            schema: D::schema_ref(),
        };
        Some(MetaRequest {
            description: None,
            content: vec![media(MEDIA_TYPE_V21), media(MEDIA_TYPE_V20)],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let media = media_type(request);
        let dialect = match media.as_deref() {
            Some(MEDIA_TYPE_V21) => Dialect::V21,
            Some(MEDIA_TYPE_V20) => Dialect::V20,
            _ => {
                return Err(ApiError::from(RequestError::PatchMediaType {
                    media: media.unwrap_or_default(),
                    accepted: format!("{MEDIA_TYPE_V20}, {MEDIA_TYPE_V21}"),
                })
                .into());
            }
        };
        Ok(Self {
            dialect,
            value: read_json(request, body).await?,
            _doc: PhantomData,
        })
    }
}

/// Image data: `application/octet-stream`, possibly chunked, streamed.
pub struct DataBody {
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
    /// `Content-Length` when the client sent one.
    pub content_length: Option<u64>,
}

impl<'a> ApiExtractor<'a> for DataBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some("The image data."),
            content: vec![MetaMediaType {
                content_type: "application/octet-stream",
                schema: binary_schema(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let media = media_type(request);
        if media.as_deref() != Some("application/octet-stream") {
            return Err(ApiError::from(RequestError::DataMediaType(media)).into());
        }
        let content_length = request
            .header(header::CONTENT_LENGTH)
            .and_then(|v| v.parse().ok());
        let stream = body.take()?.into_bytes_stream().boxed();
        Ok(Self {
            stream,
            content_length,
        })
    }
}

fn binary_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(
        poem_openapi::registry::MetaSchema::new_with_format("string", "binary"),
    ))
}

/// A JSON response built from a `serde_json::Value`, documented as `D`.
pub struct JsonDoc<D> {
    body: String,
    _doc: PhantomData<D>,
}

impl<D> JsonDoc<D> {
    pub fn new(value: Value) -> Self {
        Self {
            body: value.to_string(),
            _doc: PhantomData,
        }
    }

    /// A document written straight from `doc`, without building a `Value`
    /// first: for large bodies such as a page of 1000 images.
    pub fn serialize(doc: &impl serde::Serialize) -> Self {
        let body = serde_json::to_string(doc).unwrap_or_else(|err| {
            // Only a map with non-string keys or a failing `Serialize` impl
            // get here; neither is in the documents we write.
            tracing::error!(%err, "could not write a response document");
            String::from("{}")
        });
        Self {
            body,
            _doc: PhantomData,
        }
    }
}

impl<D: Type> Payload for JsonDoc<D> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<D: Send> IntoResponse for JsonDoc<D> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("application/json")
            .body(self.body)
    }
}

impl<D: Type> ApiResponse for JsonDoc<D> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_in_arrays_and_objects() {
        let v: Value = serde_json::from_str(r#"{"a": [1, {"b": "c"}], "d": 2}"#).unwrap();
        assert!(!nests_deeper(&v, 3));
        assert!(nests_deeper(&v, 2));
        assert!(!nests_deeper(&serde_json::json!([]), 1));
        assert!(nests_deeper(&serde_json::json!([[]]), 1));
    }

    /// A body in `chunks`, sent as if chunked (no length known up front).
    fn chunked(chunks: &[&'static [u8]]) -> poem::Body {
        let chunks: Vec<std::io::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        poem::Body::from_bytes_stream(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_their_bound() {
        let read = read_bounded(chunked(&[b"{\"a\":", b"1}"]), None, 7).await;
        assert_eq!(read.unwrap(), b"{\"a\":1}");
        let read = read_bounded(chunked(&[b"{\"a\":", b"1}"]), Some(7), 7).await;
        assert_eq!(read.unwrap(), b"{\"a\":1}");
        // Chunks that run past the bound, and a length declared past it.
        let over = read_bounded(chunked(&[b"{\"a\":", b"12}"]), None, 7).await;
        assert!(matches!(over, Err(RequestError::BodyTooLarge)));
        let declared = read_bounded(chunked(&[b"{}"]), Some(8), 7).await;
        assert!(matches!(declared, Err(RequestError::BodyTooLarge)));
        let far = read_bounded(chunked(&[b"{}"]), Some(1 << 40), 7).await;
        assert!(matches!(far, Err(RequestError::BodyTooLarge)));
    }
}
