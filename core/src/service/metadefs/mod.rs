//! Metadata definitions: each operation as explicit steps over the database.
//!
//! Rules shared by every metadef resource: each operation names its policy
//! rule (`get_metadef_objects`, `add_metadef_tag`, ...) and checks it against
//! the namespace it acts in. A namespace the caller may not see (the
//! database's visibility, then the `get_metadef_namespace` rule) is a 404,
//! never a 403; one it may see but not change is a 403. Nothing in a
//! protected namespace can be deleted.

pub mod content;
pub mod load;
pub mod namespaces;
pub mod providers;
pub mod resource_types;
pub mod tags;

use serde_json::Value;

use super::{ServiceError, ServiceResult, denied_or_not_found};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
/// The kinds of a namespace's content (objects, properties, tags), as callers name them.
pub use crate::db::MetadefContent;
use crate::domain::metadefs::{self, Invalid, Namespace};
use crate::policy::Target;

/// Namespace `name`, if the caller may see it; one it may not is "not found" in the words
/// of every operation on a namespace but showing it ([`namespace_not_found`]).
pub async fn visible_namespace(
    app: &App,
    ctx: &RequestContext,
    name: &str,
) -> ServiceResult<Namespace> {
    match providers::get_namespace(app, name).await? {
        Some(ns) if metadefs::can_see(&ctx.scope(), &ns) => Ok(ns),
        _ => Err(ServiceError::NamespaceNotFound(name.to_owned())),
    }
}

/// Namespace `name`, for an operation under policy `rule`: 404 when the
/// caller may not see the namespace, 403 when it may see it but not do this.
pub async fn authorized_namespace(
    app: &App,
    ctx: &RequestContext,
    name: &str,
    rule: &str,
) -> ServiceResult<Namespace> {
    let ns = visible_namespace(app, ctx, name).await?;
    authorize(app, ctx, &ns, rule)?;
    providers::refuse_write(app, name, rule)?;
    Ok(ns)
}

/// Checks policy `rule` against namespace `ns` (already known to exist).
pub fn authorize(app: &App, ctx: &RequestContext, ns: &Namespace, rule: &str) -> ServiceResult<()> {
    app.policy
        .enforce_or_hide(rule, "get_metadef_namespace", ctx, &Target::namespace(ns))
        // A namespace hidden by policy is not found, without a word of which one.
        .map_err(|denied| denied_or_not_found(denied, || ServiceError::NoSuchResource))
}

/// What can be done to the items of a namespace, each under its own rule.
#[derive(Debug, Clone, Copy)]
pub enum ContentOp {
    List,
    Show,
    Create,
    Update,
    Delete,
}

/// The policy rule of `op` on objects, properties or tags.
pub fn content_rule(content: MetadefContent, op: ContentOp) -> &'static str {
    use ContentOp as O;
    use MetadefContent as C;
    match (content, op) {
        (C::Objects, O::List) => "get_metadef_objects",
        (C::Objects, O::Show) => "get_metadef_object",
        (C::Objects, O::Create) => "add_metadef_object",
        (C::Objects, O::Update) => "modify_metadef_object",
        (C::Objects, O::Delete) => "delete_metadef_object",
        (C::Properties, O::List) => "get_metadef_properties",
        (C::Properties, O::Show) => "get_metadef_property",
        (C::Properties, O::Create) => "add_metadef_property",
        (C::Properties, O::Update) => "modify_metadef_property",
        (C::Properties, O::Delete) => "remove_metadef_property",
        (C::Tags, O::List) => "get_metadef_tags",
        (C::Tags, O::Show) => "get_metadef_tag",
        (C::Tags, O::Create) => "add_metadef_tag",
        (C::Tags, O::Update) => "modify_metadef_tag",
        (C::Tags, O::Delete) => "delete_metadef_tag",
    }
}

/// Refuses a body that sets a key the server owns.
pub fn check_writable_keys(body: &Value) -> ServiceResult<()> {
    match metadefs::read_only_key(body) {
        Some(key) => Err(ServiceError::ReadOnly(key.into())),
        None => Ok(()),
    }
}

/// A namespace missing under a show, in the database's words.
pub fn namespace_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "Metadata definition namespace={name} was not found."
    ))
}

/// The namespace is protected: nothing in it may be deleted.
fn check_unprotected(ns: &Namespace, what: &str) -> ServiceResult<()> {
    if ns.protected {
        return Err(ServiceError::Forbidden(format!(
            "Metadata definition {what} is protected and cannot be deleted."
        )));
    }
    Ok(())
}

fn invalid(e: Invalid) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

/// A database `NotFound` inside a namespace means the namespace went away
/// between the visibility check and the write.
fn gone(e: DbError, namespace: &str) -> ServiceError {
    match e {
        DbError::NotFound => namespace_not_found(namespace),
        other => other.into(),
    }
}
