//! The HTTP API: thin handlers over `service`, one error map, and the
//! conventions Glance clients rely on (request ids, version prefixes, error
//! bodies by `Accept`, 405 with `Allow`).

pub mod actions;
mod allow;
pub mod body;
mod bounds;
pub mod cache;
pub mod cors;
mod document;
pub mod documented;
pub mod error;
pub mod health;
pub mod image_data;
pub mod images;
pub mod import;
pub mod list_params;
pub mod locations;
pub mod members;
pub mod metadefs;
pub(crate) mod proxy;
pub mod range;
pub mod schemas;
pub mod stores;
pub mod tasks;
pub mod versions;
pub mod view;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use poem::http::{HeaderValue, Method, StatusCode, Uri, header};
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApi, OpenApiService, ServerObject, Tags};
use uuid::Uuid;

use self::allow::{AllowTable, template_matches};
use self::cors::Cors;
use self::error::{ApiError, RequestError};
use crate::app::App;
use crate::auth::AuthError;
use crate::context::RequestContext;

#[derive(Tags)]
pub enum ApiTags {
    /// API versions and discovery.
    Versions,
    /// Image records.
    Images,
    /// Image data upload and download.
    ImageData,
    /// JSON-Schema documents.
    Schemas,
    /// Metadata definitions: namespaces, objects, properties, tags, resource types.
    Metadefs,
    /// Named stores: discovery, and an image's copy in one store.
    Stores,
    /// The image cache of this API node.
    Cache,
}

type Apis = (
    versions::VersionsApi,
    images::ImagesApi,
    image_data::ImageDataApi,
    locations::LocationsApi,
    stores::StoresApi,
    members::MembersApi,
    actions::ActionsApi,
    // poem-openapi implements OpenApi for tuples of up to 16: nest.
    (import::ImportApi, cache::CacheApi, tasks::TasksApi),
    schemas::SchemasApi,
    schemas::SharingSchemasApi,
    metadefs::namespaces::NamespacesApi,
    metadefs::objects::ObjectsApi,
    metadefs::properties::PropertiesApi,
    metadefs::tags::TagsApi,
    metadefs::resource_types::ResourceTypesApi,
    metadefs::schemas::MetadefSchemasApi,
);

fn apis() -> Apis {
    (
        versions::VersionsApi,
        images::ImagesApi,
        image_data::ImageDataApi,
        locations::LocationsApi,
        stores::StoresApi,
        members::MembersApi,
        actions::ActionsApi,
        (import::ImportApi, cache::CacheApi, tasks::TasksApi),
        schemas::SchemasApi,
        schemas::SharingSchemasApi,
        metadefs::namespaces::NamespacesApi,
        metadefs::objects::ObjectsApi,
        metadefs::properties::PropertiesApi,
        metadefs::tags::TagsApi,
        metadefs::resource_types::ResourceTypesApi,
        metadefs::schemas::MetadefSchemasApi,
    )
}

fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis(), "Glint Images API", env!("CARGO_PKG_VERSION"))
        .description(
            "OpenStack Images API v2 and Metadata Definitions API, as Glance 33 serves them.\n\n\
             Every request but version discovery carries a Keystone token in `X-Auth-Token`. \
             Errors come as JSON when the request sends `Accept: application/json`, as HTML \
             for browsers and `*/*`, and as plain text without `Accept`, as Glance's do.",
        )
        .server(ServerObject::new("/").description("The server that serves this document"))
}

/// The OpenAPI document, as checked in under `openapi/`.
pub fn spec() -> String {
    document::complete(&service().spec())
}

/// The Swagger UI page, showing [`spec`].
fn swagger_ui_html(svc: &OpenApiService<Apis, ()>) -> String {
    svc.swagger_ui_html().replace(&svc.spec(), &spec())
}

