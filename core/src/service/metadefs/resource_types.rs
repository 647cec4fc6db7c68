//! Resource types and a namespace's associations with them.

use chrono::Utc;
use serde_json::Value;

use super::{authorized_namespace, check_unprotected, check_writable_keys, gone, invalid};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::metadefs::{self, Association, ResourceType};
use crate::policy::Target;
use crate::service::{ServiceError, ServiceResult};

/// Every resource type, whichever namespaces use it.
pub async fn list(app: &App, ctx: &RequestContext) -> ServiceResult<Vec<ResourceType>> {
    app.policy
        .enforce("list_metadef_resource_types", ctx, &Target::project(ctx))?;
    Ok(super::providers::list_resource_types(app).await?)
}

pub async fn list_associations(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
) -> ServiceResult<Vec<Association>> {
    authorized_namespace(app, ctx, namespace, "list_metadef_resource_types").await?;
    Ok(super::providers::list_associations(app, namespace).await?)
}

/// Associate a namespace with a resource type, creating the type if new.
pub async fn associate(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    body: &Value,
) -> ServiceResult<Association> {
    authorized_namespace(app, ctx, namespace, "add_metadef_resource_type_association").await?;
    check_writable_keys(body)?;
    let association = metadefs::association(body, Utc::now()).map_err(invalid)?;
    match app.db.create_association(namespace, &association).await {
        Ok(()) => Ok(association),
        Err(DbError::Duplicate) => Err(ServiceError::Conflict(format!(
            "The metadata definition resource-type association of resource-type={} to namespace={namespace} already exists.",
            association.name
        ))),
        Err(e) => Err(gone(e, namespace)),
    }
}

pub async fn dissociate(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    resource_type: &str,
) -> ServiceResult<()> {
    let rule = "remove_metadef_resource_type_association";
    let ns = authorized_namespace(app, ctx, namespace, rule).await?;
    check_unprotected(&ns, &format!("resource-type-association {resource_type}"))?;
    if app.db.delete_association(namespace, resource_type).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!(
            "The metadata definition resource-type association of resource-type={resource_type} to namespace={namespace}, was not found."
        )))
    }
}
