//! The vmware store: one file per image in a directory of a vSphere datastore.
//!
//! A put streams the image to a hidden temporary file with an HTTP `PUT`, checks its size, then
//! renames it to the image's name with `MoveDatastoreFile_Task` (which refuses to replace a file),
//! so a reader never sees a partial image and two puts of one id cannot both succeed.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use glint_sdk::names::is_safe_name;
use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, OpenContext, PutOutcome,
    ReadRange, RequestContext, StoreDriver, StoreError, runtime,
};
use tokio::sync::mpsc;

use crate::config::{VmwareConfig, invalid};
use crate::error::is_stale_reference;
use crate::location::{Layout, Object};
use crate::session::Vim;
use crate::soap::Moref;
use crate::transfer::{self, QUEUE};

/// Images on the datastores of one vCenter or ESXi server.
pub struct VmwareDriver {
    inner: Arc<Inner>,
}

struct Inner {
    vim: Vim,
    layout: Layout,
    /// The server's references of `layout.datastores`, as found after the latest login that
    /// needed them (see [`Inner::inventory`]).
    inventory: tokio::sync::RwLock<Arc<Inventory>>,
}

/// The configured datastores as the server knows them, found after a given login.
struct Inventory {
    /// [`Vim::logins`] when they were looked up.
    login: u64,
    datastores: Vec<Found>,
}

/// A configured datastore, found on the server.
struct Found {
    datacenter: Moref,
    datastore: Moref,
}

impl StoreDriver for VmwareDriver {
    const DRIVER: &'static str = "vmware";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = VmwareConfig::parse(config)?;
        tracing::info!(store = %ctx.store_id, ?config, "opening vmware store");
        // `open` is synchronous; the login and inventory look-ups run on the plugin's runtime.
        let inner = futures::executor::block_on(runtime::spawn(Inner::connect(config)))??;
        tracing::info!(
            store = %ctx.store_id,
            server = %inner.vim.server(),
            datastores = inner.layout.datastores.len(),
            "vmware store opened"
        );
        Ok(VmwareDriver {
            inner: Arc::new(inner),
        })
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["vsphere"])
            .with_option_defaults(VmwareConfig::defaults())
            .with_secret_options(&["password"])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        mut data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        if !is_safe_name(image_id) {
            return Err(StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "image id {image_id:?} is not usable as a file name: use letters, digits, '-', '_' and '.', not starting with '.'"
                ),
            ));
        }
        let inner = Arc::clone(&self.inner);
        let id = image_id.to_owned();
        let target =
            runtime::spawn(async move { inner.prepare_put(id, size_hint).await }).await??;
        let temp = Object {
            datastore: target.datastore,
            name: temporary_name(image_id),
        };
        let mut cleanup = Cleanup {
            inner: Arc::clone(&self.inner),
            temp: temp.clone(),
            target: target.clone(),
            moving: false,
            armed: true,
        };
        match self
            .upload(&target, &temp, size_hint, &mut data, &mut cleanup)
            .await
        {
            Ok(size) => {
                cleanup.armed = false;
                tracing::debug!(image_id, size, path = %self.inner.layout.datastore_path(&target), "image stored");
                Ok(PutOutcome {
                    location: self.inner.layout.location(&target),
                    size,
                    metadata: serde_json::Map::new(),
                })
            }
            Err(err) => {
                cleanup.armed = false;
                let leftover = cleanup.clone_parts();
                // Removed before returning, so the caller may store the id again at once.
                if let Err(cleanup_err) = runtime::spawn(leftover.run()).await {
                    tracing::warn!(error = %cleanup_err, "cleanup after a failed put did not run");
                }
                Err(err)
            }
        }
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let object = self.inner.layout.resolve(location)?;
        let inner = Arc::clone(&self.inner);
        runtime::spawn(async move {
            let subject = inner.layout.datastore_path(&object);
            transfer::get(&inner.vim, &inner.layout.url(&object), range, &subject).await
        })
        .await?
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        let object = self.inner.layout.resolve(location)?;
        let inner = Arc::clone(&self.inner);
        runtime::spawn(async move { inner.delete(&object).await }).await?
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        let object = self.inner.layout.resolve(location)?;
        let inner = Arc::clone(&self.inner);
        runtime::spawn(async move {
            let subject = inner.layout.datastore_path(&object);
            transfer::size(&inner.vim, &inner.layout.url(&object), &subject).await
        })
        .await?
    }
}

