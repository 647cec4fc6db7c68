//! Tasks: reading them (`/v2/tasks`, administrators only, and
//! `GET /v2/images/{id}/tasks`) and recording how they end. The work of a
//! task lives with its kind: imports in [`super::import`] (the legacy
//! `import` task included), location checks in [`super::locations`].

use chrono::Utc;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, images};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, TaskQuery};
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

pub(crate) fn enforce_access(app: &App, ctx: &RequestContext) -> ServiceResult<()> {
    app.policy
        .enforce("tasks_api_access", ctx, &Target::project(ctx))?;
    Ok(())
}

/// `GET /v2/tasks/{id}`.
pub async fn show(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Task> {
    enforce_access(app, ctx)?;
    app.policy.enforce("get_task", ctx, &Target::project(ctx))?;
    match app.db.get_task(id).await? {
        Some(task) if ctx.is_admin || task.owner == ctx.project_id => Ok(task),
        _ => Err(ServiceError::TaskNotFound(id)),
    }
}

/// The checked query of `GET /v2/tasks`.
pub fn query(
    ctx: &RequestContext,
    params: &[(String, String)],
    default_limit: u32,
    max_limit: u32,
) -> ServiceResult<TaskQuery> {
    let bad = |m: &str| ServiceError::Invalid(m.to_owned());
    let invalid = |what, value: &String| ServiceError::TaskFilterInvalid {
        what,
        value: value.clone(),
    };
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
                    .ok_or_else(|| bad("Sort key supplied was not valid."))?;
            }
            "sort_dir" => {
                q.ascending = match value.as_str() {
                    "asc" => true,
                    "desc" => false,
                    _ => return Err(invalid("sort direction", value)),
                }
            }
            "status" => {
                q.status =
                    Some(TaskStatus::parse(value).ok_or_else(|| invalid("status value", value))?);
            }
            "type" => {
                // Glance's list filter knows only the tasks API's own type, though it
                // lists the others.
                if value != "import" {
                    return Err(invalid("type value", value));
                }
                q.kind = Some(value.clone());
            }
            "marker" => {
                q.marker = Some(Uuid::parse_str(value).map_err(|_| bad("Invalid marker format"))?);
            }
            "limit" => {
                let limit: i64 = value
                    .parse()
                    .map_err(|_| bad("limit param must be an integer"))?;
                if limit < 0 {
                    return Err(bad("limit param must be positive"));
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
        Err(DbError::MarkerNotFound) => Err(ServiceError::TaskMarkerNotFound(
            q.marker.map(|m| m.to_string()).unwrap_or_default(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The tasks that worked on an image (`GET /v2/images/{id}/tasks`).
pub async fn of_image(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Vec<Task>> {
    images::get(app, ctx, id).await?;
    Ok(app.db.image_tasks(id).await?)
}

/// Records that a task's work has begun.
pub(crate) async fn processing(app: &App, task: &mut Task) {
    task.status = TaskStatus::Processing;
    task.updated_at = Utc::now();
    let notes = super::notify::task(app, "task.processing", task);
    if let Err(e) = app.db.update_task_noting(task, &notes).await {
        tracing::debug!(task = %task.id, error = %e, "could not record that the task runs");
    }
}

/// Records a task's success, with its `result`.
pub(crate) async fn succeed(app: &App, task: &mut Task, result: Option<Map<String, Value>>) {
    task.status = TaskStatus::Success;
    task.result = result;
    finish(app, task, "success").await;
}

/// Records a task's failure, `message` saying why.
pub(crate) async fn fail(app: &App, task: &mut Task, message: &str) {
    task.status = TaskStatus::Failure;
    task.message = message.to_owned();
    finish(app, task, "failure").await;
}

async fn finish(app: &App, task: &mut Task, outcome: &str) {
    let now = Utc::now();
    task.updated_at = now;
    // A finished task stays `[task] task_time_to_live` hours, then the reaper removes it.
    let ttl = i64::try_from(app.config.task.task_time_to_live).unwrap_or(i64::MAX);
    task.expires_at = Some(
        chrono::Duration::try_hours(ttl)
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC),
    );
    let notes = [
        super::notify::task(app, &format!("task.{outcome}"), task),
        super::notify::task_run(app, task),
    ]
    .concat();
    if let Err(e) = app.db.update_task_noting(task, &notes).await {
        tracing::warn!(task = %task.id, error = %e, outcome, "could not record the task's end");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::anonymous("req-test".into())
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_list_query_takes_known_values_only() {
        let q = query(
            &ctx(),
            &params(&[("sort_dir", "asc"), ("type", "import"), ("limit", "500")]),
            25,
            100,
        )
        .unwrap();
        assert!(q.ascending);
        assert_eq!(q.kind.as_deref(), Some("import"));
        assert_eq!(q.limit, 100);
        for (key, value, message) in [
            ("sort_dir", "up", "Invalid sort direction: up"),
            ("status", "done", "Invalid status value: done"),
            ("type", "export", "Invalid type value: export"),
            ("sort_key", "name", "Sort key supplied was not valid."),
            ("limit", "-1", "limit param must be positive"),
            ("marker", "x", "Invalid marker format"),
        ] {
            let err = query(&ctx(), &params(&[(key, value)]), 25, 100).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }
}
