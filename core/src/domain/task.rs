//! Tasks: asynchronous work a client can follow (`/v2/tasks`, `/v2/images/{id}/tasks`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Where a task is in its life; `success` and `failure` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Processing,
    Success,
    Failure,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        Self::Pending,
        Self::Processing,
        Self::Success,
        Self::Failure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Success | Self::Failure)
    }
}

/// One task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: Uuid,
    /// `import` (tasks API), `api_image_import` or `location_import`.
    pub kind: String,
    pub status: TaskStatus,
    pub owner: Option<String>,
    pub input: Map<String, Value>,
    pub result: Option<Map<String, Value>>,
    pub message: String,
    pub image_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// A new `pending` task.
    pub fn new(kind: &str, input: Map<String, Value>, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind: kind.to_owned(),
            status: TaskStatus::Pending,
            owner: None,
            input,
            result: None,
            message: String::new(),
            image_id: None,
            request_id: None,
            user_id: None,
            expires_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}
