//! Image locations: the 2.17 locations API (`POST` / `GET
//! /v2/images/{id}/locations`) and the step that records a new copy of an
//! image's data.
//!
//! Adding a location, as Glance's `location_import` flow does it:
//!
//! 1. the image must be `queued` (409) and the caller allowed by policy
//!    `add_image_location` (403); a caller without the `service` role may
//!    only add `http(s)` URLs, and only when an http store is configured (403);
//! 2. `validation_data` is checked: both hash fields or neither, a known
//!    algorithm, hex of the right length (400);
//! 3. the URL must belong to a configured store, pass the URL filter
//!    (`[import_filtering]`) and name data of a non-zero size (400);
//! 4. the location is recorded and the image goes `active`, with its size;
//! 5. with `do_secure_hash`, the data is read back through the store in the
//!    background for `checksum` and `os_hash_value`. With `validation_data`
//!    the image stays `importing` until the hash matches (then `active`), or
//!    goes back to `queued` without the location when it does not.
//!
//! Unlike Glance, steps 2–3 run before answering, so a bad URL is a 400
//! instead of a task that fails later; the 202 answer is the same.

use std::sync::Arc;

use futures::StreamExt;
use glint_sdk::{ErrorKind, StoreError};
use openssl::hash::{Hasher, MessageDigest};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::hashing::HASH_ALGO;
use super::images::get;
use super::{ServiceError, ServiceResult, notify, tasks};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{Image, ImageStatus, Location, Task};
use crate::fetch::{self, redact};
use crate::policy::Target;

/// Schemes never accepted from clients: they would expose the server's own
/// files or configuration (Glance's `RESTRICTED_URI_SCHEMAS`).
const RESTRICTED_SCHEMES: [&str; 3] = ["file", "filesystem", "swift+config"];

/// `validation_data` of an add-location request, checked by the API layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationData {
    pub os_hash_algo: String,
    pub os_hash_value: String,
}

