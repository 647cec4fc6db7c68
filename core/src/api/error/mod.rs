//! The one place that decides HTTP statuses and renders Glance's error bodies.
//!
//! Handlers return `ApiError`; framework errors (bad parameters, unknown routes,
//! wrong methods) are converted here too, so every error leaves the server in
//! the same shape: JSON, HTML or plain text chosen by the request's `Accept`
//! header, as Glance's WSGI stack does.

use glint_sdk::ErrorKind;
use poem::http::{HeaderName, HeaderValue, StatusCode, header};
use poem::{Response, error::ResponseError};
use poem_openapi::Object;

mod declared;
mod request;
mod service;

use crate::domain::TransitionError;
use crate::domain::patch::PatchError;
use crate::policy::Denied;
use crate::service::ServiceError;
pub use request::{BadImportRequest, BadValidationData, RequestError};

/// Glance's JSON error body (webob's JSON formatter).
#[derive(Debug, Object)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    /// Human-readable explanation.
    pub message: String,
    /// Status line, e.g. `404 Not Found`.
    pub code: String,
    /// Reason phrase, e.g. `Not Found`.
    pub title: String,
}

/// An HTTP error answer: status, text and any headers it must carry.
///
/// The text follows webob's body template, which Glance's answers show: an `explanation`,
/// then a line break, then a `detail`. Glance passes most messages as the explanation; some as
/// the detail, after the status's stock explanation ([`ApiError::detailed`]).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub explanation: String,
    pub detail: String,
    layout: Layout,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Why an error response was sent, kept on it for the access log.
#[derive(Debug, Clone)]
pub struct Refusal(pub String);

/// The two body templates of webob that Glance's answers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `explanation<br /><br />\ndetail\n\n`
    Standard,
    /// `explanation<br /><br />\ndetail` (405 and 415, whose explanation names the method or
    /// the media type).
    Bare,
    /// `explanation` alone (the task delete's 405 sets this template).
    ExplanationOnly,
}

impl ApiError {
    pub fn new(status: StatusCode, explanation: impl Into<String>) -> Self {
        Self {
            status,
            explanation: explanation.into(),
            detail: String::new(),
            layout: Layout::Standard,
            headers: Vec::new(),
        }
    }

    /// An answer whose message is the detail under the status's stock explanation, as Glance
    /// words some refusals (`Access was denied to this resource.` … `Property x may not be
    /// removed.`).
    pub fn detailed(status: StatusCode, detail: impl Into<String>) -> Self {
        let explanation = match status {
            StatusCode::BAD_REQUEST => {
                "The server could not comply with the request since it is either malformed or otherwise incorrect."
            }
            StatusCode::FORBIDDEN => "Access was denied to this resource.",
            StatusCode::NOT_FOUND => "The resource could not be found.",
            StatusCode::CONFLICT => "There was a conflict when trying to complete your request.",
            StatusCode::RANGE_NOT_SATISFIABLE => "The Range requested is not available.",
            StatusCode::SERVICE_UNAVAILABLE => {
                "The server is currently unavailable. Please try again at a later time."
            }
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        Self {
            detail: detail.into(),
            ..Self::new(status, explanation)
        }
    }

    /// 405 for `method`.
    pub fn method_not_allowed(method: &str) -> Self {
        Self {
            layout: Layout::Bare,
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("The method {method} is not allowed for this resource. "),
            )
        }
    }

