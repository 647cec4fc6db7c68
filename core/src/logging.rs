//! Log output. Which events: the `GLINT_LOG` environment variable, in
//! `tracing_subscriber::EnvFilter` syntax (`info`, `warn,glint_core::api=debug`).
//! How: `log_format` (`text` or `json`). Colours only when the output is a
//! terminal, so files and journald get no escape codes.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("GLINT_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// `glint serve`: events at `info` and above unless `GLINT_LOG` says otherwise, to stdout.
pub fn init_server(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_target(true);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}

/// Admin commands: warnings to stderr, as stdout is their answer.
pub fn init_cli() {
    tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
