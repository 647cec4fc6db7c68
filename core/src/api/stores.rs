//! Named stores: discovery (`/v2/info/stores`, `/v2/info/stores/detail`) and
//! removing an image's copy from one store (`DELETE /v2/stores/{store}/{image}`).

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use serde_json::{Map, Value, json};

use super::body::JsonDoc;
use super::error::ApiError;
use super::images::NoContent;
use super::{ApiTags, context};
use crate::app::App;
use crate::policy::Target;
use crate::service::stores;

pub struct StoresApi;

/// One store, as discovery shows it. Flags are the strings `"true"`, as Glance sends them.
#[derive(Debug, Object)]
#[oai(rename = "Store")]
pub struct StoreDoc {
    pub id: String,
    /// Absent when the store has none.
    pub description: Option<String>,
    /// `"true"` on the store uploads go to when they name none.
    pub default: Option<String>,
    /// `"true"` on a store that takes no uploads (http).
    #[oai(rename = "read-only")]
    pub read_only: Option<String>,
    /// Detail only: the driver (`file`, `http`, `rbd`, `swift`, …).
    #[oai(rename = "type")]
    pub type_: Option<String>,
    /// Detail only: downloads read from higher weights first.
    pub weight: Option<i64>,
    /// Detail only: facts about the store, per type (file: `data_dir`,
    /// `chunk_size`, `thin_provisioning`; http: none).
    pub properties: Option<serde_json::Value>,
}

/// The stores of this site.
#[derive(Debug, Object)]
#[oai(rename = "Stores")]
pub struct StoresDoc {
    pub stores: Vec<StoreDoc>,
}

/// Discovery's list, in configuration order; with `detail`, each store's
/// type, weight and properties too.
fn listing(app: &App, detail: bool) -> Value {
    let default = app.stores.default_id();
    let stores: Vec<Value> = app
        .stores
        .infos()
        .filter(|s| !s.id.starts_with("os_glance_"))
        .map(|s| {
            let mut v = Map::new();
            v.insert("id".into(), json!(s.id));
            if let Some(d) = &s.description {
                v.insert("description".into(), json!(d));
            }
            if s.id == default {
                v.insert("default".into(), json!("true"));
            }
            if s.driver == "http" {
                v.insert("read-only".into(), json!("true"));
            }
            if detail {
                v.insert("type".into(), json!(s.driver));
                v.insert("properties".into(), s.properties.clone());
                v.insert("weight".into(), json!(s.weight));
            }
            Value::Object(v)
        })
        .collect();
    json!({ "stores": stores })
}

#[OpenApi(tag = "ApiTags::Stores")]
impl StoresApi {
    /// The stores images can be uploaded to and read from, in configuration order.
    #[oai(path = "/v2/info/stores", method = "get", operation_id = "listStores")]
    async fn stores(&self, app: Data<&Arc<App>>) -> JsonDoc<StoresDoc> {
        JsonDoc::new(listing(app.0, false))
    }

    /// The stores with their type, weight and properties (administrators and
    /// the `service` role only).
    #[oai(
        path = "/v2/info/stores/detail",
        method = "get",
        operation_id = "listStoresDetail"
    )]
    async fn stores_detail(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
    ) -> Result<JsonDoc<StoresDoc>, ApiError> {
        let ctx = context(req);
        app.policy
            .enforce("stores_info_detail", ctx, &Target::project(ctx))?;
        Ok(JsonDoc::new(listing(app.0, true)))
    }

    /// Remove an image's copy from one store. The image stays `active` with
    /// its other copies; its only copy cannot be removed (403).
    #[oai(
        path = "/v2/stores/:store_id/:image_id",
        method = "delete",
        operation_id = "deleteImageFromStore"
    )]
    async fn delete_from_store(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        store_id: Path<String>,
        image_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        stores::delete_from_store(app.0, context(req), &store_id, id).await?;
        Ok(NoContent::NoContent)
    }
}
