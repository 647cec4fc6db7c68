//! Properties of a namespace. Create, show, replace and delete are the shared
//! `content` operations; only the list is specific.

use crate::app::App;
use crate::context::RequestContext;
use crate::domain::metadefs::Property;
use crate::service::ServiceResult;

use super::visible_namespace;

pub async fn list(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
) -> ServiceResult<Vec<Property>> {
    visible_namespace(app, ctx, namespace).await?;
    Ok(app.db.list_properties(namespace).await?)
}
