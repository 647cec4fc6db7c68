//! `/v2/metadefs/namespaces/{namespace}/properties`.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use serde_json::json;

use super::docs::{PropertiesDoc, PropertyDoc};
use super::{Created, NoContent, properties as by_name, property};
use crate::api::body::{JsonBody, JsonDoc};
use crate::api::error::ApiError;
use crate::api::{ApiTags, context};
use crate::app::App;
use crate::domain::metadefs::Property;
use crate::service::metadefs::{content, resource_types};

pub struct PropertiesApi;

#[OpenApi(tag = "ApiTags::Metadefs")]
impl PropertiesApi {
    /// Delete every property of a namespace.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties",
        method = "delete",
        operation_id = "deleteMetadefProperties"
    )]
    async fn delete_properties(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<NoContent, ApiError> {
        crate::service::metadefs::namespaces::delete_content(
            app.0,
            context(req),
            &namespace,
            crate::service::metadefs::MetadefContent::Properties,
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Create a property in a namespace.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties",
        method = "post",
        operation_id = "createMetadefProperty"
    )]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        body: JsonBody<PropertyDoc>,
    ) -> Result<Created<PropertyDoc>, ApiError> {
        let created =
            content::create::<Property>(app.0, context(req), &namespace, &body.value).await?;
        Ok(Created::Created(JsonDoc::new(property(&created))))
    }

    /// List a namespace's properties, keyed by name.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties",
        method = "get",
        operation_id = "listMetadefProperties"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<JsonDoc<PropertiesDoc>, ApiError> {
        let found = content::list::<Property>(app.0, context(req), &namespace).await?;
        // Keyed by name, without repeating it inside (only a single property shows `name`).
        Ok(JsonDoc::new(json!({ "properties": by_name(&found) })))
    }

    /// Show a property.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties/:property_name",
        method = "get",
        operation_id = "showMetadefProperty"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        property_name: Path<String>,
        /// A resource type the namespace is associated with: `property_name` then carries
        /// that association's prefix, which is removed before the lookup.
        resource_type: Query<Option<String>>,
    ) -> Result<JsonDoc<PropertyDoc>, ApiError> {
        let found = match resource_type.0.as_deref().filter(|t| !t.is_empty()) {
            Some(resource_type) => {
                resource_types::show_prefixed_property(
                    app.0,
                    context(req),
                    &namespace,
                    &property_name,
                    resource_type,
                )
                .await?
            }
            None => {
                content::show::<Property>(app.0, context(req), &namespace, &property_name).await?
            }
        };
        Ok(JsonDoc::new(property(&found)))
    }

    /// Replace a property, its name included.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties/:property_name",
        method = "put",
        operation_id = "updateMetadefProperty"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        property_name: Path<String>,
        body: JsonBody<PropertyDoc>,
    ) -> Result<JsonDoc<PropertyDoc>, ApiError> {
        let saved = content::update::<Property>(
            app.0,
            context(req),
            &namespace,
            &property_name,
            &body.value,
        )
        .await?;
        Ok(JsonDoc::new(property(&saved)))
    }

    /// Delete a property (not in a protected namespace).
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/properties/:property_name",
        method = "delete",
        operation_id = "deleteMetadefProperty"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        property_name: Path<String>,
    ) -> Result<NoContent, ApiError> {
        content::delete::<Property>(app.0, context(req), &namespace, &property_name).await?;
        Ok(NoContent::NoContent)
    }
}
