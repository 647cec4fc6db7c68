//! Listing the store's own containers (store plugin ABI 1.3): one page per container.
//!
//! Only image objects are listed: segments of Static Large Objects (`<image id>-NNNNN`) belong
//! to their manifest, which is listed with the image's size (a HEAD, since a listing shows the
//! manifest's own size). In multi-tenant mode the images are in the callers' accounts, which the
//! store cannot list without a caller, so such a store does not list.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use glint_sdk::{ErrorKind, ListPage, ListedObject, StoreError};

use crate::client::{ObjectPath, SwiftClient};
use crate::config::SwiftConfig;
use crate::location::Location;
use crate::reader;
use crate::sweep::{parse_last_modified, segment_of};

/// The objects of the container at `cursor` (the first of the store's containers when `None`);
/// `next` names the following container.
pub async fn page(
    client: &SwiftClient,
    config: &SwiftConfig,
    store_id: &str,
    cursor: Option<&str>,
) -> Result<ListPage, StoreError> {
    let containers = if config.multiple_containers_seed == 0 {
        vec![config.container.clone()]
    } else {
        client.containers(&format!("{}_", config.container)).await?
    };
    let at = match cursor {
        None => 0,
        Some(name) => containers.iter().position(|c| c == name).ok_or_else(|| {
            StoreError::new(
                ErrorKind::NotFound,
                format!("listing cursor {name:?} names no container of this store"),
            )
        })?,
    };
    let Some(container) = containers.get(at) else {
        return Ok(ListPage::default());
    };
    let next = containers.get(at + 1).cloned();
    let entries = match client.list_entries(container, "").await {
        Ok(entries) => entries,
        // Not created yet: no image was ever stored there.
        Err(err) if err.kind == ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(err),
    };
    let large: HashSet<&str> = entries.iter().filter_map(|e| segment_of(&e.name)).collect();
    let mut objects = Vec::new();
    for entry in entries.iter().filter(|e| segment_of(&e.name).is_none()) {
        let size = if large.contains(entry.name.as_str()) {
            let path = ObjectPath {
                container,
                object: &entry.name,
            };
            match client.head_object(&path).await? {
                Some(headers) => reader::content_length(&headers, &path.subject())?,
                None => continue, // deleted since the listing
            }
        } else {
            entry.bytes.unwrap_or_default()
        };
        let modified = entry
            .last_modified
            .as_deref()
            .and_then(parse_last_modified)
            .map(|at: NaiveDateTime| at.and_utc().timestamp().max(0) as u64);
        let location = Location::format(store_id, container, &entry.name);
        objects.push(ListedObject::new(location, size, modified));
    }
    Ok(ListPage::new(objects, next))
}
