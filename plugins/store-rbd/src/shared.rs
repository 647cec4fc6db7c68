//! What every operation of one rbd store shares: the cluster connection (made lazily, shared
//! by the reader, the writer and the driver), and the rules for image names.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use glint_sdk::names::is_safe_name;
use glint_sdk::{ErrorKind, ListPage, ListedObject, StoreError};

use crate::ceph::{CephError, Cluster, ConnectOptions, Image, IoCtx, errno};
use crate::config::RbdConfig;
use crate::error::{connect_error, parse_error};
use crate::location::Location;

/// The snapshot every stored image gets, protected so that clones can be made from it.
pub const SNAPSHOT: &str = "snap";

/// Longest image id accepted: leaves room for the temporary-name suffix within librbd's limits.
pub const MAX_ID_LEN: usize = 64;

/// The store's cluster connection, or why the last attempt failed.
#[derive(Debug, Default)]
struct Connection {
    cluster: Option<Arc<Cluster>>,
    last_failure: Option<(Instant, StoreError)>,
}

/// What every operation of one store needs, shared with its blocking tasks.
#[derive(Debug)]
pub struct Shared {
    pub config: RbdConfig,
    store_id: String,
    /// The connection, made at open or, if the cluster was unreachable then, on first use.
    cluster: Mutex<Connection>,
    /// One chunk of zeroes, to recognise chunks that need no write (thin provisioning).
    pub zeroes: Vec<u8>,
}

impl Shared {
    /// The state of a store opened with `config`, not connected yet.
    pub fn new(config: RbdConfig, store_id: String) -> Self {
        Shared {
            zeroes: vec![0; config.chunk_bytes()],
            config,
            store_id,
            cluster: Mutex::new(Connection::default()),
        }
    }

    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    pub fn user(&self) -> &str {
        self.config.rados_user.as_deref().unwrap_or("admin")
    }

