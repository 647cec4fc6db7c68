//! `PUT /v2/images/{id}/stage`: the first half of a glance-direct import.
//! The image goes `uploading` while its data is written to the staging area
//! ([`crate::service::staging`]), and stays there until `POST /import`.

use bytes::Bytes;
use futures::stream::BoxStream;
use uuid::Uuid;

use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{Image, ImageStatus, TransitionError};
use crate::service::images::{self, not_found_as};
use crate::service::inflight::DataOp;
use crate::service::quota::{self, Resource};
use crate::service::{ServiceError, ServiceResult, staging};

/// Keep the data for a later glance-direct import; `expected` is the size
/// the request declared.
pub async fn stage(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected: Option<u64>,
) -> ServiceResult<Image> {
    if !app
        .config
        .import
        .methods
        .iter()
        .any(|m| m == "glance-direct")
    {
        return Err(ServiceError::NotFound(
            "'glance-direct' method is not available at this site.".into(),
        ));
    }
    let cap = app.config.api.image_size_cap;
    if expected.is_some_and(|s| s > cap) {
        return Err(ServiceError::OverLimit(format!(
            "Image exceeds the storage quota: the size limit is {cap} bytes."
        )));
    }
    quota::enforce(
        app,
        ctx,
        Resource::ImageStageTotal,
        expected.unwrap_or(0) >> 20,
    )
    .await?;
    let image = images::get_for_update(app, ctx, id).await?;
    quota::enforce(app, ctx, Resource::ImageCountUploading, 1).await?;
    // Only a queued image may be staged; the state machine's refusal is
    // Glance's wording.
    let (uploading, change) = image.moved_to(ImageStatus::Uploading)?;
    let busy = || {
        TransitionError::NotAllowed {
            from: ImageStatus::Uploading,
            to: ImageStatus::Uploading,
        }
        .into()
    };
    // The liveness lease before the claim, as for an upload (see `inflight`).
    let Some(op) = DataOp::begin(app, id).await? else {
        return Err(busy());
    };
    let updated = |saved: &Image| crate::service::notify::image(app, "image.update", saved);
    let uploading = match app
        .db
        .update_image_noting(&uploading, Some(change.from), updated)
        .await
    {
        Ok(saved) => saved,
        // Another stage of the same image won the race.
        Err(DbError::Conflict) => {
            op.finish().await;
            return Err(busy());
        }
        Err(e) => {
            op.finish().await;
            return Err(not_found_as(e, id));
        }
    };
    let body = op.watch(body);
    let result = write_claimed(app, id, uploading, body, expected, cap).await;
    op.finish().await;
    result
}

/// Writes the staged data of an image this request moved to `uploading`.
async fn write_claimed(
    app: &App,
    id: Uuid,
    uploading: Image,
    body: BoxStream<'static, std::io::Result<Bytes>>,
    expected: Option<u64>,
    cap: u64,
) -> ServiceResult<Image> {
    let size = match staging::write(app, id, body, cap).await {
        Ok(size) => size,
        Err(e) => {
            // Nothing staged: the image is queued again, as Glance leaves it.
            requeue(app, &uploading).await;
            return Err(e);
        }
    };
    if let Some(declared) = expected.filter(|e| *e != size) {
        staging::remove(app, id).await;
        requeue(app, &uploading).await;
        return Err(ServiceError::StagedSizeMismatch {
            declared,
            sent: size,
        });
    }
    let mut staged = uploading.clone();
    staged.size = Some(size as i64);
    // Which node holds the data: an import sent to another node is
    // forwarded here (see `import::start`).
    if let Some(url) = app.config.self_url() {
        staged.properties.insert(staging::STAGE_HOST.into(), url);
    }
    let updated = |saved: &Image| crate::service::notify::image(app, "image.update", saved);
    match app
        .db
        .update_image_noting(&staged, Some(uploading.status), updated)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(e) => {
            // Deleted (or moved on) while staging: the data belongs to nobody.
            staging::remove(app, id).await;
            Err(not_found_as(e, id))
        }
    }
}

/// Back to `queued` after a failed stage, unless the image moved on meanwhile.
async fn requeue(app: &App, uploading: &Image) {
    let Ok((queued, change)) = uploading.moved_to(ImageStatus::Queued) else {
        return;
    };
    if let Err(e) = app.db.update_image(&queued, Some(change.from)).await {
        tracing::debug!(image = %queued.id, error = %e, "the image moved on during a failed stage");
    }
}
