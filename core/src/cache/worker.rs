//! The cache's background work: fetching queued images (woken as soon as an
//! image is queued, `prefetch_workers` at a time) and, every
//! `prune_interval_secs`, cleaning and pruning. Both loops hold the cache
//! weakly and end once the server's state (the last owner of the cache) is
//! dropped.

use std::sync::{Arc, Weak};

use glint_sdk::StoreError;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::fill::Fill;
use super::{ImageCache, Inner, lock};
use crate::domain::ImageStatus;
use crate::store::StoreRegistry;

/// Start the cache's background work, reading queued images from `stores`;
/// nothing when the cache is disabled. Unfinished files of an earlier run
/// are removed first.
pub fn start(cache: &ImageCache, stores: StoreRegistry) {
    if !cache.enabled() {
        return;
    }
    tracing::info!(dir = %cache.dir().display(), node = cache.node(), "image cache enabled");
    let weak = Arc::downgrade(&cache.inner);
    tokio::spawn(maintain(weak.clone(), cache.inner.prune_interval));
    tokio::spawn(prefetch(
        weak,
        cache.inner.wake.clone(),
        cache.inner.prefetch_workers,
        stores,
    ));
}

/// The cache while someone other than its workers still holds it.
fn upgrade(weak: &Weak<Inner>) -> Option<ImageCache> {
    weak.upgrade().map(|inner| ImageCache { inner })
}

async fn maintain(weak: Weak<Inner>, interval: std::time::Duration) {
    let Some(mut cache) = upgrade(&weak) else {
        return;
    };
    loop {
        if let Err(e) = cache.clean().await {
            tracing::warn!(error = %e, "cleaning the image cache failed");
        }
        if let Err(e) = cache.prune().await {
            tracing::warn!(error = %e, "pruning the image cache failed");
        }
        // Not held while sleeping, so that dropping the server's state ends this loop.
        drop(cache);
        tokio::time::sleep(interval).await;
        let Some(again) = upgrade(&weak) else {
            return;
        };
        cache = again;
        // Queued images whose fetch failed are tried again.
        cache.inner.wake.notify_one();
    }
}

async fn prefetch(
    weak: Weak<Inner>,
    wake: Arc<tokio::sync::Notify>,
    workers: usize,
    stores: StoreRegistry,
) {
    let slots = Arc::new(Semaphore::new(workers));
    let stores = Arc::new(stores);
    loop {
        let Some(cache) = upgrade(&weak) else {
            return;
        };
        for id in cache.queued() {
            if !lock(&cache.inner.prefetching).insert(id) {
                continue;
            }
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (cache, stores) = (cache.clone(), stores.clone());
            tokio::spawn(async move {
                if let Err(e) = fetch(&stores, &cache, id).await {
                    tracing::warn!(image = %id, error = %e, "could not cache the queued image; it stays queued");
                }
                lock(&cache.inner.prefetching).remove(&id);
                drop(slot);
            });
        }
        // Not held while waiting, so that dropping the server's state ends this loop.
        drop(cache);
        wake.notified().await;
    }
}

/// Read one queued image from its stores into the cache. An image that is
/// gone or not active leaves the queue; a store failure leaves it queued.
async fn fetch(stores: &StoreRegistry, cache: &ImageCache, id: Uuid) -> Result<(), StoreError> {
    let image = match cache.inner.db.get_image(id).await {
        Ok(image) => image,
        Err(e) => return Err(super::cache_error("reading the image", e)),
    };
    let Some(image) = image.filter(|i| i.status == ImageStatus::Active) else {
        tracing::warn!(image = %id, "queued image is not active (or gone); not caching it");
        let _ = cache.delete_queued(id);
        return Ok(());
    };
    if cache.is_cached(id) {
        let _ = cache.delete_queued(id);
        return Ok(());
    }
    let mut locations: Vec<_> = image
        .locations
        .iter()
        .filter(|l| l.status == "active")
        .cloned()
        .collect();
    stores.sort_locations(&mut locations);
    let queued_by = cache.queued_by(id);
    let mut last_error = None;
    for location in locations {
        let Some(store) = location.store().and_then(|s| stores.get(s)) else {
            continue;
        };
        let store = match &queued_by {
            Some(caller) => store.acting_for(caller),
            None => store.clone(),
        };
        let got = match store.get(&location.url, None).await {
            Ok(got) => got,
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        // Being filled by a download right now: that fill dequeues it.
        let Some(mut fill) = Fill::start(cache, &image) else {
            return Ok(());
        };
        let mut data = got.data;
        let mut failed = None;
        while let Some(chunk) = futures::StreamExt::next(&mut data).await {
            match chunk {
                Ok(chunk) => {
                    if !fill.feed(chunk).await {
                        break;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            drop(fill);
            last_error = Some(e);
            continue;
        }
        return match fill.finish().await? {
            true => Ok(()),
            false => Err(super::cache_error(
                "fetching a queued image",
                "the data read does not match the image's size and checksum",
            )),
        };
    }
    Err(last_error.unwrap_or_else(|| {
        super::cache_error(
            "fetching a queued image",
            "no store holding it is available",
        )
    }))
}
