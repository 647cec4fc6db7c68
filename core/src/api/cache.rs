//! The image cache of this API node (`/v2/cache`): what it holds, queueing
//! images for it, emptying it. Administrators only by default.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::body::JsonDoc;
use super::error::ApiError;
use super::images::NoContent;
use super::{ApiTags, context};
use crate::app::App;
use crate::service::cache as service;

pub struct CacheApi;

/// One image in this node's cache. Times are seconds since the epoch.
#[derive(Debug, Object)]
#[oai(rename = "CachedImage")]
pub struct CachedImageDoc {
    /// The cache index row.
    pub id: i64,
    pub image_id: String,
    /// Downloads served from the cached copy.
    pub hits: u64,
    pub last_accessed: f64,
    /// When the copy was written.
    pub last_modified: f64,
    pub size: u64,
    /// md5 of the cached copy, hex.
    pub checksum: Option<String>,
}

/// What this node caches, and the images queued for caching (oldest first).
#[derive(Debug, Object)]
#[oai(rename = "CacheState")]
pub struct CacheStateDoc {
    pub cached_images: Vec<CachedImageDoc>,
    pub queued_images: Vec<String>,
}

/// What a prune evicted.
#[derive(Debug, Object)]
#[oai(rename = "CachePruned")]
pub struct PrunedDoc {
    pub total_files_pruned: u64,
    pub total_bytes_pruned: u64,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Queued; the image is fetched into the cache in the background.
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
pub enum Cleaned {
    /// Cleaned.
    #[oai(status = 200)]
    Ok,
}

/// A cache image id: anything that is not a UUID names no image.
fn cache_image_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| service::not_found(s).into())
}

fn seconds(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

#[OpenApi(tag = "ApiTags::Cache")]
impl CacheApi {
    /// The images this node caches (with their hits and last access) and
    /// the images queued for caching.
    #[oai(path = "/v2/cache", method = "get", operation_id = "getCacheState")]
    async fn state(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<JsonDoc<CacheStateDoc>, ApiError> {
        let state = service::state(app.0, context(req)).await?;
        let cached: Vec<_> = state
            .cached
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "image_id": c.image_id,
                    "hits": c.hits,
                    "last_accessed": seconds(c.last_accessed),
                    "last_modified": seconds(c.last_modified),
                    "size": c.size,
                    "checksum": c.checksum,
                })
            })
            .collect();
        Ok(JsonDoc::new(json!({
            "cached_images": cached,
            "queued_images": state.queued,
        })))
    }

    /// Empty the cache and the queue; `x-image-cache-clear-target` set to
    /// `cache` or `queue` empties only that one (anything else: 400).
    #[oai(path = "/v2/cache", method = "delete", operation_id = "clearCache")]
    async fn clear(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        /// `cache`, `queue`, or empty for both.
        #[oai(name = "x-image-cache-clear-target")]
        target: Header<Option<String>>,
    ) -> Result<NoContent, ApiError> {
        service::clear(app.0, context(req), target.0.as_deref()).await?;
        Ok(NoContent::NoContent)
    }

    /// Queue an active image for caching on this node (400 for an image
    /// that is not active). It is fetched at once, in the background.
    #[oai(
        path = "/v2/cache/:image_id",
        method = "put",
        operation_id = "queueImageForCaching"
    )]
    async fn queue(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<Accepted, ApiError> {
        let id = cache_image_id(&image_id)?;
        service::queue(app.0, context(req), id).await?;
        Ok(Accepted::Accepted)
    }

    /// Remove an image from this node's cache and queue.
    #[oai(
        path = "/v2/cache/:image_id",
        method = "delete",
        operation_id = "deleteCachedImage"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = cache_image_id(&image_id)?;
        service::delete(app.0, context(req), id).await?;
        Ok(NoContent::NoContent)
    }

    /// The API nodes (their `node_url`) whose cache holds the image.
    #[oai(
        path = "/v2/cache/nodes/:image_id",
        method = "get",
        operation_id = "listCachedNodes"
    )]
    async fn nodes(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<Json<Vec<String>>, ApiError> {
        let id = cache_image_id(&image_id)?;
        Ok(Json(service::nodes(app.0, context(req), id).await?))
    }

    /// Remove unfinished and invalid cache files, and the cached copies of
    /// images that are no longer active.
    #[oai(path = "/v2/cache/clean", method = "post", operation_id = "cleanCache")]
    async fn clean(&self, app: Data<&Arc<App>>, req: &Request) -> Result<Cleaned, ApiError> {
        service::clean(app.0, context(req)).await?;
        Ok(Cleaned::Ok)
    }

    /// Evict the least recently used images until the cache is within its
    /// `max_size`.
    #[oai(path = "/v2/cache/prune", method = "post", operation_id = "pruneCache")]
    async fn prune(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<Json<PrunedDoc>, ApiError> {
        let (files, bytes) = service::prune(app.0, context(req)).await?;
        Ok(Json(PrunedDoc {
            total_files_pruned: files,
            total_bytes_pruned: bytes,
        }))
    }
}
