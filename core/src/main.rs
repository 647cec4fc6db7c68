//! `glint`: the image service and its admin commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use glint_core::config::{Config, DEFAULTS_TOML, Overrides};
use glint_core::db::{Database, LoadMode, Loaded};
use glint_core::jobs::cli;
use glint_core::service::metadefs::load;

#[derive(Parser)]
#[command(
    name = "glint",
    version,
    about = "An OpenStack Glance-compatible image service"
)]
struct Cli {
    /// TOML configuration file (default: /etc/glint/glint.toml when it exists).
    #[arg(long, short, global = true, env = "GLINT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Images API.
    Serve {
        /// Listen address, host (or host name) and port (default 127.0.0.1:9292);
        /// port 0 picks a free one, logged at start.
        #[arg(long, value_parser = glint_core::config::resolve_bind)]
        bind: Option<SocketAddr>,
        /// State directory: SQLite database, file store, plugins (default ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Metadata definitions in the database `serve` uses: load them from
    /// files, export them to files, remove them.
    Metadefs {
        /// State directory, as for `serve` (default ./data).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: MetadefsCommand,
    },
    /// Policy rules.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Store plugins.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// The reaper, once: delete pending store work and the data of images
    /// waiting in pending_delete, until nothing is due (glance-scrubber).
    Scrub {
        /// State directory, as for `serve` (default ./data).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// Print one JSON document.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: Option<ScrubCommand>,
    },
    /// Background jobs.
    Jobs {
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Copy images between two Images API v2 endpoints (Glint or Glance),
    /// or through a directory, as glance-replicator does.
    Replicate(glint_core::replicate::ReplicateArgs),
    /// The auditor, once: check that every location of every active image
    /// exists with the image's size (and, with --content, still has its
    /// checksum and hash). Exits 2 when damaged data was found.
    Audit {
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// Print one JSON document.
        #[arg(long, global = true)]
        json: bool,
        /// Read the data back and check checksum and os_hash_value.
        #[arg(long)]
        content: bool,
        /// Search the stores that can list for data no location names.
        #[arg(long)]
        orphans: bool,
        /// Only this image (its content is read whether due or not).
        #[arg(long)]
        image: Option<uuid::Uuid>,
        /// Only locations in this store.
        #[arg(long)]
        store: Option<String>,
        #[command(subcommand)]
        command: Option<AuditCommand>,
    },
    /// Database maintenance.
    Db {
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Each plugin found: driver, file, the plugin ABI it was built with, the
    /// stores using it and their capabilities; files refused and why; where it
    /// looked. Fails when a configured driver has no plugin.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// The damaged copies and orphans on record: what was expected, what was found, and when.
    Report {
        /// Every check on record, not only the failures.
        #[arg(long)]
        all: bool,
    },
    /// Re-copy an image's damaged copies from a healthy one.
    Repair { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum ScrubCommand {
    /// Bring an image waiting in pending_delete back to active.
    Restore { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// The jobs, the node running each, and the pending work: what, why, since when.
    List,
    /// Run one job once, until nothing is due: `recovery` (uploads whose node
    /// is gone) or `updater` (deferred work other than deletes).
    Run { job: String },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Whether the schema is current (exit 0), needs `db upgrade` (exit 2)
    /// or was upgraded by a newer release (exit 1). Changes nothing.
    Check,
    /// Apply the pending schema migrations (also done by `serve` at start).
    Upgrade,
    /// Remove the rows of images deleted more than --age-in-days ago (members,
    /// properties, tags, locations) and of expired tasks, at most --max-rows
    /// per table (-1: all), as glance-manage db purge does.
    Purge {
        #[arg(
            long,
            alias = "age_in_days",
            default_value_t = 30,
            allow_negative_numbers = true
        )]
        age_in_days: i64,
        #[arg(
            long,
            alias = "max_rows",
            default_value_t = 100,
            allow_negative_numbers = true
        )]
        max_rows: i64,
    },
    /// Remove the rows of images deleted more than --age-in-days ago that
    /// nothing refers to any more; their ids become reusable.
    PurgeImagesTable {
        #[arg(
            long,
            alias = "age_in_days",
            default_value_t = 180,
            allow_negative_numbers = true
        )]
        age_in_days: i64,
        #[arg(
            long,
            alias = "max_rows",
            default_value_t = 100,
            allow_negative_numbers = true
        )]
        max_rows: i64,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the default rules as a policy file (YAML).
    Defaults,
}

