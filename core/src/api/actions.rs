//! Image actions: deactivate and reactivate.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;

use super::error::ApiError;
use super::members::NoContent;
use super::{ApiTags, context};
use crate::app::App;
use crate::service::images;

pub struct ActionsApi;

#[OpenApi(tag = "ApiTags::Images")]
impl ActionsApi {
    /// Deactivate an active image: only administrators may download its data.
    #[oai(
        path = "/v2/images/:image_id/actions/deactivate",
        method = "post",
        operation_id = "deactivateImage"
    )]
    async fn deactivate(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        images::deactivate(app.0, context(req), id).await?;
        Ok(NoContent::NoContent)
    }

    /// Reactivate a deactivated image.
    #[oai(
        path = "/v2/images/:image_id/actions/reactivate",
        method = "post",
        operation_id = "reactivateImage"
    )]
    async fn reactivate(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        images::reactivate(app.0, context(req), id).await?;
        Ok(NoContent::NoContent)
    }
}
