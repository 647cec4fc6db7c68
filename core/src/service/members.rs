//! Image sharing: the projects a `shared` image is offered to, and their answers.
//!
//! Each operation runs Glance's steps in order: find the image (404 when the
//! caller cannot see it), require `visibility=shared`, find the member, then
//! check the rule, so that every refusal has Glance's status.

use uuid::Uuid;

use super::access::enforce_image;
use super::acls::set_acls;
use super::images;
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{Image, Member, MemberStatus, Visibility};

/// Longest member (project) id: the width of the members table's column.
const MAX_MEMBER_ID: usize = 255;

/// The image whose members are asked about; one the caller cannot see is "not found" in the
/// members API's own words.
async fn image_of(app: &App, ctx: &RequestContext, image_id: Uuid) -> ServiceResult<Image> {
    images::get(app, ctx, image_id).await.map_err(|e| match e {
        ServiceError::ImageNotFound(id) => ServiceError::MemberImageNotFound(id),
        other => other,
    })
}

/// Share an image with a project; the member starts `pending`.
pub async fn create(
    app: &App,
    ctx: &RequestContext,
    image_id: Uuid,
    member: &str,
) -> ServiceResult<Member> {
    // The member id is a project id; a longer one fits no database's column.
    if member.chars().count() > MAX_MEMBER_ID {
        return Err(ServiceError::MemberIdTooLong(MAX_MEMBER_ID));
    }
    let image = image_of(app, ctx, image_id).await?;
    let refused = || format!("Not allowed to create members for image {image_id}.");
    require_shared(&image, refused)?;
    enforce_image(app, ctx, "add_member", &image, || {
        not_authorized("add_member")
    })?;
    let quota = app.config.api.image_member_quota;
    if app.db.list_members(image_id).await?.len() >= quota {
        return Err(ServiceError::MemberLimit {
            image: image_id,
            limit: quota,
        });
    }
    let notes = |created: &Member| super::notify::member(app, "image.member.create", created);
    let created = match app.db.add_member_noting(image_id, member, notes).await {
        Ok(created) => created,
        Err(DbError::Duplicate) => {
            return Err(ServiceError::DuplicateMember {
                image: image_id,
                member: member.to_owned(),
            });
        }
        Err(e) => return Err(images::not_found_as(e, image_id)),
    };
    set_acls(app, ctx, &image).await;
    Ok(created)
}

/// The members the caller may see: all of them for the owner, its own entry
/// for a member.
pub async fn list(app: &App, ctx: &RequestContext, image_id: Uuid) -> ServiceResult<Vec<Member>> {
    let image = image_of(app, ctx, image_id).await?;
    let refused = || {
        format!(
            "Not allowed to list members for image {image_id}: Only shared images have members."
        )
    };
    require_shared(&image, refused)?;
    enforce_image(app, ctx, "get_members", &image, || {
        not_authorized("get_members")
    })?;
    let members = app.db.list_members(image_id).await?;
    Ok(members
        .into_iter()
        .filter(|m| sees_member(ctx, &image, m))
        .collect())
}

/// One member; whatever the caller may not see is 404 here.
pub async fn show(
    app: &App,
    ctx: &RequestContext,
    image_id: Uuid,
    member: &str,
) -> ServiceResult<Member> {
    let image = image_of(app, ctx, image_id).await?;
    let hidden = |e: ServiceError| match e {
        ServiceError::Forbidden(m) => ServiceError::NotFound(m),
        other => other,
    };
    require_shared(&image, || "Only shared images have members.".into()).map_err(hidden)?;
    lookup(app, ctx, &image, member).await.map_err(hidden)
}

/// A member's answer: `pending`, `accepted` or `rejected`.
pub async fn update(
    app: &App,
    ctx: &RequestContext,
    image_id: Uuid,
    member: &str,
    status: &str,
) -> ServiceResult<Member> {
    let image = image_of(app, ctx, image_id).await?;
    let refused = || format!("Not allowed to update members for image {image_id}.");
    require_shared(&image, refused)?;
    let current = lookup(app, ctx, &image, member).await?;
    enforce_image(app, ctx, "modify_member", &image, || {
        not_authorized("modify_member")
    })?;
    // The status is read last, as Glance sets it.
    let Some(status) = MemberStatus::parse(status) else {
        return Err(ServiceError::MemberStatus);
    };
    let mut updated = Member { status, ..current };
    app.db
        .set_member_status_noting(image_id, member, status, |updated_at| {
            updated.updated_at = updated_at;
            super::notify::member(app, "image.member.update", &updated)
        })
        .await
        .map_err(|e| match e {
            DbError::NotFound => member_not_found(member, image_id),
            other => other.into(),
        })?;
    Ok(updated)
}

/// End a share.
pub async fn delete(
    app: &App,
    ctx: &RequestContext,
    image_id: Uuid,
    member: &str,
) -> ServiceResult<()> {
    let image = image_of(app, ctx, image_id).await?;
    let refused = || format!("Not allowed to delete members for image {image_id}.");
    require_shared(&image, refused)?;
    let gone = lookup(app, ctx, &image, member).await?;
    enforce_image(app, ctx, "delete_member", &image, || {
        not_authorized("delete_member")
    })?;
    let notes = super::notify::member(app, "image.member.delete", &gone);
    app.db
        .delete_member_noting(image_id, member, &notes)
        .await
        .map_err(|e| match e {
            DbError::NotFound => member_not_found(member, image_id),
            other => other.into(),
        })?;
    set_acls(app, ctx, &image).await;
    Ok(())
}

/// The member entry, if the caller may see it.
async fn lookup(
    app: &App,
    ctx: &RequestContext,
    image: &Image,
    member: &str,
) -> ServiceResult<Member> {
    let id = image.id;
    enforce_image(app, ctx, "get_member", image, || {
        format!("You are not authorized to lookup the members of the image {id}.")
    })?;
    match app.db.get_member(id, member).await? {
        Some(m) if sees_member(ctx, image, &m) => Ok(m),
        _ => Err(member_not_found(member, id)),
    }
}

/// Owners and administrators see every member; a member sees itself.
fn sees_member(ctx: &RequestContext, image: &Image, member: &Member) -> bool {
    ctx.is_admin
        || (ctx.project_id.is_some() && ctx.project_id == image.owner)
        || ctx.project_id.as_deref() == Some(member.member.as_str())
}

/// Glance's words for a refused rule.
fn not_authorized(rule: &str) -> String {
    format!("You are not authorized to complete {rule} action.")
}

fn require_shared(image: &Image, refused: impl FnOnce() -> String) -> ServiceResult<()> {
    if image.visibility == Visibility::Shared {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(refused()))
    }
}

fn member_not_found(member: &str, image_id: Uuid) -> ServiceError {
    ServiceError::MemberNotFound {
        image: image_id,
        member: member.to_owned(),
    }
}
