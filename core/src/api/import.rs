//! Interoperable import: stage data, import it, follow the task, discover the methods.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{DataBody, JsonBody, JsonDoc};
use super::error::{ApiError, BadImportRequest, RequestError};
use super::image_data::closing;
use super::members::NoContent;
use super::{ApiTags, context};
use crate::app::App;
use crate::domain::Task;
use crate::service::import::{self, ImportRequest, Method, RemoteImage};
use crate::service::{quota, tasks};

pub struct ImportApi;

/// `{"method": {"name": "glance-direct"}, "stores": [...], "all_stores": false, "all_stores_must_succeed": true}`
#[derive(Debug, Object)]
#[oai(rename = "ImageImport")]
pub struct ImportDoc {
    pub method: ImportMethodDoc,
    pub stores: Option<Vec<String>>,
    pub all_stores: Option<bool>,
    pub all_stores_must_succeed: Option<bool>,
}

/// How the data comes in.
#[derive(Debug, Object)]
#[oai(rename = "ImageImportMethod")]
pub struct ImportMethodDoc {
    pub name: ImportMethodName,
    /// The URL to fetch (`web-download`).
    pub uri: Option<String>,
    /// The image to copy from another region (`glance-download`).
    pub glance_image_id: Option<uuid::Uuid>,
    /// The region to copy it from (`glance-download`).
    pub glance_region: Option<String>,
    /// The catalog interface to reach that region's image service (`glance-download`).
    pub glance_service_interface: Option<String>,
}

/// The import methods Glance defines; a site enables some (`GET /v2/info/import`).
#[derive(Debug, poem_openapi::Enum)]
#[oai(rename_all = "kebab-case")]
pub enum ImportMethodName {
    GlanceDirect,
    WebDownload,
    CopyImage,
    GlanceDownload,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// The import task runs; follow it with `GET /v2/images/{id}/tasks`.
    #[oai(status = 202)]
    Accepted,
}

/// Glance's checks of a `POST /import` body, against the site's enabled
/// `methods`; `header_store` is `X-Image-Meta-Store`.
pub fn parse_import(
    methods: &[String],
    mut body: Value,
    header_store: Option<String>,
) -> Result<ImportRequest, BadImportRequest> {
    let method = body.get("method").ok_or(BadImportRequest::NoMethod)?;
    let name = method.get("name").ok_or(BadImportRequest::NoName)?;
    let name = name.as_str().unwrap_or_default();
    if !methods.iter().any(|m| m == name) {
        return Err(BadImportRequest::UnknownMethod(name.to_owned()));
    }
    let flag = |key: &'static str, default: bool| match body.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(BadImportRequest::NotBoolean(key)),
    };
    let all_stores_must_succeed = flag("all_stores_must_succeed", true)?;
    let all_stores = flag("all_stores", false)?;
    let method = match name {
        "glance-direct" => Method::GlanceDirect,
        "copy-image" => Method::CopyImage,
        "web-download" => Method::WebDownload {
            uri: method
                .get("uri")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        "glance-download" => {
            let text = |key: &str| {
                method.get(key).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let interface = text("glance_service_interface").unwrap_or_else(|| "public".into());
            let remote = RemoteImage {
                image_id: text("glance_image_id"),
                region: text("glance_region"),
                interface: interface.clone(),
            };
            // The task's input records the interface used, as Glance's does.
            if let Some(Value::Object(m)) = body.get_mut("method") {
                m.entry("glance_service_interface")
                    .or_insert_with(|| Value::String(interface));
            }
            Method::GlanceDownload(remote)
        }
        other => return Err(BadImportRequest::UnknownMethod(other.to_owned())),
    };
    let stores = match body.get("stores") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(BadImportRequest::StoresNotList)?,
        ),
        Some(_) => return Err(BadImportRequest::StoresNotList),
    };
    Ok(ImportRequest {
        method,
        stores,
        all_stores,
        all_stores_must_succeed,
        header_store,
        forwarded_to: None,
        body,
    })
}

