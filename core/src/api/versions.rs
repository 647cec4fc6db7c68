//! The versions document (`GET /`, `GET /versions`) and discovery.

use std::sync::Arc;

use poem::web::Data;

use poem::Request;
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::{Value, json};

use super::ApiTags;
use super::body::JsonDoc;
use crate::app::App;

pub struct VersionsApi;

#[derive(ApiResponse)]
pub enum VersionsResponse {
    /// The API versions this server speaks.
    #[oai(status = 300)]
    MultipleChoices(JsonDoc<super::view::VersionsDoc>),
}

/// Minor versions, newest first, with whether each is advertised here.
/// Named stores are always on (multi-store), the image cache is not yet.
/// Every version a `/v2.N` prefix may name.
const KNOWN: &[&str] = &[
    "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12",
    "2.13", "2.14", "2.15", "2.16", "2.17", "2.18",
];

pub fn accepts(minor: &str) -> bool {
    KNOWN.contains(&minor)
}

/// The versions `GET /` lists, newest first, as Glance 33 lists them for the
/// features enabled: the cache API adds 2.14, 2.16 and 2.18 (then CURRENT);
/// several stores, which Glint always has, add 2.8 to 2.13.
fn listed(cache: bool) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if cache {
        out.extend([
            ("2.18", "CURRENT"),
            ("2.17", "SUPPORTED"),
            ("2.16", "SUPPORTED"),
            ("2.15", "SUPPORTED"),
            ("2.14", "SUPPORTED"),
        ]);
    } else {
        out.push(("2.15", "SUPPORTED"));
    }
    for v in ["2.13", "2.12", "2.11", "2.10", "2.9", "2.8"] {
        out.push((v, "SUPPORTED"));
    }
    if !cache {
        out.push(("2.17", "CURRENT"));
    }
    for v in ["2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"] {
        out.push((v, "SUPPORTED"));
    }
    out
}

/// The URL the request reached this server at (`http://<Host>`), as WSGI servers rebuild it.
pub fn request_url(app: &App, req: &Request) -> String {
    let scheme = if app.config.tls.files().is_some() {
        "https"
    } else {
        "http"
    };
    let (scheme, host) = if app.config.enable_proxy_headers_parsing {
        super::proxy::forwarded(req, scheme)
    } else {
        (scheme.to_owned(), super::proxy::host(req))
    };
    let host = host.unwrap_or_else(|| app.config.bind.to_string());
    format!("{scheme}://{host}")
}

pub fn document(app: &App, req: &Request) -> Value {
    let base = app
        .config
        .public_endpoint
        .clone()
        .unwrap_or_else(|| request_url(app, req));
    let base = base.trim_end_matches('/');
    let versions: Vec<Value> = listed(app.config.cache.enabled)
        .into_iter()
        .map(|(v, status)| {
            json!({
                "id": format!("v{v}"),
                "status": status,
                "links": [{"rel": "self", "href": format!("{base}/v2/")}],
            })
        })
        .collect();
    json!({ "versions": versions })
}

#[OpenApi(tag = "ApiTags::Versions")]
impl VersionsApi {
    /// API versions (300 Multiple Choices, as Glance answers).
    #[oai(path = "/", method = "get", operation_id = "listVersions")]
    async fn root(&self, app: Data<&Arc<App>>, req: &Request) -> VersionsResponse {
        VersionsResponse::MultipleChoices(JsonDoc::new(document(app.0, req)))
    }

    /// API versions (200).
    #[oai(
        path = "/versions",
        method = "get",
        operation_id = "listVersionsExplicit"
    )]
    async fn versions(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> JsonDoc<super::view::VersionsDoc> {
        JsonDoc::new(document(app.0, req))
    }
}
