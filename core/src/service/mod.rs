//! Orchestration: each API operation as explicit steps over the database and the stores.

pub mod access;
mod acls;
pub mod audit;
pub mod cache;
pub mod deferred;
pub mod download;
pub mod hashing;
pub mod health;
pub mod images;
pub mod import;
pub mod inflight;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod notify;
pub mod pending;
pub mod quota;
pub mod replicate;
pub mod signature;
pub mod staging;
pub mod stores;
pub mod tasks;
pub mod upload;

use glint_sdk::StoreError;
use uuid::Uuid;

use crate::db::DbError;
use crate::domain::patch::PatchError;
use crate::domain::rules::SchemaViolation;
use crate::domain::{ImageStatus, TransitionError};
use crate::policy::Denied;

/// The reason phrase of an HTTP status code.
fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

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
    #[error("Image ID {0} already exists!")]
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
    /// A store id no store is configured under, in glance_store's words.
    #[error("Store for identifier {0} not found")]
    UnknownStore(String),
    #[error("Error in store configuration. Adding images to store '{0}' is disabled.")]
    StoreReadOnly(String),
    #[error("The upload was interrupted: {0}")]
    UploadInterrupted(String),
    /// The image's signature properties or its data failed verification.
    #[error("Signature verification failed for image {image}: {error}")]
    Signature {
        image: Uuid,
        error: signature::SignatureError,
    },
    /// The data is not what the image's `disk_format` says, or is unsafe
    /// (Glance's `InvalidImageData`).
    #[error("{0}")]
    InvalidImageData(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(DbError),
    /// The database cannot answer now (down, restarting, every connection busy); a retry
    /// later can succeed.
    #[error("the database is unavailable: {0}")]
    DbUnavailable(DbError),

    // Images: create, update, delete, activation.
    /// The body breaks the image schema or one of Glance's value rules.
    #[error(transparent)]
    Schema(#[from] SchemaViolation),
    /// A JSON-patch refused; its kind decides the status.
    #[error(transparent)]
    Patch(#[from] PatchError),
    #[error("You are not authorized to complete {rule} action.")]
    NotAuthorized { rule: String },
    #[error("You are not permitted to create images owned by '{0}'")]
    ForeignOwner(String),
    #[error("No image found with ID {}", .0.map(|m| m.to_string()).unwrap_or_default())]
    UnknownMarker(Option<Uuid>),
    #[error("Image {id} could not be deleted because it is in use: {reason}")]
    ImageInUse { id: Uuid, reason: String },
    #[error("Not allowed to {action} image in status '{status}'")]
    ActivationRefused {
        action: &'static str,
        status: ImageStatus,
    },
    #[error("Image {0} was changed by another request; try again.")]
    ChangedConcurrently(Uuid),
    #[error("Maximum number of {what} exceeded. Allowed: {limit}.")]
    TooMany { what: &'static str, limit: usize },
    #[error("Too many operations in the JSON-patch document: at most {0} are allowed.")]
    TooManyPatchOperations(usize),
    #[error("The resource could not be found.")]
    NoSuchResource,
    #[error(
        "Project {project} is over a limit for [Resource {resource} is over limit of {limit} due to current usage {used} and delta {delta}]"
    )]
    ProjectQuota {
        project: String,
        resource: &'static str,
        limit: i64,
        used: u64,
        delta: u64,
    },

    /// The image a delete names is not visible, in the delete's own words.
    #[error("Failed to find image {0} to delete")]
    ImageToDeleteNotFound(Uuid),

    // Members and tags.
    /// The image a members or tags call names is not visible, in those APIs' words.
    #[error("Image {0} not found.")]
    MemberImageNotFound(Uuid),
    #[error(
        "Image member limit exceeded for image {image}: Maximum number of image members exceeded. Allowed: {limit}."
    )]
    MemberLimit { image: Uuid, limit: usize },
    #[error("Member ID is too long: at most {0} characters are allowed.")]
    MemberIdTooLong(usize),
    #[error("Member {member} is duplicated for image {image}")]
    DuplicateMember { image: Uuid, member: String },
    /// A member status other than the three a member can give.
    #[error(r#"Incorrect request: Status must be "pending", "accepted" or "rejected"."#)]
    MemberStatus,
    #[error("{member} not found in the member list of the image {image}.")]
    MemberNotFound { image: Uuid, member: String },

    // Stores and copies.
    #[error("The selected store {0} is not available on this node.")]
    StoreNotOnNode(String),
    #[error("It's not allowed to remove image data from store if image status is not 'active'")]
    RemoveFromInactive,
    #[error(
        "Cannot delete image data from the only store containing it. Consider deleting the image instead."
    )]
    LastCopy,
    #[error("Image {image} is not stored in store {store}.")]
    NotInStore { image: Uuid, store: String },
    #[error("The data for Image {image} could not be deleted because it is in use: {reason}")]
    CopyInUse { image: Uuid, reason: String },
    #[error("Image {0} changed status while its data was being removed.")]
    ChangedDuringRemoval(Uuid),
    #[error("The location of image {0} names no store to read from.")]
    LocationWithoutStore(Uuid),
    #[error(
        "The copy of image {image} in store '{store}' has {found} bytes, the image {expected}."
    )]
    CopySizeMismatch {
        image: Uuid,
        store: String,
        found: u64,
        expected: u64,
    },

    // Image data.
    #[error("Image {0} is already being uploaded.")]
    AlreadyUploading(Uuid),
    #[error("Image exceeds the storage quota: the size limit is {0} bytes.")]
    SizeCap(u64),
    /// The data's length is not the declared size; `seen` counts the bytes up to the chunk
    /// that went past it, or all of them when fewer came.
    #[error("{}", size_mismatch(.declared, .seen))]
    SizeMismatch { declared: u64, seen: u64 },
    #[error("Store '{0}' is not configured.")]
    UnknownPreferredStore(String),
    #[error("The requested image has been deactivated. Image data download is forbidden.")]
    DownloadDeactivated,
    #[error("Range requests are not supported by the store holding this image.")]
    RangeUnsupported,

    // The image cache API.
    #[error("Image {0} not found.")]
    CachedImageNotFound(String),
    #[error("Caching via API is not supported at this site.")]
    CacheDisabled,
    #[error("Only images with status active can be targeted for queueing")]
    CacheNeedsActive,
    #[error("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.")]
    CacheClearTarget,

    // Import and tasks.
    /// `POST /import` on an image that already has data (except copy-image).
    #[error("Image with status active cannot be target for import")]
    ImportOfActiveImage,
    /// The import method needs the image in another status.
    #[error("{}", import_needs_status(.method, .needed))]
    ImportNeedsStatus {
        method: &'static str,
        needed: ImageStatus,
    },
    #[error("'{0}' needs to be set before import")]
    ImportNeedsFormat(&'static str),
    /// Another import (or location check) holds the image.
    #[error(
        "New operation on image '{0}' is not permitted as prior operation is still in progress"
    )]
    OperationInProgress(Uuid),
    #[error("Image is already present at store '{0}'")]
    AlreadyInStore(String),
    /// A glance-direct import forwarded to the node holding the staged
    /// data found no node there (Glance's 504); the text is for the log.
    #[error("Stage host is unavailable: {0}")]
    StageHostUnreachable(String),
    /// The forwarded import failed after the connection was made (502).
    #[error("Stage host is unavailable: {0}")]
    StageHostFailed(String),
    /// An import forwarded here as to its stage host names a stage host that is not this node
    /// by its own `worker_self_reference_url` (`own`): forwarding it again could go on forever.
    /// The text is for the log; the caller gets a 502 without the nodes' URLs.
    #[error(
        "image {id} was forwarded here as to its stage host {sent_to}, but this node's own URL is {}: refusing to forward the import again (stage host {stage_host}); check worker_self_reference_url on the API nodes",
        own.as_deref().unwrap_or("not set")
    )]
    StageHostLoop {
        id: Uuid,
        stage_host: String,
        sent_to: String,
        own: Option<String>,
    },
    /// The stage host refused the forwarded import with this status, which
    /// the caller gets, under its reason phrase, as from Glance.
    #[error("{}", http_reason(*.0))]
    StageHostAnswered(u16),
    /// An import names a store that is not configured.
    #[error("Store for identifier {0} not found")]
    ImportStoreNotFound(String),
    /// `all_stores` together with `stores` or `X-Image-Meta-Store`.
    #[error(
        "All_stores parameter can't be used with x-image-meta-store header or stores parameter"
    )]
    AllStoresWithStores,
    #[error("Stores parameter and x-image-meta-store header can't be both specified")]
    StoresWithHeaderStore,
    /// A glance-download body without this field of `method`.
    #[error("'{0}' needs to be set for glance-download import method")]
    GlanceDownloadNeeds(&'static str),
    #[error("Remote image id does not look like a UUID: {0}")]
    RemoteImageId(String),
    /// An outbound URL refused by `[import_filtering]` or the address rules;
    /// `uri` as messages may show it (redacted, `None` when absent).
    #[error("URI for {purpose} does not pass filtering: {uri}")]
    UriRefused { purpose: &'static str, uri: String },
    /// A fetch into staging failed; `uri` is redacted.
    #[error("Failed to download {uri}: {why}")]
    DownloadFailed { uri: String, why: String },
    #[error("glance-download failed: {0}")]
    GlanceDownloadFailed(String),
    /// An import plugin refused or could not process the staged data.
    #[error("Import plugin {plugin} failed: {why}")]
    ImportPluginFailed { plugin: &'static str, why: String },
    #[error("Image {0} has no readable copy.")]
    NoReadableCopy(Uuid),
    #[error("The data of image {0} changed between two stores.")]
    DataChangedBetweenStores(Uuid),
    #[error("Import of image {0} failed for every store.")]
    ImportFailedEverywhere(Uuid),
    /// A read-modify-write of an image kept losing to other writers.
    #[error("Image {0} keeps changing; the import could not record its progress.")]
    KeepsChanging(Uuid),
    #[error("{}", size_mismatch(.declared, .sent))]
    StagedSizeMismatch { declared: u64, sent: u64 },
    #[error("The image {0} has data on staging")]
    AlreadyStaged(Uuid),
    #[error("Image {0} has no staged data to import.")]
    NothingStaged(Uuid),
    #[error("Task 'input' is required")]
    TaskInputRequired,
    #[error(
        "Provided object does not match schema 'task': '{0}' is not one of ['import', 'api_image_import', 'location_import']"
    )]
    TaskTypeUnknown(String),
    /// The `import_from` of a legacy import task, as Glance shows it.
    #[error("Invalid location: {0}")]
    TaskSourceInvalid(String),
    #[error("File based imports are not allowed. Please use a non-local source of image data.")]
    TaskSourceLocal,
    #[error(
        "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']"
    )]
    TaskSourceScheme,
    /// Recorded as the task's message, not answered.
    #[error("Input does not contain '{0}' field")]
    TaskInputMissing(&'static str),
    #[error("Could not find task {0}")]
    TaskNotFound(Uuid),
    /// A `GET /v2/tasks` filter; `what` is `sort direction`, `status value`, `type value`.
    #[error("Invalid {what}: {value}")]
    TaskFilterInvalid { what: &'static str, value: String },
    #[error("Task with the given id {0} was not found")]
    TaskMarkerNotFound(String),
    /// A metadef namespace that a replace or a delete names is not visible.
    #[error("Namespace {0} not found")]
    NamespaceNotFound(String),
    #[error("It's not allowed to add locations if image status is {0}.")]
    LocationNeedsQueued(ImageStatus),
    /// `uri` is redacted.
    #[error("URI for the location does not pass filtering: {0}")]
    LocationRefused(String),
    #[error("Image {0} is not in a state that accepts new locations.")]
    LocationsNotAccepted(Uuid),
    /// Recorded as the location task's message.
    #[error("The image data does not match the validation data.")]
    ValidationDataMismatch,

    /// Glance words this refusal as the detail under its status's stock explanation.
    #[error("{0}")]
    AsDetail(Box<ServiceError>),
}

/// glance_store's words for data longer or shorter than the size declared.
fn size_mismatch(declared: &u64, seen: &u64) -> String {
    let what = if seen > declared {
        "Size exceeds"
    } else {
        "Size mismatch"
    };
    format!("{what}: expected {declared} bytes, got {seen} bytes")
}

/// Glance's wording for an import method that needs the image in `needed`.
fn import_needs_status(method: &str, needed: &ImageStatus) -> String {
    match needed {
        ImageStatus::Uploading => {
            format!("Image needs to be staged before '{method}' method can be used")
        }
        ImageStatus::Active => "Only images with status active can be targeted for copying".into(),
        other => format!("Image needs to be in '{other}' state to use '{method}' method"),
    }
}

impl ServiceError {
    /// This error, worded as Glance's detail (see [`ServiceError::AsDetail`]).
    pub fn as_detail(self) -> Self {
        ServiceError::AsDetail(Box::new(self))
    }
}

/// A refusal by policy. A hidden resource reads as not found; the caller of
/// [`denied_or_not_found`] words that 404 in the resource's own terms.
impl From<Denied> for ServiceError {
    fn from(d: Denied) -> Self {
        if d.hidden {
            ServiceError::NotFound("The resource could not be found.".into())
        } else {
            ServiceError::Forbidden(d.to_string())
        }
    }
}

/// `denied` as a service error, with `not_found` standing for a hidden resource.
pub fn denied_or_not_found(
    denied: Denied,
    not_found: impl FnOnce() -> ServiceError,
) -> ServiceError {
    if denied.hidden {
        not_found()
    } else {
        denied.into()
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::MarkerNotFound => {
                ServiceError::Invalid("Invalid marker. Image could not be found.".into())
            }
            other if other.is_unavailable() => ServiceError::DbUnavailable(other),
            other => ServiceError::Db(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
