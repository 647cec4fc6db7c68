//! Plain data, validation rules and the image state machine. Nothing here does I/O.

pub mod image;
pub mod list;
pub mod member;
pub mod metadefs;
pub mod patch;
pub mod protections;
pub mod rules;
pub mod status;
pub mod task;

pub use image::{Image, Location, Visibility};
pub use list::{CmpOp, ListQuery, Scope, SortDir, SortKey, VisibilityFilter};
pub use member::{Member, MemberStatus};
pub use status::{ImageStatus, StatusChange, TransitionError};
pub use task::{Task, TaskStatus};
