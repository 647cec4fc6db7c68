//! Image metadata operations: create, show, list, update, delete, tags.

use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;

use super::access::{ImageTarget, allowed, enforce_image};
use super::notify::Notes;
use super::quota::{self, Resource};
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::{DbError, NewWork};
use crate::domain::patch::{self, Actor, Change, Dialect, Op};
use crate::domain::rules::{self, KeyClass, SchemaViolation};
use crate::domain::{Image, ImageStatus, ListQuery, Visibility};

/// Create an image from a client's JSON object.
pub async fn create(app: &App, ctx: &RequestContext, body: &Value) -> ServiceResult<Image> {
    let Value::Object(fields) = body else {
        return Err(SchemaViolation::Schema("the body must be a JSON object".into()).into());
    };
    let id = match fields.get("id") {
        None => Uuid::new_v4(),
        Some(Value::String(s)) => Uuid::parse_str(s)
            .map_err(|_| SchemaViolation::Schema(format!("'{s}' does not match the id pattern")))?,
        Some(other) => {
            return Err(SchemaViolation::Schema(format!("{other} is not of type 'string'")).into());
        }
    };
    let mut image = Image::new(id, ctx.project_id.clone(), Utc::now());
    for (key, value) in fields {
        match rules::classify(key) {
            KeyClass::ReadOnly if key == "id" => {}
            // Glance checks these two against the schema only, then drops them: the image's
            // own (still empty) hash is what every answer shows.
            KeyClass::ReadOnly if matches!(key.as_str(), "os_hash_algo" | "os_hash_value") => {
                if !matches!(value, Value::Null | Value::String(_)) {
                    return Err(SchemaViolation::Schema(format!(
                        "{value} is not of type 'null', 'string'"
                    ))
                    .into());
                }
            }
            KeyClass::ReadOnly => return Err(ServiceError::ReadOnly(key.clone())),
            // Glance refuses `locations` in its image factory, the rest when it reads the body,
            // in other words.
            KeyClass::Reserved if key == "locations" => {
                return Err(ServiceError::Reserved(key.clone()));
            }
            KeyClass::Reserved => return Err(ServiceError::Reserved(key.clone()).as_detail()),
            KeyClass::Base => rules::set_base(&mut image, key, value, &app.formats)?,
            KeyClass::Extra => {
                image
                    .properties
                    .insert(key.clone(), rules::extra(key, value)?);
            }
        }
    }
    check_property_changes(app, ctx, None, &image)?;
    let target = ImageTarget::proposed(ctx, image.owner.as_deref(), image.visibility);
    if !allowed(app, ctx, "add_image", &target) {
        return Err(match &image.owner {
            Some(owner) if image.owner != ctx.project_id => {
                ServiceError::ForeignOwner(owner.clone())
            }
            _ => not_authorized("add_image"),
        });
    }
    enforce_visibility(app, ctx, &target, image.visibility)?;
    check_quotas(app, &image)?;
    quota::enforce(app, ctx, Resource::ImageCountTotal, 1).await?;
    let notes = super::notify::image(app, "image.create", &image);
    match app.db.create_image_noting(&image, &notes).await {
        Ok(()) => Ok(image),
        Err(DbError::Duplicate) => Err(ServiceError::Duplicate(id)),
        Err(e) => Err(e.into()),
    }
}

