//! Where fetched data comes from: the checked, pinned URL of web-download,
//! glance-download and the legacy import task, fetched into staging.

use uuid::Uuid;

use crate::app::App;
use crate::auth::UserToken;
use crate::fetch::{self, Pinned};
use crate::service::{ServiceError, ServiceResult, staging};

/// Where a fetch of `uri` must connect, if `[import_filtering]` and the
/// address rules let it; a refusal names `purpose` (`web-download`,
/// `legacy import task`).
pub(super) async fn pin(app: &App, uri: &str, purpose: &'static str) -> ServiceResult<Pinned> {
    fetch::pin(&app.config.import_filtering, uri)
        .await
        .map_err(|_| ServiceError::UriRefused {
            purpose,
            // No URI at all reads as Glance's `None`.
            uri: match uri {
                "" => "None".to_owned(),
                uri => fetch::redact(uri),
            },
        })
}

/// web-download (and glance-download) step 1: fetch `uri` into staging
/// through the pinned client, with the caller's token when one is given.
pub(super) async fn fetch_to_staging(
    app: &App,
    id: Uuid,
    uri: &str,
    pinned: &Pinned,
    token: Option<&UserToken>,
) -> ServiceResult<u64> {
    let body = pinned
        .stream(uri, token.map(UserToken::expose))
        .await
        .map_err(|e| ServiceError::DownloadFailed {
            uri: fetch::redact(uri),
            why: e.to_string(),
        })?;
    staging::remove(app, id).await;
    staging::write(app, id, body, app.config.api.image_size_cap).await
}
