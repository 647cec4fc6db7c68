//! Properties of a namespace. Create, show, replace and delete are the shared
//! `content` operations; only the list is specific.

use crate::app::App;
use crate::context::RequestContext;
use crate::domain::metadefs::Property;
use crate::service::ServiceResult;

use super::{ContentOp, authorized_namespace, content_rule};
use crate::db::MetadefContent;

pub async fn list(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
) -> ServiceResult<Vec<Property>> {
    let rule = content_rule(MetadefContent::Properties, ContentOp::List);
    authorized_namespace(app, ctx, namespace, rule).await?;
    Ok(super::providers::list_properties(app, namespace).await?)
}
