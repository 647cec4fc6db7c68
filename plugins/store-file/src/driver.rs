//! The file store: one file per image in the data directory.

use std::fs;
use std::path::{Path, PathBuf};

use glint_sdk::names::is_safe_name;
use glint_sdk::{
    Capabilities, DataStream, DriverDescription, ErrorKind, GetOutcome, ListPage, ListedObject,
    OpenContext, PutOutcome, ReadRange, RequestContext, StoreDriver, StoreError, runtime,
};

use crate::config::FileConfig;
use crate::error::parse_error;
use crate::{reader, writer};

const SCHEME: &str = "file://";
/// Objects per listing page.
const LIST_PAGE: usize = 1000;

/// A data directory holding `<datadir>/<image id>` files.
#[derive(Debug)]
pub struct FileDriver {
    /// Canonical data directory: every object path is a direct child of it.
    root: PathBuf,
    chunk_size: usize,
    fsync: bool,
}

impl StoreDriver for FileDriver {
    const DRIVER: &'static str = "file";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = FileConfig::parse(config)?;
        let datadir_error = |err| {
            let mut err = parse_error(
                err,
                format!("option `datadir` ({})", config.datadir.display()),
            );
            err.kind = ErrorKind::ConfigInvalid;
            err
        };
        fs::create_dir_all(&config.datadir).map_err(datadir_error)?;
        let root = config.datadir.canonicalize().map_err(datadir_error)?;
        tracing::info!(store = %ctx.store_id, datadir = %root.display(), "file store opened");
        Ok(FileDriver {
            root,
            chunk_size: config.chunk_size,
            fsync: config.fsync,
        })
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["file", "filesystem"])
            .with_option_defaults(FileConfig::defaults())
            .with_secret_options(&[])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            ..Capabilities::full()
        }
    }

    async fn put(
        &self,
        _caller: Option<&RequestContext>,
        image_id: &str,
        size_hint: Option<u64>,
        data: DataStream,
    ) -> Result<PutOutcome, StoreError> {
        let target = self.object_path(image_id)?;
        let size = writer::write(
            writer::Job {
                root: self.root.clone(),
                target: target.clone(),
                size_hint,
                fsync: self.fsync,
            },
            data,
        )
        .await?;
        tracing::debug!(image_id, size, "image stored");
        Ok(PutOutcome {
            location: format!("{SCHEME}{}", target.display()),
            size,
            metadata: serde_json::Map::new(),
        })
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let path = self.resolve(location)?;
        reader::open(path, range, self.chunk_size).await
    }

    async fn delete(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<(), StoreError> {
        let path = self.resolve_for_delete(location)?;
        let (root, fsync) = (self.root.clone(), self.fsync);
        runtime::spawn_blocking(move || {
            regular_file_size(&path)?;
            if is_temporary(&path) && !writer::is_abandoned(&path) {
                return Err(StoreError::new(
                    ErrorKind::InUse,
                    format!("{} is being written; it was not deleted", path.display()),
                ));
            }
            fs::remove_file(&path).map_err(|err| parse_error(err, path.display()))?;
            if fsync {
                writer::sync_dir(&root)?;
            }
            Ok(())
        })
        .await?
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        let path = self.resolve(location)?;
        runtime::spawn_blocking(move || regular_file_size(&path)).await?
    }

    /// Pages in file-name order; the cursor is the last name of the previous page. Temporary
    /// files of uploads in progress (`.<id>.tmp-…`) and anything but regular files are left out;
    /// the temporary files of uploads whose process died (unlocked: see `writer`) are listed,
    /// so that the host can find and delete them.
    async fn list(&self, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let root = self.root.clone();
        let after = cursor.map(str::to_owned);
        runtime::spawn_blocking(move || list_page(&root, after.as_deref())).await?
    }
}

fn list_page(root: &Path, after: Option<&str>) -> Result<ListPage, StoreError> {
    let entries = fs::read_dir(root).map_err(|err| parse_error(err, root.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            (is_safe_name(name) || writer::temporary_image_of(name).is_some())
                && after.is_none_or(|after| name.as_str() > after)
        })
        .collect();
    names.sort_unstable();
    let next = (names.len() > LIST_PAGE).then(|| names[LIST_PAGE - 1].clone());
    names.truncate(LIST_PAGE);
    let mut objects = Vec::with_capacity(names.len());
    for name in names {
        let path = root.join(&name);
        // A file deleted since the directory was read is simply not listed.
        let Ok(metadata) = fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_file() && (!is_temporary(&path) || writer::is_abandoned(&path)) {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            let location = format!("{SCHEME}{}", path.display());
            objects.push(ListedObject::new(location, metadata.len(), modified));
        }
    }
    Ok(ListPage::new(objects, next))
}

