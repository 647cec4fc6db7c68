//! The statuses and wording of the services' refusals: every `ServiceError` as the API answers it.

use super::*;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as E;
        if let E::AsDetail(inner) = e {
            let plain = ApiError::from(*inner);
            return Self {
                headers: plain.headers,
                ..ApiError::detailed(plain.status, plain.explanation)
            };
        }
        if let E::DbUnavailable(db) = &e {
            // Logged here, once per answer; the client learns only that it may retry.
            tracing::warn!(error = %db, "database unavailable; answering 503");
            return ApiError::detailed(
                StatusCode::SERVICE_UNAVAILABLE,
                "The image database cannot be reached.",
            )
            .with_header(header::RETRY_AFTER, DB_RETRY_AFTER_SECS);
        }
        if let E::Patch(PatchError::ForbiddenDetail(m) | PatchError::ConflictDetail(m)) = &e {
            let status = match &e {
                E::Patch(PatchError::ForbiddenDetail(_)) => StatusCode::FORBIDDEN,
                _ => StatusCode::CONFLICT,
            };
            return ApiError::detailed(status, m.clone());
        }
        let status = match &e {
            E::ImageNotFound(_)
            | E::NotFound(_)
            | E::NoSuchResource
            | E::MemberImageNotFound(_)
            | E::ImageToDeleteNotFound(_)
            | E::NamespaceNotFound(_)
            | E::MemberNotFound { .. }
            | E::NotInStore { .. }
            | E::CachedImageNotFound(_)
            | E::CacheDisabled => StatusCode::NOT_FOUND,
            E::Schema(_)
            | E::Patch(PatchError::BadRequest(_))
            | E::UnknownMarker(_)
            | E::TooManyPatchOperations(_)
            | E::MemberIdTooLong(_)
            | E::MemberStatus
            | E::LocationWithoutStore(_)
            | E::SizeMismatch { .. }
            | E::UnknownPreferredStore(_)
            | E::RangeUnsupported
            | E::CacheNeedsActive
            | E::CacheClearTarget
            | E::Signature { .. } => StatusCode::BAD_REQUEST,
            E::Patch(PatchError::Forbidden(_))
            | E::NotAuthorized { .. }
            | E::ActivationRefused { .. }
            | E::LastCopy
            | E::DownloadDeactivated => StatusCode::FORBIDDEN,
            E::Patch(PatchError::Conflict(_))
            | E::ImageInUse { .. }
            | E::ChangedConcurrently(_)
            | E::DuplicateMember { .. }
            | E::StoreNotOnNode(_)
            | E::RemoveFromInactive
            | E::CopyInUse { .. }
            | E::ChangedDuringRemoval(_)
            | E::CopySizeMismatch { .. }
            | E::AlreadyUploading(_) => StatusCode::CONFLICT,
            E::TooMany { .. } | E::ProjectQuota { .. } | E::MemberLimit { .. } | E::SizeCap(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            E::Patch(PatchError::ForbiddenDetail(_) | PatchError::ConflictDetail(_)) => {
                unreachable!("answered above")
            }
            E::Invalid(_) | E::UnknownStore(_) | E::UploadInterrupted(_) => StatusCode::BAD_REQUEST,
            E::ReadOnly(_) | E::Reserved(_) | E::Forbidden(_) | E::Protected(_) => {
                StatusCode::FORBIDDEN
            }
            E::Conflict(_) | E::WrongStatus { .. } | E::Duplicate(_) => StatusCode::CONFLICT,
            E::Transition(TransitionError::NotAllowed { .. }) => StatusCode::CONFLICT,
            E::Transition(TransitionError::MissingFormats { .. }) => StatusCode::BAD_REQUEST,
            E::OverLimit(_) => StatusCode::PAYLOAD_TOO_LARGE,
            // Data is refused only once it was accepted as `application/octet-stream`; webob's
            // 415 names that type before the reason.
            E::InvalidImageData(why) => {
                return ApiError::unsupported_media("application/octet-stream", why.clone());
            }
            // Glance's policy layer words this as a detail under the stock explanation.
            E::ForeignOwner(_) => return ApiError::detailed(StatusCode::FORBIDDEN, e.to_string()),
            // Glance's StoreAddDisabled: the store exists but takes no data.
            E::GoneDuringUpload(_) | E::StoreReadOnly(_) => StatusCode::GONE,
            E::RangeNotSatisfiable { size, detail } => {
                return ApiError::detailed(StatusCode::RANGE_NOT_SATISFIABLE, detail.clone())
                    .with_header(header::CONTENT_RANGE, &format!("bytes */{size}"));
            }
            E::Store(se) => match se.kind {
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::AlreadyExists | ErrorKind::InUse => StatusCode::CONFLICT,
                ErrorKind::StorageFull => StatusCode::PAYLOAD_TOO_LARGE,
                ErrorKind::PermissionDenied | ErrorKind::Unavailable | ErrorKind::Timeout => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
                ErrorKind::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorKind::ConfigInvalid | ErrorKind::Unexpected | ErrorKind::Other(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            // import and tasks
            E::AlreadyInStore(_)
            | E::AllStoresWithStores
            | E::StoresWithHeaderStore
            | E::GlanceDownloadNeeds(_)
            | E::RemoteImageId(_)
            | E::UriRefused { .. }
            | E::DownloadFailed { .. }
            | E::GlanceDownloadFailed(_)
            | E::ImportPluginFailed { .. }
            | E::StagedSizeMismatch { .. }
            | E::TaskInputRequired
            | E::TaskTypeUnknown(_)
            | E::TaskSourceInvalid(_)
            | E::TaskSourceLocal
            | E::TaskSourceScheme
            | E::TaskInputMissing(_)
            | E::TaskFilterInvalid { .. }
            | E::TaskMarkerNotFound(_)
            | E::LocationRefused(_)
            | E::ValidationDataMismatch => StatusCode::BAD_REQUEST,
            E::ImportOfActiveImage
            | E::ImportNeedsStatus { .. }
            | E::ImportNeedsFormat(_)
            | E::OperationInProgress(_)
            | E::ImportStoreNotFound(_)
            | E::NoReadableCopy(_)
            | E::DataChangedBetweenStores(_)
            | E::ImportFailedEverywhere(_)
            | E::KeepsChanging(_)
            | E::AlreadyStaged(_)
            | E::NothingStaged(_)
            | E::LocationNeedsQueued(_)
            | E::LocationsNotAccepted(_) => StatusCode::CONFLICT,
            E::TaskNotFound(_) => StatusCode::NOT_FOUND,
            E::StageHostUnreachable(_) | E::StageHostFailed(_) => {
                tracing::error!(error = %e, "could not forward an import to its stage host");
                let status = match &e {
                    E::StageHostUnreachable(_) => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                return ApiError::new(status, "Stage host is unavailable");
            }
            E::StageHostLoop { .. } => {
                tracing::error!(error = %e, "a forwarded import would be forwarded again");
                // 502, not WebDAV's 508: the node that forwarded the import relays this status
                // to its caller, for whom the stage host refused the forwarded request, which
                // is what the spec's 502 says.
                return ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "The import was forwarded to the node that staged the image's data, but that node does not take the recorded stage host for its own URL; the API nodes' worker_self_reference_url settings disagree.",
                );
            }
            E::StageHostAnswered(code) => {
                let status =
                    StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return ApiError::new(status, e.to_string());
            }
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            E::DbUnavailable(_) => unreachable!("answered above"),
            E::AsDetail(_) => unreachable!("unwrapped above"),
        };
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            // Details of internal failures go to the log, not to the client.
            tracing::error!(error = %e, "internal error");
            return ApiError::new(
                status,
                "The server has either erred or is incapable of performing the requested operation.",
            );
        }
        ApiError::new(status, e.to_string())
    }
}
