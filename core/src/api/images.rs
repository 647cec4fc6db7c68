//! Images: create, list, show, update, delete, and tags.

use std::sync::Arc;

use poem::web::Data;

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::body::{JsonBody, JsonDoc, PatchBody};
use super::documented::{
    ImageSortKey, Lenient, MemberStatusFilter, QueryBool, SortDir, VisibilityFilter,
};
use super::error::{ApiError, RequestError};
use super::list_params::{self, Parsed};
use super::view::{self, ImageCreateDoc, ImageDoc, ImagesDoc, PatchOpDoc};
use super::{ApiTags, context};
use crate::app::App;
use crate::service::images;

pub struct ImagesApi;

#[derive(ApiResponse)]
pub enum Created {
    /// The new image.
    #[oai(status = 201)]
    Created(
        JsonDoc<ImageDoc>,
        /// `/v2/images/{id}`
        #[oai(header = "Location")]
        String,
        /// The stores an upload or import may target.
        #[oai(header = "OpenStack-image-store-ids")]
        String,
        /// The import methods this site offers.
        #[oai(header = "OpenStack-image-import-methods")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::Images")]
impl ImagesApi {
    /// Create an image record (no data yet: status `queued`).
    #[oai(path = "/v2/images", method = "post", operation_id = "createImage")]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        body: JsonBody<ImageCreateDoc>,
    ) -> Result<Created, ApiError> {
        let image = images::create(app.0, context(req), &body.value).await?;
        let stores: Vec<&str> = app.stores.infos().map(|s| s.id.as_str()).collect();
        Ok(Created::Created(
            JsonDoc::new(view::image(&images::readable(
                app.0,
                context(req),
                image.clone(),
            ))),
            format!("/v2/images/{}", image.id),
            stores.join(","),
            app.config.import.methods.join(","),
        ))
    }

    /// List the images the caller may see, filtered, sorted and paged.
    ///
    /// Any query parameter not listed here filters on an extra property of that name.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/v2/images", method = "get", operation_id = "listImages")]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        /// Page size (default 25, at most 1000).
        #[oai(name = "limit")]
        _limit: Query<Option<Lenient<u32>>>,
        /// Id of the last image of the previous page.
        #[oai(name = "marker")]
        _marker: Query<Option<Lenient<uuid::Uuid>>>,
        /// Sort key (default `created_at`); may repeat.
        #[oai(name = "sort_key", explode = true)]
        _sort_key: Query<Option<Vec<Lenient<ImageSortKey>>>>,
        /// `asc` or `desc` (default); one for all keys or one per key.
        #[oai(name = "sort_dir", explode = true)]
        _sort_dir: Query<Option<Vec<Lenient<SortDir>>>>,
        /// `key[:dir],...`, instead of sort_key/sort_dir.
        #[oai(name = "sort")]
        _sort: Query<Option<String>>,
        /// `value`, `eq:value` or `in:a,"b,c"`.
        #[oai(name = "name")]
        _name: Query<Option<String>>,
        /// `value` or `in:...`.
        #[oai(name = "id")]
        _id: Query<Option<String>>,
        /// `value` or `in:...`.
        #[oai(name = "status")]
        _status: Query<Option<String>>,
        /// public, private, shared, community or all (default: what the caller may see,
        /// community images aside).
        #[oai(name = "visibility")]
        _visibility: Query<Option<Lenient<VisibilityFilter>>>,
        /// accepted (default), pending, rejected or all.
        #[oai(name = "member_status")]
        _member_status: Query<Option<Lenient<MemberStatusFilter>>>,
        /// The owning project's id.
        #[oai(name = "owner")]
        _owner: Query<Option<String>>,
        /// Every given tag must be present; may repeat.
        #[oai(name = "tag", explode = true)]
        _tag: Query<Option<Vec<String>>>,
        /// Smallest size in bytes.
        #[oai(name = "size_min")]
        _size_min: Query<Option<Lenient<u64>>>,
        /// Largest size in bytes.
        #[oai(name = "size_max")]
        _size_max: Query<Option<Lenient<u64>>>,
        /// `value` or `in:...`.
        #[oai(name = "container_format")]
        _container_format: Query<Option<String>>,
        /// `value` or `in:...`.
        #[oai(name = "disk_format")]
        _disk_format: Query<Option<String>>,
        /// true or false (default false: hidden images are left out).
        #[oai(name = "os_hidden")]
        _os_hidden: Query<Option<Lenient<QueryBool>>>,
        /// true or false.
        #[oai(name = "protected")]
        _protected: Query<Option<Lenient<QueryBool>>>,
        /// md5 of the data, hex.
        #[oai(name = "checksum")]
        _checksum: Query<Option<String>>,
        /// The data's secure hash (`os_hash_algo`), hex.
        #[oai(name = "os_hash_value")]
        _os_hash_value: Query<Option<String>>,
        /// `op:ISO8601` with op one of gt, gte, eq, neq, lt, lte.
        #[oai(name = "created_at")]
        _created_at: Query<Option<String>>,
        /// `op:ISO8601` with op one of gt, gte, eq, neq, lt, lte.
        #[oai(name = "updated_at")]
        _updated_at: Query<Option<String>>,
    ) -> Result<JsonDoc<ImagesDoc>, ApiError> {
        let ctx = context(req);
        let raw = req.uri().query().unwrap_or("");
        let (found, next) = match list_params::parse(raw, ctx.scope(), &app.config.api)
            .map_err(RequestError::Query)?
        {
            Parsed::Query(query) => {
                let limit = query.limit as usize;
                let found = images::list(app.0, context(req), &query).await?;
                // A full page may have a successor; its last image is the marker.
                let next = found.last().map(|i| i.id).filter(|_| found.len() == limit);
                (found, next)
            }
            Parsed::Empty => (Vec::new(), None),
        };
        let params: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        let images: Vec<_> = found
            .into_iter()
            .map(|i| images::readable(app.0, ctx, i))
            .collect();
        // The page is written straight to text, its keys in sorted order as
        // a `Value` would write them.
        #[derive(serde::Serialize)]
        struct Page<'a> {
            first: String,
            images: Vec<view::ImageView<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            next: Option<String>,
            schema: &'static str,
        }
        let page = Page {
            first: super::link("/v2/images", &params, None),
            images: images.iter().map(view::ImageView).collect(),
            next: next.map(|next| {
                let marker = next.to_string();
                super::link("/v2/images", &params, Some(("marker", &marker)))
            }),
            schema: "/v2/schemas/images",
        };
        Ok(JsonDoc::serialize(&page))
    }

    /// Show one image.
    #[oai(
        path = "/v2/images/:image_id",
        method = "get",
        operation_id = "showImage"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<JsonDoc<ImageDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        let image = images::get(app.0, context(req), id).await?;
        Ok(JsonDoc::new(view::image(&images::readable(
            app.0,
            context(req),
            image,
        ))))
    }

    /// Update an image with a JSON-patch document (add, replace, remove).
    #[oai(
        path = "/v2/images/:image_id",
        method = "patch",
        operation_id = "updateImage"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: PatchBody<Vec<PatchOpDoc>>,
    ) -> Result<JsonDoc<ImageDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        let image = images::update(app.0, context(req), id, &body.value, body.dialect).await?;
        Ok(JsonDoc::new(view::image(&images::readable(
            app.0,
            context(req),
            image,
        ))))
    }

    /// Delete an image and its data.
    #[oai(
        path = "/v2/images/:image_id",
        method = "delete",
        operation_id = "deleteImage"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        // Set only by a node forwarding the delete to the image's stage host.
        let forwarded = req
            .header(crate::service::import::FORWARDED_HEADER)
            .is_some();
        images::delete(app.0, context(req), id, forwarded).await?;
        Ok(NoContent::NoContent)
    }

    /// Add a tag to an image (idempotent).
    #[oai(
        path = "/v2/images/:image_id/tags/:tag",
        method = "put",
        operation_id = "addImageTag"
    )]
    async fn add_tag(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        tag: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        images::add_tag(app.0, context(req), id, &tag).await?;
        Ok(NoContent::NoContent)
    }

    /// Remove a tag from an image.
    #[oai(
        path = "/v2/images/:image_id/tags/:tag",
        method = "delete",
        operation_id = "deleteImageTag"
    )]
    async fn delete_tag(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        tag: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        images::delete_tag(app.0, context(req), id, &tag).await?;
        Ok(NoContent::NoContent)
    }
}
