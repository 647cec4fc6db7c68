//! Image locations: the 2.17 locations API (`POST` / `GET
//! /v2/images/{id}/locations`) and the step that records a new copy of an
//! image's data.
//!
//! Adding a location, as Glance's `location_import` flow does it:
//!
//! 1. the image must be `queued` (409) and the caller allowed by policy
//!    `add_image_location` (403); a caller without the `service` role may
//!    only add `http(s)` URLs, and only when an http store is configured (403);
//! 2. `validation_data` is checked: both hash fields or neither, a known
//!    algorithm, hex of the right length (400);
//! 3. the URL must belong to a configured store, pass the URL filter
//!    (`[import_filtering]`) and name data of a non-zero size (400);
//! 4. the location is recorded and the image goes `active`, with its size;
//! 5. with `do_secure_hash`, the data is read back through the store in the
//!    background for `checksum` and `os_hash_value`. With `validation_data`
//!    the image stays `importing` until the hash matches (then `active`), or
//!    goes back to `queued` without the location when it does not.
//!
//! Unlike Glance, steps 2–3 run before answering, so a bad URL is a 400
//! instead of a task that fails later; the 202 answer is the same.

use std::sync::Arc;

use futures::StreamExt;
use glint_sdk::{ErrorKind, StoreError};
use openssl::hash::{Hasher, MessageDigest};
use reqwest::Url;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::hashing::HASH_ALGO;
use super::images::get;
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::config::ImportFilteringConfig;
use crate::context::RequestContext;
use crate::db::DbError;
use crate::domain::{Image, ImageStatus, Location, Task, TaskStatus};
use crate::policy::Target;

/// Schemes never accepted from clients: they would expose the server's own
/// files or configuration (Glance's `RESTRICTED_URI_SCHEMAS`).
const RESTRICTED_SCHEMES: [&str; 3] = ["file", "filesystem", "swift+config"];

/// The hash algorithms `validation_data` may name, with their digest sizes.
const ALGORITHMS: [(&str, usize); 4] = [("sha1", 20), ("sha256", 32), ("sha512", 64), ("md5", 16)];

/// `validation_data` of an add-location request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationData {
    pub os_hash_algo: String,
    pub os_hash_value: String,
}