impl FileDriver {
    /// The path for a new image, refusing ids that are not plain file names.
    fn object_path(&self, image_id: &str) -> Result<PathBuf, StoreError> {
        if is_safe_name(image_id) {
            Ok(self.root.join(image_id))
        } else {
            Err(StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "image id {image_id:?} is not usable as a file name: use letters, digits, '-', '_' and '.', not starting with '.'"
                ),
            ))
        }
    }

    /// The path of a location `delete` accepts: an image's, or the temporary file of an
    /// unfinished upload (as listed).
    fn resolve_for_delete(&self, location: &str) -> Result<PathBuf, StoreError> {
        self.resolve_path(location, true)
    }

    /// The path of an existing location; anything not directly inside the data directory is
    /// refused with `PermissionDenied`.
    fn resolve(&self, location: &str) -> Result<PathBuf, StoreError> {
        self.resolve_path(location, false)
    }

    fn resolve_path(&self, location: &str, temporary: bool) -> Result<PathBuf, StoreError> {
        let outside = || {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "location {location:?} is not inside this store's data directory {}",
                    self.root.display()
                ),
            )
        };
        let path = Path::new(location.strip_prefix(SCHEME).ok_or_else(outside)?);
        match (
            path.parent(),
            path.file_name().and_then(|name| name.to_str()),
        ) {
            (Some(parent), Some(name))
                if parent == self.root
                    && (is_safe_name(name)
                        || (temporary && writer::temporary_image_of(name).is_some())) =>
            {
                Ok(self.root.join(name))
            }
            _ => Err(outside()),
        }
    }
}

/// Whether `path` names the temporary file of an upload.
fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| writer::temporary_image_of(name).is_some())
}

/// The size of the regular file at `path`, refusing symbolic links and other file types.
fn regular_file_size(path: &Path) -> Result<u64, StoreError> {
    let metadata = fs::symlink_metadata(path).map_err(|err| parse_error(err, path.display()))?;
    if metadata.is_file() {
        Ok(metadata.len())
    } else {
        Err(StoreError::new(
            ErrorKind::PermissionDenied,
            format!("{} is not a regular file", path.display()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> FileDriver {
        FileDriver {
            root: PathBuf::from("/srv/images"),
            chunk_size: 4096,
            fsync: false,
        }
    }

    #[test]
    fn image_ids_must_be_plain_names() {
        let driver = driver();
        assert_eq!(
            driver
                .object_path("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
                .unwrap(),
            Path::new("/srv/images/1b4e28ba-2fa1-11d2-883f-0016d3cca427")
        );
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "../etc",
            "/etc/passwd",
            "a\0b",
            "é",
        ] {
            let err = driver.object_path(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad:?}");
        }
    }

    #[test]
    fn locations_must_be_direct_children_of_the_root() {
        let driver = driver();
        assert_eq!(
            driver.resolve("file:///srv/images/abc").unwrap(),
            Path::new("/srv/images/abc")
        );
        for bad in [
            "/srv/images/abc",
            "file:///srv/images/../etc/passwd",
            "file:///srv/images/sub/abc",
            "file:///etc/passwd",
            "file:///srv/images",
            "file:///srv/images/.abc.tmp-1",
            "file:///srv/images/..",
            "http:///srv/images/abc",
        ] {
            let err = driver.resolve(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
        // A temporary file is a location for `delete` only.
        let temporary = "file:///srv/images/.abc.tmp-1f-0-3a";
        assert!(driver.resolve(temporary).is_err());
        assert_eq!(
            driver.resolve_for_delete(temporary).unwrap(),
            Path::new("/srv/images/.abc.tmp-1f-0-3a")
        );
        assert!(
            driver
                .resolve_for_delete("file:///srv/images/.abc.tmp-1")
                .is_err()
        );
    }

    #[test]
    fn temporary_names_name_their_image() {
        let name = writer::temporary_name("abc", 0x1f, 0, 0x3a);
        assert_eq!(name, ".abc.tmp-1f-0-3a");
        assert_eq!(writer::temporary_image_of(&name), Some("abc"));
        for other in [
            "abc",
            ".abc",
            ".abc.tmp-1",
            ".abc.tmp-1-2-3-4",
            ".a/b.tmp-1-2-3",
        ] {
            assert_eq!(writer::temporary_image_of(other), None, "{other}");
        }
    }
}
