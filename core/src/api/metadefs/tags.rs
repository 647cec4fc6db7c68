//! `/v2/metadefs/namespaces/{namespace}/tags`.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use serde_json::json;

use super::docs::{TagDoc, TagNameDoc, TagsDoc};
use super::{Created, NoContent, paging, tag, tag_names};
use crate::api::body::{JsonBody, JsonDoc};
use crate::api::documented::{Lenient, SortDir, TagSortKey};
use crate::api::error::ApiError;
use crate::api::query_pairs;
use crate::api::{ApiTags, context};
use crate::app::App;
use crate::domain::metadefs::Tag;
use crate::domain::metadefs::TagQuery;
use crate::service::metadefs::{content, tags};

pub struct TagsApi;

/// oslo's `bool_from_string`: only these spellings are true.
fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "on" | "y" | "yes"
        )
    })
}

#[OpenApi(tag = "ApiTags::Metadefs")]
impl TagsApi {
    /// Delete every tag of a namespace.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags",
        method = "delete",
        operation_id = "deleteMetadefTags"
    )]
    async fn delete_tags(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<NoContent, ApiError> {
        crate::service::metadefs::namespaces::delete_content(
            app.0,
            context(req),
            &namespace,
            crate::service::metadefs::MetadefContent::Tags,
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Create tags from `{"tags": [{"name": ...}]}`: they replace the
    /// namespace's tags, or are added to them with `X-Openstack-Append: true`.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags",
        method = "post",
        operation_id = "createMetadefTags"
    )]
    async fn create_many(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        /// `true` to keep the existing tags.
        #[oai(name = "X-Openstack-Append")]
        append: Header<Option<String>>,
        body: JsonBody<TagsDoc>,
    ) -> Result<Created<TagsDoc>, ApiError> {
        let append = truthy(append.as_deref());
        let created =
            tags::create_many(app.0, context(req), &namespace, &body.value, append).await?;
        Ok(Created::Created(JsonDoc::new(
            json!({ "tags": tag_names(&created) }),
        )))
    }

    /// List a namespace's tags, oldest last by default.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags",
        method = "get",
        operation_id = "listMetadefTags"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        /// Page size (default 25, at most 1000).
        #[oai(name = "limit")]
        _limit: Query<Option<Lenient<u32>>>,
        /// Name of the last tag of the previous page.
        #[oai(name = "marker")]
        _marker: Query<Option<String>>,
        /// `name`, `created_at` (default) or `updated_at`.
        #[oai(name = "sort_key")]
        _sort_key: Query<Option<Lenient<TagSortKey>>>,
        /// `asc` or `desc` (default).
        #[oai(name = "sort_dir")]
        _sort_dir: Query<Option<Lenient<SortDir>>>,
    ) -> Result<JsonDoc<TagsDoc>, ApiError> {
        let page = paging(&query_pairs(req), "name", &app.config.api)?;
        let query = TagQuery {
            sort_key: page.sort_key,
            sort_dir: page.sort_dir,
            marker: None,
            limit: page.limit,
        };
        let found = tags::list(
            app.0,
            context(req),
            &namespace,
            query,
            page.marker.as_deref(),
        )
        .await?;
        Ok(JsonDoc::new(json!({ "tags": tag_names(&found) })))
    }

    /// Create one tag, named in the path.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags/:tag_name",
        method = "post",
        operation_id = "createMetadefTag"
    )]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        tag_name: Path<String>,
    ) -> Result<Created<TagDoc>, ApiError> {
        let created = tags::create(app.0, context(req), &namespace, &tag_name).await?;
        Ok(Created::Created(JsonDoc::new(tag(&created))))
    }

    /// Show a tag.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags/:tag_name",
        method = "get",
        operation_id = "showMetadefTag"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        tag_name: Path<String>,
    ) -> Result<JsonDoc<TagDoc>, ApiError> {
        let found = content::show::<Tag>(app.0, context(req), &namespace, &tag_name).await?;
        Ok(JsonDoc::new(tag(&found)))
    }

    /// Rename a tag to the body's `name`.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags/:tag_name",
        method = "put",
        operation_id = "updateMetadefTag"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        tag_name: Path<String>,
        body: JsonBody<TagNameDoc>,
    ) -> Result<JsonDoc<TagDoc>, ApiError> {
        let saved =
            content::update::<Tag>(app.0, context(req), &namespace, &tag_name, &body.value).await?;
        Ok(JsonDoc::new(tag(&saved)))
    }

    /// Delete a tag (not in a protected namespace).
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/tags/:tag_name",
        method = "delete",
        operation_id = "deleteMetadefTag"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        tag_name: Path<String>,
    ) -> Result<NoContent, ApiError> {
        content::delete::<Tag>(app.0, context(req), &namespace, &tag_name).await?;
        Ok(NoContent::NoContent)
    }
}

#[cfg(test)]
mod tests {
    use super::truthy;

    #[test]
    fn append_header_spellings() {
        for yes in ["True", "true", "1", "yes", " on "] {
            assert!(truthy(Some(yes)), "{yes}");
        }
        for no in ["False", "0", "", "maybe"] {
            assert!(!truthy(Some(no)), "{no}");
        }
        assert!(!truthy(None));
    }
}
