//! The image properties an import keeps: its lock and its progress per store.

use uuid::Uuid;

use crate::app::App;
use crate::domain::{Image, ImageStatus};
use crate::service::ServiceResult;

/// The image property holding the id of the task that owns the image.
pub const LOCK: &str = "os_glance_import_task";
/// The stores an import still has to write, comma-separated.
pub const IMPORTING: &str = "os_glance_importing_to_stores";
/// The stores imports failed to write, comma-separated.
pub const FAILED: &str = "os_glance_failed_import";

/// Whether the database says data is being written for this image: an upload or import in
/// progress (`saving`, `importing`), or an import or copy holding its lock or with stores left
/// to write. Objects a store holds for such an image may be a live writer's.
pub fn is_being_written(image: &Image) -> bool {
    matches!(image.status, ImageStatus::Saving | ImageStatus::Importing)
        || image.properties.contains_key(LOCK)
        || image
            .properties
            .get(IMPORTING)
            .is_some_and(|s| !s.is_empty())
}

/// Whether the task named by an image's lock is still at work.
pub(super) async fn lock_is_held(app: &App, task_id: &str) -> ServiceResult<bool> {
    let Ok(task_id) = Uuid::parse_str(task_id) else {
        return Ok(false);
    };
    Ok(app
        .db
        .get_task(task_id)
        .await?
        .is_some_and(|t| !t.status.is_final()))
}

/// The stores of a comma-separated progress property.
pub(super) fn split(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_properties_split_on_commas() {
        assert!(split(None).is_empty());
        assert!(split(Some(&String::new())).is_empty());
        assert_eq!(split(Some(&" a, ,b,".to_owned())), ["a", "b"]);
    }
}
