//! What objects, properties and tags have in common: each is an item of a namespace, named
//! uniquely within it, and shown, replaced and deleted the same way. Only how a body becomes an
//! item, where the rows live, and how messages name the kind differ; `Content` says those.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    ContentOp, authorized_namespace, check_unprotected, check_writable_keys, content_rule, gone,
    invalid,
};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{Database, DbError, MetadefContent};
use crate::domain::metadefs::{self, Invalid, MetadefObject, NamespaceDocument, Property, Tag};
use crate::service::{ServiceError, ServiceResult};

/// One kind of item in a namespace.
pub trait Content: Sized + Send + Sync {
    /// The kind as messages name it: "object", "property", "tag".
    const KIND: &'static str;
    /// Where its rows live.
    const TABLE: MetadefContent;

    /// The item a request body describes.
    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid>;
    fn name(&self) -> &str;
    fn insert(
        db: &Database,
        namespace: &str,
        item: &Self,
    ) -> impl Future<Output = Result<(), DbError>> + Send;
    fn fetch(
        db: &Database,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Self>, DbError>> + Send;
    fn replace(
        db: &Database,
        namespace: &str,
        name: &str,
        item: &Self,
    ) -> impl Future<Output = Result<Self, DbError>> + Send;
    /// The item `name` of a provided namespace's document.
    fn in_document(doc: &NamespaceDocument, name: &str) -> Option<Self>;

    /// The 409 for a name already taken; Glance words it per kind.
    fn duplicate(name: &str, namespace: &str) -> ServiceError {
        ServiceError::Conflict(format!(
            "A metadata definition {} with name={name} already exists in namespace={namespace}.",
            Self::KIND
        ))
    }

    /// The 404 for a missing item, in Glance's words for each kind.
    fn not_found(name: &str, _namespace: &str) -> ServiceError {
        ServiceError::NotFound(match Self::KIND {
            "property" => format!("Could not find property {name}"),
            kind => format!("Could not find metadata {kind} {name}"),
        })
    }
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
        content_rule(C::TABLE, ContentOp::Create),
    )
    .await?;
    check_writable_keys(body)?;
    let item = C::parse(body, Utc::now()).map_err(invalid)?;
    add(app, namespace, item).await
}

/// Store a new, already validated item.
pub async fn add<C: Content>(app: &App, namespace: &str, item: C) -> ServiceResult<C> {
    match C::insert(&app.db, namespace, &item).await {
        Ok(()) => Ok(item),
        Err(DbError::Duplicate) => Err(C::duplicate(item.name(), namespace)),
        Err(e) => Err(gone(e, namespace)),
    }
}

pub async fn show<C: Content>(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<C> {
    authorized_namespace(app, ctx, namespace, content_rule(C::TABLE, ContentOp::Show)).await?;
    super::providers::fetch::<C>(app, namespace, name)
        .await?
        .ok_or_else(|| C::not_found(name, namespace))
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
        content_rule(C::TABLE, ContentOp::Update),
    )
    .await?;
    check_writable_keys(body)?;
    let item = C::parse(body, Utc::now()).map_err(invalid)?;
    match C::replace(&app.db, namespace, name, &item).await {
        Ok(saved) => Ok(saved),
        Err(DbError::Duplicate) => Err(C::duplicate(item.name(), namespace)),
        Err(DbError::NotFound) => Err(C::not_found(name, namespace)),
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
    let rule = content_rule(C::TABLE, ContentOp::Delete);
    let ns = authorized_namespace(app, ctx, namespace, rule).await?;
    // A missing item is 404 even in a protected namespace, as Glance looks it up first.
    if super::providers::fetch::<C>(app, namespace, name)
        .await?
        .is_none()
    {
        return Err(C::not_found(name, namespace));
    }
    check_unprotected(&ns, &format!("{} {name}", C::KIND))?;
    let deleted = app
        .db
        .delete_named(namespace, C::TABLE, name)
        .await
        .map_err(|e| gone(e, namespace))?;
    if deleted {
        Ok(())
    } else {
        Err(C::not_found(name, namespace))
    }
}

impl Content for MetadefObject {
    const KIND: &'static str = "object";
    const TABLE: MetadefContent = MetadefContent::Objects;

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::object(body, now)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn insert(
        db: &Database,
        namespace: &str,
        item: &Self,
    ) -> impl Future<Output = Result<(), DbError>> + Send {
        db.create_object(namespace, item)
    }
    fn fetch(
        db: &Database,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Self>, DbError>> + Send {
        db.get_object(namespace, name)
    }
    fn replace(
        db: &Database,
        namespace: &str,
        name: &str,
        item: &Self,
    ) -> impl Future<Output = Result<Self, DbError>> + Send {
        db.update_object(namespace, name, item)
    }
    fn in_document(doc: &NamespaceDocument, name: &str) -> Option<Self> {
        doc.objects.iter().find(|o| o.name == name).cloned()
    }
}

impl Content for Property {
    const KIND: &'static str = "property";
    const TABLE: MetadefContent = MetadefContent::Properties;

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::property(body, now)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn insert(
        db: &Database,
        namespace: &str,
        item: &Self,
    ) -> impl Future<Output = Result<(), DbError>> + Send {
        db.create_property(namespace, item)
    }
    fn fetch(
        db: &Database,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Self>, DbError>> + Send {
        db.get_property(namespace, name)
    }
    fn replace(
        db: &Database,
        namespace: &str,
        name: &str,
        item: &Self,
    ) -> impl Future<Output = Result<Self, DbError>> + Send {
        db.update_property(namespace, name, item)
    }
    fn in_document(doc: &NamespaceDocument, name: &str) -> Option<Self> {
        doc.properties.iter().find(|p| p.name == name).cloned()
    }
}

impl Content for Tag {
    const KIND: &'static str = "tag";
    const TABLE: MetadefContent = MetadefContent::Tags;

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, Invalid> {
        metadefs::tag(body, now)
    }
    fn name(&self) -> &str {
        &self.name
    }
    async fn insert(db: &Database, namespace: &str, item: &Self) -> Result<(), DbError> {
        db.create_tags(namespace, std::slice::from_ref(item), false)
            .await
    }
    fn fetch(
        db: &Database,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Self>, DbError>> + Send {
        db.get_tag(namespace, name)
    }
    fn replace(
        db: &Database,
        namespace: &str,
        name: &str,
        item: &Self,
    ) -> impl Future<Output = Result<Self, DbError>> + Send {
        db.update_tag(namespace, name, item)
    }
    fn in_document(doc: &NamespaceDocument, name: &str) -> Option<Self> {
        doc.tags.iter().find(|t| t.name == name).cloned()
    }

    fn duplicate(name: &str, namespace: &str) -> ServiceError {
        ServiceError::Conflict(format!(
            "A metadata tag with name={name} already exists in namespace={namespace}. \
             (Please note that metadata tag names are case insensitive)."
        ))
    }
}
