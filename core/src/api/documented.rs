//! Shapes the spec declares for values the handlers read themselves.
//!
//! Glance checks query parameters with its own rules and words (`limit` must be an integer,
//! `sort_dir` one of two values, ...), so the handlers read the raw query. A [`Lenient`]
//! parameter documents the type a client should send while accepting any text, leaving the
//! refusal, and its wording, to the handler. The enums here exist for the spec alone.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::Enum;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromParameter, ParseResult, Type};

/// A query parameter documented as `D`, kept as the text the client sent.
pub struct Lenient<D> {
    pub raw: String,
    _doc: PhantomData<fn() -> D>,
}

impl<D: Type> Type for Lenient<D> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        D::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.raw)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.raw))
    }
}

impl<D: Type> ParseFromParameter for Lenient<D> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self {
            raw: value.to_owned(),
            _doc: PhantomData,
        })
    }
}

/// An image's status (Glance's state machine).
#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ImageStatus {
    Queued,
    Saving,
    Uploading,
    Importing,
    Active,
    Killed,
    PendingDelete,
    Deactivated,
    Deleted,
}

/// Who may see an image.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ImageVisibility {
    Public,
    Private,
    Shared,
    Community,
}

/// The `visibility` filter of an image list: a visibility, or `all`.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum VisibilityFilter {
    Public,
    Private,
    Shared,
    Community,
    All,
}

/// A member's answer to an image shared with its project.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

/// The `member_status` filter of an image list: a member status, or `all`.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum MemberStatusFilter {
    Pending,
    Accepted,
    Rejected,
    All,
}

/// A sort direction.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum SortDir {
    Asc,
    Desc,
}

/// The attributes an image list sorts by.
#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ImageSortKey {
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Size,
    Id,
    CreatedAt,
    UpdatedAt,
}

/// The disk formats of the default configuration (`[image] disk_formats`).
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum DiskFormat {
    Ami,
    Ari,
    Aki,
    Vhd,
    Vhdx,
    Vmdk,
    Raw,
    Qcow2,
    Vdi,
    Iso,
    Ploop,
}

/// The container formats of the default configuration (`[image] container_formats`).
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ContainerFormat {
    Ami,
    Ari,
    Aki,
    Bare,
    Ovf,
    Ova,
    Docker,
    Compressed,
}

/// A boolean as a query parameter takes it.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum QueryBool {
    True,
    False,
}

/// A task's status.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum TaskStatus {
    Pending,
    Processing,
    Success,
    Failure,
}

/// Who may see a metadef namespace.
#[derive(Debug, Enum)]
#[oai(rename_all = "lowercase")]
pub enum NamespaceVisibility {
    Public,
    Private,
}

/// The attributes a namespace list sorts by.
#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum NamespaceSortKey {
    Namespace,
    CreatedAt,
    UpdatedAt,
}

/// The attributes a metadef tag list sorts by.
#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TagSortKey {
    Name,
    CreatedAt,
    UpdatedAt,
}