/// The whole HTTP application.
pub fn endpoint(app: Arc<App>) -> impl Endpoint<Output = Response> {
    let svc = service();
    // The document and the page showing it are made when first asked for: a
    // server that is never asked keeps neither, nor the code that makes them
    // in memory.
    let docs = poem::endpoint::make_sync(|_| {
        static PAGE: OnceLock<Bytes> = OnceLock::new();
        Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(
                PAGE.get_or_init(|| swagger_ui_html(&service()).into())
                    .clone(),
            )
    });
    let spec = poem::endpoint::make_sync(|_| {
        static DOCUMENT: OnceLock<Bytes> = OnceLock::new();
        Response::builder()
            .content_type("application/json")
            .body(DOCUMENT.get_or_init(|| spec().into()).clone())
    });
    let routes = Route::new()
        .nest("/", svc)
        .nest("/docs", Route::new().at("/", docs))
        .at("/openapi.json", spec);
    let routes = Arc::new(routes.with(AddData::new(app.clone())));
    let allowed = Arc::new(AllowTable::new(<Apis as OpenApi>::meta()));
    let cors = Arc::new(Cors::new(app.config.cors.clone()));
    poem::endpoint::make(move |req| {
        let (routes, app, allowed, cors) =
            (routes.clone(), app.clone(), allowed.clone(), cors.clone());
        async move {
            // A preflight's answer has its own CORS headers, or none.
            let origin = (req.method() != Method::OPTIONS)
                .then(|| cors.allowed_origin(&req))
                .flatten();
            let mut resp = conventions(&*routes, &app, &allowed, &cors, req).await;
            if let Some(origin) = origin {
                cors.decorate(&origin, resp.headers_mut());
            }
            Ok::<_, poem::Error>(resp)
        }
    })
    .map_to_response()
}

/// `req-` and a UUID: the only request ids Glint writes, and the only ones
/// a caller's `X-OpenStack-Request-ID` is kept as (its global request id).
fn is_request_id(id: &str) -> bool {
    id.strip_prefix("req-")
        .is_some_and(|uuid| uuid.len() == 36 && Uuid::parse_str(uuid).is_ok())
}

/// Everything around a handler, in order.
async fn conventions<E: Endpoint>(
    routes: &E,
    app: &App,
    allowed: &AllowTable,
    cors: &Cors,
    mut req: Request,
) -> Response {
    // The CORS filter, first in Glance's pipeline, answers every OPTIONS before version
    // negotiation and authentication: an empty 200, with the CORS headers of an allowed
    // preflight.
    if req.method() == Method::OPTIONS {
        let mut resp = Response::builder()
            .status(StatusCode::OK)
            .body(Vec::<u8>::new());
        for (name, value) in cors.preflight(&req) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        return resp;
    }
    let started = std::time::Instant::now();
    // Ours always; the caller's, when well formed, is logged beside it to tie
    // the calls of one operation across services together. An ill-formed one
    // is ignored rather than refused.
    let request_id = format!("req-{}", Uuid::new_v4());
    let global_id = req
        .header(REQUEST_ID)
        .filter(|id| is_request_id(id))
        .map(str::to_owned);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let bytes_in = req
        .header(header::CONTENT_LENGTH)
        .and_then(|l| l.trim().parse::<u64>().ok());
    let accept = req.header(header::ACCEPT).map(str::to_owned);
    let origin = versions::request_url(app, &req);
    let mut caller: Option<(Option<String>, Option<String>)> = None;

    let mut resp = match prepare(app, &mut req) {
        Err(early) => early,
        // A load balancer's probe needs no credentials; only the detailed form does.
        Ok(()) if req.uri().path() == health::PATH && !health::wants_detail(&req) => {
            health::answer(app, &req, None).await
        }
        Ok(()) => match authenticate(app, &req, request_id.clone()).await {
            Err(e) => e.render(accept.as_deref()),
            Ok(ctx) => {
                caller = Some((ctx.user_id.clone(), ctx.project_id.clone()));
                if req.uri().path() == health::PATH {
                    health::answer(app, &req, Some(&ctx)).await
                } else {
                    route(routes, app, allowed, ctx, req).await
                }
            }
        },
    };
    // A handler that had another node do the work answers with that node's id.
    if let Some(remote) = resp.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
        tracing::info!(
            request_id,
            remote_request_id = remote,
            "answered with the request id of the node that did the work"
        );
    } else if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    // Handlers give paths; the Location a client gets is absolute, as webob makes it.
    let relative = resp
        .headers()
        .get(header::LOCATION)
        .filter(|_| resp.status() != StatusCode::FOUND)
        .and_then(|v| v.to_str().ok())
        .filter(|location| location.starts_with('/'))
        .map(|location| format!("{origin}{location}"));
    if let Some(v) = relative.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    // webob gives every answer without a body of its own its default type: a 204, and any
    // error to a HEAD (whose body is dropped).
    if resp.status() == StatusCode::NO_CONTENT
        || (method == Method::HEAD && resp.status().is_client_error())
    {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=UTF-8"),
        );
    }
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    let bytes_out = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let operation = if path == health::PATH {
        "healthcheck"
    } else {
        allowed.operation(&path, &method)
    };
    crate::metrics::request(operation, status, elapsed.as_secs_f64());
    if let Some(n) = bytes_in {
        crate::metrics::body_bytes(true, n);
    }
    if let Some(n) = bytes_out {
        crate::metrics::body_bytes(false, n);
    }
    let (user, project) = caller.unwrap_or_default();
    let refusal = resp
        .extensions()
        .get::<error::Refusal>()
        .map(|r| r.0.as_str())
        .filter(|_| status >= 400);
    // The access log: one line per request, at INFO. Paths carry image ids, not secrets;
    // the query string is left out as it may (web-download URLs in tasks do not go there).
    tracing::info!(
        target: "glint_core::access",
        method = %method,
        path,
        status,
        bytes_in,
        bytes_out,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        request_id,
        global_request_id = global_id.as_deref(),
        user = user.as_deref(),
        project = project.as_deref(),
        reason = refusal,
        "{method} {path} {status}"
    );
    resp
}