impl ValidationData {
    /// Parses and checks the request's `validation_data` object (absent or
    /// empty: `None`).
    pub fn parse(value: Option<&Value>) -> ServiceResult<Option<Self>> {
        let Some(value) = value else {
            return Ok(None);
        };
        let Some(object) = value.as_object() else {
            return Err(ServiceError::Invalid(
                "validation_data must be an object.".into(),
            ));
        };
        if let Some(extra) = object
            .keys()
            .find(|k| *k != "os_hash_algo" && *k != "os_hash_value")
        {
            return Err(ServiceError::Invalid(format!(
                "Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        let field = |name: &str| -> ServiceResult<Option<String>> {
            match object.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(ServiceError::Invalid(format!(
                    "{other} is not of type 'string'"
                ))),
            }
        };
        let (algo, value) = match (field("os_hash_algo")?, field("os_hash_value")?) {
            (None, None) => return Ok(None),
            (Some(algo), Some(value)) => (algo, value),
            (Some(_), None) => {
                return Err(ServiceError::Invalid(
                    "'os_hash_value' is a dependency of 'os_hash_algo'".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ServiceError::Invalid(
                    "'os_hash_algo' is a dependency of 'os_hash_value'".into(),
                ));
            }
        };
        let Some((_, size)) = ALGORITHMS.iter().find(|(name, _)| *name == algo) else {
            return Err(ServiceError::Invalid(format!(
                "'{algo}' is not one of ['sha1', 'sha256', 'sha512', 'md5']"
            )));
        };
        let Ok(bytes) = hex::decode(&value) else {
            return Err(ServiceError::Invalid(format!(
                "os_hash_value ({value}) is not a valid hexadecimal value"
            )));
        };
        if bytes.len() != *size {
            return Err(ServiceError::Invalid(format!(
                "os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({size}) bytes)"
            )));
        }
        Ok(Some(Self {
            os_hash_algo: algo,
            os_hash_value: value.to_ascii_lowercase(),
        }))
    }
}

/// `GET /v2/images/{id}/locations`: `[{url, metadata}]`, for the `service`
/// role (policy `fetch_image_location`; administrators too, as Glance still
/// allows them).
pub async fn list(app: &App, ctx: &RequestContext, id: Uuid) -> ServiceResult<Vec<Location>> {
    let image = get(app, ctx, id).await?;
    app.policy
        .enforce("fetch_image_location", ctx, &target(&image))?;
    Ok(image.locations)
}

/// `POST /v2/images/{id}/locations` (answered 202); see the module notes.
pub async fn add_location(
    app: &Arc<App>,
    ctx: &RequestContext,
    id: Uuid,
    url: &str,
    validation: Option<ValidationData>,
) -> ServiceResult<()> {
    let image = get(app, ctx, id).await?;
    if image.status != ImageStatus::Queued {
        return Err(ServiceError::Conflict(format!(
            "It's not allowed to add locations if image status is {}.",
            image.status
        )));
    }
    app.policy
        .enforce("add_image_location", ctx, &target(&image))?;
    let is_http = matches!(scheme(url).as_deref(), Some("http" | "https"));
    let http_store = app.stores.infos().any(|s| s.driver == "http");
    let http_allowed = is_http && http_store;
    if !(has_service_role(ctx) || http_allowed) {
        return Err(ServiceError::Forbidden(
            "http store must be enabled to use location API by normal user.".into(),
        ));
    }

    let (store_id, size) = check_url(app, ctx, url).await?;
    let mut metadata = Map::new();
    metadata.insert("store".into(), store_id.clone().into());
    let location = Location {
        url: url.to_owned(),
        metadata,
        status: "active".into(),
    };

    let secure = app.config.locations.do_secure_hash;
    let mut next = image.clone();
    next.size = Some(size as i64);
    next.locations = vec![location];
    match (&validation, secure) {
        // Verified in the background before the image may be used.
        (Some(v), true) => {
            next.status = ImageStatus::Importing;
            next.os_hash_algo = Some(v.os_hash_algo.clone());
        }
        (None, true) => {
            next.status = ImageStatus::Active;
            next.os_hash_algo = Some(HASH_ALGO.to_owned());
        }
        // Taken on trust, as Glance does without do_secure_hash.
        (Some(v), false) => {
            next.status = ImageStatus::Active;
            next.os_hash_algo = Some(v.os_hash_algo.clone());
            next.os_hash_value = Some(v.os_hash_value.clone());
        }
        (None, false) => next.status = ImageStatus::Active,
    }
    let saved = match app.db.update_image(&next, Some(ImageStatus::Queued)).await {
        Ok(saved) => saved,
        Err(DbError::Conflict) => {
            return Err(ServiceError::Conflict(format!(
                "New operation on image '{id}' is not permitted as prior operation is still in progress"
            )));
        }
        Err(DbError::NotFound) => return Err(ServiceError::ImageNotFound(id)),
        Err(e) => return Err(e.into()),
    };
    // Clients follow the check as a `location_import` task of the image.
    let mut input = Map::new();
    input.insert("image_id".into(), id.to_string().into());
    input.insert("loc_url".into(), redact(url).into());
    input.insert(
        "validation_data".into(),
        validation.as_ref().map_or(Value::Null, |v| {
            serde_json::json!({"os_hash_algo": v.os_hash_algo, "os_hash_value": v.os_hash_value})
        }),
    );
    let mut task = Task::new("location_import", input, chrono::Utc::now());
    task.owner = ctx.project_id.clone();
    task.image_id = Some(id);
    task.user_id = ctx.user_id.clone();
    task.request_id = Some(ctx.request_id.clone());
    task.status = if secure {
        TaskStatus::Processing
    } else {
        TaskStatus::Success
    };
    app.db.create_task(&task).await?;
    if secure {
        let app = Arc::clone(app);
        let caller = ctx.clone();
        tokio::spawn(async move {
            let outcome = hash_in_background(&app, &caller, saved, validation).await;
            finish_task(&app, task, outcome).await;
        });
    }
    Ok(())
}

/// Records how the location check ended.
async fn finish_task(app: &App, mut task: Task, outcome: Result<(), String>) {
    let now = chrono::Utc::now();
    match outcome {
        Ok(()) => {
            task.status = TaskStatus::Success;
            let mut result = Map::new();
            result.insert(
                "image_id".into(),
                task.image_id.map(|i| i.to_string()).into(),
            );
            task.result = Some(result);
        }
        Err(message) => {
            task.status = TaskStatus::Failure;
            task.message = message;
        }
    }
    task.updated_at = now;
    task.expires_at = Some(now + chrono::Duration::hours(48));
    if let Err(e) = app.db.update_task(&task).await {
        tracing::warn!(task = %task.id, error = %e, "could not record the location check's outcome");
    }
}

/// Records a new copy of an image's data: `location` (its `store` metadata
/// set to `store_id`, plus `metadata`) is appended to the image's locations.
/// For the import steps (copy-image, web-download) once the data is stored;
/// the image may be `queued`, `saving`, `uploading`, `importing` or `active`.
pub async fn add(
    app: &App,
    image_id: Uuid,
    store_id: &str,
    url: &str,
    metadata: Map<String, Value>,
) -> ServiceResult<Image> {
    let mut metadata = metadata;
    metadata.insert("store".into(), store_id.into());
    let location = Location {
        url: url.to_owned(),
        metadata,
        status: "active".into(),
    };
    let allowed = [
        ImageStatus::Queued,
        ImageStatus::Saving,
        ImageStatus::Uploading,
        ImageStatus::Importing,
        ImageStatus::Active,
    ];
    match app.db.append_location(image_id, &location, &allowed).await {
        Ok(image) => Ok(image),
        Err(DbError::NotFound) => Err(ServiceError::ImageNotFound(image_id)),
        Err(DbError::Conflict) => Err(ServiceError::Conflict(format!(
            "Image {image_id} is not in a state that accepts new locations."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The store serving `url` and the size of the data there, or why the URL
/// cannot be a location (400; 503 when the store cannot be reached).
async fn check_url(app: &App, ctx: &RequestContext, url: &str) -> ServiceResult<(String, u64)> {
    let invalid = || ServiceError::Invalid("Invalid location".into());
    let scheme = scheme(url).ok_or_else(invalid)?;
    if RESTRICTED_SCHEMES.contains(&scheme.as_str()) {
        return Err(invalid());
    }
    let info = app.stores.store_for_url(url).ok_or_else(invalid)?;
    if matches!(scheme.as_str(), "http" | "https")
        && !uri_allowed(&app.config.import_filtering, url).await
    {
        return Err(ServiceError::Invalid(format!(
            "URL for the location does not pass filtering: {}",
            redact(url)
        )));
    }
    let store = app
        .stores
        .get(&info.id)
        .ok_or_else(invalid)?
        .acting_for(ctx);
    match store.size(url).await {
        Ok(0) => Err(invalid()),
        Ok(size) => Ok((info.id.clone(), size)),
        Err(e) if matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Timeout) => {
            Err(StoreError::new(ErrorKind::Unavailable, e.message).into())
        }
        Err(e) => {
            tracing::info!(url = %redact(url), error = %e, "location refused");
            Err(invalid())
        }
    }
}

/// Reads the data back through its store for `checksum` and `os_hash_value`
/// (Glance's `_CalculateHash`, with `http_retries` attempts), then settles the
/// image: verified → `active`; mismatch or unreadable → back to `queued`
/// without the location when `validation_data` was given, else it stays
/// `active` without a hash, as Glance leaves it.
async fn hash_in_background(
    app: &App,
    caller: &RequestContext,
    image: Image,
    validation: Option<ValidationData>,
) -> Result<(), String> {
    let id = image.id;
    let algo = image
        .os_hash_algo
        .clone()
        .unwrap_or_else(|| HASH_ALGO.to_owned());
    let attempts = app.config.locations.http_retries.max(1);
    let mut digests = None;
    for attempt in 1..=attempts {
        match digest_location(app, caller, &image, &algo).await {
            Ok(d) => {
                digests = Some(d);
                break;
            }
            Err(e) => {
                tracing::warn!(image = %id, attempt, attempts, error = %e, "hash calculation of the added location failed")
            }
        }
    }
    match (validation, digests) {
        (None, Some((md5, value))) => {
            match app
                .db
                .set_image_digests(id, Some(&md5), Some(&algo), Some(&value))
                .await
            {
                Ok(()) | Err(DbError::NotFound) => {}
                Err(e) => {
                    tracing::error!(image = %id, error = %e, "could not record the image's hash")
                }
            }
        }
        (None, None) => {
            tracing::warn!(image = %id, "Hash calculation failed for image data; the image stays active without a hash")
        }
        (Some(v), Some((md5, value))) if v.os_hash_value == value => {
            let mut active = image.clone();
            active.status = ImageStatus::Active;
            active.checksum = Some(md5);
            active.os_hash_value = Some(value);
            settle(app, &active).await;
        }
        (Some(v), found) => {
            match found {
                Some((_, value)) => {
                    tracing::warn!(image = %id, expected = %v.os_hash_value, actual = %value, "os_hash_value does not match the data at the location; the location is dropped")
                }
                None => {
                    tracing::warn!(image = %id, "Hash calculation failed for image data; the location is dropped")
                }
            }
            let mut queued = image.clone();
            queued.status = ImageStatus::Queued;
            // As in Glance, the location stays: the http store that holds it
            // cannot delete, and clients see it in `stores`.
            queued.size = None;
            queued.checksum = None;
            queued.os_hash_algo = None;
            queued.os_hash_value = None;
            settle(app, &queued).await;
            return Err("The image data does not match the validation data.".into());
        }
    }
    Ok(())
}

/// Moves an `importing` image on; another request may have got there first.
async fn settle(app: &App, image: &Image) {
    match app
        .db
        .update_image(image, Some(ImageStatus::Importing))
        .await
    {
        Ok(_) | Err(DbError::NotFound | DbError::Conflict) => {}
        Err(e) => {
            tracing::error!(image = %image.id, error = %e, "could not record the outcome of the location check")
        }
    }
}

/// md5 and `algo` of the data at the image's first location, hex, read as `caller` (the
/// caller who added the location: a multi-tenant store reads with its token).
async fn digest_location(
    app: &App,
    caller: &RequestContext,
    image: &Image,
    algo: &str,
) -> Result<(String, String), StoreError> {
    let unexpected = |m: String| StoreError::new(ErrorKind::Unexpected, m);
    let location = image
        .locations
        .first()
        .ok_or_else(|| unexpected("the image has no location".into()))?;
    let store = location
        .store()
        .and_then(|s| app.stores.get(s))
        .ok_or_else(|| StoreError::new(ErrorKind::Unavailable, "the location's store is not open"))?
        .acting_for(caller);
    let digest = match algo {
        "sha1" => MessageDigest::sha1(),
        "sha256" => MessageDigest::sha256(),
        "md5" => MessageDigest::md5(),
        _ => MessageDigest::sha512(),
    };
    let openssl = |e: openssl::error::ErrorStack| unexpected(format!("digest: {e}"));
    let mut md5 = Hasher::new(MessageDigest::md5()).map_err(openssl)?;
    let mut other = Hasher::new(digest).map_err(openssl)?;
    let mut data = store.get(&location.url, None).await?.data;
    while let Some(chunk) = data.next().await {
        let chunk = chunk?;
        md5.update(&chunk).map_err(openssl)?;
        other.update(&chunk).map_err(openssl)?;
    }
    Ok((
        hex::encode(md5.finish().map_err(openssl)?),
        hex::encode(other.finish().map_err(openssl)?),
    ))
}

/// What image rules are checked against.
pub(crate) fn target(image: &Image) -> Target<'_> {
    Target::image(image.owner.as_deref(), image.visibility.as_str())
}

fn has_service_role(ctx: &RequestContext) -> bool {
    ctx.roles
        .iter()
        .chain(&ctx.service_roles)
        .any(|r| r == "service")
}

/// The URL's scheme, lower-cased.
fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    (!scheme.is_empty()).then(|| scheme.to_ascii_lowercase())
}

/// The URL as messages and logs may show it: without a password.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// Glance's `validate_import_uri`: the scheme, host and (when the URL names
/// one) port must pass their allowed list when it is set, else their
/// disallowed list. Host names must resolve; IP addresses are compared in
/// their normal form (the URL parser turns `127.1` or `0x7f000001` into
/// `127.0.0.1`, so encoded addresses cannot slip past a list).
pub async fn uri_allowed(filter: &ImportFilteringConfig, url: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let scheme = parsed.scheme();
    let listed = |list: &[String], value: &str| list.iter().any(|v| v.eq_ignore_ascii_case(value));
    if (!filter.allowed_schemes.is_empty() && !listed(&filter.allowed_schemes, scheme))
        || (filter.allowed_schemes.is_empty() && listed(&filter.disallowed_schemes, scheme))
    {
        return false;
    }
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let ip = host
        .parse::<std::net::Ipv4Addr>()
        .map(std::net::IpAddr::from)
        .or_else(|_| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::Ipv6Addr>()
                .map(std::net::IpAddr::from)
        });
    let host = match ip {
        Ok(ip) => ip.to_string(),
        Err(_) => {
            let name = host.to_ascii_lowercase();
            if name.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return false;
            }
            let lookup = format!("{}.", name.trim_end_matches('.'));
            if tokio::net::lookup_host((lookup.as_str(), 80))
                .await
                .is_err()
            {
                return false;
            }
            name
        }
    };
    if (!filter.allowed_hosts.is_empty() && !listed(&filter.allowed_hosts, &host))
        || (filter.allowed_hosts.is_empty() && listed(&filter.disallowed_hosts, &host))
    {
        return false;
    }
    if let Some(port) = parsed.port() {
        let refused = if filter.allowed_ports.is_empty() {
            filter.disallowed_ports.contains(&port)
        } else {
            !filter.allowed_ports.contains(&port)
        };
        if refused {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn validation_data_is_checked_like_glance() {
        assert_eq!(ValidationData::parse(None).unwrap(), None);
        assert_eq!(ValidationData::parse(Some(&json!({}))).unwrap(), None);
        let sha256 = "ab".repeat(32);
        let ok = ValidationData::parse(Some(
            &json!({"os_hash_algo": "sha256", "os_hash_value": sha256}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(ok.os_hash_algo, "sha256");
        for bad in [
            json!({"os_hash_value": sha256}),
            json!({"os_hash_algo": "sha256"}),
            json!({"os_hash_algo": "sha123", "os_hash_value": sha256}),
            json!({"os_hash_algo": "sha512", "os_hash_value": sha256}),
            json!({"os_hash_algo": "sha256", "os_hash_value": "zz".repeat(32)}),
            json!({"os_hash_algo": "sha256", "os_hash_value": sha256, "checksum": "x"}),
            json!("sha256"),
        ] {
            assert!(
                matches!(
                    ValidationData::parse(Some(&bad)),
                    Err(ServiceError::Invalid(_))
                ),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn the_url_filter_follows_glance_lists() {
        let mut filter = ImportFilteringConfig::default();
        assert!(uri_allowed(&filter, "http://127.0.0.1/x").await);
        assert!(!uri_allowed(&filter, "http://127.0.0.1:8088/x").await);
        assert!(!uri_allowed(&filter, "ftp://127.0.0.1/x").await);
        filter.allowed_ports = vec![];
        filter.disallowed_hosts = vec!["127.0.0.1".into()];
        assert!(!uri_allowed(&filter, "http://127.0.0.1:8088/x").await);
        // Encoded forms of a refused address are refused too.
        assert!(!uri_allowed(&filter, "http://2130706433/x").await);
        assert!(!uri_allowed(&filter, "http://127.1/x").await);
        filter.allowed_hosts = vec!["127.0.0.1".into()];
        assert!(uri_allowed(&filter, "http://127.0.0.1:8088/x").await);
        assert!(!uri_allowed(&filter, "http://[::1]/x").await);
        assert!(!uri_allowed(&filter, "http://no-such-host.invalid/x").await);
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("http://glance:secret@h/x"), "http://glance:***@h/x");
        assert_eq!(redact("http://h/x"), "http://h/x");
    }
}
