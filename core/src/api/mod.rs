//! The HTTP API: thin handlers over `service`, one error map, and the
//! conventions Glance clients rely on (request ids, version prefixes, error
//! bodies by `Accept`, 405 with `Allow`).

pub mod actions;
pub mod body;
pub mod cache;
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

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, Uri, header};
use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApi, OpenApiService, Tags};
use uuid::Uuid;

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
        .description("OpenStack Images API v2, as Glance 33 serves it.")
}

/// The OpenAPI document, as checked in under `openapi/`.
pub fn spec() -> String {
    service().spec()
}

/// The whole HTTP application.
pub fn endpoint(app: Arc<App>) -> impl Endpoint<Output = Response> {
    let svc = service();
    let docs = svc.swagger_ui();
    let spec = svc.spec_endpoint();
    let routes = Route::new()
        .nest("/", svc)
        .nest("/docs", docs)
        .at("/openapi.json", spec);
    let routes = Arc::new(routes.with(AddData::new(app.clone())));
    let allowed = Arc::new(AllowTable::new());
    poem::endpoint::make(move |req| {
        let (routes, app, allowed) = (routes.clone(), app.clone(), allowed.clone());
        async move { Ok::<_, poem::Error>(conventions(&*routes, &app, &allowed, req).await) }
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
    mut req: Request,
) -> Response {
    // Glance's CORS middleware answers every OPTIONS, before authentication, with an empty
    // 200 (and, when it is configured, the CORS headers, which Glint does not offer).
    if req.method() == Method::OPTIONS {
        return Response::builder()
            .status(StatusCode::OK)
            .body(Vec::<u8>::new());
    }
    let started = std::time::Instant::now();
    // Ours always; the caller's, when well formed, is logged beside it to tie
    // the calls of one operation across services together. An ill-formed one
    // is ignored rather than refused.
    let request_id = format!("req-{}", Uuid::new_v4());
    let global_id = req
        .header("x-openstack-request-id")
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
        Ok(()) if req.uri().path() == health::PATH && !health::wants_detail(&req) => {
            health::answer(app, &req, None).await
        }
        Ok(()) => match authenticate(app, &req, request_id.clone()).await {
            Err(e) => e.render(accept.as_deref()),
            Ok(ctx) if req.uri().path() == health::PATH => {
                caller = Some((ctx.user_id.clone(), ctx.project_id.clone()));
                health::answer(app, &req, Some(&ctx)).await
            }
            // Glance routes no HEAD (version discovery aside, which answers any method).
            Ok(_)
                if method == Method::HEAD
                    && !matches!(req.uri().path(), "/" | "/versions")
                    && !allowed.allowed(req.uri().path()).is_empty() =>
            {
                ApiError::from(RequestError::MethodNotAllowed {
                    method: "HEAD".into(),
                    allow: allowed.allowed(req.uri().path()).join(", "),
                })
                .render(accept.as_deref())
            }
            Ok(ctx) => {
                caller = Some((ctx.user_id.clone(), ctx.project_id.clone()));
                req.extensions_mut().insert(ctx);
                let path = req.uri().path().to_owned();
                match routes.call(req).await {
                    Ok(resp) => resp.into_response(),
                    Err(e) => {
                        let allow = allowed.allowed(&path).join(", ");
                        ApiError::from_framework(e, method.as_str(), &allow)
                            .render(accept.as_deref())
                    }
                }
            }
        },
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-openstack-request-id", v);
    }
    // Handlers give paths; the Location a client gets is absolute, as webob makes it.
    let relative = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|location| location.starts_with('/'))
        .map(|location| format!("{origin}{location}"));
    if let Some(v) = relative.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, v);
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

/// Checks and rewrites before routing; `Err` is the answer to send instead.
// The early answer is returned as is; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn prepare(app: &App, req: &mut Request) -> Result<(), Response> {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    if !KNOWN.contains(req.method()) {
        return Err(
            ApiError::from(RequestError::MethodNotImplemented).render(req.header(header::ACCEPT))
        );
    }
    // `/v2.N/...` is `/v2/...`; an unknown version gets the versions document.
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/v") {
        let (version, tail) = rest.split_once('/').map_or((rest, ""), |(v, t)| (v, t));
        let is_version = !version.is_empty()
            && version.chars().all(|c| c.is_ascii_digit() || c == '.')
            && version.starts_with(|c: char| c.is_ascii_digit());
        if is_version && version != "2" {
            if versions::accepts(version) {
                let query = req
                    .uri()
                    .query()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                if let Ok(uri) = format!("/v2/{tail}{query}").parse::<Uri>() {
                    *req.uri_mut() = uri;
                }
            } else {
                let doc = versions::document(app, req);
                return Err(Response::builder()
                    .status(StatusCode::MULTIPLE_CHOICES)
                    .content_type("application/json")
                    .body(doc.to_string()));
            }
        }
    }
    if matches!(*req.method(), Method::GET | Method::DELETE | Method::HEAD) && has_body(req) {
        return Err(
            ApiError::from(RequestError::BodyNotExpected).render(req.header(header::ACCEPT))
        );
    }
    Ok(())
}

fn has_body(req: &Request) -> bool {
    req.header(header::CONTENT_LENGTH)
        .is_some_and(|l| l.trim() != "0")
        || req.header(header::TRANSFER_ENCODING).is_some()
}

/// Path templates with their methods and operationIds, read from the API
/// definitions: for `Allow`, and for the `operation` label of the metrics.
struct AllowTable(Vec<PathMethods>);

/// A path template's segments, and each of its methods with its operationId.
type PathMethods = (Vec<String>, Vec<(String, &'static str)>);

impl AllowTable {
    fn new() -> Self {
        let mut table: Vec<PathMethods> = Vec::new();
        for api in <Apis as OpenApi>::meta() {
            for path in api.paths {
                let segments = path.path.split('/').map(str::to_owned).collect();
                let methods = path
                    .operations
                    .iter()
                    .map(|o| (o.method.to_string(), o.operation_id.unwrap_or("unnamed")))
                    .collect();
                table.push((segments, methods));
            }
        }
        Self(table)
    }

    /// The methods of the templates `path` matches, literal segments first.
    fn matching(&self, path: &str) -> impl Iterator<Item = &(String, &'static str)> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut found: Vec<&PathMethods> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template.iter().zip(&parts).all(|(t, p)| {
                        t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty())
                    })
            })
            .collect();
        // `/v2/images/{id}` and `/v2/images/detail`-like pairs: the literal wins, as in routing.
        found.sort_by_key(|(template, _)| template.iter().filter(|t| t.starts_with('{')).count());
        found.into_iter().flat_map(|(_, methods)| methods)
    }

    fn allowed(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = self.matching(path).map(|(m, _)| m.clone()).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The operationId `method path` is routed to; `unmatched` when none.
    fn operation(&self, path: &str, method: &Method) -> &'static str {
        if matches!(path, "/" | "/versions") {
            return "versions";
        }
        let method = if method == Method::HEAD {
            "GET"
        } else {
            method.as_str()
        };
        self.matching(path)
            .find(|(m, _)| m.eq_ignore_ascii_case(method))
            .map_or("unmatched", |(_, id)| id)
    }
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

    #[test]
    fn operations_are_named_by_their_operation_id() {
        let table = AllowTable::new();
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
}
