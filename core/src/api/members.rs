//! Image members: sharing an image with other projects.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};

use super::body::{JsonBody, JsonDoc};
use super::error::{ApiError, RequestError};
use super::{ApiTags, context};
use crate::app::App;
use crate::domain::Member;
use crate::service::members;

use super::documented::MemberStatus;

pub struct MembersApi;

/// A project an image is shared with, and its answer.
#[derive(Debug, Object)]
#[oai(rename = "Member")]
pub struct MemberDoc {
    pub image_id: uuid::Uuid,
    pub member_id: String,
    pub status: MemberStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub schema: String,
}

#[derive(Debug, Object)]
#[oai(rename = "Members")]
pub struct MembersDoc {
    pub members: Vec<MemberDoc>,
    pub schema: String,
}

/// `{"member": "<project id>"}`
#[derive(Debug, Object)]
#[oai(rename = "MemberCreate")]
pub struct MemberCreateDoc {
    pub member: String,
}

/// `{"status": "accepted"}`
#[derive(Debug, Object)]
#[oai(rename = "MemberUpdate")]
pub struct MemberUpdateDoc {
    pub status: MemberStatus,
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

pub fn member(m: &Member) -> Value {
    json!({
        "image_id": m.image_id,
        "member_id": m.member,
        "status": m.status.as_str(),
        "created_at": super::view::timestamp(&m.created_at),
        "updated_at": super::view::timestamp(&m.updated_at),
        "schema": "/v2/schemas/member",
    })
}

#[OpenApi(tag = "ApiTags::Images")]
impl MembersApi {
    /// Share an image with a project (the image must be `shared`).
    #[oai(
        path = "/v2/images/:image_id/members",
        method = "post",
        operation_id = "createImageMember"
    )]
    async fn create(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        body: JsonBody<MemberCreateDoc>,
    ) -> Result<JsonDoc<MemberDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        if !body.value.is_object() {
            return Err(RequestError::MemberForm.into());
        }
        let project = match body.value.get("member") {
            None => return Err(RequestError::MemberMissing.into()),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            // Glance takes any value that is not falsy, and its database stores its text.
            Some(Value::Number(n)) if n.as_f64() != Some(0.0) => n.to_string(),
            Some(Value::Bool(true)) => "True".to_owned(),
            Some(Value::String(_) | Value::Null | Value::Number(_) | Value::Bool(false)) => {
                return Err(RequestError::MemberEmpty.into());
            }
            Some(_) => return Err(RequestError::MemberForm.into()),
        };
        let m = members::create(app.0, context(req), id, &project).await?;
        Ok(JsonDoc::new(member(&m)))
    }

    /// The image's members: all of them for the owner, its own entry for a member.
    #[oai(
        path = "/v2/images/:image_id/members",
        method = "get",
        operation_id = "listImageMembers"
    )]
    async fn list(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
    ) -> Result<JsonDoc<MembersDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        let list = members::list(app.0, context(req), id).await?;
        Ok(JsonDoc::new(json!({
            "members": list.iter().map(member).collect::<Vec<_>>(),
            "schema": "/v2/schemas/members",
        })))
    }

    /// One member of the image.
    #[oai(
        path = "/v2/images/:image_id/members/:member_id",
        method = "get",
        operation_id = "showImageMember"
    )]
    async fn show(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        member_id: Path<String>,
    ) -> Result<JsonDoc<MemberDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        let m = members::show(app.0, context(req), id, &member_id).await?;
        Ok(JsonDoc::new(member(&m)))
    }

    /// A member accepts, rejects or reconsiders the share.
    #[oai(
        path = "/v2/images/:image_id/members/:member_id",
        method = "put",
        operation_id = "updateImageMember"
    )]
    async fn update(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        member_id: Path<String>,
        body: JsonBody<MemberUpdateDoc>,
    ) -> Result<JsonDoc<MemberDoc>, ApiError> {
        let id = super::image_id(&image_id)?;
        if !body.value.is_object() {
            return Err(RequestError::MemberStatusForm.into());
        }
        let status = match body.value.get("status") {
            None => return Err(RequestError::MemberStatusMissing.into()),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let m = members::update(app.0, context(req), id, &member_id, &status).await?;
        Ok(JsonDoc::new(member(&m)))
    }

    /// Stop sharing the image with a project.
    #[oai(
        path = "/v2/images/:image_id/members/:member_id",
        method = "delete",
        operation_id = "deleteImageMember"
    )]
    async fn delete(
        &self,
        app: Data<&Arc<App>>,
        req: &Request,
        image_id: Path<String>,
        member_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = super::image_id(&image_id)?;
        members::delete(app.0, context(req), id, &member_id).await?;
        Ok(NoContent::NoContent)
    }
}
