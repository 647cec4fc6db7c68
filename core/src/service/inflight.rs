//! Liveness of in-flight data operations (an upload, a stage), so that a
//! crash never leaves an image stuck and a live writer is never disturbed.
//!
//! A [`DataOp`] holds the lease row `data:<image id>` from before the image
//! is claimed until after its last status change, renewing it every third of
//! `jobs.lease_secs` while the body streams. Recovery (`jobs::recovery`) runs only
//! after taking that row over: from an expired lease (its node is gone), or
//! from a previous process of the same node at start-up. A writer whose
//! renewal finds the row taken stops its body, so it never races recovery.
//!
//! The body a `DataOp` watches also ends in error when it sends nothing for
//! `api.body_idle_timeout_secs`, or when the server's shutdown grace is over
//! ([`abort_all`]): the store then drops its partial data and the image goes
//! back to `queued` through the upload's own failure path.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;
use uuid::Uuid;

use super::{ServiceResult, staging};
use crate::app::App;
use crate::config::Config;
use crate::db::{DATA_LEASE_PREFIX, Database, DbError};
use crate::domain::ImageStatus;

/// Set once the shutdown grace is over: every watched body stops.
static ABORT: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Stops every data operation of this process: their bodies end in error,
/// so each cleans up as a failed upload does.
pub fn abort_all() {
    ABORT.send_replace(true);
}

/// The name this node holds leases under: its self-reference URL (as the
/// image cache names it) and its process id, so two processes never share one.
pub fn node_name(config: &Config) -> String {
    format!("{}{}", node_prefix(config), std::process::id())
}

/// What every process of this node's holder names starts with.
pub fn node_prefix(config: &Config) -> String {
    format!("{}#", config.cache_node_url())
}

/// The lease row of a data operation on image `id`.
pub fn lease_name(id: Uuid) -> String {
    format!("{DATA_LEASE_PREFIX}{id}")
}

/// The image a data lease row is about.
pub fn leased_image(name: &str) -> Option<Uuid> {
    Uuid::parse_str(name.strip_prefix(DATA_LEASE_PREFIX)?).ok()
}

/// One upload or stage in progress on this node.
pub struct DataOp {
    db: Database,
    name: String,
    holder: String,
    idle: Duration,
    lost: watch::Receiver<bool>,
    renewer: tokio::task::AbortHandle,
}

impl DataOp {
    /// Takes the liveness lease for writing image `id`; `None` when another
    /// writer holds it (its image is being written).
    pub async fn begin(app: &App, id: Uuid) -> ServiceResult<Option<DataOp>> {
        let name = lease_name(id);
        let holder = node_name(&app.config);
        let ttl = Duration::from_secs(app.config.jobs.lease_secs.max(1));
        if !app.db.take_lease(&name, &holder, ttl, "writing").await? {
            return Ok(None);
        }
        let (lost_tx, lost) = watch::channel(false);
        let renewer = {
            let (db, name, holder) = (app.db.clone(), name.clone(), holder.clone());
            tokio::spawn(async move {
                let step = (ttl / 3).max(Duration::from_millis(100));
                loop {
                    tokio::time::sleep(step).await;
                    match db.take_lease(&name, &holder, ttl, "writing").await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(lease = %name, "an upload lost its lease to crash recovery; stopping it");
                            let _ = lost_tx.send(true);
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(lease = %name, error = %e, "could not renew an upload's lease")
                        }
                    }
                }
            })
            .abort_handle()
        };
        Ok(Some(DataOp {
            db: app.db.clone(),
            name,
            holder,
            idle: Duration::from_secs(app.config.api.body_idle_timeout_secs.max(1)),
            lost,
            renewer,
        }))
    }

    /// `body`, ending in error when it stalls for the idle timeout, when the
    /// server's shutdown grace is over, or when this operation lost its lease.
    pub fn watch(
        &self,
        body: BoxStream<'static, std::io::Result<Bytes>>,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        let state = Watched {
            body,
            idle: self.idle,
            lost: self.lost.clone(),
            abort: ABORT.subscribe(),
            ended: false,
        };
        stream::unfold(state, |mut st| async move {
            let item = st.next().await?;
            st.ended = item.is_err();
            Some((item, st))
        })
        .boxed()
    }

    /// The operation is over (its image's status is written): the lease goes.
    pub async fn finish(self) {
        self.renewer.abort();
        if let Err(e) = self.db.release_lease(&self.name, &self.holder).await {
            // It expires on its own; recovery then finds the image moved on.
            tracing::warn!(lease = %self.name, error = %e, "could not release an upload's lease");
        }
    }
}

impl Drop for DataOp {
    fn drop(&mut self) {
        // A request cut mid-way leaves its lease to expire: recovery frees the image.
        self.renewer.abort();
    }
}

struct Watched {
    body: BoxStream<'static, std::io::Result<Bytes>>,
    idle: Duration,
    lost: watch::Receiver<bool>,
    abort: watch::Receiver<bool>,
    ended: bool,
}

impl Watched {
    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        use std::io::{Error, ErrorKind};
        if self.ended {
            return None;
        }
        tokio::select! {
            next = tokio::time::timeout(self.idle, self.body.next()) => match next {
                Ok(item) => item,
                Err(_) => Some(Err(Error::new(
                    ErrorKind::TimedOut,
                    format!("no data received for {} s", self.idle.as_secs()),
                ))),
            },
            Ok(_) = self.abort.wait_for(|a| *a) => {
                Some(Err(Error::other("the server is shutting down")))
            }
            Ok(_) = self.lost.wait_for(|l| *l) => {
                Some(Err(Error::other("the upload was taken over by crash recovery")))
            }
        }
    }
}

/// Gives back the data lease of image `id`, held by `holder` after a recovery.
pub async fn release(app: &App, id: Uuid, holder: &str) {
    if let Err(e) = app.db.release_lease(&lease_name(id), holder).await {
        tracing::warn!(image = %id, error = %e, "could not release a recovered upload's lease");
    }
}

/// Frees image `id` if its upload or stage was left `saving` or
/// `uploading` by a writer that is gone (the caller holds the image's data
/// lease, taken over from it): back to `queued`, a partial stage removed. A
/// file store's partial upload is a temporary file the reaper's orphan sweep
/// removes once the image is not `saving`. The status it was freed from, if any.
pub async fn requeue_abandoned(app: &App, id: Uuid) -> ServiceResult<Option<ImageStatus>> {
    let Some(image) = app.db.get_image(id).await? else {
        return Ok(None);
    };
    let from = image.status;
    if !matches!(from, ImageStatus::Saving | ImageStatus::Uploading) {
        // The operation ended before its lease was given back.
        return Ok(None);
    }
    if from == ImageStatus::Uploading {
        staging::remove_partials(app, id).await;
        staging::remove(app, id).await;
    }
    let (mut queued, change) = image.moved_to(ImageStatus::Queued)?;
    queued.size = None;
    queued.virtual_size = None;
    match app.db.update_image(&queued, Some(change.from)).await {
        Ok(_) => {
            tracing::warn!(image = %id, from = %from, "recovered an abandoned upload: image queued");
            Ok(Some(from))
        }
        Err(DbError::NotFound | DbError::Conflict) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