    /// 415 for a body of `media` type, with what was expected.
    pub fn unsupported_media(media: &str, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            layout: Layout::Bare,
            ..Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("The request media type {media} is not supported by this server.\n"),
            )
        }
    }

    /// The body template filled in; `escape` applies to the explanation and the detail.
    fn text(&self, escape: fn(&str) -> String) -> String {
        let (explanation, detail) = (escape(&self.explanation), escape(&self.detail));
        match self.layout {
            Layout::Standard => format!("{explanation}<br /><br />\n{detail}\n\n"),
            Layout::Bare => format!("{explanation}<br /><br />\n{detail}"),
            Layout::ExplanationOnly => explanation,
        }
    }

    /// An error raised by poem or poem-openapi rather than by a handler (an unknown route, a
    /// method the route lacks, a parameter that does not parse); `allow` lists the route's
    /// methods for a 405.
    pub fn from_framework(e: poem::Error, method: &str, allow: &str) -> Self {
        if let Some(api) = e.downcast_ref::<ApiError>() {
            return api.clone();
        }
        match e.status() {
            StatusCode::NOT_FOUND => RequestError::NoSuchResource.into(),
            StatusCode::METHOD_NOT_ALLOWED => RequestError::MethodNotAllowed {
                method: method.to_owned(),
                allow: allow.to_owned(),
            }
            .into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::unsupported_media("", "Unsupported Content-Type")
            }
            status if status.is_client_error() => ApiError::new(status, e.to_string()),
            status => {
                tracing::error!(error = %e, "unhandled error");
                ApiError::new(
                    status,
                    "The server has either erred or is incapable of performing the requested operation.",
                )
            }
        }
    }

    pub fn bad_request(explanation: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, explanation)
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// Render for a client that sent `accept` (webob's choice: HTML for
    /// browsers and `*/*`, JSON when asked for, plain text otherwise, also
    /// when no `Accept` is sent).
    pub fn render(&self, accept: Option<&str>) -> Response {
        let code = format!("{} {}", self.status.as_u16(), self.title());
        let (content_type, body) = match preferred_format(accept) {
            // Python's `json.dumps`: these keys in this order, `, ` and `: ` between them,
            // and non-ASCII characters escaped.
            Format::Json => (
                "application/json",
                format!(
                    "{{\"message\": {}, \"code\": {}, \"title\": {}}}",
                    python_json_string(&self.text(str::to_owned)),
                    python_json_string(&code),
                    python_json_string(self.title()),
                ),
            ),
            Format::Html => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{code}</title>\n </head>\n <body>\n  <h1>{code}</h1>\n  {}\n </body>\n</html>",
                    self.text(html_escape)
                ),
            ),
            // webob's plain text: the template's line breaks become spaces, its `<br />` breaks.
            Format::Text => (
                "text/plain; charset=UTF-8",
                format!(
                    "{code}\n\n{}",
                    self.text(str::to_owned)
                        .replace('\n', " ")
                        .replace("<br />", "\n")
                ),
            ),
        };
        let mut resp = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        for (name, value) in &self.headers {
            resp.headers_mut().append(name.clone(), value.clone());
        }
        // For the access log, which names why a request was refused.
        resp.extensions_mut()
            .insert(Refusal(self.text(str::to_owned).replace("<br />", " ")));
        resp
    }

    /// The reason phrase, as webob has it (its 416 predates RFC 7233's wording).
    fn title(&self) -> &'static str {
        match self.status {
            StatusCode::RANGE_NOT_SATISFIABLE => "Request Range Not Satisfiable",
            status => status.canonical_reason().unwrap_or("Error"),
        }
    }
}

enum Format {
    Json,
    Html,
    Text,
}

/// webob offers `text/html` then `application/json`, falling back to text; a request
/// without `Accept` accepts neither, so it gets text.
fn preferred_format(accept: Option<&str>) -> Format {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Format::Text;
    };
    let mut best: Option<(f32, Format)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let format = match media.as_str() {
            "text/html" | "*/*" | "text/*" => Format::Html,
            "application/json" | "application/*" => Format::Json,
            _ => continue,
        };
        let better = match &best {
            None => true,
            // On a tie, HTML wins: it is offered first.
            Some((bq, bf)) => {
                q > *bq
                    || (q == *bq && matches!(format, Format::Html) && !matches!(bf, Format::Html))
            }
        };
        if better {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Text, |(_, f)| f)
}

