//! Tags of a namespace: create one or many, list, show, rename, delete.

use chrono::Utc;
use serde_json::Value;

use super::{
    check_unprotected, check_writable_keys, gone, invalid, visible_namespace, writable_namespace,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, MetadefContent};
use crate::domain::metadefs::{self, Tag, TagQuery};
use crate::service::{ServiceError, ServiceResult};

/// Create one tag, named in the path.
pub async fn create(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<Tag> {
    writable_namespace(app, ctx, namespace).await?;
    let tag = metadefs::tag_name(name, Utc::now()).map_err(invalid)?;
    match app
        .db
        .create_tags(namespace, std::slice::from_ref(&tag), false)
        .await
    {
        Ok(()) => Ok(tag),
        Err(DbError::Duplicate) => Err(duplicate(name, namespace)),
        Err(e) => Err(gone(e, namespace)),
    }
}

/// Create the tags of a `{"tags": [...]}` body: added to the namespace's
/// tags with `append`, otherwise replacing them all.
pub async fn create_many(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    body: &Value,
    append: bool,
) -> ServiceResult<Vec<Tag>> {
    writable_namespace(app, ctx, namespace).await?;
    let tags = metadefs::tags_body(body, Utc::now()).map_err(invalid)?;
    match app.db.create_tags(namespace, &tags, !append).await {
        Ok(()) => Ok(tags),
        Err(DbError::Duplicate) => Err(ServiceError::Conflict(format!(
            "A metadata tag already exists in namespace={namespace} with a name given."
        ))),
        Err(e) => Err(gone(e, namespace)),
    }
}

/// A page of a namespace's tags; the marker must be one of them.
pub async fn list(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    mut query: TagQuery,
    marker: Option<&str>,
) -> ServiceResult<Vec<Tag>> {
    visible_namespace(app, ctx, namespace).await?;
    if let Some(marker) = marker {
        query.marker = Some(
            app.db
                .get_tag(namespace, marker)
                .await?
                .ok_or_else(|| not_found(marker, namespace))?,
        );
    }
    Ok(app.db.list_tags(namespace, &query).await?)
}

pub async fn show(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<Tag> {
    visible_namespace(app, ctx, namespace).await?;
    app.db
        .get_tag(namespace, name)
        .await?
        .ok_or_else(|| not_found(name, namespace))
}

/// Rename a tag to the body's `name`.
pub async fn update(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    body: &Value,
) -> ServiceResult<Tag> {
    writable_namespace(app, ctx, namespace).await?;
    check_writable_keys(body)?;
    let tag = metadefs::tag(body, Utc::now()).map_err(invalid)?;
    match app.db.update_tag(namespace, name, &tag).await {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(duplicate(&tag.name, namespace)),
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
    check_unprotected(&ns, &format!("tag {name}"))?;
    if app
        .db
        .delete_named(namespace, MetadefContent::Tags, name)
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
        "The metadata definition tag with name={name} was not found in namespace={namespace}."
    ))
}

fn duplicate(name: &str, namespace: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "A metadata tag with name={name} already exists in namespace={namespace}."
    ))
}
