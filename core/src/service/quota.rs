//! Per-project quotas: Glance's four unified limits, set in `[quotas]`.
//!
//! As with oslo.limit, a project is over a limit when its usage plus what
//! the operation adds exceeds it; the answer is 413. A limit of -1 (the
//! default) is no limit.

use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::Usage;

const MIB: u64 = 1 << 20;

/// The four resources, as `/v2/info/usage` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// MiB of image data stored.
    ImageSizeTotal,
    /// MiB of staged data.
    ImageStageTotal,
    /// Images.
    ImageCountTotal,
    /// Images being uploaded, staged or imported at once.
    ImageCountUploading,
}

impl Resource {
    pub const ALL: [Resource; 4] = [
        Self::ImageSizeTotal,
        Self::ImageStageTotal,
        Self::ImageCountTotal,
        Self::ImageCountUploading,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::ImageSizeTotal => "image_size_total",
            Self::ImageStageTotal => "image_stage_total",
            Self::ImageCountTotal => "image_count_total",
            Self::ImageCountUploading => "image_count_uploading",
        }
    }

    fn limit(self, app: &App) -> i64 {
        let q = &app.config.quotas;
        match self {
            Self::ImageSizeTotal => q.image_size_total,
            Self::ImageStageTotal => q.image_stage_total,
            Self::ImageCountTotal => q.image_count_total,
            Self::ImageCountUploading => q.image_count_uploading,
        }
    }

    fn used(self, usage: &Usage) -> u64 {
        match self {
            Self::ImageSizeTotal => usage.stored_bytes / MIB,
            Self::ImageStageTotal => usage.staged_bytes / MIB,
            Self::ImageCountTotal => usage.images,
            Self::ImageCountUploading => usage.uploading,
        }
    }
}

/// Refuse with 413 when the caller's project would go over `resource` by
/// adding `delta` (MiB for sizes, images for counts).
pub async fn enforce(
    app: &App,
    ctx: &RequestContext,
    resource: Resource,
    delta: u64,
) -> ServiceResult<()> {
    if !app.config.quotas.enabled {
        return Ok(());
    }
    let Some(project) = ctx.project_id.as_deref() else {
        return Ok(());
    };
    let limit = resource.limit(app);
    if limit < 0 {
        return Ok(());
    }
    let usage = app.db.usage(project).await?;
    let used = resource.used(&usage);
    if used + delta > limit as u64 {
        return Err(ServiceError::ProjectQuota {
            project: project.to_owned(),
            resource: resource.name(),
            limit,
            used,
            delta,
        });
    }
    Ok(())
}

/// `(resource, limit, usage)` for the caller's project; empty when quotas are off.
pub async fn usage(app: &App, ctx: &RequestContext) -> ServiceResult<Vec<(Resource, i64, u64)>> {
    if !app.config.quotas.enabled {
        return Ok(Vec::new());
    }
    let usage = match ctx.project_id.as_deref() {
        Some(project) => app.db.usage(project).await?,
        None => Usage::default(),
    };
    Ok(Resource::ALL
        .into_iter()
        .map(|r| (r, r.limit(app), r.used(&usage)))
        .collect())
}
