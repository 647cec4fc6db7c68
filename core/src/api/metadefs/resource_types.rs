//! `/v2/metadefs/resource_types` and a namespace's associations with them.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use serde_json::json;

use super::docs::{AssociationCreateDoc, AssociationDoc, AssociationsDoc, ResourceTypesDoc};
use super::{Created, NoContent, association, associations, resource_type};
use crate::api::body::{JsonBody, JsonDoc};
use crate::api::error::ApiError;
use crate::api::{ApiTags, context};
use crate::app::App;
use crate::service::metadefs::resource_types;

pub struct ResourceTypesApi;

#[OpenApi(tag = "ApiTags::Metadefs")]
impl ResourceTypesApi {
    /// List every resource type.
    #[oai(
        path = "/v2/metadefs/resource_types",
        method = "get",
        operation_id = "listMetadefResourceTypes"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<JsonDoc<ResourceTypesDoc>, ApiError> {
        let found = resource_types::list(app.0, context(req)).await?;
        Ok(JsonDoc::new(json!({
            "resource_types": found.iter().map(resource_type).collect::<Vec<_>>(),
        })))
    }

    /// List a namespace's resource-type associations.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/resource_types",
        method = "get",
        operation_id = "listMetadefResourceTypeAssociations"
    )]
    async fn list_associations(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<JsonDoc<AssociationsDoc>, ApiError> {
        let found = resource_types::list_associations(app.0, context(req), &namespace).await?;
        Ok(JsonDoc::new(
            json!({ "resource_type_associations": associations(&found) }),
        ))
    }

    /// Associate a namespace with a resource type (created if new).
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/resource_types",
        method = "post",
        operation_id = "createMetadefResourceTypeAssociation"
    )]
    async fn associate(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        body: JsonBody<AssociationCreateDoc>,
    ) -> Result<Created<AssociationDoc>, ApiError> {
        let created =
            resource_types::associate(app.0, context(req), &namespace, &body.value).await?;
        Ok(Created::Created(JsonDoc::new(association(&created))))
    }

    /// Remove a namespace's association with a resource type.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/resource_types/:resource_type",
        method = "delete",
        operation_id = "deleteMetadefResourceTypeAssociation"
    )]
    async fn dissociate(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        resource_type: Path<String>,
    ) -> Result<NoContent, ApiError> {
        resource_types::dissociate(app.0, context(req), &namespace, &resource_type).await?;
        Ok(NoContent::NoContent)
    }
}