/// A task as the tasks API (`/v2/tasks`) shows it.
pub fn task(t: &Task) -> Value {
    let time = super::view::timestamp;
    json!({
        "id": t.id,
        "type": t.kind,
        "status": t.status.as_str(),
        "owner": t.owner,
        "input": t.input,
        "result": t.result,
        "message": t.message,
        "image_id": t.image_id,
        "request_id": t.request_id,
        "user_id": t.user_id,
        "expires_at": t.expires_at.as_ref().map(time),
        "created_at": time(&t.created_at),
        "updated_at": time(&t.updated_at),
        "self": format!("/v2/tasks/{}", t.id),
        "schema": "/v2/schemas/task",
    })
}

/// A task as `GET /v2/images/{id}/tasks` shows it: Glance answers with its database rows, so
/// timestamps are Python's `isoformat` of naive UTC times, the soft-delete columns are there,
/// and there are no links.
pub fn image_task(t: &Task) -> Value {
    json!({
        "id": t.id,
        "type": t.kind,
        "status": t.status.as_str(),
        "owner": t.owner,
        "expires_at": t.expires_at.as_ref().map(isoformat),
        "created_at": isoformat(&t.created_at),
        "updated_at": isoformat(&t.updated_at),
        "deleted_at": null,
        "deleted": false,
        "image_id": t.image_id,
        "request_id": t.request_id,
        "user_id": t.user_id,
        "input": t.input,
        "result": t.result,
        "message": t.message,
    })
}