impl VmwareDriver {
    /// Streams `data` to `temp`, checks the stored size, and renames `temp` to `target`.
    /// Returns the byte count.
    async fn upload(
        &self,
        target: &Object,
        temp: &Object,
        size_hint: Option<u64>,
        data: &mut DataStream,
        cleanup: &mut Cleanup,
    ) -> Result<u64, StoreError> {
        let subject = self.inner.layout.datastore_path(temp);
        let (sender, receiver) = mpsc::channel(QUEUE);
        let inner = Arc::clone(&self.inner);
        let (url, put_subject) = (self.inner.layout.url(temp), subject.clone());
        let request = AbortOnDrop(runtime::handle().spawn(async move {
            transfer::put(&inner.vim, &url, size_hint, body(receiver), &put_subject).await
        }));
        // The host's stream is polled here, on the host's thread; the request reads the channel.
        let forwarded = forward(data, sender, size_hint, &subject).await;
        // Awaited even after a failure (the body then fails at once), so the server is done with
        // the temporary file before the cleanup removes it.
        let answered = request.join().await;
        let sent = forwarded?;
        answered.map_err(|err| {
            StoreError::new(
                ErrorKind::Unexpected,
                format!("{subject}: upload task failed: {err}"),
            )
        })??;

        let inner = Arc::clone(&self.inner);
        let temp = temp.clone();
        let stored = runtime::spawn(async move {
            let subject = inner.layout.datastore_path(&temp);
            transfer::size(&inner.vim, &inner.layout.url(&temp), &subject).await
        })
        .await??;
        if stored != sent {
            return Err(StoreError::new(
                ErrorKind::Unexpected,
                format!("{subject}: sent {sent} bytes, the datastore holds {stored}"),
            ));
        }

        cleanup.moving = true;
        let (inner, temp, target) = (
            Arc::clone(&self.inner),
            cleanup.temp.clone(),
            target.clone(),
        );
        runtime::spawn(async move { inner.rename(&temp, &target).await }).await??;
        Ok(sent)
    }
}

/// One message to the request body: data, or the end of it. A body whose sender goes away
/// without sending `End` (a failed or dropped put) fails instead of ending, so the server never
/// receives a truncated file as complete.
enum Chunk {
    Data(Bytes),
    End,
}

/// Passes the host's data to the request, counting and checking it against `size_hint`.
/// Stops early, without error, when the request has ended (its answer tells why).
async fn forward(
    data: &mut DataStream,
    sender: mpsc::Sender<Chunk>,
    size_hint: Option<u64>,
    subject: &str,
) -> Result<u64, StoreError> {
    let mut sent: u64 = 0;
    while let Some(chunk) = data.next().await {
        let chunk = chunk?;
        sent += chunk.len() as u64;
        if let Some(hint) = size_hint
            && sent > hint
        {
            return Err(size_mismatch(subject, hint, "more"));
        }
        if !chunk.is_empty() && sender.send(Chunk::Data(chunk)).await.is_err() {
            return Ok(sent);
        }
    }
    if let Some(hint) = size_hint
        && sent != hint
    {
        return Err(size_mismatch(subject, hint, &sent.to_string()));
    }
    // Ignored failure: a request that already ended reports its own result.
    let _ = sender.send(Chunk::End).await;
    Ok(sent)
}

fn size_mismatch(subject: &str, hint: u64, got: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Unexpected,
        format!("{subject}: the image was announced as {hint} bytes but {got} bytes arrived"),
    )
}

/// The request body read from the channel; see [`Chunk`].
fn body(
    mut receiver: mpsc::Receiver<Chunk>,
) -> impl futures::Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let mut ended = false;
    futures::stream::poll_fn(move |cx| {
        if ended {
            return std::task::Poll::Ready(None);
        }
        receiver.poll_recv(cx).map(|message| match message {
            Some(Chunk::Data(bytes)) => Some(Ok(bytes)),
            Some(Chunk::End) => {
                ended = true;
                None
            }
            None => {
                ended = true;
                Some(Err(io::Error::other("the upload was abandoned")))
            }
        })
    })
}

/// Removes what a failed put left: the temporary file, or the image itself if the failure came
/// after the rename. Runs when a put fails, or in the background when its future is dropped.
struct Cleanup {
    inner: Arc<Inner>,
    temp: Object,
    target: Object,
    /// The rename may have happened.
    moving: bool,
    armed: bool,
}

