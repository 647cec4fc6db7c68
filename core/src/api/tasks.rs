//! The legacy tasks API: `/v2/tasks` (administrators only).

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{JsonBody, JsonDoc};
use super::error::{ApiError, RequestError};
use super::import::task;
use super::view::{TaskDoc, TasksDoc};
use super::{ApiTags, context};
use crate::app::App;
use crate::service::{import, tasks};

pub struct TasksApi;

/// `{"type": "import", "input": {"import_from": URL, "import_from_format": "qcow2", "image_properties": {...}}}`
#[derive(Debug, Object)]
#[oai(rename = "TaskCreate")]
pub struct TaskCreateDoc {
    #[oai(rename = "type")]
    pub kind: String,
    pub input: TaskInputDoc,
}

/// What an `import` task fetches, and the image it makes.
#[derive(Debug, Object)]
#[oai(rename = "ImportTaskInput")]
pub struct TaskInputDoc {
    /// The URL of the data.
    pub import_from: String,
    /// The data's disk format.
    pub import_from_format: Option<String>,
    /// The new image's attributes, as `POST /v2/images` takes them.
    pub image_properties: Option<std::collections::BTreeMap<String, Any<Value>>>,
}

#[derive(ApiResponse)]
pub enum TaskCreated {
    /// The task, `pending`.
    #[oai(status = 201)]
    Created(
        JsonDoc<TaskDoc>,
        /// `/v2/tasks/{id}`
        #[oai(header = "Location")]
        String,
    ),
}

#[OpenApi(tag = "ApiTags::Images")]
impl TasksApi {
    /// Create an `import` task: a new image whose data is fetched from a URL.
    #[oai(path = "/v2/tasks", method = "post", operation_id = "createTask")]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        body: JsonBody<TaskCreateDoc>,
    ) -> Result<TaskCreated, ApiError> {
        let created = import::legacy::create(app.0, context(req), &body.value).await?;
        Ok(TaskCreated::Created(
            JsonDoc::new(task(&created)),
            format!("/v2/tasks/{}", created.id),
        ))
    }

    /// List tasks, newest first; filters `type` and `status`, paged by `marker`.
    #[oai(path = "/v2/tasks", method = "get", operation_id = "listTasks")]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        /// Page size.
        #[oai(name = "limit")]
        _limit: Query<Option<super::documented::Lenient<u32>>>,
        /// Id of the last task of the previous page.
        #[oai(name = "marker")]
        _marker: Query<Option<String>>,
    ) -> Result<JsonDoc<TasksDoc>, ApiError> {
        let params = super::query_pairs(req);
        let api = &app.config.api;
        let query = tasks::query(
            context(req),
            &params,
            api.limit_param_default,
            api.api_limit_max,
        )?;
        let found = tasks::list(app.0, context(req), &query).await?;
        let views: Vec<Value> = found
            .iter()
            .map(|t| {
                let mut v = task(t);
                if let Some(map) = v.as_object_mut() {
                    for hidden in ["input", "result", "message"] {
                        map.remove(hidden);
                    }
                }
                v
            })
            .collect();
        let mut body = json!({
            "tasks": views,
            "first": super::link("/v2/tasks", &params, None),
            "schema": "/v2/schemas/tasks",
        });
        if found.len() as u32 == query.limit
            && let Some(last) = found.last()
        {
            let marker = last.id.to_string();
            body["next"] = json!(super::link("/v2/tasks", &params, Some(("marker", &marker))));
        }
        Ok(JsonDoc::new(body))
    }

    /// One task.
    #[oai(path = "/v2/tasks/:task_id", method = "get", operation_id = "showTask")]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        task_id: Path<String>,
    ) -> Result<JsonDoc<TaskDoc>, ApiError> {
        let id = uuid::Uuid::parse_str(&task_id)
            .map_err(|_| RequestError::NotATaskId(task_id.0.clone()))?;
        let found = tasks::show(app.0, context(req), id).await?;
        Ok(JsonDoc::new(task(&found)))
    }

    /// Tasks cannot be deleted: they expire. Glance routes the method to say so (after the
    /// tasks API's own rule), so the answer is its 405, not the router's. Hidden from the
    /// spec: no request to it succeeds.
    #[oai(path = "/v2/tasks/:task_id", method = "delete", hidden)]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        #[allow(unused_variables)] task_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        tasks::enforce_access(app.0, context(req))?;
        Err(RequestError::TaskDelete.into())
    }
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Never answered.
    #[oai(status = 204)]
    NoContent,
}
