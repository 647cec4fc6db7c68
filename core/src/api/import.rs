//! Interoperable import: stage data, import it, follow the task, discover the methods.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{DataBody, JsonBody, JsonDoc};
use super::error::ApiError;
use super::image_data::closing;
use super::members::NoContent;
use super::{ApiTags, context};
use crate::app::App;
use crate::domain::Task;
use crate::service::import::{self, ImportRequest};
use crate::service::quota;

pub struct ImportApi;

/// `{"method": {"name": "glance-direct"}, "stores": [...], "all_stores": false, "all_stores_must_succeed": true}`
#[derive(Debug, Object)]
#[oai(rename = "ImageImport")]
pub struct ImportDoc {
    /// `{"name": "glance-direct" | "web-download" | "copy-image", "uri": "..."}`
    pub method: Any<Value>,
    pub stores: Option<Vec<String>>,
    pub all_stores: Option<bool>,
    pub all_stores_must_succeed: Option<bool>,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// The import task runs; follow it with `GET /v2/images/{id}/tasks`.
    #[oai(status = 202)]
    Accepted,
}

/// A task as the tasks API (`/v2/tasks`) shows it.
pub fn task(t: &Task) -> Value {
    let time = super::view::timestamp;
    json!({
        "id": t.id,
        "type": t.kind,
        "status": t.status.as_str(),
        "owner": t.owner,
        "input": t.input,
        "result": t.result,
        "message": t.message,
        "image_id": t.image_id,
        "request_id": t.request_id,
        "user_id": t.user_id,
        "expires_at": t.expires_at.as_ref().map(time),
        "created_at": time(&t.created_at),
        "updated_at": time(&t.updated_at),
        "self": format!("/v2/tasks/{}", t.id),
        "schema": "/v2/schemas/task",
    })
}

/// A task as `GET /v2/images/{id}/tasks` shows it: Glance answers with its database rows, so
/// timestamps are Python's `isoformat` of naive UTC times, the soft-delete columns are there,
/// and there are no links.
pub fn image_task(t: &Task) -> Value {
    json!({
        "id": t.id,
        "type": t.kind,
        "status": t.status.as_str(),
        "owner": t.owner,
        "expires_at": t.expires_at.as_ref().map(isoformat),
        "created_at": isoformat(&t.created_at),
        "updated_at": isoformat(&t.updated_at),
        "deleted_at": null,
        "deleted": false,
        "image_id": t.image_id,
        "request_id": t.request_id,
        "user_id": t.user_id,
        "input": t.input,
        "result": t.result,
        "message": t.message,
    })
}

/// Python's `datetime.isoformat()` of a naive UTC time: microseconds only when there are some.
fn isoformat(t: &chrono::DateTime<chrono::Utc>) -> String {
    let naive = t.naive_utc();
    if naive.and_utc().timestamp_subsec_micros() == 0 {
        naive.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        naive.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

#[OpenApi(tag = "ApiTags::Images")]
impl ImportApi {
    /// Stage image data for a `glance-direct` import (`queued` → `uploading`).
    #[oai(
        path = "/v2/images/:image_id/stage",
        method = "put",
        operation_id = "stageImageData"
    )]
    async fn stage(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: DataBody,
        /// Expected size in bytes; a mismatch is refused.
        #[oai(name = "x-openstack-image-size")]
        image_size: Header<Option<String>>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id).map_err(closing)?;
        let expected = match image_size.0 {
            Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
                closing(ApiError::bad_request(format!(
                    "Invalid x-openstack-image-size: '{s}'"
                )))
            })?),
            None => body.content_length,
        };
        import::stage(app.0, context(req), id, body.stream, expected)
            .await
            .map_err(|e| closing(e.into()))?;
        Ok(NoContent::NoContent)
    }

    /// Import image data with one of the methods `/v2/info/import` lists.
    #[oai(
        path = "/v2/images/:image_id/import",
        method = "post",
        operation_id = "importImage"
    )]
    async fn import(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: JsonBody<ImportDoc>,
        /// Target store, when the body names none.
        #[oai(name = "X-Image-Meta-Store")]
        store: Header<Option<String>>,
    ) -> Result<Accepted, ApiError> {
        let id = super::image_id(&image_id)?;
        let request = ImportRequest::parse(app.0, body.value, store.0)?;
        import::start(app.0, context(req), id, request).await?;
        Ok(Accepted::Accepted)
    }

    /// The tasks that worked on an image, newest first.
    #[oai(
        path = "/v2/images/:image_id/tasks",
        method = "get",
        operation_id = "listImageTasks"
    )]
    async fn tasks(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<JsonDoc<Any<Value>>, ApiError> {
        let id = super::image_id(&image_id)?;
        let tasks = import::image_tasks(app.0, context(req), id).await?;
        Ok(JsonDoc::new(json!({
            "tasks": tasks.iter().map(image_task).collect::<Vec<_>>(),
        })))
    }

    /// The caller's project's quota usage (empty when quotas are off).
    #[oai(path = "/v2/info/usage", method = "get", operation_id = "showUsage")]
    async fn usage(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<JsonDoc<Any<Value>>, ApiError> {
        let usage = quota::usage(app.0, context(req)).await?;
        let mut out = serde_json::Map::new();
        for (resource, limit, used) in usage {
            out.insert(
                resource.name().into(),
                json!({"limit": limit, "usage": used}),
            );
        }
        Ok(JsonDoc::new(json!({"usage": out})))
    }

    /// The import methods this site offers.
    #[oai(
        path = "/v2/info/import",
        method = "get",
        operation_id = "listImportMethods"
    )]
    async fn methods(&self, app: Data<&Arc<App>>) -> JsonDoc<Any<Value>> {
        JsonDoc::new(json!({
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": app.config.import.methods,
            }
        }))
    }
}
