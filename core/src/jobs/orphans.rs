//! Orphans in file stores: files the database can prove nobody needs.
//!
//! This predates store listings (ABI 1.3; the orphan audit uses them, and
//! finds the temporary objects of dead writes too), and knows the layout of
//! the one driver whose objects the host can see itself, `file`: `<datadir>/<image
//! id>` for data and `.<image id>.tmp-…` for a write in progress. A file older
//! than `orphan_grace_secs` goes when
//! - it is a temporary file and its image is not being written (not
//!   `saving` or `importing`);
//! - it is a data file that no location of its image names, and its image is
//!   not being written or copied, nor waiting in `pending_delete`, nor already
//!   recorded as pending work (the reaper deletes those).
//!
//! Anything else in the directory is not the store's and is left alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use super::JobError;
use crate::config::Config;
use crate::db::Database;
use crate::domain::ImageStatus;
use crate::service::import::is_being_written;

/// A file-store data directory: store id and canonical path.
#[derive(Debug, Clone)]
pub struct FileStoreDir {
    pub store: String,
    pub root: PathBuf,
}

/// The data directories of the configured `file` stores that exist.
pub fn file_store_dirs(config: &Config) -> Vec<FileStoreDir> {
    config
        .stores
        .iter()
        .filter(|(_, sc)| sc.driver == "file")
        .filter_map(|(id, sc)| {
            let dir = sc.options.get("datadir")?.as_str()?;
            let root = Path::new(dir).canonicalize().ok()?;
            Some(FileStoreDir {
                store: id.clone(),
                root,
            })
        })
        .collect()
}

/// What a file in a store directory is, by its name.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Data(Uuid),
    Temporary(Uuid),
}

fn classify(name: &str) -> Option<Kind> {
    if let Some(rest) = name.strip_prefix('.') {
        let (id, _) = rest.split_once(".tmp-")?;
        return Uuid::parse_str(id).ok().map(Kind::Temporary);
    }
    // Only the hyphenated form is an image id as the API writes it.
    let id = Uuid::parse_str(name).ok()?;
    (id.hyphenated().to_string() == name).then_some(Kind::Data(id))
}

/// Removes the provable orphans of every file store; how many went.
pub async fn sweep(db: &Database, dirs: &[FileStoreDir], grace: Duration) -> Result<u64, JobError> {
    let pending: HashSet<String> = db.list_work().await?.into_iter().map(|w| w.url).collect();
    let mut removed = 0;
    for dir in dirs {
        for (path, kind) in old_files(&dir.root, grace).await {
            let url = format!("file://{}", path.display());
            if pending.contains(&url) || !is_orphan(db, &kind, &url).await? {
                continue;
            }
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {
                    removed += 1;
                    tracing::info!(store = %dir.store, path = %path.display(), "orphan removed");
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(store = %dir.store, path = %path.display(), error = %e, "could not remove an orphan")
                }
            }
        }
    }
    Ok(removed)
}

async fn is_orphan(db: &Database, kind: &Kind, url: &str) -> Result<bool, JobError> {
    let (Kind::Data(id) | Kind::Temporary(id)) = *kind;
    let Some(image) = db.image_any(id).await? else {
        return Ok(true);
    };
    if matches!(image.status, ImageStatus::Saving | ImageStatus::Importing) {
        return Ok(false);
    }
    Ok(match kind {
        Kind::Temporary(_) => true,
        Kind::Data(_) => {
            image.status != ImageStatus::PendingDelete
                && !image.locations.iter().any(|l| l.url == url)
                && !is_being_written(&image)
        }
    })
}

/// The store's regular files older than `grace`, with what their names say they are.
async fn old_files(root: &Path, grace: Duration) -> Vec<(PathBuf, Kind)> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(&root) else {
            return Vec::new();
        };
        let now = SystemTime::now();
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let kind = classify(entry.file_name().to_str()?)?;
                let meta = entry.path().symlink_metadata().ok()?;
                let age = now.duration_since(meta.modified().ok()?).ok()?;
                (meta.is_file() && age >= grace).then(|| (entry.path(), kind))
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_what_a_file_is() {
        let id = Uuid::new_v4();
        assert_eq!(classify(&id.to_string()), Some(Kind::Data(id)));
        assert_eq!(
            classify(&format!(".{id}.tmp-1f-0-3a")),
            Some(Kind::Temporary(id))
        );
        for other in [
            "notes.txt",
            &id.simple().to_string(),
            &format!(".{id}"),
            &format!("{id}.tmp-1"),
            ".x.tmp-1",
        ] {
            assert_eq!(classify(other), None, "{other}");
        }
    }
}
