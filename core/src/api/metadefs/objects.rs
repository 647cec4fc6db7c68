//! `/v2/metadefs/namespaces/{namespace}/objects`.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use serde_json::json;

use super::docs::{ObjectCreateDoc, ObjectDoc, ObjectsDoc};
use super::{Created, NoContent, object, object_as_written};
use crate::api::body::{JsonBody, JsonDoc};
use crate::api::error::ApiError;
use crate::api::{ApiTags, context};
use crate::app::App;
use crate::domain::metadefs::MetadefObject;
use crate::service::metadefs::content;

pub struct ObjectsApi;

#[OpenApi(tag = "ApiTags::Metadefs")]
impl ObjectsApi {
    /// Delete every object of a namespace.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects",
        method = "delete",
        operation_id = "deleteMetadefObjects"
    )]
    async fn delete_objects(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<NoContent, ApiError> {
        crate::service::metadefs::namespaces::delete_content(
            app.0,
            context(req),
            &namespace,
            crate::service::metadefs::MetadefContent::Objects,
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Create an object in a namespace.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects",
        method = "post",
        operation_id = "createMetadefObject"
    )]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        body: JsonBody<ObjectCreateDoc>,
    ) -> Result<Created<ObjectDoc>, ApiError> {
        let created =
            content::create::<MetadefObject>(app.0, context(req), &namespace, &body.value).await?;
        Ok(Created::Created(JsonDoc::new(object_as_written(
            &namespace,
            &created,
            &body.value,
        ))))
    }

    /// List a namespace's objects.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects",
        method = "get",
        operation_id = "listMetadefObjects"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
    ) -> Result<JsonDoc<ObjectsDoc>, ApiError> {
        let found = content::list::<MetadefObject>(app.0, context(req), &namespace).await?;
        Ok(JsonDoc::new(json!({
            "objects": found.iter().map(|o| object(&namespace, o)).collect::<Vec<_>>(),
            // Glance writes this one link without its leading slash.
            "schema": "v2/schemas/metadefs/objects",
        })))
    }

    /// Show an object.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects/:object_name",
        method = "get",
        operation_id = "showMetadefObject"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        object_name: Path<String>,
    ) -> Result<JsonDoc<ObjectDoc>, ApiError> {
        let found =
            content::show::<MetadefObject>(app.0, context(req), &namespace, &object_name).await?;
        Ok(JsonDoc::new(object(&namespace, &found)))
    }

    /// Replace an object, its name included.
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects/:object_name",
        method = "put",
        operation_id = "updateMetadefObject"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        object_name: Path<String>,
        body: JsonBody<ObjectCreateDoc>,
    ) -> Result<JsonDoc<ObjectDoc>, ApiError> {
        let saved = content::update::<MetadefObject>(
            app.0,
            context(req),
            &namespace,
            &object_name,
            &body.value,
        )
        .await?;
        Ok(JsonDoc::new(object_as_written(
            &namespace,
            &saved,
            &body.value,
        )))
    }

    /// Delete an object (not in a protected namespace).
    #[oai(
        path = "/v2/metadefs/namespaces/:namespace/objects/:object_name",
        method = "delete",
        operation_id = "deleteMetadefObject"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        namespace: Path<String>,
        object_name: Path<String>,
    ) -> Result<NoContent, ApiError> {
        content::delete::<MetadefObject>(app.0, context(req), &namespace, &object_name).await?;
        Ok(NoContent::NoContent)
    }
}