#[derive(Subcommand)]
enum MetadefsCommand {
    /// Load every *.json definitions file in PATH (or the file PATH).
    /// A namespace already in the database is skipped unless --merge is given.
    Load {
        path: PathBuf,
        /// Add the objects, properties, tags and resource-type associations
        /// an existing namespace lacks.
        #[arg(long)]
        merge: bool,
        /// With --merge: also update the existing namespace and the items it
        /// shares with the file from the file.
        #[arg(
            long,
            alias = "prefer_new",
            requires = "merge",
            conflicts_with = "overwrite"
        )]
        prefer_new: bool,
        /// With --merge: replace an existing namespace and all its content.
        #[arg(long, requires = "merge")]
        overwrite: bool,
    },
    /// Write each namespace to DIR/<namespace>.json.
    Export { dir: PathBuf },
    /// Delete every namespace and resource type.
    Unload,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the commented default configuration file.
    Defaults,
    /// Print the effective configuration (file, environment and defaults
    /// merged) as TOML, with passwords, keys and tokens replaced by ***.
    Show,
}

fn main() -> anyhow::Result<ExitCode> {
    // Before any other thread exists: the allocator fixes its arena limit when the
    // second thread first allocates.
    allocator::limit_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<ExitCode> {
    let mut cli = Cli::parse();
    cli.config = config_file(cli.config);
    match cli.command {
        Command::Serve { bind, data_dir } => {
            let config = Config::load(cli.config.as_deref(), Overrides { bind, data_dir })?;
            glint_core::logging::init_server(config.log_format);
            for warning in &config.warnings {
                tracing::warn!("{warning}");
            }
            let app = glint_core::server::build(config).await?;
            tokio::spawn(allocator::release_free_memory_periodically());
            glint_core::server::serve(app).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Defaults,
        } => {
            print!("{DEFAULTS_TOML}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            let config = config_in(cli.config.as_deref(), None)?;
            print!("{}", glint_core::admin::config_show(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "glint", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugins {
            command: PluginsCommand::List { json },
        } => {
            let config = config_in(cli.config.as_deref(), None)?;
            glint_core::admin::plugins_list(&config, json)
        }
        Command::Metadefs { data_dir, command } => {
            let config = Config::load(
                cli.config.as_deref(),
                Overrides {
                    data_dir,
                    ..Overrides::default()
                },
            )?;
            let db = open_database(&config).await?;
            let result = metadefs(&db, command).await;
            db.close().await;
            result
        }
        Command::Policy {
            command: PolicyCommand::Defaults,
        } => {
            print!("{}", glint_core::policy::defaults_yaml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            println!("{}", glint_core::api::spec());
            Ok(ExitCode::SUCCESS)
        }
        Command::Scrub {
            data_dir,
            json,
            command,
        } => {
            let config = config_in(cli.config.as_deref(), data_dir)?;
            let db = open_database(&config).await?;
            let result = match command {
                None => cli::scrub(&config, &db, json).await,
                Some(ScrubCommand::Restore { id }) => cli::restore(&db, id, json).await,
            };
            db.close().await;
            result
        }
        Command::Jobs {
            data_dir,
            json,
            command: JobsCommand::List,
        } => {
            let config = config_in(cli.config.as_deref(), data_dir)?;
            let db = open_database(&config).await?;
            let result = cli::list(&config, &db, json).await;
            db.close().await;
            result
        }
        Command::Jobs {
            data_dir,
            json,
            command: JobsCommand::Run { job },
        } => {
            let config = config_in(cli.config.as_deref(), data_dir)?;
            let app = glint_core::server::build(config).await?;
            cli::run_job(app, &job, json).await
        }
        Command::Replicate(args) => {
            glint_core::logging::init_cli();
            glint_core::replicate::run(args).await
        }
        Command::Audit {
            data_dir,
            json,
            content,
            orphans,
            image,
            store,
            command,
        } => {
            let config = config_in(cli.config.as_deref(), data_dir)?;
            if let Some(AuditCommand::Report { all }) = command {
                let db = open_database(&config).await?;
                let result = glint_core::jobs::audit_cli::report(&db, all, json).await;
                db.close().await;
                return result;
            }
            let app = glint_core::server::build(config).await?;
            match command {
                Some(AuditCommand::Repair { id }) => {
                    glint_core::jobs::audit_cli::repair(app, id, json).await
                }
                _ => {
                    let scope = glint_core::jobs::audit::Scope {
                        content,
                        orphans,
                        image,
                        store,
                    };
                    glint_core::jobs::audit_cli::run(app, scope, json).await
                }
            }
        }
        Command::Db {
            data_dir,
            json,
            command,
        } => {
            let config = config_in(cli.config.as_deref(), data_dir)?;
            if matches!(command, DbCommand::Check | DbCommand::Upgrade) {
                std::fs::create_dir_all(&config.data_dir).with_context(|| {
                    format!("cannot create data_dir {}", config.data_dir.display())
                })?;
                // Opened without migrating: these two decide about the schema.
                let db = Database::open(&config.database_url()).await?;
                let result = if matches!(command, DbCommand::Check) {
                    glint_core::admin::db_check(&db, json).await
                } else {
                    glint_core::admin::db_upgrade(&db, json).await
                };
                db.close().await;
                return result;
            }
            let db = open_database(&config).await?;
            let result = match command {
                DbCommand::Check | DbCommand::Upgrade => unreachable!("handled above"),
                DbCommand::Purge {
                    age_in_days,
                    max_rows,
                } => cli::db_purge(&db, age_in_days, max_rows, false, json).await,
                DbCommand::PurgeImagesTable {
                    age_in_days,
                    max_rows,
                } => cli::db_purge(&db, age_in_days, max_rows, true, json).await,
            };
            db.close().await;
            result
        }
    }
}

/// The installed configuration file, read when no other is named.
const SYSTEM_CONFIG: &str = "/etc/glint/glint.toml";

fn config_file(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| {
        let system = Path::new(SYSTEM_CONFIG);
        system.exists().then(|| system.to_path_buf())
    })
}

/// The configuration of an admin command run on `data_dir`.
fn config_in(file: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
    glint_core::logging::init_cli();
    let config = Config::load(
        file,
        Overrides {
            data_dir,
            ..Overrides::default()
        },
    )?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    Ok(config)
}

async fn open_database(config: &Config) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    Ok(
        Database::connect_waiting(&config.database_url(), config.database_acquire_timeout())
            .await?,
    )
}

async fn metadefs(db: &Database, command: MetadefsCommand) -> anyhow::Result<ExitCode> {
    match command {
        MetadefsCommand::Load {
            path,
            merge,
            prefer_new,
            overwrite,
        } => {
            let mode = match (merge, prefer_new, overwrite) {
                (false, _, _) => LoadMode::Skip,
                (true, true, _) => LoadMode::PreferNew,
                (true, _, true) => LoadMode::Overwrite,
                (true, false, false) => LoadMode::Merge,
            };
            let report = load::load(db, &path, mode)
                .await
                .with_context(|| format!("cannot read definitions from {}", path.display()))?;
            for file in &report.files {
                let name = file.file.display();
                match &file.outcome {
                    Ok(loaded) => println!("{name}: {}", describe(*loaded)),
                    Err(err) => eprintln!("{name}: {err}"),
                }
            }
            println!("{report}");
            Ok(if report.failed() > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        MetadefsCommand::Export { dir } => {
            let files = load::export(db, &dir).await?;
            println!("{} namespaces exported to {}", files.len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        MetadefsCommand::Unload => {
            db.delete_all_metadefs().await?;
            println!("every metadata definition deleted");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn describe(loaded: Loaded) -> &'static str {
    match loaded {
        Loaded::Created => "created",
        Loaded::Merged => "merged into the existing namespace",
        Loaded::Replaced => "replaced the existing namespace",
        Loaded::Skipped => "skipped: the namespace exists (see --merge)",
    }
}

/// glibc malloc, tuned for a server whose large allocations are transfer buffers.
///
/// By default glibc gives each thread that meets contention an arena of its own, up to eight per
/// core, and each arena keeps the memory freed into it: with an upload's or download's buffers
/// allocated on one thread and freed on another, many arenas each hold a transfer's worth of
/// freed buffers. One arena keeps the reuse (a new buffer costs no page faults) without the
/// multiplication; measured with 8 concurrent uploads and downloads, it loses no throughput.
/// `MALLOC_ARENA_MAX` in the environment still decides when it is set.
///
/// Freed memory inside the heap stays resident until trimmed: starting up (plugins, migrations,
/// metadefs, the API document) frees more than the server keeps, and so does a burst of
/// transfers. A trim every few seconds hands those pages back.
mod allocator {
    use std::time::Duration;

    /// How often freed pages go back to the system.
    const TRIM_EVERY: Duration = Duration::from_secs(2);

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn limit_arenas() {
        const ARENAS: libc::c_int = 1;
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets a malloc parameter; no other thread exists yet.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        }
    }

    /// Hands the pages of freed memory back to the system, every [`TRIM_EVERY`], forever.
    pub async fn release_free_memory_periodically() {
        let mut every =
            tokio::time::interval_at(tokio::time::Instant::now() + TRIM_EVERY, TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // Walks the free lists under the allocator's lock: a blocking call, if a short one.
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn release_free_memory() {
        // SAFETY: malloc_trim takes the allocator's locks; it is safe to call at any time.
        unsafe { libc::malloc_trim(0) };
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn limit_arenas() {}

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    fn release_free_memory() {}
}
