//! What a one-shot job command shows while it runs: a spinner with the
//! job's running counts on standard error, only when that is a terminal and
//! the output is not `--json`. Piped or redirected, and with `--json`, the
//! command prints exactly what it printed without it (no escape codes), so
//! scripts and cron mails see the same lines.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the spinner turns while a unit of work (one pass, one purge
/// statement) runs without news.
const TICK: Duration = Duration::from_millis(120);

/// A spinner, or nothing at all.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A spinner for `job` if standard error is a terminal and `as_json` is off.
    pub fn start(job: &str, as_json: bool) -> Progress {
        Progress::on(job, !as_json && std::io::stderr().is_terminal())
    }

    fn on(job: &str, shown: bool) -> Progress {
        if !shown {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(job.to_owned());
        bar.set_message("starting");
        bar.enable_steady_tick(TICK);
        Progress(Some(bar))
    }

    /// Shows where the job is (its counts so far).
    pub fn set(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }

    /// Whether anything is drawn.
    pub fn shown(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Progress {
    /// The spinner goes before the command prints its result, so the
    /// terminal keeps only the result lines.
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_no_terminal_draws_nothing() {
        assert!(!Progress::start("scrub", true).shown());
        assert!(!Progress::on("scrub", false).shown());
        let on = Progress::on("scrub", true);
        assert!(on.shown());
        on.set("1 deleted");
    }
}