    /// The cluster connection, connecting first if there is none (blocking).
    ///
    /// Operations that waited while another one tried to connect share its failure instead of
    /// each waiting out `connect_timeout` again.
    pub fn cluster(&self) -> Result<Arc<Cluster>, StoreError> {
        let asked = Instant::now();
        let mut connection = self
            .cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cluster) = connection.cluster.as_ref() {
            return Ok(Arc::clone(cluster));
        }
        if let Some((failed_at, err)) = &connection.last_failure
            && *failed_at >= asked
        {
            return Err(err.clone());
        }
        let options = ConnectOptions {
            conf: &self.config.ceph_conf,
            user: self.config.rados_user.as_deref(),
            keyring: self.config.keyring.as_deref(),
            timeout_secs: self.config.connect_timeout,
        };
        match Cluster::connect(&options) {
            Ok(cluster) => {
                tracing::debug!(store = %self.store_id, fsid = cluster.fsid(), "connected to the Ceph cluster");
                connection.cluster = Some(Arc::clone(&cluster));
                connection.last_failure = None;
                Ok(cluster)
            }
            Err(err) => {
                let err = connect_error(err, self.user());
                connection.last_failure = Some((Instant::now(), err.clone()));
                Err(err)
            }
        }
    }

    /// An I/O context on `pool`, or the store's pool.
    pub fn ioctx(
        &self,
        cluster: &Arc<Cluster>,
        pool: Option<&str>,
    ) -> Result<Arc<IoCtx>, StoreError> {
        let pool = pool.unwrap_or(&self.config.pool);
        cluster.ioctx(pool).map_err(|err| {
            if err.errno == errno::ENOENT && pool == self.config.pool {
                StoreError::new(
                    ErrorKind::ConfigInvalid,
                    format!("option `pool`: pool {pool:?} does not exist"),
                )
            } else {
                parse_error(err, format!("pool {pool:?}"))
            }
        })
    }

    /// The I/O context and checked image name of a location of this cluster. The temporary
    /// image of an unfinished write is a location only for `delete` (`temporary`).
    fn resolve(&self, location: &Location, temporary: bool) -> Result<Arc<IoCtx>, StoreError> {
        let cluster = self.cluster()?;
        if let Some(fsid) = &location.fsid
            && fsid != cluster.fsid()
        {
            return Err(StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "the location is in cluster {fsid}, this store is connected to cluster {}",
                    cluster.fsid()
                ),
            ));
        }
        let name = &location.image;
        if !is_safe_id(name) && !(temporary && temporary_image_of(name).is_some()) {
            return Err(StoreError::new(
                ErrorKind::PermissionDenied,
                format!("{:?} is not an image name this store uses", location.image),
            ));
        }
        self.ioctx(&cluster, location.pool.as_deref())
    }

    /// One page of [`crate::driver::RbdDriver`]'s listing: the images after `after`, and the
    /// temporary images of writes that died (see [`dead_temporary_size`]).
    pub fn list_page(&self, after: Option<&str>) -> Result<ListPage, StoreError> {
        const PAGE: usize = 1000;
        let cluster = self.cluster()?;
        let ioctx = self.ioctx(&cluster, None)?;
        let pool = &self.config.pool;
        let mut names: Vec<String> = ioctx
            .list_images()
            .map_err(|err| parse_error(err, format!("pool {pool:?}")))?
            .into_iter()
            .filter(|name| {
                (is_safe_id(name) || temporary_image_of(name).is_some())
                    && after.is_none_or(|after| name.as_str() > after)
            })
            .collect();
        names.sort_unstable();
        let next = (names.len() > PAGE).then(|| names[PAGE - 1].clone());
        names.truncate(PAGE);
        let mut objects = Vec::with_capacity(names.len());
        for name in names {
            let size = if temporary_image_of(&name).is_some() {
                match dead_temporary_size(&ioctx, &name)? {
                    Some(size) => size,
                    None => continue,
                }
            } else {
                match ioctx.open_read_only(&name, Some(SNAPSHOT)) {
                    Ok(image) => image.size().map_err(|err| parse_error(err, &name))?,
                    // Removed since the listing, or not published yet (no snapshot): not an
                    // object.
                    Err(err) if err.errno == errno::ENOENT => continue,
                    Err(err) => return Err(parse_error(err, &name)),
                }
            };
            let location = Location::format(cluster.fsid(), pool, &name, SNAPSHOT);
            objects.push(ListedObject::new(location, size, None));
        }
        Ok(ListPage::new(objects, next))
    }

    /// Opens a location's image read-only at its snapshot (or head).
    pub fn open_location(&self, location: &Location) -> Result<Image, StoreError> {
        let ioctx = self.resolve(location, false)?;
        ioctx
            .open_read_only(&location.image, location.snapshot.as_deref())
            .map_err(|err| not_found_or(err, location))
    }

    /// Unprotects and removes the location's snapshot, then removes the image. A snapshot with
    /// clones makes it `InUse`, and the image is left as it was. The temporary image of a write
    /// that died may be deleted too; one still being written is `InUse` (it has a watcher).
    pub fn delete(&self, location: &Location) -> Result<(), StoreError> {
        let ioctx = self.resolve(location, true)?;
        let name = &location.image;
        if let Some(snapshot) = &location.snapshot {
            let image = ioctx
                .open(name, None)
                .map_err(|err| not_found_or(err, location))?;
            match image.snap_unprotect(snapshot) {
                // EINVAL: not protected (any more); ENOENT: no such snapshot. Both fine here.
                Ok(())
                | Err(CephError {
                    errno: errno::EINVAL | errno::ENOENT,
                    ..
                }) => {}
                Err(CephError {
                    errno: errno::EBUSY,
                    ..
                }) => {
                    let clones = ioctx
                        .open_read_only(name, Some(snapshot))
                        .and_then(|at_snapshot| at_snapshot.children())
                        .map(|clones| clones.join(", "))
                        .unwrap_or_else(|err| format!("unknown: {err}"));
                    return Err(StoreError::new(
                        ErrorKind::InUse,
                        format!(
                            "image {name} is in use: snapshot {snapshot} has clones ({clones}); it was not deleted"
                        ),
                    ));
                }
                Err(err) => return Err(parse_error(err, format!("image {name}"))),
            }
            match image.snap_remove(snapshot) {
                Ok(())
                | Err(CephError {
                    errno: errno::ENOENT,
                    ..
                }) => {}
                Err(err) => return Err(parse_error(err, format!("image {name}"))),
            }
        }
        match ioctx.remove_image(name) {
            Ok(()) => Ok(()),
            // Other snapshots are left (made outside this store): move the image out of the
            // way into the pool's trash, as Glance does.
            Err(CephError {
                errno: errno::ENOTEMPTY,
                ..
            }) => {
                tracing::warn!(image = %name, "image has other snapshots; moving it to the trash");
                ioctx
                    .trash_image(name)
                    .map_err(|err| parse_error(err, format!("image {name}")))
            }
            Err(CephError {
                errno: errno::EBUSY,
                ..
            }) => Err(StoreError::new(
                ErrorKind::InUse,
                format!("image {name} is open by another client; it was not deleted"),
            )),
            Err(err) => Err(not_found_or(err, location)),
        }
    }
}