/// An image the caller may see, or `ImageNotFound`.
pub async fn get(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Image> {
    let Some(image) = app.db.get_image(id).await? else {
        return Err(ServiceError::ImageNotFound(id));
    };
    if !visible(app, ctx, &image).await? {
        return Err(ServiceError::ImageNotFound(id));
    }
    enforce_image(app, ctx, "get_image", &image, String::new)?;
    Ok(image)
}

/// An image the caller may change: 404 if invisible, 403 if only visible.
pub async fn get_for_update(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Image> {
    get_for(app, ctx, id, "modify_image").await
}

/// An image the caller may see and act on under `rule`.
pub async fn get_for(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    rule: &str,
) -> ServiceResult<Image> {
    let image = get(app, ctx, id).await?;
    enforce_image(app, ctx, rule, &image, || {
        format!("You are not authorized to complete {rule} action.")
    })?;
    Ok(image)
}

/// Glance's visibility rule for one image: administrators see all; anyone
/// sees public and community images and images without an owner; a project
/// sees its own images and the shared images it is a member of, whatever
/// its answer.
async fn visible(app: &App, ctx: &RequestContext, image: &Image) -> ServiceResult<bool> {
    if ctx.is_admin
        || image.owner.is_none()
        || matches!(image.visibility, Visibility::Public | Visibility::Community)
    {
        return Ok(true);
    }
    let Some(project) = ctx.project_id.as_deref() else {
        return Ok(false);
    };
    if image.owner.as_deref() == Some(project) {
        return Ok(true);
    }
    Ok(image.visibility == Visibility::Shared
        && app.db.get_member(image.id, project).await?.is_some())
}

pub async fn list(app: &App, ctx: &RequestContext, query: &ListQuery) -> ServiceResult<Vec<Image>> {
    let target = ImageTarget::proposed(ctx, None, Visibility::Private);
    if !allowed(app, ctx, "get_images", &target) {
        return Err(not_authorized("get_images"));
    }
    match app.db.list_images(query).await {
        Ok(images) => Ok(images),
        Err(DbError::MarkerNotFound) => Err(ServiceError::UnknownMarker(query.marker)),
        Err(e) => Err(e.into()),
    }
}

/// Apply a JSON-patch document.
pub async fn update(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    doc: &Value,
    dialect: Dialect,
) -> ServiceResult<Image> {
    // The document is checked before the image is looked up, as Glance does.
    let max_ops = app.config.api.max_patch_operations;
    if doc.as_array().is_some_and(|ops| ops.len() > max_ops) {
        return Err(ServiceError::TooManyPatchOperations(max_ops));
    }
    let changes: Vec<Change> = patch::parse(doc, dialect)?;
    let current = get(app, ctx, id).await?;
    // Glance checks each change's own rules before the general one, so a first change of
    // visibility meets its visibility rule before `modify_image`.
    if let Some(Change {
        op: Op::Add | Op::Replace,
        key,
        value: Some(Value::String(value)),
    }) = changes.first()
        && key == "visibility"
        && let Some(visibility) = Visibility::parse(value)
    {
        enforce_visibility(app, ctx, &ImageTarget::of(ctx, &current), visibility)?;
    }
    enforce_image(app, ctx, "modify_image", &current, || {
        "You are not authorized to complete modify_image action.".into()
    })?;
    let mut image = current.clone();
    patch::apply(
        &mut image,
        &changes,
        dialect,
        Actor {
            is_admin: ctx.is_admin,
        },
        &app.formats,
    )?;
    if image == current {
        return Ok(current);
    }
    check_property_changes(app, ctx, Some(&current), &image)?;
    if image.visibility != current.visibility {
        enforce_visibility(app, ctx, &ImageTarget::of(ctx, &current), image.visibility)?;
    }
    check_quotas(app, &image)?;
    let saved = save(app, &image, &current).await?;
    if saved.visibility != current.visibility {
        super::acls::set_acls(app, ctx, &saved).await;
    }
    Ok(saved)
}

/// Add a tag (idempotent).
pub async fn add_tag(app: &App, ctx: &RequestContext, id: Uuid, tag: &str) -> ServiceResult<()> {
    rules::tag(tag)?;
    let image = get_for_tags(app, ctx, id).await?;
    if !image.tags.contains(tag) && image.tags.len() >= app.config.api.image_tag_quota {
        return Err(over_limit("tags", app.config.api.image_tag_quota));
    }
    // Glance saves the image with its new tag, so the change is an `image.update`.
    let mut tagged = image;
    tagged.tags.insert(tag.to_owned());
    app.db
        .add_tag_noting(id, tag, |updated_at| {
            tagged.updated_at = updated_at;
            super::notify::image(app, "image.update", &tagged)
        })
        .await
        .map_err(|e| not_found_as(e, id))
}

pub async fn delete_tag(app: &App, ctx: &RequestContext, id: Uuid, tag: &str) -> ServiceResult<()> {
    let mut untagged = get_for_tags(app, ctx, id).await?;
    untagged.tags.remove(tag);
    if app
        .db
        .remove_tag_noting(id, tag, |updated_at| {
            untagged.updated_at = updated_at;
            super::notify::image(app, "image.update", &untagged)
        })
        .await
        .map_err(|e| not_found_as(e, id))?
    {
        Ok(())
    } else {
        // Glance says no more than that.
        Err(ServiceError::NoSuchResource)
    }
}

/// The image whose tags change; one the caller cannot see is "not found" in the tags API's
/// own words.
async fn get_for_tags(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Image> {
    get_for_update(app, ctx, id).await.map_err(|e| match e {
        ServiceError::ImageNotFound(id) => ServiceError::MemberImageNotFound(id),
        other => other,
    })
}

/// Delete an image's data, then its record, as Glance does: a store that
/// refuses because the data is in use (an RBD snapshot with clones) answers
/// 409 and the image stays as it was. Data a store cannot delete now becomes
/// pending work for the reaper; the record goes regardless. With
/// `delayed_delete` the data waits for the reaper (`pending_delete`).
/// `forwarded`: another node sent this delete here as to the stage host.
pub async fn delete(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    forwarded: bool,
) -> ServiceResult<()> {
    let image = get_for(app, ctx, id, "delete_image")
        .await
        .map_err(|e| match e {
            ServiceError::ImageNotFound(id) => ServiceError::ImageToDeleteNotFound(id),
            other => other,
        })?;
    if image.protected {
        return Err(ServiceError::Protected(id));
    }
    // Staged on another node: that node deletes it with its staged data. If
    // it cannot be reached, the delete happens here and the staged file
    // stays behind on that node (Glance's `_delete_image_on_remote`). So does
    // a delete forwarded here that would be forwarded again (the nodes'
    // URLs disagree), rather than going round.
    if let Some(host) = image.properties.get(super::staging::STAGE_HOST)
        && app.config.self_url().as_deref() != Some(host.as_str())
    {
        use crate::remote::stage_host::{self, StageHostError};
        if forwarded {
            tracing::error!(image = %id, stage_host = host, own = ?app.config.self_url(),
                "deleting here a delete forwarded as to the stage host, which is not this node's own URL: check worker_self_reference_url on the API nodes");
        } else {
            match stage_host::delete(host, ctx, id).await {
                Ok(()) => return Ok(()),
                Err(StageHostError::Answered { status, .. }) if !status.is_server_error() => {
                    return Err(ServiceError::StageHostAnswered(status.as_u16()));
                }
                Err(e) => {
                    tracing::warn!(image = %id, error = %e, "deleting here: the stage host did not");
                }
            }
        }
    }
    crate::service::pending::delete_image(app, ctx, &image).await?;
    super::staging::remove(app, id).await;
    app.cache.forget(id).await;
    Ok(())
}

/// Make an active image's data unavailable to everyone but administrators.
/// Deactivating a deactivated image changes nothing.
pub async fn deactivate(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<()> {
    set_activation(
        app,
        ctx,
        id,
        "deactivate",
        ImageStatus::Active,
        ImageStatus::Deactivated,
    )
    .await
}

/// Make a deactivated image's data available again. Reactivating an active
/// image changes nothing.
pub async fn reactivate(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<()> {
    set_activation(
        app,
        ctx,
        id,
        "reactivate",
        ImageStatus::Deactivated,
        ImageStatus::Active,
    )
    .await
}

/// Moves an image `from` one status `to` the other; an image already there is left alone, and
/// any other status is refused (403, as Glance answers), whatever else the state machine allows.
async fn set_activation(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    action: &'static str,
    from: ImageStatus,
    to: ImageStatus,
) -> ServiceResult<()> {
    let image = get(app, ctx, id).await?;
    enforce_image(app, ctx, action, &image, || {
        format!("You are not authorized to complete {action} action.")
    })?;
    if image.status == to {
        return Ok(());
    }
    if image.status != from {
        return Err(ServiceError::ActivationRefused {
            action,
            status: image.status,
        });
    }
    let (changed, _) = image.moved_to(to)?;
    save(app, &changed, &image).await?;
    if to == ImageStatus::Deactivated {
        app.cache.forget(id).await;
    }
    Ok(())
}

/// Save `image`, provided nobody moved its status since `current` was read;
/// the change is an `image.update`.
async fn save(app: &App, image: &Image, current: &Image) -> ServiceResult<Image> {
    let notes = |saved: &Image| super::notify::image(app, "image.update", saved);
    match app
        .db
        .update_image_noting(image, Some(current.status), notes)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(DbError::Conflict) => Err(ServiceError::ChangedConcurrently(image.id)),
        Err(e) => Err(not_found_as(e, image.id)),
    }
}

/// The caller's roles for property protections, service roles included.
fn protection_roles(ctx: &RequestContext) -> Vec<String> {
    ctx.roles
        .iter()
        .chain(&ctx.service_roles)
        .cloned()
        .collect()
}

/// Property protections on a create (`before` is `None`) or an update:
/// new properties need `create`, changed ones `update`, removed ones
/// `delete`; a refusal is Glance's 403 "reserved".
fn check_property_changes(
    app: &App,
    ctx: &RequestContext,
    before: Option<&Image>,
    after: &Image,
) -> ServiceResult<()> {
    use crate::domain::protections::Op;
    let rules = &app.protections;
    if !rules.enabled() {
        return Ok(());
    }
    let roles = protection_roles(ctx);
    let readable = |k: &str| rules.allows(k, Op::Read, &roles);
    for (key, value) in &after.properties {
        let op = match before.and_then(|b| b.properties.get(key)) {
            Some(old) if old == value => continue,
            Some(_) if readable(key) => Op::Update,
            _ => Op::Create,
        };
        if !rules.allows(key, op, &roles) {
            return Err(ServiceError::Reserved(key.clone()));
        }
    }
    if let Some(before) = before {
        for key in before.properties.keys() {
            if !after.properties.contains_key(key) && !rules.allows(key, Op::Delete, &roles) {
                return Err(ServiceError::Reserved(key.clone()));
            }
        }
    }
    Ok(())
}

/// The image as the caller may read it: properties the protections hide
/// from it are left out.
pub fn readable(app: &App, ctx: &RequestContext, mut image: Image) -> Image {
    use crate::domain::protections::Op;
    if app.protections.enabled() {
        let roles = protection_roles(ctx);
        image
            .properties
            .retain(|k, _| app.protections.allows(k, Op::Read, &roles));
    }
    // Glance does not say where a deactivated image's data lives (its `stores`) to anyone
    // but the owner and admins: a member sees the image without them.
    let owns = ctx.project_id.is_some() && ctx.project_id == image.owner;
    if image.status == crate::domain::ImageStatus::Deactivated && !ctx.is_admin && !owns {
        image.locations.clear();
    }
    image
}

/// Making an image public or community has a rule of its own.
fn enforce_visibility(
    app: &App,
    ctx: &RequestContext,
    target: &ImageTarget,
    visibility: Visibility,
) -> ServiceResult<()> {
    let rule = match visibility {
        Visibility::Public => "publicize_image",
        Visibility::Community => "communitize_image",
        Visibility::Private | Visibility::Shared => return Ok(()),
    };
    if allowed(app, ctx, rule, target) {
        Ok(())
    } else {
        Err(not_authorized(rule))
    }
}

fn check_quotas(app: &App, image: &Image) -> ServiceResult<()> {
    let api = &app.config.api;
    if image.properties.len() > api.image_property_quota {
        return Err(over_limit("image properties", api.image_property_quota));
    }
    if image.tags.len() > api.image_tag_quota {
        return Err(over_limit("tags", api.image_tag_quota));
    }
    Ok(())
}

fn over_limit(what: &'static str, limit: usize) -> ServiceError {
    ServiceError::TooMany { what, limit }
}

fn not_authorized(rule: &str) -> ServiceError {
    ServiceError::NotAuthorized {
        rule: rule.to_owned(),
    }
}

/// A database `NotFound` here means the image vanished between two steps.
pub(crate) fn not_found_as(e: DbError, id: Uuid) -> ServiceError {
    match e {
        DbError::NotFound => ServiceError::ImageNotFound(id),
        other => other.into(),
    }
}

/// Read-modify-write of an image that retries when another writer got there
/// between the read and the write. `change` moves the status, if it does,
/// through the domain; the write expects the status the image was read with.
pub(crate) async fn modify(
    app: &App,
    id: Uuid,
    mut change: impl FnMut(&mut Image) -> ServiceResult<()>,
) -> ServiceResult<Image> {
    modify_noting(
        app,
        id,
        |img| change(img).map(|()| Vec::new()),
        |_, _| Vec::new(),
    )
    .await
}

/// [`modify`] where `change` also returns pending work, written in the same
/// transaction as the change (or not at all).
pub(crate) async fn modify_leaving(
    app: &App,
    id: Uuid,
    change: impl FnMut(&mut Image) -> ServiceResult<Vec<NewWork>>,
) -> ServiceResult<Image> {
    modify_noting(app, id, change, |_, _| Vec::new()).await
}

/// [`modify_leaving`] where `notes` makes the change's notifications from
/// the image as read and as saved, written in the same transaction.
pub(crate) async fn modify_noting(
    app: &App,
    id: Uuid,
    mut change: impl FnMut(&mut Image) -> ServiceResult<Vec<NewWork>>,
    notes: impl Fn(&Image, &Image) -> Notes + Sync,
) -> ServiceResult<Image> {
    for _ in 0..10 {
        let current = app
            .db
            .get_image(id)
            .await?
            .ok_or(ServiceError::ImageNotFound(id))?;
        let mut next = current.clone();
        let work = change(&mut next)?;
        if next == current && work.is_empty() {
            return Ok(current);
        }
        let notes = |saved: &Image| notes(&current, saved);
        match app
            .db
            .update_image_leaving(&next, Some(current.status), &work, notes)
            .await
        {
            Ok(saved) => return Ok(saved),
            Err(DbError::Conflict) => continue,
            Err(e) => return Err(not_found_as(e, id)),
        }
    }
    Err(ServiceError::KeepsChanging(id))
}
