//! Metadata definitions: each operation as explicit steps over the database.
//!
//! Rules shared by every metadef resource (Glance's metadef policy defaults):
//! reads need a namespace the caller may see, and one it may not see is a
//! 404, never a 403; every write needs an administrator; nothing in a
//! protected namespace can be deleted.

pub mod content;
pub mod load;
pub mod namespaces;
pub mod objects;
pub mod properties;
pub mod resource_types;
pub mod tags;

use serde_json::Value;

use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::metadefs::{self, Invalid, Namespace};

/// Namespace `name`, if the caller may see it.
pub async fn visible_namespace(
    app: &App,
    ctx: &RequestContext,
    name: &str,
) -> ServiceResult<Namespace> {
    match app.db.get_namespace(name).await? {
        Some(ns) if metadefs::can_see(&ctx.scope(), &ns) => Ok(ns),
        _ => Err(namespace_not_found(name)),
    }
}

/// Namespace `name`, if the caller may see it and change what is in it.
pub async fn writable_namespace(
    app: &App,
    ctx: &RequestContext,
    name: &str,
) -> ServiceResult<Namespace> {
    let ns = visible_namespace(app, ctx, name).await?;
    require_admin(ctx)?;
    Ok(ns)
}

/// Every metadef write is for administrators (`metadef_admin`).
pub fn require_admin(ctx: &RequestContext) -> ServiceResult<()> {
    if ctx.is_admin {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "You are not authorized to complete this action.".into(),
        ))
    }
}

/// Refuses a body that sets a key the server owns.
pub fn check_writable_keys(body: &Value) -> ServiceResult<()> {
    match metadefs::read_only_key(body) {
        Some(key) => Err(ServiceError::ReadOnly(key.into())),
        None => Ok(()),
    }
}

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
