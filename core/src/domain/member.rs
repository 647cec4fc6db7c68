//! Image sharing: one project's share of an image and its answer.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A member's answer to the share; only `Accepted` puts the image in the
/// member's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

/// One project's share of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub image_id: Uuid,
    /// The project the image is shared with.
    pub member: String,
    pub status: MemberStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 3] = [Self::Pending, Self::Accepted, Self::Rejected];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}
