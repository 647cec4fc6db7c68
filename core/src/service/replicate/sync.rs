//! One image made the same on the target as on the source, in explicit
//! steps: read the target's copy; create it, resume its data, or correct
//! its metadata; then its members; and say what was done.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::verify::{Expected, verified};
use super::{
    Action, Difference, MemberChanges, Options, Outcome, data_differences, differences, dump,
    id_of, replicated, wanted_members,
};
use crate::remote::{ByteStream, Images, RemoteError};

/// Where images are replicated from: an endpoint, or a dump directory.
pub enum Source<'a> {
    Service(&'a Images),
    Dump(PathBuf),
}

impl Source<'_> {
    /// The source's active images (the only ones replicated).
    pub async fn active_images(&self) -> Result<Vec<Map<String, Value>>, String> {
        let all = match self {
            Source::Service(images) => images.list().await.map_err(|e| e.to_string())?,
            Source::Dump(dir) => dump::read_images(dir).await?,
        };
        Ok(all
            .into_iter()
            .filter(|i| i.get("status").and_then(Value::as_str) == Some("active"))
            .collect())
    }

    /// The image's members (read only for shared images: no other kind has any).
    pub async fn members(
        &self,
        image: &Map<String, Value>,
    ) -> Result<Vec<Map<String, Value>>, String> {
        if image.get("visibility").and_then(Value::as_str) != Some("shared") {
            return Ok(Vec::new());
        }
        let id = id_of(image);
        match self {
            Source::Service(images) => images.members(id).await.map_err(|e| e.to_string()),
            Source::Dump(dir) => dump::read_members(dir, id).await,
        }
    }

    /// The image's data, or `None` when a dump holds none for it.
    pub async fn data(&self, id: &str) -> Result<Option<ByteStream>, String> {
        match self {
            Source::Service(images) => images
                .download(id)
                .await
                .map(Some)
                .map_err(|e| e.to_string()),
            Source::Dump(dir) => dump::open_data(dir, id).await,
        }
    }
}

/// Makes `target`'s copy of `image` the source's.
pub async fn sync_image(
    source: &Source<'_>,
    target: &Images,
    image: &Map<String, Value>,
    options: &Options,
) -> Outcome {
    match steps(source, target, image, options).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::new(image, Action::Failed).with(vec![e]),
    }
}

async fn steps(
    source: &Source<'_>,
    target: &Images,
    image: &Map<String, Value>,
    options: &Options,
) -> Result<Outcome, String> {
    let id = id_of(image);
    let wanted = replicated(image, options);
    let size = image.get("size").and_then(Value::as_u64).unwrap_or(0);
    let theirs = target.get(id).await.map_err(|e| e.to_string())?;
    let Some(theirs) = theirs else {
        if options.metadata_only {
            let why = "not on the target, and only metadata is replicated";
            return Ok(Outcome::new(image, Action::Skipped).with(vec![why.into()]));
        }
        let Some(data) = (if options.dry_run {
            None
        } else {
            source.data(id).await?
        }) else {
            if !options.dry_run {
                let why = "the dump holds no data for it";
                return Ok(Outcome::new(image, Action::Skipped).with(vec![why.into()]));
            }
            let mut outcome = Outcome::new(image, Action::Created);
            outcome.bytes = size;
            return Ok(outcome);
        };
        // Created only once its data can be read, so an empty record is
        // left behind only when the copy itself fails (and is resumed).
        let mut body = wanted.clone();
        body.insert("id".into(), Value::String(id.to_owned()));
        target.create(&body).await.map_err(|e| e.to_string())?;
        let members = sync_members(source, target, image, options).await?;
        upload(target, image, data).await?;
        let mut outcome = Outcome::new(image, Action::Created).with(members);
        outcome.bytes = size;
        return Ok(outcome);
    };
    let status = theirs.get("status").and_then(Value::as_str).unwrap_or("");
    match status {
        "active" => {
            let data = data_differences(image, &theirs);
            if !data.is_empty() {
                let mut why = data;
                why.push("an active image's data cannot be replaced: delete the target's image to copy it again".into());
                return Ok(Outcome::new(image, Action::Failed).with(why));
            }
            let mut done = correct_metadata(target, id, &wanted, &theirs, options).await?;
            done.extend(sync_members(source, target, image, options).await?);
            let action = if done.is_empty() {
                Action::Unchanged
            } else {
                Action::Updated
            };
            Ok(Outcome::new(image, action).with(done))
        }
        "queued" => {
            let mut done = correct_metadata(target, id, &wanted, &theirs, options).await?;
            done.extend(sync_members(source, target, image, options).await?);
            if options.metadata_only {
                done.push("target image is queued; only metadata is replicated".into());
                let action = if done.len() > 1 {
                    Action::Updated
                } else {
                    Action::Skipped
                };
                return Ok(Outcome::new(image, action).with(done));
            }
            if !options.dry_run {
                let data = source
                    .data(id)
                    .await?
                    .ok_or("the dump holds no data for it")?;
                upload(target, image, data).await?;
            }
            let mut outcome = Outcome::new(image, Action::Resumed).with(done);
            outcome.bytes = size;
            Ok(outcome)
        }
        other => {
            let why = format!("the target's image is {other}");
            Ok(Outcome::new(image, Action::Skipped).with(vec![why]))
        }
    }
}

