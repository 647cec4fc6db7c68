//! Another API node of this service: the one whose staging area holds an
//! image's data. A glance-direct import that lands elsewhere is replayed
//! there with the caller's token, as Glance's `_proxy_request_to_stage_host`
//! does.
//!
//! The stage host is a URL an operator configured (`worker_self_reference_url`)
//! and a node recorded, never one a caller chose (`os_glance_*` properties are
//! reserved), so the `[import_filtering]` rules do not apply to it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::context::RequestContext;

/// How long the stage host may take to answer, as Glance allows.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Marks a request this node forwards to a stage host, with the stage host's URL as its value.
/// A node that gets a forwarded import it would forward again refuses it: two nodes whose
/// `worker_self_reference_url` disagree with where they are reached would otherwise pass the
/// request around until the connections run out (Glance sends no such mark).
pub const FORWARDED_HEADER: &str = "x-glint-forwarded-to-stage-host";

/// How a forwarded request ended, when not in success.
#[derive(Debug, thiserror::Error)]
pub enum StageHostError {
    /// No connection could be made (or it timed out): Glance's 504.
    #[error("stage host {host} is unreachable: {reason}")]
    Unreachable { host: String, reason: String },
    /// The request failed after the connection was made: Glance's 502.
    #[error("request to stage host {host} failed: {reason}")]
    Failed { host: String, reason: String },
    /// The stage host answered with this error status; the caller gets it.
    #[error("stage host {host} answered {status}")]
    Answered { host: String, status: StatusCode },
}

/// Replays `POST /v2/images/{id}/import` with `body` (and the caller's
/// `X-Image-Meta-Store`) on `host`; on success, the request id the stage
/// host gave the import.
pub async fn import(
    host: &str,
    ctx: &RequestContext,
    id: Uuid,
    body: &Value,
    header_store: Option<&str>,
) -> Result<Option<String>, StageHostError> {
    let path = format!("/v2/images/{id}/import");
    send(host, ctx, reqwest::Method::POST, &path, |r| {
        let r = r.json(body);
        match header_store {
            Some(store) => r.header("x-image-meta-store", store),
            None => r,
        }
    })
    .await
}

/// Replays `DELETE /v2/images/{id}` on `host`, which removes the staged
/// data with the image.
pub async fn delete(host: &str, ctx: &RequestContext, id: Uuid) -> Result<(), StageHostError> {
    let path = format!("/v2/images/{id}");
    send(host, ctx, reqwest::Method::DELETE, &path, |r| r)
        .await
        .map(drop)
}

async fn send(
    host: &str,
    ctx: &RequestContext,
    method: reqwest::Method,
    path: &str,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<Option<String>, StageHostError> {
    let url = format!("{}{path}", host.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| StageHostError::Failed {
            host: host.to_owned(),
            reason: e.to_string(),
        })?;
    // The caller's request id travels with the work, as with every
    // request this node makes on its behalf.
    let mut request = client
        .request(method, &url)
        .header("x-openstack-request-id", &ctx.request_id)
        .header(FORWARDED_HEADER, host);
    if let Some(token) = &ctx.auth_token {
        request = request.header("x-auth-token", token.expose());
    }
    let response = build(request).send().await.map_err(|e| {
        let unreachable = e.is_connect() || e.is_timeout();
        let reason = e.without_url().to_string();
        if unreachable {
            StageHostError::Unreachable {
                host: host.to_owned(),
                reason,
            }
        } else {
            StageHostError::Failed {
                host: host.to_owned(),
                reason,
            }
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(StageHostError::Answered {
            host: host.to_owned(),
            status,
        });
    }
    Ok(response
        .headers()
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}
