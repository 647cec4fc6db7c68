//! The orphan sweep: segments of Static Large Objects whose manifest was never written.
//!
//! A put that fails deletes what it wrote, and what Swift would not let go of then is retried in
//! the background (see `writer`). That retry list lives in this process only: if the process
//! stops first, or the cleanup gives up, the segments stay. The sweep finds them from Swift's own
//! listings, so it needs no state and any number of API nodes may run it: the segments
//! `<image id>-NNNNN` of an image whose object is missing from its container are deleted once
//! the newest of them is older than `orphan_min_age_secs`. A put in progress, on this node or
//! another, writes a new segment every `large_object_chunk_size` bytes, so its newest segment
//! stays young however long the upload runs, and it never loses its segments; a put whose
//! process died (`kill -9`) writes no more, and its segments go once that age has passed.
//!
//! Only the store's own containers are swept: in multi-tenant mode the images are in the
//! callers' accounts, which the store cannot enter without a caller.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use glint_sdk::{StoreError, runtime};

use crate::client::{ObjectPath, SwiftClient};
use crate::config::SwiftConfig;

/// Sweeps the store's containers every `interval` on the plugin's runtime, for as long as the
/// store is open (`client` is held weakly: the loop ends when the store is dropped).
pub fn start(store_id: String, config: &SwiftConfig, client: &Arc<SwiftClient>) {
    let Some(interval) = config.sweep.interval.filter(|_| !config.multi_tenant) else {
        return;
    };
    let client: Weak<SwiftClient> = Arc::downgrade(client);
    let (container, seed, min_age) = (
        config.container.clone(),
        config.multiple_containers_seed,
        config.sweep.min_age,
    );
    runtime::handle().spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(client) = client.upgrade() else {
                return;
            };
            match sweep(&client, &container, seed, min_age).await {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(store = %store_id, removed, "swift: orphan segments removed")
                }
                Err(err) => {
                    tracing::warn!(store = %store_id, error = %err, "swift: orphan sweep failed; trying again later")
                }
            }
        }
    });
}

/// One sweep of the store's containers (`container`, or with `seed`, every `<container>_…`);
/// the number of segments deleted. A segment that cannot be deleted is left for the next sweep.
pub async fn sweep(
    client: &SwiftClient,
    container: &str,
    seed: usize,
    min_age: Duration,
) -> Result<usize, StoreError> {
    let containers = if seed == 0 {
        vec![container.to_owned()]
    } else {
        client.containers(&format!("{container}_")).await?
    };
    let now = Utc::now().naive_utc();
    let mut removed = 0;
    for container in containers {
        let entries = match client.list_entries(&container, "").await {
            Ok(entries) => entries,
            // Not created yet (no image was ever stored), or gone since it was listed.
            Err(err) if err.kind == glint_sdk::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        let names: HashSet<&str> = entries.iter().map(|entry| entry.name.as_str()).collect();
        // The last write to each image's segments; `None` when one has no readable time.
        let mut newest: HashMap<&str, Option<NaiveDateTime>> = HashMap::new();
        for entry in &entries {
            if let Some(image) = segment_of(&entry.name) {
                let written = entry.last_modified.as_deref().and_then(parse_last_modified);
                newest
                    .entry(image)
                    .and_modify(|last| *last = last.zip(written).map(|(a, b)| a.max(b)))
                    .or_insert(written);
            }
        }
        for entry in &entries {
            let Some(image) = segment_of(&entry.name) else {
                continue;
            };
            let old_enough = newest[image]
                .and_then(|written| (now - written).to_std().ok())
                .is_some_and(|age| age >= min_age);
            if names.contains(image) || !old_enough {
                continue;
            }
            let path = ObjectPath {
                container: &container,
                object: &entry.name,
            };
            match client.delete_object(&path).await {
                Ok(()) => removed += 1,
                Err(err) if err.kind == glint_sdk::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::debug!(object = %path.subject(), error = %err, "swift: orphan segment stays until the next sweep")
                }
            }
        }
    }
    Ok(removed)
}

/// The image id a segment name `<image id>-NNNNN` belongs to. Only image ids that are UUIDs (all
/// of Glint's) count, so no other object of the container is ever taken for a segment.
pub(crate) fn segment_of(name: &str) -> Option<&str> {
    let (image, number) = name.rsplit_once('-')?;
    let is_uuid = image.len() == 36
        && image.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    (number.len() == 5 && number.bytes().all(|b| b.is_ascii_digit()) && is_uuid).then_some(image)
}

/// Swift's `last_modified`: UTC, without a zone, with or without fractions of a second.
pub(crate) fn parse_last_modified(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_numbered_segments_of_uuid_images_are_segments() {
        let id = "7a5e0b1c-0001-4000-8000-000000000001";
        assert_eq!(segment_of(&format!("{id}-00001")), Some(id));
        assert_eq!(segment_of(&format!("{id}-99999")), Some(id));
        for other in [
            id.to_owned(),
            format!("{id}-0001"),
            format!("{id}-000001"),
            format!("{id}-0000a"),
            "image-00001".to_owned(),
            format!("x{id}-00001"),
            "7a5e0b1c-0001-4000-8000-00000000000g-00001".to_owned(),
        ] {
            assert_eq!(segment_of(&other), None, "{other}");
        }
    }

    #[test]
    fn last_modified_parses_with_and_without_fractions() {
        let parsed = parse_last_modified("2026-11-28T06:19:52.123450").unwrap();
        assert_eq!(parsed.to_string(), "2026-11-28 06:19:52.123450");
        assert!(parse_last_modified("2026-11-28T06:19:52").is_some());
        assert!(parse_last_modified("yesterday").is_none());
    }
}
