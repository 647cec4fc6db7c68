//! `glint`: the image service and its admin commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use glint_core::config::{Config, DEFAULTS_TOML, Overrides};

#[derive(Parser)]
#[command(
    name = "glint",
    version,
    about = "An OpenStack Glance-compatible image service"
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, short, global = true, env = "GLINT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Images API.
    Serve {
        /// Listen address (default 127.0.0.1:9292).
        #[arg(long)]
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
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the commented default configuration file.
    Defaults,
    /// Print the effective configuration (file, environment and defaults merged).
    Show,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { bind, data_dir } => {
            init_tracing();
            let config = Config::load(cli.config.as_deref(), Overrides { bind, data_dir })?;
            let app = glint_core::server::build(config).await?;
            glint_core::server::serve(app).await
        }
        Command::Config {
            command: ConfigCommand::Defaults,
        } => {
            print!("{DEFAULTS_TOML}");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            let config = Config::load(cli.config.as_deref(), Overrides::default())?;
            print!("{}", toml_string(&config)?);
            Ok(())
        }
        Command::Openapi => {
            println!("{}", glint_core::api::spec());
            Ok(())
        }
    }
}

fn toml_string(config: &Config) -> anyhow::Result<String> {
    // figment's TOML provider reads only; serialise through serde_json for a readable dump.
    Ok(serde_json::to_string_pretty(config)?)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GLINT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .init();
}
