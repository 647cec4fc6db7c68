//! Resource types and a namespace's associations with them.

use chrono::Utc;
use serde_json::Value;

use super::{authorized_namespace, check_unprotected, check_writable_keys, gone, invalid};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::metadefs::{self, Association, ResourceType};
use crate::policy::Target;
use crate::service::notify;
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
    let notes = notify::metadefs_created(app, namespace, std::slice::from_ref(&association));
    match app
        .db
        .create_association_noting(namespace, &association, &notes)
        .await
    {
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
    // The event shows the association as it was.
    let notes = match super::providers::list_associations(app, namespace)
        .await?
        .iter()
        .find(|a| a.name == resource_type)
    {
        Some(association) => notify::metadef_deleted(app, namespace, association),
        None => Vec::new(),
    };
    if app
        .db
        .delete_association_noting(namespace, resource_type, &notes)
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!(
            "The metadata definition resource-type association of resource-type={resource_type} to namespace={namespace}, was not found."
        )))
    }
}

/// The property `name` of a namespace as one of its resource types sees it: with the prefix of
/// that association (Glance's `GET …/properties/{name}?resource_type=`).
pub async fn show_prefixed_property(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    resource_type: &str,
) -> ServiceResult<metadefs::Property> {
    let ns = authorized_namespace(app, ctx, namespace, "get_metadef_property").await?;
    super::authorize(app, ctx, &ns, "get_metadef_resource_type")?;
    let associations = super::providers::list_associations(app, namespace).await?;
    let Some(association) = associations.iter().find(|a| a.name == resource_type) else {
        let known = super::providers::list_resource_types(app)
            .await?
            .iter()
            .any(|t| t.name == resource_type);
        return Err(ServiceError::NotFound(if known {
            format!(
                "The metadata definition resource-type association of resource-type={resource_type} to namespace={namespace}, was not found."
            )
        } else {
            format!(
                "The metadata definition resource-type with name={resource_type}, was not found."
            )
        }));
    };
    let prefix = association.prefix.as_deref().unwrap_or_default();
    let Some(bare) = name.strip_prefix(prefix).filter(|_| !prefix.is_empty()) else {
        return Err(ServiceError::NotFound(format!(
            "Property {name} does not start with the expected resource type association prefix of '{}'.",
            association.prefix.as_deref().unwrap_or("None")
        )));
    };
    super::content::show::<metadefs::Property>(app, ctx, namespace, bare).await
}