/// `GET /v2/images/{id}/locations`: `[{url, metadata}]`, for the `service`
/// role (policy `fetch_image_location`; administrators too, as Glance still
/// allows them).
pub async fn list(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Vec<Location>> {
    let image = get(app, ctx, id).await?;
    app.policy
        .enforce("fetch_image_location", ctx, &target(&image))?;
    Ok(image.locations)
}

/// `POST /v2/images/{id}/locations` (answered 202); see the module notes.
pub async fn add_location(
    app: &Arc<App>,
    ctx: &RequestContext,
    id: Uuid,
    url: &str,
    validation: Option<ValidationData>,
) -> ServiceResult<()> {
    let image = get(app, ctx, id).await?;
    if image.status != ImageStatus::Queued {
        return Err(ServiceError::LocationNeedsQueued(image.status));
    }
    app.policy
        .enforce("add_image_location", ctx, &target(&image))?;
    let is_http = matches!(scheme(url).as_deref(), Some("http" | "https"));
    let http_store = app.stores.infos().any(|s| s.driver == "http");
    let http_allowed = is_http && http_store;
    if !(has_service_role(ctx) || http_allowed) {
        return Err(ServiceError::Forbidden(
            "http store must be enabled to use location API by normal user.".into(),
        ));
    }

    let (store_id, size) = check_url(app, ctx, url).await?;
    let mut metadata = Map::new();
    metadata.insert("store".into(), store_id.clone().into());
    let location = Location {
        url: url.to_owned(),
        metadata,
        status: "active".into(),
    };

    let secure = app.config.locations.do_secure_hash;
    // With a hash to verify in the background, the image may not be used
    // until it matches.
    let to = match (&validation, secure) {
        (Some(_), true) => ImageStatus::Importing,
        _ => ImageStatus::Active,
    };
    let (mut next, change) = image.moved_to(to)?;
    next.size = Some(size as i64);
    next.locations = vec![location];
    match (&validation, secure) {
        (Some(v), true) => next.os_hash_algo = Some(v.os_hash_algo.clone()),
        (None, true) => next.os_hash_algo = Some(HASH_ALGO.to_owned()),
        // Taken on trust, as Glance does without do_secure_hash.
        (Some(v), false) => {
            next.os_hash_algo = Some(v.os_hash_algo.clone());
            next.os_hash_value = Some(v.os_hash_value.clone());
        }
        (None, false) => {}
    }
    let saved = match app
        .db
        .update_image_noting(&next, Some(change.from), |saved| {
            notify::image(app, "image.update", saved)
        })
        .await
    {
        Ok(saved) => saved,
        Err(DbError::Conflict) => return Err(ServiceError::OperationInProgress(id)),
        Err(DbError::NotFound) => return Err(ServiceError::ImageNotFound(id)),
        Err(e) => return Err(e.into()),
    };
    // Clients follow the check as a `location_import` task of the image.
    let mut input = Map::new();
    input.insert("image_id".into(), id.to_string().into());
    input.insert("loc_url".into(), redact(url).into());
    input.insert(
        "validation_data".into(),
        validation.as_ref().map_or(Value::Null, |v| {
            serde_json::json!({"os_hash_algo": v.os_hash_algo, "os_hash_value": v.os_hash_value})
        }),
    );
    let mut task = Task::new("location_import", input, chrono::Utc::now());
    task.owner = ctx.project_id.clone();
    task.image_id = Some(id);
    task.user_id = ctx.user_id.clone();
    task.request_id = Some(ctx.request_id.clone());
    // The task's life is told as an import's is: created, processing, then
    // its outcome (`task.success` or `task.failure`, and `task.run`).
    let notes = notify::task(app, "task.create", &task);
    app.db.create_task_noting(&task, &notes).await?;
    if secure {
        tasks::processing(app, &mut task).await;
        let app = Arc::clone(app);
        let caller = ctx.clone();
        tokio::spawn(async move {
            let outcome = hash_in_background(&app, &caller, saved, validation).await;
            finish_task(&app, task, outcome).await;
        });
    } else {
        finish_task(app, task, Ok(())).await;
    }
    Ok(())
}

/// Records how the location check ended.
async fn finish_task(app: &App, mut task: Task, outcome: ServiceResult<()>) {
    match outcome {
        Ok(()) => {
            let mut result = Map::new();
            result.insert(
                "image_id".into(),
                task.image_id.map(|i| i.to_string()).into(),
            );
            tasks::succeed(app, &mut task, Some(result)).await;
        }
        Err(e) => tasks::fail(app, &mut task, &e.to_string()).await,
    }
}

/// Records a new copy of an image's data: `location` (its `store` metadata
/// set to `store_id`, plus `metadata`) is appended to the image's locations.
/// For the import steps (copy-image, web-download) once the data is stored;
/// the image may be `queued`, `saving`, `uploading`, `importing` or `active`.
pub async fn add(
    app: &App,
    image_id: Uuid,
    store_id: &str,
    url: &str,
    metadata: Map<String, Value>,
) -> ServiceResult<Image> {
    let mut metadata = metadata;
    metadata.insert("store".into(), store_id.into());
    let location = Location {
        url: url.to_owned(),
        metadata,
        status: "active".into(),
    };
    let allowed = [
        ImageStatus::Queued,
        ImageStatus::Saving,
        ImageStatus::Uploading,
        ImageStatus::Importing,
        ImageStatus::Active,
    ];
    match app.db.append_location(image_id, &location, &allowed).await {
        Ok(image) => Ok(image),
        Err(DbError::NotFound) => Err(ServiceError::ImageNotFound(image_id)),
        Err(DbError::Conflict) => Err(ServiceError::LocationsNotAccepted(image_id)),
        Err(e) => Err(e.into()),
    }
}

/// The store serving `url` and the size of the data there, or why the URL
/// cannot be a location (400; 503 when the store cannot be reached).
async fn check_url(app: &App, ctx: &RequestContext, url: &str) -> ServiceResult<(String, u64)> {
    let invalid = || ServiceError::Invalid("Invalid location".into());
    let scheme = scheme(url).ok_or_else(invalid)?;
    if RESTRICTED_SCHEMES.contains(&scheme.as_str()) {
        return Err(invalid());
    }
    let info = app.stores.store_for_url(url).ok_or_else(invalid)?;
    // The store fetches the data itself; the filter still decides which
    // servers a client may point it at.
    if matches!(scheme.as_str(), "http" | "https")
        && fetch::filter::check(&app.config.import_filtering, url)
            .await
            .is_err()
    {
        return Err(ServiceError::LocationRefused(redact(url)));
    }
    let store = app
        .stores
        .get(&info.id)
        .ok_or_else(invalid)?
        .acting_for(ctx);
    match store.size(url).await {
        Ok(0) => Err(invalid()),
        Ok(size) => Ok((info.id.clone(), size)),
        Err(e) if matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Timeout) => {
            Err(StoreError::new(ErrorKind::Unavailable, e.message).into())
        }
        Err(e) => {
            tracing::info!(url = %redact(url), error = %e, "location refused");
            Err(invalid())
        }
    }
}

