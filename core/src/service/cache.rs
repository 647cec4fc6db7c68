//! The cache management operations behind `/v2/cache`, each checked the way
//! Glance checks it: the image first (404 for one the caller cannot see),
//! then the policy rule (403), then whether this site caches at all (404).
//! The cache itself (`crate::cache`) only keeps files and index rows; every
//! decision about who may do what is made here.

use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::cache::{CacheState, ClearTarget};
use crate::context::RequestContext;
use crate::domain::{Image, ImageStatus};
use crate::policy::Target;

/// Glance's answer for an image the cache API cannot find.
pub fn not_found(id: &str) -> ServiceError {
    ServiceError::CachedImageNotFound(id.to_owned())
}

/// The policy rule, then whether the cache is on.
fn enforce(app: &App, ctx: &RequestContext, rule: &str) -> ServiceResult<()> {
    app.policy.enforce(rule, ctx, &Target::project(ctx))?;
    if !app.cache.enabled() {
        return Err(ServiceError::CacheDisabled);
    }
    Ok(())
}

/// The image as the caller may see it.
async fn image(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Image> {
    match super::images::get(app, ctx, id).await {
        Err(ServiceError::ImageNotFound(_) | ServiceError::NotFound(_)) => {
            Err(not_found(&id.to_string()))
        }
        other => other,
    }
}

fn cache_failure(e: glint_sdk::StoreError) -> ServiceError {
    tracing::error!(error = %e, "image cache failure");
    ServiceError::Store(e)
}

/// `GET /v2/cache` (`cache_list`).
pub async fn state(app: &App, ctx: &RequestContext) -> ServiceResult<CacheState> {
    enforce(app, ctx, "cache_list")?;
    app.cache.state().await.map_err(cache_failure)
}

/// `PUT /v2/cache/{image_id}` (`cache_image`): queue an active image; the
/// worker starts fetching it at once.
pub async fn queue(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<()> {
    let image = image(app, ctx, id).await?;
    enforce(app, ctx, "cache_image")?;
    if image.status != ImageStatus::Active {
        return Err(ServiceError::CacheNeedsActive);
    }
    app.cache.queue(id, Some(ctx)).map_err(cache_failure)?;
    Ok(())
}

/// `DELETE /v2/cache/{image_id}` (`cache_delete`): drop the image from the
/// cache and the queue. An image that no longer exists can still be
/// dropped while the cache or the queue holds it.
pub async fn delete(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<()> {
    if let Err(e) = image(app, ctx, id).await {
        let held = app.cache.is_cached(id)
            || app.cache.is_queued(id)
            || app
                .cache
                .state()
                .await
                .is_ok_and(|s| s.cached.iter().any(|c| c.image_id == id));
        if !matches!(e, ServiceError::CachedImageNotFound(_)) || !held {
            return Err(e);
        }
    }
    enforce(app, ctx, "cache_delete")?;
    app.cache.delete_cached(id).await.map_err(cache_failure)?;
    app.cache.delete_queued(id).map_err(cache_failure)?;
    Ok(())
}

/// `DELETE /v2/cache` (`cache_delete`): `x-image-cache-clear-target` names
/// what to empty, `cache` or `queue`; empty or absent, both.
pub async fn clear(app: &App, ctx: &RequestContext, target: Option<&str>) -> ServiceResult<()> {
    enforce(app, ctx, "cache_delete")?;
    let target = match target.unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "" => ClearTarget::Both,
        "cache" => ClearTarget::Cache,
        "queue" => ClearTarget::Queue,
        _ => {
            return Err(ServiceError::CacheClearTarget);
        }
    };
    app.cache.clear(target).await.map_err(cache_failure)?;
    Ok(())
}

/// `GET /v2/cache/nodes/{image_id}` (`list_cached_nodes`): the nodes that
/// cache the image.
pub async fn nodes(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Vec<String>> {
    enforce(app, ctx, "list_cached_nodes")?;
    image(app, ctx, id).await?;
    Ok(app.db.cache_nodes(id).await?)
}

/// `POST /v2/cache/clean` (`cache_clean`): remove unfinished and invalid
/// files and the copies of images that are no longer active.
pub async fn clean(app: &App, ctx: &RequestContext) -> ServiceResult<()> {
    enforce(app, ctx, "cache_clean")?;
    app.cache.clean().await.map_err(cache_failure)
}

/// `POST /v2/cache/prune` (`cache_prune`): evict least recently used images
/// down to `max_size`; the files and bytes evicted.
pub async fn prune(app: &App, ctx: &RequestContext) -> ServiceResult<(u64, u64)> {
    enforce(app, ctx, "cache_prune")?;
    app.cache.prune().await.map_err(cache_failure)
}
