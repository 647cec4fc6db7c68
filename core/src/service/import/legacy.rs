//! The legacy `import` task (`POST /v2/tasks`, administrators only): create
//! an image from the task's input and fetch its data from a URL into the
//! default store, in the background, as a web-download import does.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value};

use super::job::Job;
use super::properties::{IMPORTING, LOCK};
use super::request::Method;
use super::source::pin;
use crate::app::App;
use crate::context::RequestContext;
use crate::domain::{Image, ImageStatus, Task};
use crate::fetch::Pinned;
use crate::policy::Target;
use crate::service::images::{self, not_found_as};
use crate::service::{ServiceError, ServiceResult, tasks};

/// `POST /v2/tasks`: check the input, create the image, start the fetch.
pub async fn create(app: &Arc<App>, ctx: &RequestContext, body: &Value) -> ServiceResult<Task> {
    tasks::enforce_access(app, ctx)?;
    app.policy.enforce("add_task", ctx, &Target::project(ctx))?;
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    let Some(Value::Object(input)) = body.get("input") else {
        return Err(ServiceError::TaskInputRequired);
    };
    if kind != "import" {
        return Err(ServiceError::TaskTypeUnknown(kind.to_owned()));
    }
    // As Glance: the source is checked now, the rest of the input when the task runs.
    let uri = source(input.get("import_from"))?;
    let pinned = pin(app, &uri, "legacy import task").await?;
    let mut task = Task::new("import", input.clone(), Utc::now());
    task.owner = ctx.project_id.clone();
    task.user_id = ctx.user_id.clone();
    task.request_id = Some(ctx.request_id.clone());
    if let Some(missing) = ["import_from", "import_from_format", "image_properties"]
        .into_iter()
        .find(|key| !input.contains_key(*key))
    {
        let notes = crate::service::notify::task(app, "task.create", &task);
        app.db.create_task_noting(&task, &notes).await?;
        let message = ServiceError::TaskInputMissing(missing).to_string();
        tasks::fail(app, &mut task, &message).await;
        return Ok(task);
    }
    let properties = input
        .get("image_properties")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));

    let image = images::create(app, ctx, &properties).await?;
    task.image_id = Some(image.id);
    let notes = crate::service::notify::task(app, "task.create", &task);
    app.db.create_task_noting(&task, &notes).await?;
    start(app, ctx, image, uri, pinned, task.clone()).await?;
    Ok(task)
}

/// The `import_from` of a legacy import task, if it can be one: an http(s)
/// URL (400 otherwise, with Glance's reasons).
fn source(import_from: Option<&Value>) -> ServiceResult<String> {
    let uri = match import_from {
        None | Some(Value::Null) => return Err(ServiceError::TaskSourceInvalid("None".into())),
        Some(Value::String(uri)) => uri,
        Some(other) => return Err(ServiceError::TaskSourceInvalid(other.to_string())),
    };
    if uri.starts_with("http://") || uri.starts_with("https://") {
        Ok(uri.clone())
    } else if uri.is_empty() {
        Err(ServiceError::TaskSourceInvalid(String::new()))
    } else if uri.starts_with("file:///") || uri.starts_with("filesystem:///") {
        Err(ServiceError::TaskSourceLocal)
    } else {
        Err(ServiceError::TaskSourceScheme)
    }
}

/// The image was just created from the task's input: lock it, mark it
/// importing, and fetch its data from `uri` into the default store in the
/// background, written as `ctx` (the administrator who created the task).
async fn start(
    app: &Arc<App>,
    ctx: &RequestContext,
    image: Image,
    uri: String,
    pinned: Pinned,
    mut task: Task,
) -> ServiceResult<()> {
    let id = image.id;
    let store = app.stores.default_id().to_owned();
    // Glance's task fails the same way when the input's image has no formats.
    let (mut next, change) = match image.moved_to(ImageStatus::Importing) {
        Ok(moved) => moved,
        Err(e) => {
            tasks::fail(app, &mut task, &e.to_string()).await;
            return Ok(());
        }
    };
    next.properties.insert(LOCK.into(), task.id.to_string());
    next.properties.insert(IMPORTING.into(), store.clone());
    if let Err(e) = app.db.update_image(&next, Some(change.from)).await {
        tasks::fail(
            app,
            &mut task,
            "The image changed before the import could start.",
        )
        .await;
        return Err(not_found_as(e, id));
    }
    let job = Job {
        app: Arc::clone(app),
        image_id: id,
        method: Method::WebDownload { uri },
        stores: vec![store],
        all_must_succeed: true,
        plugins: false,
        pinned: Some(pinned),
        token: None,
        caller: ctx.clone(),
        task,
        op: None,
    };
    tokio::spawn(job.run());
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(v: Option<Value>) -> String {
        source(v.as_ref()).unwrap_err().to_string()
    }

    #[test]
    fn only_http_sources_are_taken() {
        assert_eq!(source(Some(&json!("https://h/x"))).unwrap(), "https://h/x");
        assert_eq!(refusal(None), "Invalid location: None");
        assert_eq!(refusal(Some(Value::Null)), "Invalid location: None");
        assert_eq!(refusal(Some(json!(""))), "Invalid location: ");
        assert_eq!(refusal(Some(json!(7))), "Invalid location: 7");
        assert!(refusal(Some(json!("file:///etc/passwd"))).starts_with("File based imports"));
        assert!(refusal(Some(json!("ftp://h/x"))).starts_with("The given uri is not valid."));
    }
}
