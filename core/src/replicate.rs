//! The `glint replicate` command line: arguments, the endpoints they name,
//! and what each command prints (lines, or one JSON document with
//! `--json`; a spinner on a terminal meanwhile).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::jobs::progress::Progress;
use crate::remote::{Auth, Credentials, Images};
use crate::service::replicate::sync::{Source, sync_image};
use crate::service::replicate::{
    Action, DONT_REPLICATE, MemberChanges, Options, Outcome, data_differences, differences, dump,
    id_of, replicated, wanted_members,
};

/// `glint replicate`: options shared by every command.
#[derive(Debug, clap::Args)]
pub struct ReplicateArgs {
    #[command(subcommand)]
    pub command: ReplicateCommand,
    /// Print one JSON document.
    #[arg(long, global = true)]
    pub json: bool,
    /// Say what would be done, change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Replicate only metadata: images the target lacks are not created,
    /// and no data is copied or dumped.
    #[arg(long, short = 'm', alias = "metadata-only", global = true)]
    pub metaonly: bool,
    /// Space-separated fields neither replicated nor compared.
    #[arg(long, short = 'D', default_value = DONT_REPLICATE, global = true)]
    pub dontreplicate: String,
    /// SRC_PROJECT=DST_PROJECT: the target's owner (and member) for a
    /// source project; repeat for each. Unmapped projects are kept.
    #[arg(long, value_parser = parse_mapping, global = true)]
    pub owner_map: Vec<(String, String)>,
    /// Token for both endpoints (X-Auth-Token).
    #[arg(
        long,
        env = "GLINT_REPLICATE_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Token for the source endpoint.
    #[arg(
        long,
        alias = "mastertoken",
        env = "GLINT_REPLICATE_SOURCE_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub source_token: Option<String>,
    /// Token for the target endpoint.
    #[arg(
        long,
        alias = "slavetoken",
        env = "GLINT_REPLICATE_TARGET_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub target_token: Option<String>,
    /// Keystone of the source (password auth with the --source-* credentials).
    #[arg(long, global = true)]
    pub source_auth_url: Option<String>,
    #[arg(long, global = true)]
    pub source_username: Option<String>,
    #[arg(
        long,
        env = "GLINT_REPLICATE_SOURCE_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub source_password: Option<String>,
    #[arg(long, global = true)]
    pub source_project: Option<String>,
    /// Domain of the source's user and project.
    #[arg(long, default_value = "Default", global = true)]
    pub source_domain: String,
    /// Keystone of the target (password auth with the --target-* credentials).
    #[arg(long, global = true)]
    pub target_auth_url: Option<String>,
    #[arg(long, global = true)]
    pub target_username: Option<String>,
    #[arg(
        long,
        env = "GLINT_REPLICATE_TARGET_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub target_password: Option<String>,
    #[arg(long, global = true)]
    pub target_project: Option<String>,
    /// Domain of the target's user and project.
    #[arg(long, default_value = "Default", global = true)]
    pub target_domain: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReplicateCommand {
    /// Total size and count of SRC's active images (what a dump would hold).
    Size { src: String },
    /// Each active image of SRC missing from DST or different there.
    Compare { src: String, dst: String },
    /// Make DST hold SRC's active images: same ids, metadata, data, members.
    Livecopy { src: String, dst: String },
    /// Write SRC's active images into DIR (<id>, <id>.img, <id>.members).
    Dump { src: String, dir: PathBuf },
    /// Replicate the images of a dump in DIR into DST.
    Load { dir: PathBuf, dst: String },
}

fn parse_mapping(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err("expected SRC_PROJECT=DST_PROJECT".into()),
    }
}

#[derive(Clone, Copy)]
enum Side {
    Source,
    Target,
}

