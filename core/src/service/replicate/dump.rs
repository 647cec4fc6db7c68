//! The directory side of `dump` and `load`, in glance-replicator's layout:
//! `<id>` holds the image's metadata (JSON), `<id>.img` its data, and
//! `<id>.members` the members of a shared image (JSON).
//!
//! Data is written to `<id>.img.part` and renamed once it is complete and
//! matches the source's hashes; the metadata file is written after it. So a
//! dump cut short is taken up again where it stopped, and `load` never
//! finds metadata whose data is half written.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::verify::{Expected, verified};
use super::{Action, Options, Outcome, id_of};
use crate::remote::{ByteStream, Images};

/// Bytes read from a dump's data file at a time.
const CHUNK: usize = 1 << 20;

/// The images whose metadata the directory holds (files named by a UUID), by id.
pub async fn read_images(dir: &Path) -> Result<Vec<Map<String, Value>>, String> {
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    while let Some(entry) = entries.next_entry().await.map_err(|e| e.to_string())? {
        if let Some(name) = entry.file_name().to_str()
            && uuid::Uuid::parse_str(name).is_ok()
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    let mut images = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let text = tokio::fs::read(&path)
            .await
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let image: Map<String, Value> = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not image metadata: {e}", path.display()))?;
        images.push(image);
    }
    Ok(images)
}

/// The members the dump recorded for image `id` (none when it recorded none).
pub async fn read_members(dir: &Path, id: &str) -> Result<Vec<Map<String, Value>>, String> {
    let path = members_path(dir, id);
    match tokio::fs::read(&path).await {
        Ok(text) => serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not a member list: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The dumped data of image `id`, read in chunks, or `None` without one.
pub async fn open_data(dir: &Path, id: &str) -> Result<Option<ByteStream>, String> {
    let path = data_path(dir, id);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(Some(chunks.boxed()))
}

/// Writes one active image of `source` into `dir`: its data (unless
/// `metadata_only`, or already there), then its members and metadata.
pub async fn dump_image(
    source: &Images,
    dir: &Path,
    image: &Map<String, Value>,
    options: &Options,
) -> Outcome {
    let mut outcome = Outcome::new(image, Action::Unchanged);
    match dump_steps(source, dir, image, options, &mut outcome).await {
        Ok(()) => outcome,
        Err(e) => {
            outcome.action = Action::Failed;
            outcome.details.push(e);
            outcome
        }
    }
}

async fn dump_steps(
    source: &Images,
    dir: &Path,
    image: &Map<String, Value>,
    options: &Options,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let id = id_of(image).to_owned();
    let meta = dir.join(&id);
    let had_meta = tokio::fs::try_exists(&meta).await.unwrap_or(false);
    let data = data_path(dir, &id);
    if !options.metadata_only && !tokio::fs::try_exists(&data).await.unwrap_or(false) {
        outcome.bytes = image.get("size").and_then(Value::as_u64).unwrap_or(0);
        outcome.details.push("data written".into());
        if !options.dry_run {
            let stream = source.download(&id).await.map_err(|e| e.to_string())?;
            let (stream, _) = verified(stream, Expected::of(image))?;
            write_data(stream, &data).await?;
        }
    }
    let members = if image.get("visibility").and_then(Value::as_str) == Some("shared") {
        source.members(&id).await.map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    if !members.is_empty()
        || tokio::fs::try_exists(members_path(dir, &id))
            .await
            .unwrap_or(false)
    {
        let text = serde_json::to_vec_pretty(&members).map_err(|e| e.to_string())?;
        if write_if_changed(&members_path(dir, &id), &text, options.dry_run).await? {
            outcome.details.push("members written".into());
        }
    }
    let text = serde_json::to_vec_pretty(image).map_err(|e| e.to_string())?;
    if write_if_changed(&meta, &text, options.dry_run).await? && had_meta {
        outcome.details.push("metadata written".into());
    }
    outcome.action = match (had_meta, outcome.details.is_empty()) {
        (false, _) => Action::Created,
        (true, true) => Action::Unchanged,
        (true, false) => Action::Updated,
    };
    Ok(())
}

/// Streams `data` into `path` through a `.part` file renamed at the end.
async fn write_data(mut data: ByteStream, path: &Path) -> Result<(), String> {
    let part = with_suffix(path, ".part");
    let result = async {
        let mut file = tokio::fs::File::create(&part).await?;
        while let Some(chunk) = data.next().await {
            file.write_all(&chunk?).await?;
        }
        file.sync_all().await?;
        tokio::fs::rename(&part, path).await
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(())
}

/// Replaces `path`'s content with `text` unless it already is that
/// (written whole, then renamed). Returns whether it changed.
async fn write_if_changed(path: &Path, text: &[u8], dry_run: bool) -> Result<bool, String> {
    if tokio::fs::read(path).await.ok().as_deref() == Some(text) {
        return Ok(false);
    }
    if !dry_run {
        let part = with_suffix(path, ".part");
        let written = async {
            tokio::fs::write(&part, text).await?;
            tokio::fs::rename(&part, path).await
        };
        written
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(true)
}

fn data_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.img"))
}

fn members_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.members"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
