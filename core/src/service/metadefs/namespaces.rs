//! Namespaces: create (with embedded content), list, show, replace, delete,
//! and delete everything of one kind inside one.

use chrono::Utc;
use serde_json::Value;

use super::{
    check_unprotected, check_writable_keys, gone, invalid, require_admin, visible_namespace,
    writable_namespace,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, MetadefContent};
use crate::domain::metadefs::{
    self, Association, MetadefObject, Namespace, NamespaceDocument, NamespaceQuery, Property,
};
use crate::service::{ServiceError, ServiceResult};

/// A namespace with its associations, as lists show it.
pub struct Listed {
    pub namespace: Namespace,
    pub associations: Vec<Association>,
}

/// Create a namespace and what its body embeds, all or nothing.
pub async fn create(
    app: &App,
    ctx: &RequestContext,
    body: &Value,
) -> ServiceResult<NamespaceDocument> {
    require_admin(ctx)?;
    check_writable_keys(body)?;
    let mut doc = metadefs::namespace_document(body, Utc::now()).map_err(invalid)?;
    if doc.namespace.owner.is_none() {
        doc.namespace.owner = ctx.project_id.clone();
    }
    match app.db.create_namespace(&doc, false).await {
        Ok(()) => Ok(doc),
        Err(DbError::Duplicate) => Err(duplicate(&doc.namespace.namespace)),
        Err(e) => Err(e.into()),
    }
}

/// A page of the namespaces the caller may see, with their associations.
pub async fn list(app: &App, query: &NamespaceQuery) -> ServiceResult<Vec<Listed>> {
    let mut out = Vec::new();
    for namespace in app.db.list_namespaces(query).await? {
        let associations = app.db.list_associations(&namespace.namespace).await?;
        out.push(Listed {
            namespace,
            associations,
        });
    }
    Ok(out)
}

/// The marker of a namespace list: a namespace the caller may see.
pub async fn marker(app: &App, ctx: &RequestContext, name: &str) -> ServiceResult<Namespace> {
    visible_namespace(app, ctx, name).await
}

/// A namespace with everything in it. With `resource_type`, property names
/// (also inside objects) carry that association's prefix.
pub async fn show(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    resource_type: Option<&str>,
) -> ServiceResult<NamespaceDocument> {
    let namespace = visible_namespace(app, ctx, name).await?;
    let mut doc = NamespaceDocument {
        associations: app.db.list_associations(name).await?,
        objects: app.db.list_objects(name).await?,
        properties: app.db.list_properties(name).await?,
        tags: app.db.list_tags(name, &all_tags()).await?,
        namespace,
    };
    let prefix = resource_type.and_then(|rt| {
        doc.associations
            .iter()
            .find(|a| a.name == rt)
            .and_then(|a| a.prefix.clone())
    });
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        apply_prefix(&mut doc.properties, &mut doc.objects, &prefix);
    }
    Ok(doc)
}

fn all_tags() -> metadefs::TagQuery {
    metadefs::TagQuery {
        sort_key: metadefs::MetadefSortKey::CreatedAt,
        sort_dir: crate::domain::SortDir::Asc,
        marker: None,
        limit: u32::MAX,
    }
}

fn apply_prefix(properties: &mut [Property], objects: &mut [MetadefObject], prefix: &str) {
    for property in properties {
        property.name = format!("{prefix}{}", property.name);
    }
    for object in objects {
        object.properties = std::mem::take(&mut object.properties)
            .into_iter()
            .map(|(name, def)| (format!("{prefix}{name}"), def))
            .collect();
        for name in &mut object.required {
            *name = format!("{prefix}{name}");
        }
    }
}

/// Replace a namespace's own fields; what the body leaves out takes its
/// create default, and a missing owner becomes the caller's project.
pub async fn update(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    body: &Value,
) -> ServiceResult<Namespace> {
    writable_namespace(app, ctx, name).await?;
    check_writable_keys(body)?;
    let mut namespace = metadefs::namespace_update(body, Utc::now()).map_err(invalid)?;
    if namespace.owner.is_none() {
        namespace.owner = ctx.project_id.clone();
    }
    match app.db.update_namespace(name, &namespace).await {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(ServiceError::Conflict(format!(
            "Invalid update. It would result in a duplicate metadata definition namespace with the same name of {}",
            namespace.namespace
        ))),
        Err(e) => Err(gone(e, name)),
    }
}

pub async fn delete(app: &App, ctx: &RequestContext, name: &str) -> ServiceResult<()> {
    let ns = writable_namespace(app, ctx, name).await?;
    check_unprotected(&ns, &format!("namespace {name}"))?;
    app.db
        .delete_namespace(name)
        .await
        .map_err(|e| gone(e, name))
}

/// Delete every object, property or tag of a namespace. A protected
/// namespace refuses, as it would refuse its own deletion.
pub async fn delete_content(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    content: MetadefContent,
) -> ServiceResult<()> {
    let ns = writable_namespace(app, ctx, name).await?;
    check_unprotected(&ns, &format!("namespace {name}"))?;
    app.db
        .delete_content(name, content)
        .await
        .map_err(|e| gone(e, name))
}

fn duplicate(name: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "The metadata definition namespace={name} already exists."
    ))
}
