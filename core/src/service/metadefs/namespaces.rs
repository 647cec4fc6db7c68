//! Namespaces: create (with embedded content), list, show, replace, delete,
//! and delete everything of one kind inside one.

use chrono::Utc;
use serde_json::Value;

use super::{
    authorize, authorized_namespace, check_unprotected, check_writable_keys, gone, invalid,
    namespace_not_found, visible_namespace,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, MetadefContent};
use crate::domain::metadefs::{
    self, Association, MetadefObject, Namespace, NamespaceDocument, NamespaceQuery, Property,
};
use crate::policy::Target;
use crate::service::notify;
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
    let project = Target::project(ctx);
    app.policy.enforce("add_metadef_namespace", ctx, &project)?;
    check_writable_keys(body)?;
    let mut doc = metadefs::namespace_document(body, Utc::now()).map_err(invalid)?;
    // What the body embeds needs the rule of creating it on its own.
    for (present, rule) in [
        (
            !doc.associations.is_empty(),
            "add_metadef_resource_type_association",
        ),
        (!doc.objects.is_empty(), "add_metadef_object"),
        (!doc.properties.is_empty(), "add_metadef_property"),
        (!doc.tags.is_empty(), "add_metadef_tag"),
    ] {
        if present {
            app.policy.enforce(rule, ctx, &project)?;
        }
    }
    if doc.namespace.owner.is_none() {
        doc.namespace.owner = ctx.project_id.clone();
    }
    super::providers::refuse_taken(app, &doc.namespace.namespace)?;
    match app
        .db
        .create_namespace_noting(&doc, false, &created(app, &doc))
        .await
    {
        Ok(()) => Ok(doc),
        Err(DbError::Duplicate) => Err(duplicate(&doc.namespace.namespace)),
        Err(e) => Err(e.into()),
    }
}

/// A page of the namespaces the caller may see, with their associations.
/// Namespaces the `get_metadef_namespace` rule hides are left out.
pub async fn list(
    app: &App,
    ctx: &RequestContext,
    query: &NamespaceQuery,
) -> ServiceResult<Vec<Listed>> {
    let project = Target::project(ctx);
    app.policy
        .enforce("get_metadef_namespaces", ctx, &project)?;
    // Lists carry each namespace's associations.
    app.policy
        .enforce("list_metadef_resource_types", ctx, &project)?;
    let mut out = Vec::new();
    for namespace in super::providers::list_namespaces(app, query).await? {
        let target = Target::namespace(&namespace);
        if !app.policy.check("get_metadef_namespace", ctx, &target) {
            continue;
        }
        let associations = super::providers::list_associations(app, &namespace.namespace).await?;
        out.push(Listed {
            namespace,
            associations,
        });
    }
    Ok(out)
}

/// The marker of a namespace list: a namespace the caller may see.
pub async fn marker(app: &App, ctx: &RequestContext, name: &str) -> ServiceResult<Namespace> {
    visible_namespace(app, ctx, name)
        .await
        .map_err(|e| shown_missing(e, name))
}

/// Showing a namespace (or paging from one) words a missing one as the database does.
fn shown_missing(e: ServiceError, name: &str) -> ServiceError {
    match e {
        ServiceError::NamespaceNotFound(_) => namespace_not_found(name),
        other => other,
    }
}

/// A namespace with everything in it. With `resource_type`, property names
/// (also inside objects) carry that association's prefix.
pub async fn show(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    resource_type: Option<&str>,
) -> ServiceResult<NamespaceDocument> {
    let namespace = authorized_namespace(app, ctx, name, "get_metadef_namespace")
        .await
        .map_err(|e| shown_missing(e, name))?;
    // The document holds everything in the namespace: each kind has its rule.
    for rule in [
        "list_metadef_resource_types",
        "get_metadef_objects",
        "get_metadef_properties",
        "get_metadef_tags",
    ] {
        authorize(app, ctx, &namespace, rule)?;
    }
    let mut doc = NamespaceDocument {
        associations: super::providers::list_associations(app, name).await?,
        objects: super::providers::list_items(app, name).await?,
        properties: super::providers::list_items(app, name).await?,
        tags: super::providers::list_tags(app, name, &all_tags()).await?,
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

/// Every tag of a namespace, newest first, as Glance's tag repository lists them by default.
fn all_tags() -> metadefs::TagQuery {
    metadefs::TagQuery {
        sort_key: metadefs::MetadefSortKey::CreatedAt,
        sort_dir: crate::domain::SortDir::Desc,
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
    authorized_namespace(app, ctx, name, "modify_metadef_namespace").await?;
    check_writable_keys(body)?;
    let mut namespace = metadefs::namespace_update(body, Utc::now()).map_err(invalid)?;
    if namespace.owner.is_none() {
        namespace.owner = ctx.project_id.clone();
    }
    super::providers::refuse_taken(app, &namespace.namespace)?;
    let notes =
        |saved: &Namespace| notify::namespace(app, "metadef_namespace.update", saved, Some(name));
    match app
        .db
        .update_namespace_noting(name, &namespace, notes)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(ServiceError::Conflict(format!(
            "Invalid update. It would result in a duplicate metadata definition namespace with the same name of {}",
            namespace.namespace
        ))),
        Err(e) => Err(gone(e, name)),
    }
}

pub async fn delete(app: &App, ctx: &RequestContext, name: &str) -> ServiceResult<()> {
    let ns = authorized_namespace(app, ctx, name, "delete_metadef_namespace").await?;
    check_unprotected(&ns, &format!("namespace {name}"))?;
    app.db
        .delete_namespace_noting(name, &notify::namespace_deleted(app, &ns))
        .await
        .map_err(|e| gone(e, name))?;
    Ok(())
}

/// Delete every object, property or tag of a namespace. A protected
/// namespace refuses, as it would refuse its own deletion; so does the
/// policy, which checks the namespace's deletion rule (and for tags, theirs).
pub async fn delete_content(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    content: MetadefContent,
) -> ServiceResult<()> {
    let ns = authorized_namespace(app, ctx, name, "delete_metadef_namespace").await?;
    if content == MetadefContent::Tags {
        authorize(app, ctx, &ns, "delete_metadef_tags")?;
    }
    check_unprotected(&ns, &format!("namespace {name}"))?;
    let event = match content {
        MetadefContent::Objects => "metadef_namespace.delete_objects",
        MetadefContent::Properties => "metadef_namespace.delete_properties",
        MetadefContent::Tags => "metadef_namespace.delete_tags",
    };
    app.db
        .delete_content_noting(name, content, &notify::namespace(app, event, &ns, None))
        .await
        .map_err(|e| gone(e, name))?;
    Ok(())
}

/// The events of a namespace's creation, in Glance's order: the namespace,
/// then each association, object, tag and property it embeds.
fn created(app: &App, doc: &NamespaceDocument) -> notify::Notes {
    let name = doc.namespace.namespace.as_str();
    [
        notify::namespace(app, "metadef_namespace.create", &doc.namespace, None),
        notify::metadefs_created(app, name, &doc.associations),
        notify::metadefs_created(app, name, &doc.objects),
        notify::metadefs_created(app, name, &doc.tags),
        notify::metadefs_created(app, name, &doc.properties),
    ]
    .concat()
}

fn duplicate(name: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "The metadata definition namespace={name} already exists."
    ))
}