/// The size of the temporary image `name` if no client has it open for writing, i.e. its
/// write died (the process was killed, or its connection lost); `None` while a write still has
/// it open, or once it is gone (published or removed).
///
/// A writer opens its temporary image read-write, which registers a watch on the image's header
/// until it closes it; a killed writer's watch ends with the OSD's watch timeout. Whatever
/// node or process the writer is, the cluster itself says whether it is still alive.
fn dead_temporary_size(ioctx: &Arc<IoCtx>, name: &str) -> Result<Option<u64>, StoreError> {
    let image = match ioctx.open_read_only(name, None) {
        Ok(image) => image,
        Err(err) if err.errno == errno::ENOENT => return Ok(None),
        Err(err) => return Err(parse_error(err, name)),
    };
    if image.watchers().map_err(|err| parse_error(err, name))? > 0 {
        return Ok(None);
    }
    image.size().map(Some).map_err(|err| parse_error(err, name))
}

/// The name of the temporary image a write of `image` uses: `.<image>.tmp-<pid>-<n>-<ns>`
/// (hexadecimal), unique per write. It starts with `.`, which image ids never do.
pub fn temporary_name(image: &str, pid: u32, counter: u64, nanos: u32) -> String {
    format!(".{image}.tmp-{pid:x}-{counter:x}-{nanos:x}")
}

/// The image id whose write a temporary image name ([`temporary_name`]) belongs to.
pub fn temporary_image_of(name: &str) -> Option<&str> {
    let (image, suffix) = name.strip_prefix('.')?.split_once(".tmp-")?;
    let parts: Vec<&str> = suffix.split('-').collect();
    let hex = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_hexdigit());
    (is_safe_id(image) && parts.len() == 3 && parts.iter().all(hex)).then_some(image)
}

fn not_found_or(err: CephError, location: &Location) -> StoreError {
    if err.errno == errno::ENOENT {
        let at = location
            .snapshot
            .as_ref()
            .map_or(String::new(), |snapshot| format!(" (snapshot {snapshot})"));
        StoreError::new(
            ErrorKind::NotFound,
            format!("RBD image {}{at} does not exist", location.image),
        )
    } else {
        parse_error(err, format!("image {}", location.image))
    }
}

/// ASCII letters, digits, `-`, `_` and `.`, not starting with `.` (temporary images do), at
/// most [`MAX_ID_LEN`] bytes. UUIDs qualify.
pub fn is_safe_id(name: &str) -> bool {
    is_safe_name(name) && name.len() <= MAX_ID_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_name_their_image() {
        let id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
        let name = temporary_name(id, 0x1f, 0, 0x3a);
        assert_eq!(name, format!(".{id}.tmp-1f-0-3a"));
        assert_eq!(temporary_image_of(&name), Some(id));
        assert!(!is_safe_id(&name));
        for other in [
            id.to_owned(),
            format!(".{id}"),
            format!(".{id}.tmp-1f-0"),
            format!(".{id}.tmp-1f-0-3a-4"),
            format!(".{id}.tmp-1f-0-zz"),
            format!("{id}.tmp-1f-0-3a"),
            ".a/b.tmp-1-2-3".to_owned(),
            "..tmp-1-2-3".to_owned(),
        ] {
            assert_eq!(temporary_image_of(&other), None, "{other}");
        }
    }

    #[test]
    fn image_ids_must_be_plain_names() {
        assert!(is_safe_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
        for bad in ["", ".tmp", "a/b", "a@snap", "é", "a b", &"x".repeat(65)] {
            assert!(!is_safe_id(bad), "{bad:?}");
        }
    }
}