/// Patches the target's metadata to the source's; returns what differed.
async fn correct_metadata(
    target: &Images,
    id: &str,
    wanted: &Map<String, Value>,
    theirs: &Map<String, Value>,
    options: &Options,
) -> Result<Vec<String>, String> {
    let found = differences(wanted, theirs, options);
    if !found.is_empty() && !options.dry_run {
        let ops: Vec<Value> = found.iter().map(Difference::patch).collect();
        target.patch(id, &ops).await.map_err(|e| e.to_string())?;
    }
    Ok(found.iter().map(Difference::describe).collect())
}

/// Gives the target's image the source's members and their statuses.
async fn sync_members(
    source: &Source<'_>,
    target: &Images,
    image: &Map<String, Value>,
    options: &Options,
) -> Result<Vec<String>, String> {
    if image.get("visibility").and_then(Value::as_str) != Some("shared") {
        return Ok(Vec::new());
    }
    let id = id_of(image);
    let wanted = wanted_members(&source.members(image).await?, options);
    let members = target.members(id).await.map_err(|e| e.to_string())?;
    let theirs: BTreeMap<String, String> = wanted_members(&members, &Options::default());
    let changes = MemberChanges::between(&wanted, &theirs);
    if !options.dry_run {
        apply_members(target, id, &changes)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(changes.describe())
}

async fn apply_members(
    target: &Images,
    id: &str,
    changes: &MemberChanges,
) -> Result<(), RemoteError> {
    for (member, status) in &changes.add {
        target.add_member(id, member).await?;
        if status != "pending" {
            target.set_member_status(id, member, status).await?;
        }
    }
    for (member, status) in &changes.status {
        target.set_member_status(id, member, status).await?;
    }
    for member in &changes.remove {
        target.remove_member(id, member).await?;
    }
    Ok(())
}

/// Streams `data` into the target's image, checked against the source's
/// hashes on the way, then checks what the target recorded.
async fn upload(
    target: &Images,
    image: &Map<String, Value>,
    data: ByteStream,
) -> Result<(), String> {
    let id = id_of(image);
    let (data, verdict) = verified(data, Expected::of(image))?;
    if let Err(e) = target.upload(id, data).await {
        return Err(verdict
            .mismatch()
            .map_or_else(|| e.to_string(), str::to_owned));
    }
    let stored = target
        .get(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the target's image disappeared after its upload")?;
    let differs = data_differences(image, &stored);
    if !differs.is_empty() {
        return Err(format!("after the upload, {}", differs.join("; ")));
    }
    Ok(())
}
