//! Tags of a namespace: created one by name or many from a body, and listed in pages. Show,
//! rename and delete are the shared `content` operations.

use chrono::Utc;
use serde_json::Value;

use super::content;
use super::{authorized_namespace, gone, invalid};
use crate::app::App;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::SortDir;
use crate::domain::metadefs::{self, MetadefSortKey, Tag, TagQuery};
use crate::service::notify;
use crate::service::{ServiceError, ServiceResult};

/// Create one tag, named in the path.
pub async fn create(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
) -> ServiceResult<Tag> {
    authorized_namespace(app, ctx, namespace, "add_metadef_tag").await?;
    let tag = metadefs::tag_name(name, Utc::now()).map_err(invalid)?;
    content::add(app, namespace, tag).await
}

/// Create the tags of a `{"tags": [...]}` body: added to the namespace's
/// tags with `append`, otherwise replacing them all.
pub async fn create_many(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    body: &Value,
    append: bool,
) -> ServiceResult<Vec<Tag>> {
    authorized_namespace(app, ctx, namespace, "add_metadef_tags").await?;
    let tags = metadefs::tags_body(body, Utc::now()).map_err(invalid)?;
    // The first name given twice, or (when appending) already there, is the conflict.
    let mut taken: Vec<String> = if append {
        let all = TagQuery {
            sort_key: MetadefSortKey::Name,
            sort_dir: SortDir::Asc,
            marker: None,
            limit: u32::MAX,
        };
        super::providers::list_tags(app, namespace, &all)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect()
    } else {
        Vec::new()
    };
    for tag in &tags {
        if taken.contains(&tag.name) {
            return Err(content::duplicate::<Tag>(&tag.name, namespace));
        }
        taken.push(tag.name.clone());
    }
    let notes = notify::metadefs_created(app, namespace, &tags);
    match app
        .db
        .create_tags_noting(namespace, &tags, !append, &notes)
        .await
    {
        Ok(()) => Ok(tags),
        Err(DbError::Duplicate) => Err(ServiceError::Conflict(format!(
            "A metadata tag already exists in namespace={namespace} with a name given."
        ))),
        Err(e) => Err(gone(e, namespace)),
    }
}

/// A page of a namespace's tags; the marker must be one of them.
pub async fn list(
    app: &App,
    ctx: &RequestContext,
    namespace: &str,
    mut query: TagQuery,
    marker: Option<&str>,
) -> ServiceResult<Vec<Tag>> {
    authorized_namespace(app, ctx, namespace, "get_metadef_tags").await?;
    if let Some(marker) = marker {
        query.marker = Some(
            super::providers::fetch::<Tag>(app, namespace, marker)
                .await?
                .ok_or_else(|| content::not_found::<Tag>(marker))?,
        );
    }
    Ok(super::providers::list_tags(app, namespace, &query).await?)
}