/// `s` as a JSON string with every non-ASCII character escaped (`\u00e9`), as Python writes it.
fn python_json_string(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    let mut out = String::with_capacity(quoted.len());
    for c in quoted.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.explanation.trim_end())?;
        if !self.detail.is_empty() {
            write!(f, " {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    /// Without the request at hand, JSON; the error middleware re-renders by `Accept`.
    fn as_response(&self) -> Response {
        self.render(Some("application/json"))
    }
}

/// `Retry-After` of a 503 for an unreachable database: about the time a restarting PostgreSQL
/// or MariaDB needs, and twice the pool's default wait for a connection.
const DB_RETRY_AFTER_SECS: &str = "5";

impl From<BadImportRequest> for ApiError {
    fn from(e: BadImportRequest) -> Self {
        RequestError::from(e).into()
    }
}

impl From<BadValidationData> for ApiError {
    fn from(e: BadValidationData) -> Self {
        RequestError::from(e).into()
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        use RequestError as R;
        let status = match &e {
            R::MethodNotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
            R::Unauthenticated { challenge } => {
                let error = ApiError::new(StatusCode::UNAUTHORIZED, e.to_string());
                return match challenge {
                    Some(c) => error.with_header(header::WWW_AUTHENTICATE, c),
                    None => error,
                };
            }
            R::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            R::MethodNotAllowed { method, allow } => {
                return ApiError::method_not_allowed(method).with_header(header::ALLOW, allow);
            }
            R::PatchMediaType { media, accepted } => {
                return ApiError::unsupported_media(media, e.to_string())
                    .with_header(HeaderName::from_static("accept-patch"), accepted);
            }
            R::DataMediaType(media) => {
                // Without a Content-Type webob leaves its template's placeholder as it is.
                let media = media.as_deref().unwrap_or("${CONTENT_TYPE}");
                return ApiError::unsupported_media(media, e.to_string());
            }
            R::TaskDelete => {
                return Self {
                    layout: Layout::ExplanationOnly,
                    ..ApiError::new(StatusCode::METHOD_NOT_ALLOWED, e.to_string())
                }
                .with_header(header::ALLOW, "GET");
            }
            R::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            R::UrlTooLong(_) => StatusCode::URI_TOO_LONG,
            R::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            R::NoSuchResource | R::NotAnImageId(_) | R::NotATaskId(_) => StatusCode::NOT_FOUND,
            R::BodyNotExpected
            | R::BodyExpected
            | R::MalformedJson
            | R::JsonTooDeep(_)
            | R::NotListOrDict
            | R::MemberForm
            | R::MemberMissing
            | R::MemberEmpty
            | R::MemberStatusForm
            | R::MemberStatusMissing
            | R::BadImageSize(_)
            | R::MultipleRanges
            | R::MetadefSortKey(_)
            | R::Query(_)
            | R::Import(_)
            | R::ValidationData(_)
            | R::LocationBodyNotObject
            | R::LocationUrlNotString(_)
            | R::LocationUrlMissing => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

/// A refusal by policy in a handler: 403, or 404 when the resource is hidden.
impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        ServiceError::from(d).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(resp: Response) -> (String, String) {
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body = futures::executor::block_on(resp.into_body().into_string()).unwrap();
        (ct, body)
    }

    #[test]
    fn json_when_asked_for_json() {
        let (ct, body) =
            body_of(ApiError::new(StatusCode::NOT_FOUND, "gone").render(Some("application/json")));
        assert_eq!(ct, "application/json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "404 Not Found");
        assert_eq!(v["title"], "Not Found");
        assert!(v["message"].as_str().unwrap().starts_with("gone"));
    }

    #[test]
    fn html_for_browsers() {
        for accept in [Some("*/*"), Some("text/html,application/json")] {
            let (ct, body) = body_of(ApiError::new(StatusCode::CONFLICT, "a<b").render(accept));
            assert!(ct.starts_with("text/html"), "{accept:?}");
            assert!(body.contains("<h1>409 Conflict</h1>") && body.contains("a&lt;b"));
        }
    }

    #[test]
    fn json_beats_html_on_quality() {
        let (ct, _) =
            body_of(ApiError::bad_request("x").render(Some("text/html;q=0.5, application/json")));
        assert_eq!(ct, "application/json");
    }

    #[test]
    fn plain_text_otherwise_and_without_accept() {
        for accept in [Some("text/plain"), None, Some("")] {
            let (ct, body) = body_of(ApiError::bad_request("nope").render(accept));
            assert!(ct.starts_with("text/plain"), "{accept:?}");
            assert!(body.starts_with("400 Bad Request\n\nnope"));
        }
    }

    #[test]
    fn a_policy_refusal_is_403_unless_the_resource_is_hidden() {
        let shown = Denied {
            rule: "publicize_image".into(),
            hidden: false,
        };
        let e = ApiError::from(shown);
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.explanation,
            "You are not authorized to complete publicize_image action."
        );
        let hidden = Denied {
            rule: "get_image".into(),
            hidden: true,
        };
        assert_eq!(ApiError::from(hidden).status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_refused_status_move_is_409_and_missing_formats_400() {
        use crate::domain::ImageStatus;
        let e = ApiError::from(ServiceError::from(TransitionError::NotAllowed {
            from: ImageStatus::Saving,
            to: ImageStatus::Saving,
        }));
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(
            e.explanation,
            "Image status transition from saving to saving is not allowed"
        );
        let e = ApiError::from(ServiceError::from(TransitionError::MissingFormats {
            missing: vec!["disk_format"],
        }));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn internal_errors_hide_details() {
        let e: ApiError = ServiceError::Store(glint_sdk::StoreError::new(
            ErrorKind::Unexpected,
            "secret path",
        ))
        .into();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.explanation.contains("secret"));
    }

    #[test]
    fn import_and_task_refusals_keep_their_statuses_and_wording() {
        use crate::domain::ImageStatus;
        let id = uuid::Uuid::nil();
        for (e, status, message) in [
            (
                ServiceError::ImportNeedsStatus {
                    method: "web-download",
                    needed: ImageStatus::Queued,
                },
                StatusCode::CONFLICT,
                "Image needs to be in 'queued' state to use 'web-download' method".to_owned(),
            ),
            (
                ServiceError::OperationInProgress(id),
                StatusCode::CONFLICT,
                format!(
                    "New operation on image '{id}' is not permitted as prior operation is still in progress"
                ),
            ),
            (
                ServiceError::UriRefused {
                    purpose: "web-download",
                    uri: "None".into(),
                },
                StatusCode::BAD_REQUEST,
                "URI for web-download does not pass filtering: None".to_owned(),
            ),
            (
                ServiceError::ImportStoreNotFound("x".into()),
                StatusCode::CONFLICT,
                "Store for identifier x not found".to_owned(),
            ),
            (
                ServiceError::TaskNotFound(id),
                StatusCode::NOT_FOUND,
                format!("Could not find task {id}"),
            ),
            (
                ServiceError::LocationNeedsQueued(ImageStatus::Active),
                StatusCode::CONFLICT,
                "It's not allowed to add locations if image status is active.".to_owned(),
            ),
        ] {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.explanation), (status, message));
        }
    }

    #[test]
    fn json_is_written_as_python_writes_it() {
        let (_, body) = body_of(
            ApiError::new(StatusCode::NOT_FOUND, "caf\u{e9} \u{1f600} \"q\"")
                .render(Some("application/json")),
        );
        assert_eq!(
            body,
            r#"{"message": "caf\u00e9 \ud83d\ude00 \"q\"<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#
        );
    }

    #[test]
    fn detail_and_bare_layouts_in_every_format() {
        let detailed = ApiError::detailed(StatusCode::FORBIDDEN, "Property x may not be removed.");
        let (_, json) = body_of(detailed.render(Some("application/json")));
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            json["message"],
            "Access was denied to this resource.<br /><br />\nProperty x may not be removed.\n\n"
        );
        let (_, text) = body_of(detailed.render(Some("text/plain")));
        assert_eq!(
            text,
            "403 Forbidden\n\nAccess was denied to this resource.\n\n Property x may not be removed.  "
        );
        let (_, html) = body_of(ApiError::method_not_allowed("PUT").render(Some("*/*")));
        assert!(
            html.ends_with(
                "  The method PUT is not allowed for this resource. <br /><br />\n\n </body>\n</html>"
            ),
            "{html}"
        );
        let (_, json) = body_of(
            ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "x").render(Some("application/json")),
        );
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["code"], "416 Request Range Not Satisfiable");
    }
}
