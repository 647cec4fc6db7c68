//! Objects, properties and tags: each is an item of a namespace, named uniquely within it, and
//! listed, created, shown, replaced and deleted the same way, by the one generic implementation
//! below. Where the rows live is the kind's `MetadefItem` (in `db`); how a body becomes an item
//! and how messages name the kind are its `Content`. Only tags add operations of their own
//! (`tags`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    ContentOp, authorized_namespace, check_unprotected, check_writable_keys, content_rule, gone,
    invalid,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, MetadefContent, MetadefItem};
use crate::domain::metadefs::{self, Invalid, MetadefObject, Property, Tag};
use crate::service::notify::{self, MetadefEvent};
use crate::service::{ServiceError, ServiceResult};

/// One kind of item in a namespace: how it is stored is its [`MetadefItem`];
/// what is left is how a request body becomes one, and how messages name it.
pub trait Content: MetadefItem + MetadefEvent {
    /// The kind as messages name it: "object", "property", "tag".
    const NOUN: &'static str;

    /// The item a request body describes.
    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid>;
}

impl Content for MetadefObject {
    const NOUN: &'static str = "object";

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::object(body, now)
    }
}

impl Content for Property {
    const NOUN: &'static str = "property";

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::property(body, now)
    }
}

impl Content for Tag {
    const NOUN: &'static str = "tag";

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::tag(body, now)
    }
}

/// The 409 for a name already taken, in Glance's words for each kind.
pub fn duplicate<C: Content>(name: &str, namespace: &str) -> ServiceError {
    ServiceError::Conflict(match C::KIND {
        MetadefContent::Tags => format!(
            "A metadata tag with name={name} already exists in namespace={namespace}. \
             (Please note that metadata tag names are case insensitive)."
        ),
        _ => format!(
            "A metadata definition {} with name={name} already exists in namespace={namespace}.",
            C::NOUN
        ),
    })
}

/// The 404 for a missing item, in Glance's words for each kind.
pub fn not_found<C: Content>(name: &str) -> ServiceError {
    ServiceError::NotFound(match C::KIND {
        MetadefContent::Properties => format!("Could not find property {name}"),
        _ => format!("Could not find metadata {} {name}", C::NOUN),
    })
}

/// Every item of one kind in a namespace, oldest first.
pub async fn list<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
) -> ServiceResult<Vec<C>> {
    let rule = content_rule(C::KIND, ContentOp::List);
    authorized_namespace(app, ctx, namespace, rule).await?;
    Ok(super::providers::list_items::<C>(app, namespace).await?)
}

/// Create the item a body describes.
pub async fn create<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    body: &Value,
) -> ServiceResult<C> {
    authorized_namespace(
        app,
        ctx,
        namespace,
        content_rule(C::KIND, ContentOp::Create),
    )
    .await?;
    check_writable_keys(body)?;
    let item = C::parse(body, Utc::now()).map_err(invalid)?;
    add(app, namespace, item).await
}

/// Store a new, already validated item.
pub async fn add<C: Content>(app: &App, namespace: &str, item: C) -> ServiceResult<C> {
    let notes = notify::metadefs_created(app, namespace, std::slice::from_ref(&item));
    match app.db.create_item_noting(namespace, &item, &notes).await {
        Ok(()) => Ok(item),
        Err(DbError::Duplicate) => Err(duplicate::<C>(item.name(), namespace)),
        Err(e) => Err(gone(e, namespace)),
    }
}

pub async fn show<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<C> {
    authorized_namespace(app, ctx, namespace, content_rule(C::KIND, ContentOp::Show)).await?;
    super::providers::fetch::<C>(app, namespace, name)
        .await?
        .ok_or_else(|| not_found::<C>(name))
}

/// Replace an item, its name included, with the body.
pub async fn update<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    body: &Value,
) -> ServiceResult<C> {
    authorized_namespace(
        app,
        ctx,
        namespace,
        content_rule(C::KIND, ContentOp::Update),
    )
    .await?;
    check_writable_keys(body)?;
    let item = C::parse(body, Utc::now()).map_err(invalid)?;
    let notes = |saved: &C| notify::metadef_updated(app, namespace, saved, name);
    match app
        .db
        .update_item_noting(namespace, name, &item, notes)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(duplicate::<C>(item.name(), namespace)),
        Err(DbError::NotFound) => Err(not_found::<C>(name)),
        Err(e) => Err(e.into()),
    }
}

/// Delete an item; nothing in a protected namespace may be deleted.
pub async fn delete<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<()> {
    let rule = content_rule(C::KIND, ContentOp::Delete);
    let ns = authorized_namespace(app, ctx, namespace, rule).await?;
    // A missing item is 404 even in a protected namespace, as Glance looks it up first.
    let Some(item) = super::providers::fetch::<C>(app, namespace, name).await? else {
        return Err(not_found::<C>(name));
    };
    check_unprotected(&ns, &format!("{} {name}", C::NOUN))?;
    let notes = notify::metadef_deleted(app, namespace, &item);
    let deleted = app
        .db
        .delete_item_noting::<C>(namespace, name, &notes)
        .await
        .map_err(|e| gone(e, namespace))?;
    if deleted {
        Ok(())
    } else {
        Err(not_found::<C>(name))
    }
}