impl ReplicateArgs {
    fn options(&self) -> Options {
        Options {
            dont_replicate: self
                .dontreplicate
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            metadata_only: self.metaonly,
            dry_run: self.dry_run,
            owner_map: self.owner_map.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }

    /// The endpoint at `url`, authenticated as the flags of `side` say.
    fn endpoint(&self, url: &str, side: Side) -> anyhow::Result<Images> {
        let (token, auth_url, username, password, project, domain, flag) = match side {
            Side::Source => (
                &self.source_token,
                &self.source_auth_url,
                &self.source_username,
                &self.source_password,
                &self.source_project,
                &self.source_domain,
                "source",
            ),
            Side::Target => (
                &self.target_token,
                &self.target_auth_url,
                &self.target_username,
                &self.target_password,
                &self.target_project,
                &self.target_domain,
                "target",
            ),
        };
        let auth = match (auth_url, token.as_ref().or(self.token.as_ref())) {
            (Some(auth_url), _) => {
                let need = |v: &Option<String>, name: &str| {
                    v.clone()
                        .ok_or_else(|| anyhow::anyhow!("--{flag}-auth-url needs --{flag}-{name}"))
                };
                Auth::Password(Credentials {
                    auth_url: auth_url.clone(),
                    username: need(username, "username")?,
                    password: Secret::new(need(password, "password")?),
                    project_name: need(project, "project")?,
                    user_domain_name: domain.clone(),
                    project_domain_name: domain.clone(),
                })
            }
            (None, Some(token)) => Auth::Token(Secret::new(token.clone())),
            (None, None) => Auth::None,
        };
        Ok(Images::new(url, auth)?)
    }
}

/// Runs one `glint replicate` command.
pub async fn run(args: ReplicateArgs) -> anyhow::Result<ExitCode> {
    let options = args.options();
    let json = args.json;
    match &args.command {
        ReplicateCommand::Size { src } => size(&args.endpoint(src, Side::Source)?, json).await,
        ReplicateCommand::Compare { src, dst } => {
            let (src, dst) = (
                args.endpoint(src, Side::Source)?,
                args.endpoint(dst, Side::Target)?,
            );
            compare(&src, &dst, &options, json).await
        }
        ReplicateCommand::Livecopy { src, dst } => {
            let (src, dst) = (
                args.endpoint(src, Side::Source)?,
                args.endpoint(dst, Side::Target)?,
            );
            copy("livecopy", &Source::Service(&src), &dst, &options, json).await
        }
        ReplicateCommand::Load { dir, dst } => {
            let dst = args.endpoint(dst, Side::Target)?;
            copy("load", &Source::Dump(dir.clone()), &dst, &options, json).await
        }
        ReplicateCommand::Dump { src, dir } => {
            dump_all(&args.endpoint(src, Side::Source)?, dir, &options, json).await
        }
    }
}

async fn size(src: &Images, json: bool) -> anyhow::Result<ExitCode> {
    let images = match Source::Service(src).active_images().await {
        Ok(images) => images,
        Err(e) => return fail(json, &e),
    };
    let bytes: u64 = images
        .iter()
        .filter_map(|i| i.get("size").and_then(Value::as_u64))
        .sum();
    if json {
        println!(
            "{}",
            json!({"command": "size", "bytes": bytes, "images": images.len()})
        );
    } else {
        println!(
            "Total size is {bytes} bytes ({}) across {} images",
            human(bytes),
            images.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `compare`: exits 0 when DST holds every active image of SRC as SRC
/// has it, 1 when something is missing or differs (as `diff` does).
async fn compare(
    src: &Images,
    dst: &Images,
    options: &Options,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let source = Source::Service(src);
    let images = match source.active_images().await {
        Ok(images) => images,
        Err(e) => return fail(json, &e),
    };
    let progress = Progress::start("glint replicate compare", json);
    let mut report = Vec::new();
    for (n, image) in images.iter().enumerate() {
        progress.set(format!("{n}/{} images", images.len()));
        let found = match compare_one(&source, dst, image, options).await {
            Ok(found) => found,
            Err(e) => return fail(json, &e),
        };
        report.push((image, found));
    }
    drop(progress);
    let missing = report.iter().filter(|(_, f)| f.is_none()).count();
    let differing = report
        .iter()
        .filter(|(_, f)| f.as_ref().is_some_and(|d| !d.is_empty()))
        .count();
    if json {
        let images: Vec<Value> = report
            .iter()
            .map(|(image, found)| {
                let state = match found {
                    None => "missing",
                    Some(d) if d.is_empty() => "same",
                    Some(_) => "differs",
                };
                json!({
                    "id": id_of(image),
                    "name": image.get("name"),
                    "state": state,
                    "differences": found.clone().unwrap_or_default(),
                })
            })
            .collect();
        println!(
            "{}",
            json!({"command": "compare", "images": images, "missing": missing, "differing": differing})
        );
    } else {
        for (image, found) in &report {
            let id = id_of(image);
            match found {
                None => println!("{id}: entirely missing from the destination"),
                Some(d) => d.iter().for_each(|line| println!("{id}: {line}")),
            }
        }
        println!(
            "{} images compared: {missing} missing, {differing} differ",
            report.len()
        );
    }
    Ok(if missing + differing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What differs for one image; `None` when the target lacks it.
async fn compare_one(
    source: &Source<'_>,
    dst: &Images,
    image: &Map<String, Value>,
    options: &Options,
) -> Result<Option<Vec<String>>, String> {
    let id = id_of(image);
    let Some(theirs) = dst.get(id).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let mut found = Vec::new();
    let status = theirs.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "active" {
        found.push(format!("the destination's image is {status}"));
    }
    let wanted = replicated(image, options);
    found.extend(
        differences(&wanted, &theirs, options)
            .iter()
            .map(|d| d.describe()),
    );
    found.extend(data_differences(image, &theirs));
    if image.get("visibility").and_then(Value::as_str) == Some("shared") {
        let wanted = wanted_members(&source.members(image).await?, options);
        let members = dst.members(id).await.map_err(|e| e.to_string())?;
        let theirs = wanted_members(&members, &Options::default());
        found.extend(
            MemberChanges::between(&wanted, &theirs)
                .describe()
                .into_iter()
                .map(|m| format!("{m} on the destination to match")),
        );
    }
    Ok(Some(found))
}

/// `livecopy` and `load`: each active image of the source, in turn.
async fn copy(
    command: &str,
    source: &Source<'_>,
    dst: &Images,
    options: &Options,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let images = match source.active_images().await {
        Ok(images) => images,
        Err(e) => return fail(json, &e),
    };
    let started = Instant::now();
    let progress = Progress::start(&format!("glint replicate {command}"), json);
    let mut outcomes = Vec::with_capacity(images.len());
    for (n, image) in images.iter().enumerate() {
        progress.set(format!(
            "{n}/{} images, {}",
            images.len(),
            human(copied(&outcomes))
        ));
        let outcome = sync_image(source, dst, image, options).await;
        log(&outcome);
        outcomes.push(outcome);
    }
    drop(progress);
    Ok(report(command, &outcomes, started, options, json))
}

async fn dump_all(
    src: &Images,
    dir: &Path,
    options: &Options,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !options.dry_run {
        std::fs::create_dir_all(dir)?;
    }
    let images = match Source::Service(src).active_images().await {
        Ok(images) => images,
        Err(e) => return fail(json, &e),
    };
    let started = Instant::now();
    let progress = Progress::start("glint replicate dump", json);
    let mut outcomes = Vec::with_capacity(images.len());
    for (n, image) in images.iter().enumerate() {
        progress.set(format!(
            "{n}/{} images, {}",
            images.len(),
            human(copied(&outcomes))
        ));
        let outcome = dump::dump_image(src, dir, image, options).await;
        log(&outcome);
        outcomes.push(outcome);
    }
    drop(progress);
    Ok(report("dump", &outcomes, started, options, json))
}

fn log(outcome: &Outcome) {
    match outcome.action {
        Action::Failed => {
            tracing::warn!(image = %outcome.id, details = ?outcome.details, "replication failed")
        }
        action => {
            tracing::debug!(image = %outcome.id, ?action, details = ?outcome.details, "replicated")
        }
    }
}

fn copied(outcomes: &[Outcome]) -> u64 {
    outcomes
        .iter()
        .filter(|o| o.action != Action::Failed)
        .map(|o| o.bytes)
        .sum()
}

/// Prints the outcomes; fails when an image failed.
fn report(
    command: &str,
    outcomes: &[Outcome],
    started: Instant,
    options: &Options,
    json: bool,
) -> ExitCode {
    let seconds = started.elapsed().as_secs_f64();
    let bytes = copied(outcomes);
    let actions = [
        Action::Created,
        Action::Resumed,
        Action::Updated,
        Action::Unchanged,
        Action::Skipped,
        Action::Failed,
    ];
    let count = |a: Action| outcomes.iter().filter(|o| o.action == a).count();
    let name = |a: Action| {
        serde_json::to_value(a)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    if json {
        let counts: Map<String, Value> = actions
            .iter()
            .map(|a| (name(*a), json!(count(*a))))
            .collect();
        println!(
            "{}",
            json!({
                "command": command,
                "dry_run": options.dry_run,
                "images": outcomes,
                "counts": counts,
                "bytes": bytes,
                "seconds": seconds,
            })
        );
    } else {
        let would = if options.dry_run { "would be " } else { "" };
        for o in outcomes.iter().filter(|o| o.action != Action::Unchanged) {
            let name = o
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let details = if o.details.is_empty() {
                String::new()
            } else {
                format!(": {}", o.details.join("; "))
            };
            println!("{}{name}: {would}{}{details}", o.id, name_of(o.action));
        }
        let counts: Vec<String> = actions
            .iter()
            .map(|a| format!("{} {}", count(*a), name(*a)))
            .collect();
        let rate = if seconds > 0.0 {
            bytes as f64 / seconds / 1e6
        } else {
            0.0
        };
        println!(
            "{command}: {}; {bytes} bytes ({}) {would}copied in {seconds:.1} s ({rate:.1} MB/s)",
            counts.join(", "),
            human(bytes)
        );
    }
    if count(Action::Failed) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn name_of(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Resumed => "resumed",
        Action::Updated => "updated",
        Action::Unchanged => "unchanged",
        Action::Skipped => "skipped",
        Action::Failed => "failed",
    }
}

/// Listing the source failed: nothing was done.
fn fail(json: bool, message: &str) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", json!({"error": message}));
    } else {
        eprintln!("{message}");
    }
    Ok(ExitCode::from(2))
}

/// `1.5 GiB`, `300 KiB`, `12 B`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(12), "12 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }

    #[test]
    fn owner_mappings_need_both_sides() {
        assert_eq!(parse_mapping("a=b").unwrap(), ("a".into(), "b".into()));
        assert!(parse_mapping("a").is_err());
        assert!(parse_mapping("=b").is_err());
    }
}
