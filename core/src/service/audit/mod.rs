//! The auditor's checks: does the stored data still say what the catalogue
//! says? Each check of one location gives a [`NewAuditResult`] (what was
//! expected, what was found); [`record`] keeps it, counts it in
//! `glint_audit_checks_total` and logs a failure at WARN. The walk over the
//! catalogue, the lease and the schedule are the `audit` job's
//! ([`crate::jobs::audit`]); `glint audit` runs the same steps once.
//!
//! - [`presence`]: the object exists with the image's size (the driver's
//!   `size`, cheap);
//! - [`content::check`]: the object's bytes have the image's `checksum` and
//!   `os_hash_value` (a full read, paced in MB/s);
//! - [`orphans::audit_store`]: data a store lists that no location names;
//! - [`repair::repair`]: a damaged copy is written again from a healthy one.

pub mod content;
pub mod orphans;
pub mod repair;

use glint_sdk::ErrorKind;

pub use crate::db::DAMAGED;
use crate::db::{AuditKind, AuditResult, Database, DbError, NewAuditResult, OUTCOME_OK};
use crate::domain::{Image, Location};
use crate::store::StoreHandle;

/// Whether `outcome` says the copy is damaged.
pub fn is_damaged(outcome: &str) -> bool {
    DAMAGED.contains(&outcome)
}

/// The result of checking `location` of `image` for `kind`.
pub(crate) fn result(
    kind: AuditKind,
    image: &Image,
    location: &Location,
    outcome: &str,
    expected: String,
    found: String,
) -> NewAuditResult {
    NewAuditResult {
        kind,
        image_id: image.id,
        store: location.store().unwrap_or_default().to_owned(),
        url: location.url.clone(),
        outcome: outcome.to_owned(),
        expected,
        found,
    }
}

/// What the image says its data is: its size, or "data" when it has none.
fn expected_size(image: &Image) -> String {
    image
        .size
        .map_or_else(|| "data".to_owned(), |size| format!("{size} bytes"))
}

/// Presence: the object at `location` exists, with the image's size.
pub async fn presence(store: &StoreHandle, image: &Image, location: &Location) -> NewAuditResult {
    let expected = expected_size(image);
    let (outcome, found) = match store.size(&location.url).await {
        Ok(size) if image.size.is_none_or(|s| s == size as i64) => {
            (OUTCOME_OK, format!("{size} bytes"))
        }
        Ok(size) => ("size_mismatch", format!("{size} bytes")),
        Err(e) if e.kind == ErrorKind::NotFound => ("missing", format!("nothing: {e}")),
        Err(e) => ("unreadable", e.to_string()),
    };
    result(
        AuditKind::Presence,
        image,
        location,
        outcome,
        expected,
        found.to_string(),
    )
}

/// Records `result`: one row, one count, and a WARN line for a failure.
pub async fn record(db: &Database, result: &NewAuditResult) -> Result<AuditResult, DbError> {
    crate::metrics::audit_check(result.kind.as_str(), &result.store, &result.outcome);
    if !result.is_ok() {
        tracing::warn!(
            check = result.kind.as_str(),
            image = %result.image_id,
            store = %result.store,
            url = %crate::fetch::redact(&result.url),
            outcome = %result.outcome,
            expected = %result.expected,
            found = %result.found,
            "audit: stored data differs from the catalogue"
        );
    }
    db.record_audit(result).await
}
