//! `/healthcheck`, answered before authentication as a load balancer probes
//! it: `200 OK`, or `503 DISABLED BY FILE` while `[health] disable_by_file`
//! exists, or `503 DRAINING` between SIGTERM and the shutdown (`[health]
//! drain_secs`), so that a node can be drained before it stops. Administrators get
//! the detailed form (`?detailed=true`): the database and each store.

use poem::http::{StatusCode, header};
use poem::{Request, Response};

use crate::app::App;
use crate::context::RequestContext;
use crate::service::health;

/// The path probes use.
pub const PATH: &str = "/healthcheck";

/// The answer to a probe; `caller` is set when the detailed form was asked for
/// and the caller authenticated.
pub async fn answer(app: &App, req: &Request, caller: Option<&RequestContext>) -> Response {
    if let Some(file) = &app.config.health.disable_by_file
        && file.exists()
    {
        return text(StatusCode::SERVICE_UNAVAILABLE, "DISABLED BY FILE");
    }
    if health::draining() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "DRAINING");
    }
    if caller.is_some_and(|ctx| ctx.is_admin) && wants_detail(req) {
        let report = health::check(app).await;
        let status = if report.healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return Response::builder()
            .status(status)
            .content_type("application/json")
            .body(report.body.to_string());
    }
    text(StatusCode::OK, "OK")
}

/// `?detailed=true` (or `1`, `yes`): the form that needs credentials.
pub fn wants_detail(req: &Request) -> bool {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).any(|(k, v)| {
        k == "detailed" && matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
    })
}

fn text(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .body(body)
}