impl Cleanup {
    fn clone_parts(&self) -> Cleanup {
        Cleanup {
            inner: Arc::clone(&self.inner),
            temp: self.temp.clone(),
            target: self.target.clone(),
            moving: self.moving,
            armed: false,
        }
    }

    async fn run(self) {
        let inner = &self.inner;
        match inner.delete(&self.temp).await {
            Ok(()) => {}
            // The temporary file is gone: never created, or renamed by this put.
            Err(err) if err.kind == ErrorKind::NotFound => {
                if self.moving {
                    match inner.delete(&self.target).await {
                        Ok(()) => {}
                        Err(err) if err.kind == ErrorKind::NotFound => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot remove an unfinished image")
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot remove an unfinished upload"),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.armed {
            // The put future was dropped: clean up in the background.
            runtime::handle().spawn(self.clone_parts().run());
        }
    }
}

/// A task aborted when its handle is dropped (a dropped put stops its request).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Inner {
    /// Logs in and finds every configured datastore; a missing one is `ConfigInvalid`.
    async fn connect(config: VmwareConfig) -> Result<Inner, StoreError> {
        let vim = Vim::connect(&config).await?;
        let layout = Layout::new(&config);
        let inventory = find_inventory(&vim, &layout).await?;
        Ok(Inner {
            vim,
            layout,
            inventory: tokio::sync::RwLock::new(Arc::new(inventory)),
        })
    }

    /// The datastores' references, looked up again first if the session logged in since they
    /// were found: the server may have restarted (a vCenter restart, a simulator's new
    /// inventory), and references and the image directories may not have survived it.
    async fn inventory(&self) -> Result<Arc<Inventory>, StoreError> {
        let current = Arc::clone(&*self.inventory.read().await);
        if current.login == self.vim.logins() {
            return Ok(current);
        }
        self.refresh(current.login).await
    }

    /// Looks the datastores up again, unless another caller did since `stale` was found.
    async fn refresh(&self, stale: u64) -> Result<Arc<Inventory>, StoreError> {
        let mut inventory = self.inventory.write().await;
        if inventory.login != stale {
            return Ok(Arc::clone(&inventory));
        }
        tracing::info!(server = %self.vim.server(), "new vSphere session: looking the datastores up again");
        *inventory = Arc::new(find_inventory(&self.vim, &self.layout).await?);
        Ok(Arc::clone(&inventory))
    }

    /// Runs `operation` on the inventory; if it fails with a reference the server no longer
    /// knows (`ManagedObjectNotFound`) or after a new login, looks the datastores up again and
    /// runs it once more. A success that needed a new login looks them up again too.
    async fn with_inventory<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: Fn(Arc<Inventory>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let inventory = self.inventory().await?;
        let result = operation(Arc::clone(&inventory)).await;
        let new_session = inventory.login != self.vim.logins();
        match result {
            Err(err) if is_stale_reference(&err) || new_session => {
                tracing::debug!(error = %err, "retrying with the datastores looked up again");
                let inventory = self.refresh(inventory.login).await?;
                operation(inventory).await
            }
            // It logged in again on the way: the image directories may be gone with a server
            // restart, and the next step (an upload) needs them.
            Ok(value) if new_session => {
                if let Err(err) = self.refresh(inventory.login).await {
                    tracing::warn!(error = %err, "cannot look the datastores up again");
                }
                Ok(value)
            }
            other => other,
        }
    }

    /// Chooses the datastore for a new image and refuses an id already stored there.
    async fn prepare_put(
        &self,
        image_id: String,
        size_hint: Option<u64>,
    ) -> Result<Object, StoreError> {
        let datastore = self.select(size_hint.unwrap_or(0)).await?;
        let target = Object {
            datastore,
            name: image_id,
        };
        // Checked first so a duplicate is refused before the data is sent; the rename that
        // publishes the image refuses to replace a file in any case.
        let subject = self.layout.datastore_path(&target);
        if transfer::exists(&self.vim, &self.layout.url(&target), &subject).await? {
            return Err(already_exists(&subject));
        }
        Ok(target)
    }

    /// As Glance: the highest weight first; within one weight, the datastore with the most free
    /// space, if that is at least `size`; otherwise the next weight. None → `StorageFull`.
    async fn select(&self, size: u64) -> Result<usize, StoreError> {
        let (inventory, free) = self
            .with_inventory(|inventory| async move {
                let morefs: Vec<Moref> = inventory
                    .datastores
                    .iter()
                    .map(|ds| ds.datastore.clone())
                    .collect();
                let free = self.vim.free_space(&morefs).await?;
                Ok((inventory, free))
            })
            .await?;
        let free_of = |index: usize| {
            free.iter()
                .find(|(moref, _)| *moref == inventory.datastores[index].datastore)
                .map_or(0, |(_, bytes)| (*bytes).max(0) as u64)
        };
        let specs = &self.layout.datastores;
        let mut weights: Vec<i64> = specs.iter().map(|spec| spec.weight).collect();
        weights.sort_unstable_by(|a, b| b.cmp(a));
        weights.dedup();
        for weight in weights {
            let best = (0..specs.len())
                .filter(|&index| specs[index].weight == weight)
                .max_by_key(|&index| free_of(index));
            if let Some(index) = best
                && free_of(index) > 0
                && free_of(index) >= size
            {
                return Ok(index);
            }
        }
        Err(StoreError::new(
            ErrorKind::StorageFull,
            format!("no configured datastore has {size} bytes free"),
        ))
    }

    async fn delete(&self, object: &Object) -> Result<(), StoreError> {
        let path = self.layout.datastore_path(object);
        self.with_inventory(|inventory| {
            let path = &path;
            async move {
                let datacenter = &inventory.datastores[object.datastore].datacenter;
                self.vim.delete_file(path, datacenter).await
            }
        })
        .await
    }

    async fn rename(&self, from: &Object, to: &Object) -> Result<(), StoreError> {
        let (source, destination) = (
            self.layout.datastore_path(from),
            self.layout.datastore_path(to),
        );
        match self
            .with_inventory(|inventory| {
                let (source, destination) = (&source, &destination);
                async move {
                    let datacenter = &inventory.datastores[to.datastore].datacenter;
                    self.vim.move_file(source, destination, datacenter).await
                }
            })
            .await
        {
            Err(err) if err.kind == ErrorKind::AlreadyExists => Err(already_exists(&destination)),
            other => other,
        }
    }
}

/// Finds every configured datastore (a missing one is `ConfigInvalid`) and makes sure the image
/// directories exist.
async fn find_inventory(vim: &Vim, layout: &Layout) -> Result<Inventory, StoreError> {
    let login = vim.logins();
    let mut datastores = Vec::new();
    // Datacenter path → its reference and its datastores (name and reference), looked up once.
    let mut datacenters: HashMap<String, (Moref, Vec<(Moref, String)>)> = HashMap::new();
    for spec in &layout.datastores {
        if !datacenters.contains_key(&spec.datacenter) {
            let datacenter = vim
                .find_datacenter(&spec.datacenter)
                .await?
                .ok_or_else(|| {
                    invalid(format!(
                        "option `datastores`: {} has no datacenter at inventory path {:?}",
                        vim.server(),
                        spec.datacenter
                    ))
                })?;
            let found = vim.datastores(&datacenter).await?;
            datacenters.insert(spec.datacenter.clone(), (datacenter, found));
        }
        let (datacenter, found) = &datacenters[&spec.datacenter];
        let moref = found
            .iter()
            .find(|(_, name)| *name == spec.name)
            .map(|(moref, _)| moref.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = found.iter().map(|(_, name)| name.as_str()).collect();
                invalid(format!(
                    "option `datastores`: datacenter {:?} has no datastore {:?} (it has: {})",
                    spec.datacenter,
                    spec.name,
                    names.join(", ")
                ))
            })?;
        datastores.push(Found {
            datacenter: datacenter.clone(),
            datastore: moref,
        });
    }
    // The file service may not create directories on every server: make sure they exist.
    // Not fatal: a user allowed to write files but not directories may still find them there.
    for (index, found) in datastores.iter().enumerate() {
        let directory = layout.directory_path(index);
        if let Err(err) = vim.make_directory(&directory, &found.datacenter).await {
            tracing::warn!(%directory, error = %err, "cannot create the image directory");
        }
    }
    Ok(Inventory { login, datastores })
}

fn already_exists(subject: &str) -> StoreError {
    StoreError::new(
        ErrorKind::AlreadyExists,
        format!("{subject}: an image file already exists"),
    )
}

/// A hidden name, unique per put, beside the image: `.<id>.upload-<random>`. Hidden names are
/// never valid locations.
fn temporary_name(image_id: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    format!(".{image_id}.upload-{:016x}", hasher.finish())
}
