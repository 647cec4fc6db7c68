//! One running import: steps 1 to 4 of the module notes, in the background.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::glance_download::{self, Restore};
use super::properties::{FAILED, IMPORTING, LOCK, split};
use super::request::Method;
use super::source::fetch_to_staging;
use crate::app::App;
use crate::auth::UserToken;
use crate::context::RequestContext;
use crate::db::{NewWork, WorkKind};
use crate::domain::{Image, ImageStatus, Location, Task};
use crate::fetch::Pinned;
use crate::format::ImageCheck;
use crate::service::hashing::HASH_ALGO;
use crate::service::images::{modify, modify_leaving, modify_noting};
use crate::service::inflight::DataOp;
use crate::service::notify;
use crate::service::upload::put_inspected;
use crate::service::{ServiceError, ServiceResult, locations, signature, staging, stores, tasks};

/// How often a running import writes its progress into its task (Glance's interval).
const PROGRESS_INTERVAL: Duration = Duration::from_secs(60);

/// Glance's progress message.
fn copied_message(bytes: u64) -> String {
    format!("Copied {} MiB", bytes >> 20)
}

/// A spawned task, aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One running import.
pub(super) struct Job {
    pub app: Arc<App>,
    pub image_id: Uuid,
    pub method: Method,
    pub stores: Vec<String>,
    pub all_must_succeed: bool,
    /// Run the configured import plugins on the staged data (not for
    /// copy-image, nor for the legacy import task).
    pub plugins: bool,
    /// Where web-download fetches its URI (checked before the task started).
    pub pinned: Option<Pinned>,
    /// The caller's token (glance-download reads the remote image with it).
    pub token: Option<UserToken>,
    /// Who started the import: stores that write with the caller's token
    /// (Swift's multi-tenant mode) write as them. A legacy import task
    /// writes as the administrator who created it.
    pub caller: RequestContext,
    pub task: Task,
    /// The liveness lease of the import ([`crate::service::inflight`]),
    /// taken with the lock; a legacy import task takes it when it runs.
    pub op: Option<DataOp>,
}

impl Job {
    pub async fn run(mut self) {
        let id = self.image_id;
        let op = match self.op.take() {
            Some(op) => Some(op),
            None => DataOp::begin(&self.app, id).await.ok().flatten(),
        };
        tasks::processing(&self.app, &mut self.task).await;
        let mut restore = None;
        let outcome = self.work(&mut restore).await;
        if !matches!(self.method, Method::CopyImage) {
            staging::remove(&self.app, id).await;
        }
        let released = self.release().await;
        match (outcome, released) {
            (Ok(()), Ok(())) => {
                let result = json!({"image_id": id}).as_object().cloned();
                tasks::succeed(&self.app, &mut self.task, result).await;
                tracing::info!(image = %id, task = %self.task.id, method = self.method.name(), "import done");
            }
            (Err(e), _) | (Ok(()), Err(e)) => {
                tracing::warn!(image = %id, task = %self.task.id, method = self.method.name(), error = %e, "import failed");
                tasks::fail(&self.app, &mut self.task, &e.to_string()).await;
            }
        }
        // Last, so that the task's outcome is written before anyone sees the
        // import as over (and a crash before this finds nothing to recover).
        if let Some(op) = op {
            op.finish().await;
        }
    }

