//! Orchestration: each API operation as explicit steps over the database and the stores.

pub mod access;
mod acls;
pub mod cache;
pub mod download;
pub mod hashing;
pub mod images;
pub mod import;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod quota;
pub mod staging;
pub mod stores;
pub mod tasks;
pub mod upload;

use glint_sdk::StoreError;
use uuid::Uuid;

use crate::db::DbError;
use crate::domain::{ImageStatus, TransitionError};

/// Everything an operation can fail with, in the domain's words. The API layer
/// maps each variant to an HTTP status in exactly one place (`api::error`).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("No image found with ID {0}")]
    ImageNotFound(Uuid),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("Attribute '{0}' is read-only.")]
    ReadOnly(String),
    #[error("Attribute '{0}' is reserved.")]
    Reserved(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Image {id} is not in a state that allows this: it is {status}.")]
    WrongStatus { id: Uuid, status: ImageStatus },
    /// The state machine refused a status change.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("Image with identifier {0} already exists!")]
    Duplicate(Uuid),
    #[error("Image {0} is protected and cannot be deleted.")]
    Protected(Uuid),
    #[error("{0}")]
    OverLimit(String),
    #[error(
        "Image {0} could not be found after upload. The image may have been deleted during the upload."
    )]
    GoneDuringUpload(Uuid),
    /// 416; `detail` says why, in Glance's words.
    #[error("{detail}")]
    RangeNotSatisfiable { size: u64, detail: String },
    #[error("Unknown store '{0}'.")]
    UnknownStore(String),
    #[error("Error in store configuration. Adding images to store '{0}' is disabled.")]
    StoreReadOnly(String),
    #[error("The upload was interrupted: {0}")]
    UploadInterrupted(String),
    /// The data is not what the image's `disk_format` says, or is unsafe
    /// (Glance's `InvalidImageData`).
    #[error("{0}")]
    InvalidImageData(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(DbError),
    /// Glance words this refusal as the detail under its status's stock explanation.
    #[error("{0}")]
    AsDetail(Box<ServiceError>),
}

impl ServiceError {
    /// This error, worded as Glance's detail (see [`ServiceError::AsDetail`]).
    pub fn as_detail(self) -> Self {
        ServiceError::AsDetail(Box::new(self))
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::MarkerNotFound => {
                ServiceError::Invalid("Invalid marker. Image could not be found.".into())
            }
            other => ServiceError::Db(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
