//! The legacy tasks API (`/v2/tasks`): administrators only, one task type,
//! `import`, which creates an image and fetches its data from a URL.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, images, import};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::TaskQuery;
use crate::domain::{Task, TaskStatus};
use crate::policy::Target;

const SORT_KEYS: [&str; 6] = [
    "created_at",
    "updated_at",
    "id",
    "type",
    "status",
    "expires_at",
];

fn enforce_access(app: &App, ctx: &RequestContext) -> ServiceResult<()> {
    app.policy
        .enforce("tasks_api_access", ctx, &Target::project(ctx))?;
    Ok(())
}

/// `POST /v2/tasks`: check the input, create the image, start the fetch.
pub async fn create(app: &Arc<App>, ctx: &RequestContext, body: &Value) -> ServiceResult<Task> {
    enforce_access(app, ctx)?;
    app.policy.enforce("add_task", ctx, &Target::project(ctx))?;
    let bad = |m: String| ServiceError::Invalid(m);
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    let Some(Value::Object(input)) = body.get("input") else {
        return Err(bad("Task 'input' is required".into()));
    };
    if kind != "import" {
        return Err(bad(format!(
            "Provided object does not match schema 'task': '{kind}' is not one of ['import']"
        )));
    }
    // As Glance: the source is checked now, the rest of the input when the task runs.
    let uri = legacy_source(input.get("import_from"))?;
    let pinned = import::check_uri_for(app, &uri, "legacy import task").await?;
    let mut task = Task::new("import", input.clone(), Utc::now());
    task.owner = ctx.project_id.clone();
    task.user_id = ctx.user_id.clone();
    task.request_id = Some(ctx.request_id.clone());
    if let Some(missing) = ["import_from", "import_from_format", "image_properties"]
        .into_iter()
        .find(|key| !input.contains_key(*key))
    {
        app.db.create_task(&task).await?;
        let message = format!("Input does not contain '{missing}' field");
        import::fail_task(app, &mut task, &message).await;
        return Ok(task);
    }
    let properties = input
        .get("image_properties")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));

    let image = images::create(app, ctx, &properties).await?;
    task.image_id = Some(image.id);
    app.db.create_task(&task).await?;
    import::start_task_import(app, ctx, image, uri, pinned, task.clone()).await?;
    Ok(task)
}

/// The `import_from` of a legacy import task, if it can be one: an http(s) URL (400 otherwise,
/// with Glance's reasons).
fn legacy_source(import_from: Option<&Value>) -> ServiceResult<String> {
    let bad = |m: String| Err(ServiceError::Invalid(m));
    let uri = match import_from {
        None | Some(Value::Null) => return bad("Invalid location: None".into()),
        Some(Value::String(uri)) if uri.is_empty() => return bad("Invalid location: ".into()),
        Some(Value::String(uri)) => uri,
        Some(other) => return bad(format!("Invalid location: {other}")),
    };
    if uri.starts_with("http://") || uri.starts_with("https://") {
        Ok(uri.clone())
    } else if uri.starts_with("file:///") || uri.starts_with("filesystem:///") {
        bad(
            "File based imports are not allowed. Please use a non-local source of image data."
                .into(),
        )
    } else {
        bad(
            "The given uri is not valid. Please specify a valid uri from the following list of \
             supported uri ['http']"
                .into(),
        )
    }
}

/// `GET /v2/tasks/{id}`.
pub async fn show(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Task> {
    enforce_access(app, ctx)?;
    app.policy.enforce("get_task", ctx, &Target::project(ctx))?;
    match app.db.get_task(id).await? {
        Some(task) if ctx.is_admin || task.owner == ctx.project_id => Ok(task),
        _ => Err(ServiceError::NotFound(format!("Could not find task {id}"))),
    }
}

/// The checked query of `GET /v2/tasks`.
pub fn query(
    ctx: &RequestContext,
    params: &[(String, String)],
    default_limit: u32,
    max_limit: u32,
) -> ServiceResult<TaskQuery> {
    let bad = |m: String| ServiceError::Invalid(m);
    let mut q = TaskQuery {
        owner: (!ctx.is_admin).then(|| ctx.project_id.clone()).flatten(),
        kind: None,
        status: None,
        sort_key: "created_at",
        ascending: false,
        marker: None,
        limit: default_limit,
    };
    for (key, value) in params {
        match key.as_str() {
            "sort_key" => {
                q.sort_key = SORT_KEYS
                    .into_iter()
                    .find(|k| k == value)
                    .ok_or_else(|| bad("Sort key supplied was not valid.".into()))?;
            }
            "sort_dir" => {
                q.ascending = match value.as_str() {
                    "asc" => true,
                    "desc" => false,
                    _ => return Err(bad(format!("Invalid sort direction: {value}"))),
                }
            }
            "status" => {
                q.status = Some(
                    TaskStatus::parse(value)
                        .ok_or_else(|| bad(format!("Invalid status value: {value}")))?,
                );
            }
            "type" => {
                if value != "import" && value != "api_image_import" && value != "location_import" {
                    return Err(bad(format!("Invalid type value: {value}")));
                }
                q.kind = Some(value.clone());
            }
            "marker" => {
                q.marker =
                    Some(Uuid::parse_str(value).map_err(|_| bad("Invalid marker format".into()))?);
            }
            "limit" => {
                let limit: i64 = value
                    .parse()
                    .map_err(|_| bad("limit param must be an integer".into()))?;
                if limit < 0 {
                    return Err(bad("limit param must be positive".into()));
                }
                q.limit = (limit as u64).min(u64::from(max_limit)) as u32;
            }
            _ => {}
        }
    }
    Ok(q)
}

/// `GET /v2/tasks`.
pub async fn list(app: &App, ctx: &RequestContext, q: &TaskQuery) -> ServiceResult<Vec<Task>> {
    enforce_access(app, ctx)?;
    app.policy
        .enforce("get_tasks", ctx, &Target::project(ctx))?;
    match app.db.list_tasks(q).await {
        Ok(tasks) => Ok(tasks),
        Err(crate::db::DbError::MarkerNotFound) => Err(ServiceError::Invalid(format!(
            "Task with the given id {} was not found",
            q.marker.map(|m| m.to_string()).unwrap_or_default()
        ))),
        Err(e) => Err(e.into()),
    }
}
