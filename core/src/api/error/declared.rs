//! The error answers every operation declares in the spec, as the server sends them.

use poem_openapi::ApiResponse;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;

use super::{ApiError, ErrorBody};

/// Every status an operation may answer with, declared once for the spec.
const DECLARED: &[(u16, &str)] = &[
    (400, "Malformed request: bad JSON, bad parameter or value."),
    (401, "Authentication is required or failed."),
    (
        403,
        "Forbidden by policy, or the attribute is read-only or reserved.",
    ),
    (404, "No such resource, or not visible to the caller."),
    (
        405,
        "The method is not allowed on this resource; `Allow` lists those that are.",
    ),
    (409, "Conflicts with the resource's current state."),
    (410, "The image was deleted during the operation."),
    (413, "A body, size or quota limit was exceeded."),
    (
        414,
        "The request's target is longer than `[api] max_url_bytes`.",
    ),
    (415, "Unsupported media type."),
    (416, "Requested range not satisfiable."),
    (
        431,
        "The request's headers are larger than `[api] max_header_bytes`.",
    ),
    (500, "The server erred."),
    (
        502,
        "The node holding the image's staged data refused the forwarded request.",
    ),
    (
        503,
        "A store, the database or the identity service is unavailable; `Retry-After` may say when to try again.",
    ),
    (
        504,
        "The node holding the image's staged data cannot be reached.",
    ),
];

/// An error body in the three forms webob writes, chosen by `Accept`: JSON when asked for
/// (`Accept: application/json`), HTML for browsers and `*/*`, plain text without `Accept`.
fn error_content() -> Vec<MetaMediaType> {
    let text = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
    vec![
        MetaMediaType {
            content_type: "application/json",
            schema: ErrorBody::schema_ref(),
        },
        MetaMediaType {
            content_type: "text/html",
            schema: text(),
        },
        MetaMediaType {
            content_type: "text/plain",
            schema: text(),
        },
    ]
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DECLARED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: error_content(),
                    headers: if *status == 405 {
                        vec![MetaHeader {
                            name: "Allow".into(),
                            description: Some("The methods the resource allows.".into()),
                            required: true,
                            deprecated: false,
                            schema: String::schema_ref(),
                        }]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}
