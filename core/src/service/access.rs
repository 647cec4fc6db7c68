//! Who may do what to an image: the image policy rules, with Glance's rule
//! that a caller who may not even see an image gets 404 rather than 403.

use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::context::RequestContext;
use crate::domain::{Image, Visibility};
use crate::policy::Target;

/// The attributes of an image that image rules read (`%(project_id)s`,
/// `%(member_id)s`, `%(visibility)s`, ...).
#[derive(Debug, Clone)]
pub struct ImageTarget {
    /// The owner (`project_id` in rules).
    pub owner: Option<String>,
    /// The caller's project when it sees a shared image it does not own,
    /// i.e. as a member (`member_id` in rules).
    pub member: Option<String>,
    pub visibility: Visibility,
}

impl ImageTarget {
    pub fn of(ctx: &RequestContext, image: &Image) -> Self {
        let member = (image.visibility == Visibility::Shared && ctx.project_id != image.owner)
            .then(|| ctx.project_id.clone())
            .flatten();
        Self {
            owner: image.owner.clone(),
            member,
            visibility: image.visibility,
        }
    }

    /// The target of an image that does not exist yet (create).
    pub fn proposed(ctx: &RequestContext, owner: Option<&str>, visibility: Visibility) -> Self {
        Self {
            owner: owner.map(str::to_owned).or_else(|| ctx.project_id.clone()),
            member: None,
            visibility,
        }
    }
}

/// Whether `rule` allows the caller on `target`.
pub fn allowed(app: &App, ctx: &RequestContext, rule: &str, target: &ImageTarget) -> bool {
    let mut t = Target::image(target.owner.as_deref(), target.visibility.as_str());
    if let Some(member) = target.member.as_deref() {
        t = t.with("member_id", member);
    }
    app.policy.check(rule, ctx, &t)
}

/// Enforce an image rule, turning a refusal into 404 when the caller may not
/// see the image at all, as Glance does, and into 403 with `message` otherwise.
pub fn enforce_image(
    app: &App,
    ctx: &RequestContext,
    rule: &str,
    image: &Image,
    message: impl FnOnce() -> String,
) -> ServiceResult<()> {
    let target = ImageTarget::of(ctx, image);
    if allowed(app, ctx, rule, &target) {
        return Ok(());
    }
    if rule == "get_image" || !allowed(app, ctx, "get_image", &target) {
        return Err(ServiceError::ImageNotFound(image.id));
    }
    Err(ServiceError::Forbidden(message()))
}