/// Methods Glance's router knows; any other gets a 405 on a route, a 501 elsewhere.
/// The header naming the request (ours; the caller's is logged beside it).
pub const REQUEST_ID: &str = "x-openstack-request-id";

const KNOWN: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Whether `path` is under the versioned API (after version negotiation).
fn under_v2(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/")
}

/// An authenticated request, to its handler or to the router's own answers.
async fn route<E: Endpoint>(
    routes: &E,
    app: &App,
    allowed: &AllowTable,
    ctx: RequestContext,
    mut req: Request,
) -> Response {
    let accept = req.header(header::ACCEPT).map(str::to_owned);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let allow = allowed.allowed(&path);
    // The v2 router sends its bare root to `/v2/` (any method), as a relative Location.
    if path == "/v2" {
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf8")
            .header(header::LOCATION, "/v2/")
            .body(Vec::<u8>::new());
    }
    let not_allowed = |method: &str| {
        ApiError::from(RequestError::MethodNotAllowed {
            method: method.to_owned(),
            allow: allow.join(", "),
        })
        .render(accept.as_deref())
    };
    if !KNOWN.contains(&method) {
        if !allow.is_empty() {
            return not_allowed(method.as_str());
        }
        if under_v2(&path) {
            return ApiError::from(RequestError::MethodNotImplemented {
                method: method.to_string(),
            })
            .render(accept.as_deref());
        }
    }
    // Glance routes no HEAD (version discovery aside, which answers any method).
    if method == Method::HEAD && !matches!(path.as_str(), "/" | "/versions") && !allow.is_empty() {
        return not_allowed("HEAD");
    }
    // Enough of the request to write the versions document after it is handed on.
    let mut host_of = Request::builder();
    if let Some(host) = req.header(header::HOST) {
        host_of = host_of.header(header::HOST, host);
    }
    let host_of = host_of.finish();
    req.extensions_mut().insert(ctx);
    match routes.call(req).await {
        Ok(resp) => resp.into_response(),
        // Version negotiation answers any path outside the versioned API with the
        // versions document.
        Err(e) if e.is::<poem::error::NotFoundError>() && !under_v2(&path) => {
            versions_choice(app, &host_of)
        }
        Err(e) => ApiError::from_framework(e, method.as_str(), &allow.join(", "))
            .render(accept.as_deref()),
    }
}

/// The versions document with 300, version negotiation's answer to a path it cannot place.
fn versions_choice(app: &App, host_of: &Request) -> Response {
    let doc = versions::document(app, host_of);
    Response::builder()
        .status(StatusCode::MULTIPLE_CHOICES)
        .content_type("application/json")
        .body(doc.to_string())
}

/// The caller's context; version discovery needs no credentials, as in
/// Glance where it answers before the auth middleware.
async fn authenticate(
    app: &App,
    req: &Request,
    request_id: String,
) -> Result<RequestContext, ApiError> {
    if matches!(req.uri().path(), "/" | "/versions") {
        return Ok(RequestContext::anonymous(request_id));
    }
    app.auth
        .context(request_id, req.headers())
        .await
        .map_err(|e| match e {
            AuthError::Unauthenticated => RequestError::Unauthenticated {
                challenge: app.auth.challenge(),
            }
            .into(),
            AuthError::Unavailable(reason) => {
                tracing::error!(%reason, "cannot authenticate requests");
                RequestError::AuthUnavailable.into()
            }
        })
}

