//! Store access lists of an image's data, kept in step with who may read the
//! image. Called after a member change and after a visibility change, so it
//! lives apart from both the members and the images operations.

use crate::app::App;
use crate::context::RequestContext;
use crate::domain::{Image, Visibility};

/// Tells the stores that keep access lists (Swift's multi-tenant mode) who
/// may read the image's data, as Glance does after a member is added or
/// removed and after a visibility change: everyone for a public or community
/// image, else the member projects, whatever their answer (a member reads
/// the image through the API in any status, too). Acts as the caller; a store
/// that refuses is logged and the change stands, since it is already saved.
/// A member's answer changes nothing here, so it never needs the owner's
/// rights.
pub(crate) async fn set_acls(app: &App, ctx: &RequestContext, image: &Image) {
    let with_acls: Vec<_> = image
        .locations
        .iter()
        .filter_map(|l| Some((l, app.stores.get(l.store()?)?)))
        .filter(|(_, store)| store.context_capabilities().acls)
        .collect();
    if with_acls.is_empty() {
        return;
    }
    let public = matches!(image.visibility, Visibility::Public | Visibility::Community);
    let members = if public {
        Vec::new()
    } else {
        match app.db.list_members(image.id).await {
            Ok(members) => members.into_iter().map(|m| m.member).collect(),
            Err(e) => {
                tracing::warn!(image = %image.id, error = %e, "cannot list members; store ACLs left as they were");
                return;
            }
        }
    };
    let acl = glint_sdk::Acl::new(public, members);
    for (location, store) in with_acls {
        if let Err(e) = store.acting_for(ctx).set_acls(&location.url, &acl).await {
            tracing::warn!(image = %image.id, store = store.id(), error = %e, "store refused the image's read ACL");
        }
    }
}