/// Python's `datetime.isoformat()` of a naive UTC time: microseconds only when there are some.
fn isoformat(t: &chrono::DateTime<chrono::Utc>) -> String {
    let naive = t.naive_utc();
    if naive.and_utc().timestamp_subsec_micros() == 0 {
        naive.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        naive.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

#[OpenApi(tag = "ApiTags::Images")]
impl ImportApi {
    /// Stage image data for a `glance-direct` import (`queued` → `uploading`).
    #[oai(
        path = "/v2/images/:image_id/stage",
        method = "put",
        operation_id = "stageImageData"
    )]
    async fn stage(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: DataBody,
        /// Expected size in bytes; a mismatch is refused.
        #[oai(name = "x-openstack-image-size")]
        image_size: Header<Option<String>>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id).map_err(closing)?;
        let expected = match image_size.0 {
            Some(s) => Some(
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| closing(RequestError::BadImageSize(s.clone()).into()))?,
            ),
            None => body.content_length,
        };
        import::stage(app.0, context(req), id, body.stream, expected)
            .await
            .map_err(|e| closing(e.into()))?;
        Ok(NoContent::NoContent)
    }

    /// Import image data with one of the methods `/v2/info/import` lists.
    #[oai(
        path = "/v2/images/:image_id/import",
        method = "post",
        operation_id = "importImage"
    )]
    async fn import(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: JsonBody<ImportDoc>,
        /// Target store, when the body names none.
        #[oai(name = "X-Image-Meta-Store")]
        store: Header<Option<String>>,
    ) -> Result<poem_openapi::payload::Response<Accepted>, ApiError> {
        let id = super::image_id(&image_id)?;
        let mut request = parse_import(&app.config.import.methods, body.value, store.0)?;
        // Between nodes only, so left out of the spec.
        request.forwarded_to = req
            .header(crate::service::import::FORWARDED_HEADER)
            .map(str::to_owned);
        let remote_request = import::start(app.0, context(req), id, request).await?;
        let mut answer = poem_openapi::payload::Response::new(Accepted::Accepted);
        // Forwarded to the stage host: the id of the request that started the task there.
        if let Some(remote) = remote_request {
            answer = answer.header(super::REQUEST_ID, remote);
        }
        Ok(answer)
    }

    /// The tasks that worked on an image, newest first.
    #[oai(
        path = "/v2/images/:image_id/tasks",
        method = "get",
        operation_id = "listImageTasks"
    )]
    async fn tasks(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<JsonDoc<super::view::ImageTasksDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        let tasks = tasks::of_image(app.0, context(req), id).await?;
        Ok(JsonDoc::new(json!({
            "tasks": tasks.iter().map(image_task).collect::<Vec<_>>(),
        })))
    }

    /// The caller's project's quota usage (empty when quotas are off).
    #[oai(path = "/v2/info/usage", method = "get", operation_id = "showUsage")]
    async fn usage(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<JsonDoc<super::view::UsageDoc>, ApiError> {
        let usage = quota::usage(app.0, context(req)).await?;
        let mut out = serde_json::Map::new();
        for (resource, limit, used) in usage {
            out.insert(
                resource.name().into(),
                json!({"limit": limit, "usage": used}),
            );
        }
        Ok(JsonDoc::new(json!({"usage": out})))
    }

    /// The import methods this site offers.
    #[oai(
        path = "/v2/info/import",
        method = "get",
        operation_id = "listImportMethods"
    )]
    async fn methods(&self, app: Data<&Arc<App>>) -> JsonDoc<super::view::ImportMethodsDoc> {
        JsonDoc::new(json!({
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": app.config.import.methods,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods() -> Vec<String> {
        [
            "glance-direct",
            "web-download",
            "copy-image",
            "glance-download",
        ]
        .map(String::from)
        .to_vec()
    }

    fn parse(body: Value) -> Result<ImportRequest, BadImportRequest> {
        parse_import(&methods(), body, None)
    }

    #[test]
    fn each_method_becomes_its_typed_request() {
        let r = parse(json!({"method": {"name": "glance-direct"}})).unwrap();
        assert_eq!(r.method, Method::GlanceDirect);
        assert!(r.all_stores_must_succeed && !r.all_stores && r.stores.is_none());
        let r = parse(json!({"method": {"name": "web-download", "uri": "http://h/x"}})).unwrap();
        assert_eq!(
            r.method,
            Method::WebDownload {
                uri: "http://h/x".into()
            }
        );
        let r = parse(
            json!({"method": {"name": "copy-image"}, "stores": ["a", "b"],
                             "all_stores_must_succeed": false}),
        )
        .unwrap();
        assert_eq!(r.method, Method::CopyImage);
        assert_eq!(r.stores, Some(vec!["a".into(), "b".into()]));
        assert!(!r.all_stores_must_succeed);
    }

    #[test]
    fn glance_download_records_the_interface_it_uses() {
        let r = parse(
            json!({"method": {"name": "glance-download", "glance_image_id": "i",
                                        "glance_region": "r2"}}),
        )
        .unwrap();
        let Method::GlanceDownload(remote) = &r.method else {
            panic!("{:?}", r.method)
        };
        assert_eq!(remote.interface, "public");
        assert_eq!(remote.region.as_deref(), Some("r2"));
        assert_eq!(r.body["method"]["glance_service_interface"], "public");
    }

    #[test]
    fn bad_bodies_are_refused_in_glance_words() {
        for (body, message) in [
            (json!({}), "Import request requires a 'method' field."),
            (
                json!({"method": {}}),
                "Import request requires a 'name' field.",
            ),
            (
                json!({"method": {"name": "ftp"}}),
                "Unknown import method name 'ftp'.",
            ),
            (
                json!({"method": {"name": "copy-image"}, "all_stores": "yes"}),
                "'all_stores' must be boolean value only",
            ),
            (
                json!({"method": {"name": "copy-image"}, "stores": "a"}),
                "'stores' must be a list of store identifiers.",
            ),
            (
                json!({"method": {"name": "copy-image"}, "stores": [1]}),
                "'stores' must be a list of store identifiers.",
            ),
        ] {
            assert_eq!(
                parse(body.clone()).unwrap_err().to_string(),
                message,
                "{body}"
            );
        }
        // A method this site does not offer is unknown here.
        let only_direct = vec!["glance-direct".to_owned()];
        let err = parse_import(
            &only_direct,
            json!({"method": {"name": "copy-image"}}),
            None,
        );
        assert_eq!(
            err.unwrap_err(),
            BadImportRequest::UnknownMethod("copy-image".into())
        );
    }
}