/// Checks and rewrites before authentication (Glance's version negotiation); `Err` is the
/// answer to send instead.
// The early answer is returned as is; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn prepare(app: &App, req: &mut Request) -> Result<(), Response> {
    if let Some(refusal) = bounds::oversized(app, req) {
        return Err(ApiError::from(refusal).render(req.header(header::ACCEPT)));
    }
    let path = req.uri().path().to_owned();
    // Anything under `/versions`, with any method, is the versions document (a GET of
    // `/versions` itself is routed to the same answer).
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if first == "versions" && !(path == "/versions" && req.method() == Method::GET) {
        return Err(Response::builder()
            .status(StatusCode::OK)
            .content_type("application/json")
            .body(versions::document(app, req).to_string()));
    }
    // A version named in `Accept` (`application/vnd.openstack.images-v2`) places an
    // unversioned path; a version not served there gets the versions document.
    let vnd = req
        .header(header::ACCEPT)
        .and_then(|a| a.trim().strip_prefix("application/vnd.openstack.images-"))
        .map(|v| v.strip_suffix("+json").unwrap_or(v).to_owned());
    if let Some(version) = vnd {
        let served = version
            .strip_prefix('v')
            .is_some_and(|n| n == "2" || versions::accepts(n));
        if !served {
            return Err(versions_choice(app, req));
        }
        if !under_v2(&path) && path != "/" {
            set_path(req, &format!("/v2{path}"));
        }
    }
    // `/v2.N/...` is `/v2/...`; an unknown version gets the versions document.
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/v") {
        let (version, tail) = rest.split_once('/').map_or((rest, ""), |(v, t)| (v, t));
        let is_version = !version.is_empty()
            && version.chars().all(|c| c.is_ascii_digit() || c == '.')
            && version.starts_with(|c: char| c.is_ascii_digit());
        if is_version && version != "2" {
            if versions::accepts(version) {
                set_path(req, &format!("/v2/{tail}"));
            } else {
                return Err(versions_choice(app, req));
            }
        }
    }
    let path = req.uri().path();
    if has_body(req) && rejects_body(req.method(), path) {
        return Err(
            ApiError::from(RequestError::BodyNotExpected).render(req.header(header::ACCEPT))
        );
    }
    Ok(())
}

/// Replaces the request's path, keeping its query.
fn set_path(req: &mut Request, path: &str) {
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if let Ok(uri) = format!("{path}{query}").parse::<Uri>() {
        *req.uri_mut() = uri;
    }
}

