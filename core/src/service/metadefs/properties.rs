//! Properties of a namespace: create, list, show, replace, delete.

use chrono::Utc;
use serde_json::Value;

use super::{
    check_unprotected, check_writable_keys, gone, invalid, visible_namespace, writable_namespace,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, MetadefContent};
use crate::domain::metadefs::{self, Property};
use crate::service::{ServiceError, ServiceResult};

pub async fn create(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    body: &Value,
) -> ServiceResult<Property> {
    writable_namespace(app, ctx, namespace).await?;
    check_writable_keys(body)?;
    let property = metadefs::property(body, Utc::now()).map_err(invalid)?;
    match app.db.create_property(namespace, &property).await {
        Ok(()) => Ok(property),
        Err(DbError::Duplicate) => Err(duplicate(&property.name, namespace)),
        Err(e) => Err(gone(e, namespace)),
    }
}

pub async fn list(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
) -> ServiceResult<Vec<Property>> {
    visible_namespace(app, ctx, namespace).await?;
    Ok(app.db.list_properties(namespace).await?)
}

pub async fn show(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<Property> {
    visible_namespace(app, ctx, namespace).await?;
    app.db
        .get_property(namespace, name)
        .await?
        .ok_or_else(|| not_found(name, namespace))
}

/// Replace a property (its name included) with the body.
pub async fn update(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    body: &Value,
) -> ServiceResult<Property> {
    writable_namespace(app, ctx, namespace).await?;
    check_writable_keys(body)?;
    let property = metadefs::property(body, Utc::now()).map_err(invalid)?;
    match app.db.update_property(namespace, name, &property).await {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(duplicate(&property.name, namespace)),
        Err(DbError::NotFound) => Err(not_found(name, namespace)),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<()> {
    let ns = writable_namespace(app, ctx, namespace).await?;
    check_unprotected(&ns, &format!("property {name}"))?;
    if app
        .db
        .delete_named(namespace, MetadefContent::Properties, name)
        .await
        .map_err(|e| gone(e, namespace))?
    {
        Ok(())
    } else {
        Err(not_found(name, namespace))
    }
}

fn not_found(name: &str, namespace: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "The metadata definition property with name={name} was not found in namespace={namespace}."
    ))
}

fn duplicate(name: &str, namespace: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "A metadata definition property with name={name} already exists in namespace={namespace}."
    ))
}