/// Reads the data back through its store for `checksum` and `os_hash_value`
/// (Glance's `_CalculateHash`, with `http_retries` attempts), then settles the
/// image: verified → `active`; mismatch or unreadable → back to `queued`
/// without the location when `validation_data` was given, else it stays
/// `active` without a hash, as Glance leaves it.
async fn hash_in_background(
    app: &App,
    caller: &RequestContext,
    image: Image,
    validation: Option<ValidationData>,
) -> ServiceResult<()> {
    let id = image.id;
    let algo = image
        .os_hash_algo
        .clone()
        .unwrap_or_else(|| HASH_ALGO.to_owned());
    let attempts = app.config.locations.http_retries.max(1);
    let mut digests = None;
    let mut last_error = None;
    for attempt in 1..=attempts {
        match digest_location(app, caller, &image, &algo).await {
            Ok(d) => {
                digests = Some(d);
                break;
            }
            Err(e) => {
                tracing::warn!(image = %id, attempt, attempts, error = %e, "hash calculation of the added location failed");
                last_error = Some(e);
            }
        }
    }
    match (validation, digests) {
        (None, Some((md5, value))) => {
            match app
                .db
                .set_image_digests(id, Some(&md5), Some(&algo), Some(&value))
                .await
            {
                Ok(()) | Err(DbError::NotFound) => {}
                Err(e) => {
                    tracing::error!(image = %id, error = %e, "could not record the image's hash")
                }
            }
        }
        (None, None) => {
            tracing::warn!(image = %id, "Hash calculation failed for image data; the image stays active without a hash");
            // The updater computes it later.
            let why = last_error.map_or_else(String::new, |e| e.to_string());
            hash_later(app, &image, &why).await;
        }
        (Some(v), Some((md5, value))) if v.os_hash_value == value => {
            let (mut active, change) = image.moved_to(ImageStatus::Active)?;
            active.checksum = Some(md5);
            active.os_hash_value = Some(value);
            settle(app, &active, change.from).await;
        }
        (Some(v), found) => {
            match found {
                Some((_, value)) => {
                    tracing::warn!(image = %id, expected = %v.os_hash_value, actual = %value, "os_hash_value does not match the data at the location; the location is dropped")
                }
                None => {
                    tracing::warn!(image = %id, "Hash calculation failed for image data; the location is dropped")
                }
            }
            let (mut queued, change) = image.moved_to(ImageStatus::Queued)?;
            // As in Glance, the location stays: the http store that holds it
            // cannot delete, and clients see it in `stores`.
            queued.size = None;
            queued.checksum = None;
            queued.os_hash_algo = None;
            queued.os_hash_value = None;
            settle(app, &queued, change.from).await;
            return Err(ServiceError::ValidationDataMismatch);
        }
    }
    Ok(())
}

/// Records that `image`'s digests are to be computed from its first
/// location later, by the updater (`service::deferred`), because reading it failed with `why`.
pub async fn hash_later(app: &App, image: &Image, why: &str) {
    let Some(location) = image.locations.first() else {
        return;
    };
    let work = crate::db::NewWork {
        kind: crate::db::WorkKind::ComputeHash,
        image_id: image.id,
        store: location.store().map(str::to_owned),
        url: location.url.clone(),
        reason: format!("hash calculation failed: {why}"),
    };
    if let Err(e) = app.db.add_work(&[work]).await {
        tracing::error!(image = %image.id, error = %e, "could not record the hash calculation for later");
    }
}

/// Moves an `importing` image on (`from` is its status as read); another
/// request may have got there first.
async fn settle(app: &App, image: &Image, from: ImageStatus) {
    match app.db.update_image(image, Some(from)).await {
        Ok(_) | Err(DbError::NotFound | DbError::Conflict) => {}
        Err(e) => {
            tracing::error!(image = %image.id, error = %e, "could not record the outcome of the location check")
        }
    }
}

/// md5 and `algo` of the data at the image's first location, hex, read as `caller` (the
/// caller who added the location: a multi-tenant store reads with its token).
async fn digest_location(
    app: &App,
    caller: &RequestContext,
    image: &Image,
    algo: &str,
) -> Result<(String, String), StoreError> {
    let unexpected = |m: String| StoreError::new(ErrorKind::Unexpected, m);
    let location = image
        .locations
        .first()
        .ok_or_else(|| unexpected("the image has no location".into()))?;
    let store = location
        .store()
        .and_then(|s| app.stores.get(s))
        .ok_or_else(|| StoreError::new(ErrorKind::Unavailable, "the location's store is not open"))?
        .acting_for(caller);
    digest_data(&store, &location.url, algo).await
}

/// md5 and `algo` of the data at `url` in `store`, hex.
pub(crate) async fn digest_data(
    store: &crate::store::StoreHandle,
    url: &str,
    algo: &str,
) -> Result<(String, String), StoreError> {
    let unexpected = |m: String| StoreError::new(ErrorKind::Unexpected, m);
    let digest = match algo {
        "sha1" => MessageDigest::sha1(),
        "sha256" => MessageDigest::sha256(),
        "md5" => MessageDigest::md5(),
        _ => MessageDigest::sha512(),
    };
    let openssl = |e: openssl::error::ErrorStack| unexpected(format!("digest: {e}"));
    let mut md5 = Hasher::new(MessageDigest::md5()).map_err(openssl)?;
    let mut other = Hasher::new(digest).map_err(openssl)?;
    let mut data = store.get(url, None).await?.data;
    while let Some(chunk) = data.next().await {
        let chunk = chunk?;
        md5.update(&chunk).map_err(openssl)?;
        other.update(&chunk).map_err(openssl)?;
    }
    Ok((
        hex::encode(md5.finish().map_err(openssl)?),
        hex::encode(other.finish().map_err(openssl)?),
    ))
}

/// What image rules are checked against.
pub(crate) fn target(image: &Image) -> Target<'_> {
    Target::image(image.owner.as_deref(), image.visibility.as_str())
}

fn has_service_role(ctx: &RequestContext) -> bool {
    ctx.roles
        .iter()
        .chain(&ctx.service_roles)
        .any(|r| r == "service")
}

/// The URL's scheme, lower-cased.
fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    (!scheme.is_empty()).then(|| scheme.to_ascii_lowercase())
}