/// The routes Glance refuses a body on (its router's `body_reject`); every other route
/// ignores an unexpected body.
const BODY_REJECT: &[(&str, &str)] = &[
    ("GET", "/v2/schemas/{any}"),
    ("GET", "/v2/schemas/metadefs/{any}"),
    ("GET", "/v2/metadefs/resource_types"),
    ("GET", "/v2/metadefs/namespaces/{ns}/resource_types"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/resource_types/{rt}"),
    ("GET", "/v2/metadefs/namespaces/{ns}"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}"),
    ("GET", "/v2/metadefs/namespaces/{ns}/properties"),
    ("GET", "/v2/metadefs/namespaces/{ns}/objects/{name}"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/objects/{name}"),
    ("GET", "/v2/metadefs/namespaces/{ns}/tags/{name}"),
    ("POST", "/v2/metadefs/namespaces/{ns}/tags/{name}"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/tags/{name}"),
    ("GET", "/v2/images/{id}"),
    ("GET", "/v2/images/{id}/tasks"),
    ("DELETE", "/v2/images/{id}"),
    ("DELETE", "/v2/stores/{store}/{id}"),
    ("POST", "/v2/images/{id}/actions/deactivate"),
    ("POST", "/v2/images/{id}/actions/reactivate"),
    ("GET", "/v2/images/{id}/file"),
    ("PUT", "/v2/images/{id}/tags/{tag}"),
    ("DELETE", "/v2/images/{id}/tags/{tag}"),
    ("GET", "/v2/images/{id}/members"),
    ("GET", "/v2/images/{id}/members/{member}"),
    ("DELETE", "/v2/images/{id}/members/{member}"),
    ("GET", "/v2/info/import"),
    ("GET", "/v2/info/stores"),
    ("GET", "/v2/info/stores/detail"),
    ("GET", "/v2/cache"),
    ("GET", "/v2/cache/nodes/{id}"),
];

fn rejects_body(method: &Method, path: &str) -> bool {
    BODY_REJECT
        .iter()
        .any(|(m, template)| *m == method.as_str() && template_matches(template, path))
}

fn has_body(req: &Request) -> bool {
    req.header(header::CONTENT_LENGTH)
        .is_some_and(|l| l.trim() != "0")
        || req.header(header::TRANSFER_ENCODING).is_some()
}

/// The request's caller, set by `conventions` before any handler runs.
pub fn context(req: &Request) -> &RequestContext {
    req.extensions()
        .get::<RequestContext>()
        .expect("conventions() sets the context for every routed request")
}

/// Image ids in paths: anything that is not a UUID names no image.
pub fn image_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| RequestError::NotAnImageId(s.to_owned()).into())
}

/// A page link of a list: `path` with the request's query minus `marker`, plus `extra` (the
/// next page's marker), as Glance writes `first` and `next`.
pub fn link(path: &str, pairs: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "marker") {
        s.append_pair(k, v);
    }
    if let Some((k, v)) = extra {
        s.append_pair(k, v);
    }
    let query = s.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The request's query, decoded, in order.
pub fn query_pairs(req: &poem::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_req_and_a_uuid_is_a_request_id() {
        assert!(is_request_id(&format!("req-{}", Uuid::new_v4())));
        assert!(!is_request_id("req-mine"));
        assert!(!is_request_id(&Uuid::new_v4().to_string()));
        assert!(!is_request_id(&format!("req-{}x", Uuid::new_v4())));
    }

    /// Two handlers of one path in two `OpenApi` impls write the path twice, and a JSON
    /// parser keeps one: every declared operation must be in the document.
    #[test]
    fn every_operation_is_in_the_spec_once() {
        let declared: usize = <Apis as OpenApi>::meta()
            .iter()
            .flat_map(|api| &api.paths)
            .flat_map(|path| &path.operations)
            .count();
        let doc: serde_json::Value = serde_json::from_str(&spec()).unwrap();
        let written: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(written, declared);
    }

    #[test]
    fn operations_are_named_by_their_operation_id() {
        let table = AllowTable::new(<Apis as OpenApi>::meta());
        let id = Uuid::new_v4();
        assert_eq!(table.operation("/v2/images", &Method::POST), "createImage");
        assert_eq!(
            table.operation(&format!("/v2/images/{id}/file"), &Method::GET),
            "downloadImageData"
        );
        assert_eq!(table.operation("/", &Method::GET), "versions");
        assert_eq!(table.operation("/v2/nowhere", &Method::GET), "unmatched");
        assert_eq!(table.allowed("/v2/images"), ["GET", "POST"]);
    }

    #[test]
    fn allow_lists_methods_in_the_order_of_glances_router() {
        let table = AllowTable::new(<Apis as OpenApi>::meta());
        let id = Uuid::new_v4();
        let cases = [
            (format!("/v2/images/{id}"), "GET, PATCH, DELETE"),
            (format!("/v2/images/{id}/tags/t"), "PUT, DELETE"),
            (format!("/v2/images/{id}/file"), "GET, PUT"),
            (format!("/v2/images/{id}/members/p"), "GET, PUT, DELETE"),
            (format!("/v2/cache/{id}"), "DELETE, PUT"),
            ("/v2/cache".to_owned(), "GET, DELETE"),
            (format!("/v2/tasks/{id}"), "GET"),
            ("/v2/metadefs/namespaces/n".to_owned(), "GET, PUT, DELETE"),
            (
                "/v2/metadefs/namespaces/n/tags".to_owned(),
                "GET, POST, DELETE",
            ),
            (
                "/v2/metadefs/namespaces/n/tags/t".to_owned(),
                "GET, POST, PUT, DELETE",
            ),
            (
                "/v2/metadefs/namespaces/n/objects/o".to_owned(),
                "GET, PUT, DELETE",
            ),
        ];
        for (path, allow) in cases {
            assert_eq!(table.allowed(&path).join(", "), allow, "{path}");
        }
    }
}
