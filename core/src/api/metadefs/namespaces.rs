//! `/v2/metadefs/namespaces`: namespaces and the bulk deletes inside one.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::{Value, json};

use super::docs::{NamespaceCreateDoc, NamespaceDoc, NamespacesDoc};
use super::{NoContent, document, document_as_written, namespace, namespace_href, paging};
use crate::api::body::{JsonBody, JsonDoc};
use crate::api::documented::{
    Lenient, NamespaceSortKey, NamespaceVisibility as NamespaceVisibilityDoc, SortDir,
};
use crate::api::error::{ApiError, RequestError};
use crate::api::list_params::QueryError;
use crate::api::{ApiTags, context};
use crate::api::{link, query_pairs};
use crate::app::App;
use crate::domain::metadefs::{NamespaceQuery, NamespaceVisibility};
use crate::service::metadefs::namespaces;

pub struct NamespacesApi;

#[derive(ApiResponse)]
pub enum NamespaceCreated {
    /// The new namespace, with what the request embedded.
    #[oai(status = 201)]
    Created(
        JsonDoc<NamespaceDoc>,
        /// `/v2/metadefs/namespaces/{namespace}`; absent when the name cannot be written in a
        /// header (a control character).
        #[oai(header = "Location")]
        Option<String>,
    ),
}

#[OpenApi(tag = "ApiTags::Metadefs")]
impl NamespacesApi {
    /// Create a namespace, optionally with resource-type associations,
    /// properties, objects and tags.
    #[oai(
        path = "/v2/metadefs/namespaces",
        method = "post",
        operation_id = "createMetadefNamespace"
    )]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        body: JsonBody<NamespaceCreateDoc>,
    ) -> Result<NamespaceCreated, ApiError> {
        let doc = namespaces::create(app.0, context(req), &body.value).await?;
        Ok(NamespaceCreated::Created(
            JsonDoc::new(document_as_written(&doc, &body.value)),
            Some(namespace_href(&doc.namespace.namespace)),
        ))
    }

    /// List the namespaces the caller may see, newest first by default.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/v2/metadefs/namespaces",
        method = "get",
        operation_id = "listMetadefNamespaces"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        /// Page size (default 25, at most 1000).
        #[oai(name = "limit")]
        _limit: Query<Option<Lenient<u32>>>,
        /// Name of the last namespace of the previous page.
        #[oai(name = "marker")]
        _marker: Query<Option<String>>,
        /// `namespace`, `created_at` (default) or `updated_at`.
        #[oai(name = "sort_key")]
        _sort_key: Query<Option<Lenient<NamespaceSortKey>>>,
        /// `asc` or `desc` (default).
        #[oai(name = "sort_dir")]
        _sort_dir: Query<Option<Lenient<SortDir>>>,
        /// `public` or `private`.
        #[oai(name = "visibility")]
        _visibility: Query<Option<Lenient<NamespaceVisibilityDoc>>>,
        /// Comma-separated resource-type names; a namespace associated with any matches.
        #[oai(name = "resource_types")]
        _resource_types: Query<Option<String>>,
    ) -> Result<JsonDoc<NamespacesDoc>, ApiError> {
        let ctx = context(req);
        let pairs = query_pairs(req);
        let get = |key: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let page = paging(&pairs, "namespace", &app.config.api)?;
        let visibility = match get("visibility").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(
                NamespaceVisibility::parse(v)
                    .ok_or_else(|| RequestError::from(QueryError::Visibility(v.to_owned())))?,
            ),
        };
        let marker = match &page.marker {
            Some(name) => Some(namespaces::marker(app.0, ctx, name).await?),
            None => None,
        };
        let query = NamespaceQuery {
            scope: ctx.scope(),
            visibility,
            resource_types: get("resource_types")
                .map(|list| list.split(',').map(str::to_owned).collect()),
            sort_key: page.sort_key,
            sort_dir: page.sort_dir,
            marker,
            limit: page.limit,
        };
        let found = namespaces::list(app.0, ctx, &query).await?;
        let path = "/v2/metadefs/namespaces";
        let mut body = json!({
            "namespaces": found.iter().map(|listed| {
                let mut v = namespace(&listed.namespace);
                if !listed.associations.is_empty() {
                    v.insert("resource_type_associations".into(), super::associations(&listed.associations));
                }
                v
            }).collect::<Vec<_>>(),
            "first": link(path, &pairs, None),
            "schema": "/v2/schemas/metadefs/namespaces",
        });
        if let Some(last) = found.last().filter(|_| found.len() == page.limit as usize) {
            body["next"] = json!(link(
                path,
                &pairs,
                Some(("marker", &last.namespace.namespace))
            ));
        }
        Ok(JsonDoc::new(body))
    }

    /// Show a namespace with everything in it.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace",
        method = "get",
        operation_id = "showMetadefNamespace"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        /// Prefix property names with this resource type's association prefix.
        resource_type: Query<Option<String>>,
    ) -> Result<JsonDoc<NamespaceDoc>, ApiError> {
        let doc =
            namespaces::show(app.0, context(req), &namespace, resource_type.as_deref()).await?;
        Ok(JsonDoc::new(document(&doc)))
    }

    /// Replace a namespace's own fields; omitted ones take their defaults.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace",
        method = "put",
        operation_id = "updateMetadefNamespace"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        body: JsonBody<NamespaceCreateDoc>,
    ) -> Result<JsonDoc<NamespaceDoc>, ApiError> {
        let saved = namespaces::update(app.0, context(req), &namespace, &body.value).await?;
        Ok(JsonDoc::new(Value::Object(super::namespace(&saved))))
    }

    /// Delete a namespace and everything in it (not when protected).
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace",
        method = "delete",
        operation_id = "deleteMetadefNamespace"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<NoContent, ApiError> {
        namespaces::delete(app.0, context(req), &namespace).await?;
        Ok(NoContent::NoContent)
    }
}