    /// Steps 1 to 3. `restore` receives what glance-download changed on the
    /// image, for `revert`.
    async fn work(&mut self, restore: &mut Option<Restore>) -> ServiceResult<()> {
        let app = Arc::clone(&self.app);
        let id = self.image_id;
        let fetched = match &self.method {
            Method::WebDownload { uri } => {
                let pinned = self.pinned.as_ref().ok_or_else(|| {
                    ServiceError::Invalid("web-download URI was not checked".into())
                })?;
                fetch_to_staging(&app, id, uri, pinned, None)
                    .await
                    .map(drop)
            }
            Method::GlanceDownload(remote) => {
                match glance_download::fetch(&app, id, remote, self.token.as_ref()).await {
                    Ok(changed) => {
                        *restore = Some(changed);
                        Ok(())
                    }
                    Err(e) => {
                        staging::remove(&app, id).await;
                        Err(e)
                    }
                }
            }
            Method::GlanceDirect | Method::CopyImage => Ok(()),
        };
        if let Err(e) = fetched {
            self.fail_every_store().await;
            self.revert(&[], restore.as_ref()).await;
            return Err(e);
        }

        if self.plugins
            && let Err(e) = super::plugins::run_all(&app, id, &self.caller).await
        {
            self.fail_every_store().await;
            self.revert(&[], restore.as_ref()).await;
            return Err(e);
        }

        // Up to `max_parallel_stores` copies at once. As Glance does it (one
        // at a time): when every store must succeed, the image becomes
        // active only with the last copy, so a failure can still send it
        // back to `queued`; otherwise with the first. Copies in parallel
        // have no last one: the image becomes active once all are written.
        let parallel = app.config.import.max_parallel_stores.max(1);
        let count = self.stores.len();
        let activate_after = self.all_must_succeed && parallel > 1;
        let stop = AtomicBool::new(false);
        let stop = &stop;
        // Copies run side by side, but each change of the image record is
        // a read-modify-write: they take turns, so none undoes another's.
        let recording = tokio::sync::Mutex::new(());
        let recording = &recording;
        let this = &*self;
        // Each copy records its own outcome: the loop below only collects
        // (a copy holding the database must never wait for the loop).
        let mut copies = futures::stream::iter(this.stores.clone().into_iter().enumerate())
            .map(|(index, store_id): (usize, String)| async move {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let activate = !this.all_must_succeed || (!activate_after && index + 1 == count);
                let copied = Arc::new(AtomicU64::new(0));
                let reporting = this.report_progress(Arc::clone(&copied));
                let copy = this.copy_into(&store_id, &copied, activate, recording).await;
                drop(reporting);
                let turn = recording.lock().await;
                let recorded = match &copy {
                    Ok(_) => this.progress(&store_id, false, None).await,
                    Err(e) => {
                        tracing::warn!(image = %id, store = %store_id, error = %e, "import into store failed");
                        // Copy-image, or an import without `all_stores_must_succeed`,
                        // goes on without this store: its copy becomes durable work.
                        let retry = (!this.all_must_succeed).then(|| {
                            format!("{} into store '{store_id}' failed: {e}", this.method.name())
                        });
                        this.progress(&store_id, true, retry).await
                    }
                };
                drop(turn);
                if (copy.is_err() && this.all_must_succeed) || recorded.is_err() {
                    // Copies under way finish; none starts after this.
                    stop.store(true, Ordering::Relaxed);
                }
                Some((copy, recorded, copied.load(Ordering::Relaxed)))
            })
            .buffer_unordered(parallel);
        let mut written: Vec<Location> = Vec::new();
        let mut failures = 0usize;
        let mut first_error = None;
        let mut message = None;
        while let Some(outcome) = copies.next().await {
            let Some((copy, recorded, copied)) = outcome else {
                continue;
            };
            match copy {
                Ok(location) => {
                    written.push(location);
                    // As Glance's import reports it; the task's end keeps the last one.
                    message = Some(copied_message(copied));
                }
                Err(e) => {
                    failures += 1;
                    if this.all_must_succeed {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if let Err(e) = recorded {
                first_error.get_or_insert(e);
            }
        }
        drop(copies);
        if let Some(message) = message {
            self.task.message = message;
        }
        if let Some(e) = first_error {
            self.revert(&written, restore.as_ref()).await;
            return Err(e);
        }
        if failures == count {
            self.revert(&written, restore.as_ref()).await;
            return Err(ServiceError::ImportFailedEverywhere(id));
        }
        if activate_after {
            self.activate().await?;
        }
        Ok(())
    }

    /// The image becomes active once every store has its copy (copies
    /// written in parallel, every store required).
    async fn activate(&self) -> ServiceResult<()> {
        let app = &self.app;
        let notes = |before: &Image, saved: &Image| {
            if before.status != ImageStatus::Active && saved.status == ImageStatus::Active {
                notify::image(app, "image.activate", saved)
            } else {
                Vec::new()
            }
        };
        modify_noting(
            app,
            self.image_id,
            |img| {
                if img.status == ImageStatus::Importing {
                    img.move_to(ImageStatus::Active)?;
                }
                Ok(Vec::new())
            },
            notes,
        )
        .await
        .map(drop)
    }

    /// Writes "Copied N MiB" into the task every minute while a copy runs (`copied` counts its
    /// bytes), as Glance's import reports progress; stops when the returned guard is dropped.
    fn report_progress(&self, copied: Arc<AtomicU64>) -> AbortOnDrop {
        let (app, task_id) = (Arc::clone(&self.app), self.task.id);
        AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(PROGRESS_INTERVAL);
            every.tick().await;
            loop {
                every.tick().await;
                let message = copied_message(copied.load(Ordering::Relaxed));
                if let Err(e) = app
                    .db
                    .set_task_progress(task_id, &message, Utc::now())
                    .await
                {
                    tracing::debug!(task = %task_id, error = %e, "could not record the import's progress");
                }
            }
        }))
    }

