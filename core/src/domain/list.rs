//! What a list request asks for, after parsing and validation.

use chrono::{DateTime, Utc};

use super::{ImageStatus, Visibility};

/// Columns a list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Size,
    Id,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        Self::Name,
        Self::Status,
        Self::ContainerFormat,
        Self::DiskFormat,
        Self::Size,
        Self::Id,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::ContainerFormat => "container_format",
            Self::DiskFormat => "disk_format",
            Self::Size => "size",
            Self::Id => "id",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

impl SortDir {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }
}

/// Comparison operators for the date filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "eq" => Self::Eq,
            "neq" => Self::Neq,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            _ => return None,
        })
    }
}

/// The `visibility` list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityFilter {
    Only(Visibility),
    All,
}

/// Who is asking, as far as listing is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub is_admin: bool,
    /// The caller's project; `None` for the unauthenticated (noauth) context.
    pub project_id: Option<String>,
}

/// A validated list request. Every field is already checked; the database
/// turns it into SQL without further validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub scope: Scope,
    /// 1..=api_limit_max.
    pub limit: u32,
    /// Continue after this image (it must exist and be visible, else the
    /// database answers `MarkerNotFound`).
    pub marker: Option<uuid::Uuid>,
    /// Sort keys in order; the database appends `created_at` and `id`
    /// (in the last given direction) as tie-breakers when they are missing.
    pub sort: Vec<(SortKey, SortDir)>,
    /// `in:` lists: an image matches if its value is one of these.
    pub ids: Option<Vec<uuid::Uuid>>,
    pub names: Option<Vec<String>>,
    pub statuses: Option<Vec<ImageStatus>>,
    pub container_formats: Option<Vec<String>>,
    pub disk_formats: Option<Vec<String>>,
    pub visibility: Option<VisibilityFilter>,
    pub owner: Option<String>,
    /// Every tag must be present (AND).
    pub tags: Vec<String>,
    pub size_min: Option<i64>,
    pub size_max: Option<i64>,
    pub protected: Option<bool>,
    /// `Some(false)` by default: hidden images are left out unless asked for.
    pub os_hidden: Option<bool>,
    pub checksum: Option<String>,
    pub os_hash_value: Option<String>,
    pub created_at: Vec<(CmpOp, DateTime<Utc>)>,
    pub updated_at: Vec<(CmpOp, DateTime<Utc>)>,
    /// Equality on extra properties; all must match.
    pub properties: Vec<(String, String)>,
    /// Which answers to a share list a shared image for its member:
    /// `accepted` by default, `None` for any (`member_status=all`).
    pub member_status: Option<&'static str>,
}

impl ListQuery {
    pub fn new(scope: Scope, limit: u32) -> Self {
        Self {
            scope,
            limit,
            marker: None,
            sort: vec![(SortKey::CreatedAt, SortDir::Desc)],
            ids: None,
            names: None,
            statuses: None,
            container_formats: None,
            disk_formats: None,
            visibility: None,
            owner: None,
            tags: Vec::new(),
            size_min: None,
            size_max: None,
            protected: None,
            os_hidden: Some(false),
            checksum: None,
            os_hash_value: None,
            created_at: Vec::new(),
            updated_at: Vec::new(),
            properties: Vec::new(),
            member_status: Some("accepted"),
        }
    }
}
