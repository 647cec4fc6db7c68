//! Refusals the HTTP layer decides itself, with their wording; `super` decides their statuses.

use crate::api::list_params::QueryError;

/// Refusals the HTTP layer decides itself, before or around a handler: the
/// request's framing, headers and body shape. Their statuses and wording live
/// here with the services' ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A method Glance's router does not know, on a path no route has.
    #[error("The request method {method} is not implemented for this server.")]
    MethodNotImplemented { method: String },
    #[error(
        "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required."
    )]
    Unauthenticated { challenge: Option<String> },
    #[error("The identity service is unavailable; try again later.")]
    AuthUnavailable,
    #[error("A body is not expected with this request.")]
    BodyNotExpected,
    #[error("Body expected in request.")]
    BodyExpected,
    #[error("Request body too large.")]
    BodyTooLarge,
    #[error("Malformed JSON in request body.")]
    MalformedJson,
    #[error("JSON in request body is nested too deeply: at most {0} levels are allowed.")]
    JsonTooDeep(usize),
    #[error("Request URI too long: at most {0} bytes are allowed.")]
    UrlTooLong(usize),
    #[error("Request headers too large: at most {0} bytes are allowed.")]
    HeadersTooLarge(usize),
    #[error("Unexpected body type. Expected list/dict.")]
    NotListOrDict,
    #[error("The resource could not be found.")]
    NoSuchResource,
    /// A path segment that cannot be an image id.
    #[error("No image found with ID {0}")]
    NotAnImageId(String),
    #[error(r#"Expected a member in the form: {{"member": "image_id"}}"#)]
    MemberForm,
    #[error("Member to be added not specified")]
    MemberMissing,
    #[error("Member can't be empty")]
    MemberEmpty,
    #[error(r#"Expected a status in the form: {{"status": "status"}}"#)]
    MemberStatusForm,
    #[error("Status not specified")]
    MemberStatusMissing,
    #[error("Invalid x-openstack-image-size: '{0}'")]
    BadImageSize(String),
    #[error(
        "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead."
    )]
    MultipleRanges,
    #[error("The method {method} is not allowed for this resource.")]
    MethodNotAllowed { method: String, allow: String },
    /// A JSON-patch body of another media type; `accepted` lists the two patch dialects.
    #[error("Image PATCH expects Content-Type one of: {accepted}")]
    PatchMediaType { media: String, accepted: String },
    /// Image data of another media type than `application/octet-stream`; Python's `None`
    /// when the request has no `Content-Type`.
    #[error("Invalid content type {}", .0.as_deref().unwrap_or("None"))]
    DataMediaType(Option<String>),
    /// Tasks are never deleted by request (they expire).
    #[error(
        "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property."
    )]
    TaskDelete,
    /// A metadef list's sort key (the image list names the allowed ones).
    #[error("Invalid sort key: {0}")]
    MetadefSortKey(String),
    /// A list query the parser refused.
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Import(#[from] BadImportRequest),
    #[error(transparent)]
    ValidationData(#[from] BadValidationData),
    #[error("The request body must be an object.")]
    LocationBodyNotObject,
    /// The JSON value given as a location's `url`.
    #[error("{0} is not of type 'string'")]
    LocationUrlNotString(String),
    #[error("'url' is a required property")]
    LocationUrlMissing,
    /// A path segment that cannot be a task id.
    #[error("Could not find task {0}")]
    NotATaskId(String),
}

/// Why a `POST /import` body is refused (400), in Glance's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadImportRequest {
    #[error("Import request requires a 'method' field.")]
    NoMethod,
    #[error("Import request requires a 'name' field.")]
    NoName,
    /// Unknown, or not enabled at this site.
    #[error("Unknown import method name '{0}'.")]
    UnknownMethod(String),
    #[error("'{0}' must be boolean value only")]
    NotBoolean(&'static str),
    #[error("'stores' must be a list of store identifiers.")]
    StoresNotList,
}

/// Why a `validation_data` object is refused (400), in Glance's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadValidationData {
    #[error("validation_data must be an object.")]
    NotAnObject,
    #[error("Additional properties are not allowed ('{0}' was unexpected)")]
    Unexpected(String),
    /// The JSON value given where a string belongs.
    #[error("{0} is not of type 'string'")]
    NotAString(String),
    /// `needed` must come with `given`.
    #[error("'{needed}' is a dependency of '{given}'")]
    Dependency {
        needed: &'static str,
        given: &'static str,
    },
    #[error("'{0}' is not one of ['sha1', 'sha256', 'sha512', 'md5']")]
    UnknownAlgorithm(String),
    #[error("os_hash_value ({0}) is not a valid hexadecimal value")]
    NotHex(String),
    #[error(
        "os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({size}) bytes)"
    )]
    WrongSize {
        value: String,
        algo: String,
        size: usize,
    },
}