    /// Write the data to one store and record the new location; with
    /// `activate`, an imported image also becomes active. `copied` counts the
    /// bytes written.
    async fn copy_into(
        &self,
        store_id: &str,
        copied: &Arc<AtomicU64>,
        activate: bool,
        recording: &tokio::sync::Mutex<()>,
    ) -> ServiceResult<Location> {
        let app = &self.app;
        let id = self.image_id;
        let store = stores::open_store(app, store_id)?.acting_for(&self.caller);
        if !store.capabilities().write {
            return Err(ServiceError::StoreReadOnly(store_id.to_owned()));
        }
        let image = app
            .db
            .get_image(id)
            .await?
            .ok_or(ServiceError::ImageNotFound(id))?;
        // Nothing is stored yet: the event is written on its own.
        notify::record(
            app,
            notify::image_data(app, "image.prepare", &image, Some(store_id)),
        )
        .await;
        // Every import method writes through Glance's `set_data`, which
        // verifies a signed image's data: copy-image included.
        let signed = signature::for_image(app, &self.caller, &image).await?;
        if matches!(self.method, Method::CopyImage) {
            let from = image
                .locations
                .iter()
                .find(|l| {
                    l.status == "active" && l.store().is_some_and(|s| app.stores.get(s).is_some())
                })
                .cloned()
                .ok_or(ServiceError::NoReadableCopy(id))?;
            let location =
                stores::copy_image_data(app, Some(&self.caller), &image, &from, store_id, signed)
                    .await?;
            // In turn with the other copies' read-modify-writes of the image, or one of
            // them could write the locations back without this one.
            let turn = recording.lock().await;
            let added =
                locations::add(app, id, store_id, &location.url, location.metadata.clone()).await;
            drop(turn);
            if let Err(e) = added {
                let _ = store.delete(&location.url).await;
                return Err(e);
            }
            copied.store(image.size.unwrap_or(0).max(0) as u64, Ordering::Relaxed);
            if let Ok(Some(now)) = app.db.get_image(id).await {
                notify::record(app, notify::image_data(app, "image.upload", &now, None)).await;
            }
            return Ok(location);
        }

        let (body, size) = staging::read(app, id).await?;
        let counter = Arc::clone(copied);
        let body = body
            .inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            })
            .boxed();
        let cap = app.config.api.image_size_cap;
        let check = ImageCheck::for_image(
            image.container_format.as_deref(),
            image.disk_format.as_deref(),
            &app.config.image_format,
        );
        let (outcome, digests, virtual_size) =
            put_inspected(&store, id, body, Some(size), cap, check, signed).await?;
        let mut metadata = outcome.metadata.clone();
        metadata.insert("store".into(), store_id.into());
        let location = Location {
            url: outcome.location.clone(),
            metadata,
            status: "active".into(),
        };
        let consistent = image.checksum.as_deref().is_none_or(|c| c == digests.md5);
        if !consistent {
            let _ = store.delete(&outcome.location).await;
            return Err(ServiceError::DataChangedBetweenStores(id));
        }
        let notes = |before: &Image, saved: &Image| {
            let mut notes = notify::image_data(app, "image.upload", saved, None);
            if before.status != ImageStatus::Active && saved.status == ImageStatus::Active {
                notes.extend(notify::image(app, "image.activate", saved));
            }
            notes
        };
        let changed = |img: &mut Image| -> ServiceResult<Vec<NewWork>> {
            img.size = Some(outcome.size as i64);
            img.virtual_size = virtual_size.or(img.virtual_size);
            img.checksum = Some(digests.md5.clone());
            img.os_hash_algo = Some(HASH_ALGO.to_owned());
            img.os_hash_value = Some(digests.sha512.clone());
            img.locations.push(location.clone());
            if activate && img.status == ImageStatus::Importing {
                img.move_to(ImageStatus::Active)?;
            }
            Ok(Vec::new())
        };
        let turn = recording.lock().await;
        let recorded = modify_noting(app, id, changed, notes).await;
        drop(turn);
        if let Err(e) = recorded {
            let _ = store.delete(&outcome.location).await;
            return Err(e);
        }
        Ok(location)
    }

    /// Move `store` out of the importing list, into the failed list if it
    /// failed. `retry` (why it failed) makes the missing copy a `copy_image`
    /// row, written with the same change, for the updater to retry from a
    /// copy that did arrive.
    async fn progress(
        &self,
        store: &str,
        failed: bool,
        retry: Option<String>,
    ) -> ServiceResult<()> {
        let app = &self.app;
        modify_leaving(app, self.image_id, |img| {
            let importing: Vec<String> = split(img.properties.get(IMPORTING))
                .into_iter()
                .filter(|s| s != store)
                .collect();
            img.properties.insert(IMPORTING.into(), importing.join(","));
            if !failed {
                return Ok(Vec::new());
            }
            let mut stores = split(img.properties.get(FAILED));
            if !stores.iter().any(|s| s == store) {
                stores.push(store.to_owned());
            }
            img.properties.insert(FAILED.into(), stores.join(","));
            let Some(reason) = &retry else {
                return Ok(Vec::new());
            };
            // The source is a hint: the copy readable now, if any (a
            // glance-direct import may not have written one yet).
            let source = img
                .locations
                .iter()
                .find(|l| {
                    l.status == "active" && l.store().is_some_and(|s| app.stores.get(s).is_some())
                })
                .map(|l| l.url.clone())
                .unwrap_or_default();
            Ok(vec![NewWork {
                kind: WorkKind::CopyImage,
                image_id: img.id,
                store: Some(store.to_owned()),
                url: source,
                reason: reason.clone(),
            }])
        })
        .await
        .map(drop)
    }

    /// The data never arrived: every target store failed, as Glance records it.
    async fn fail_every_store(&self) {
        for store in &self.stores {
            if let Err(e) = self.progress(store, true, None).await {
                tracing::warn!(image = %self.image_id, error = %e, "could not record a failed import");
            }
        }
    }

    /// Undo a failed import: remove the copies it wrote, put back what
    /// glance-download changed; an imported image goes back to `queued` with
    /// no data, as Glance leaves it.
    async fn revert(&self, written: &[Location], restore: Option<&Restore>) {
        let app = &self.app;
        for location in written {
            if let Some(store) = location.store().and_then(|s| app.stores.get(s))
                && let Err(e) = store.delete(&location.url).await
            {
                tracing::warn!(image = %self.image_id, error = %e, "could not remove a copy of a failed import");
            }
        }
        let copy = matches!(self.method, Method::CopyImage);
        let urls: BTreeSet<&str> = written.iter().map(|l| l.url.as_str()).collect();
        let reverted = modify(app, self.image_id, |img| {
            img.locations.retain(|l| !urls.contains(l.url.as_str()));
            img.properties.insert(IMPORTING.into(), String::new());
            if let Some(restore) = restore {
                restore.apply(img);
            }
            if !copy {
                img.move_to(ImageStatus::Queued)?;
                img.locations.clear();
                img.size = None;
                img.virtual_size = None;
                img.checksum = None;
                img.os_hash_algo = None;
                img.os_hash_value = None;
            }
            Ok(())
        })
        .await;
        if let Err(e) = reverted {
            tracing::warn!(image = %self.image_id, error = %e, "could not revert the image after a failed import");
        }
    }

    /// Step 4: drop the lock if it is still ours.
    async fn release(&self) -> ServiceResult<()> {
        let task_id = self.task.id.to_string();
        match modify(&self.app, self.image_id, |img| {
            if img.properties.get(LOCK) == Some(&task_id) {
                img.properties.remove(LOCK);
            }
            Ok(())
        })
        .await
        {
            Ok(_) | Err(ServiceError::ImageNotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_reported_in_whole_mebibytes() {
        assert_eq!(copied_message(0), "Copied 0 MiB");
        assert_eq!(copied_message((1 << 20) - 1), "Copied 0 MiB");
        assert_eq!(copied_message(5 << 20), "Copied 5 MiB");
    }
}
