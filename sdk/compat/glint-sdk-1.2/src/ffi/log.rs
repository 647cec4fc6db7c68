//! Plugin logs, forwarded to the host's `tracing`.
//!
//! A plugin has its own copy of `tracing` with its own (empty) dispatcher. At load the host hands
//! over a [`HostLogger`]; the plugin installs a subscriber that formats each event and calls back.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};

use abi_stable::StableAbi;
use abi_stable::std_types::RStr;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Levels as plain codes: 1 = error … 5 = trace; 0 disables logging.
pub(crate) fn level_code(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// The host's log sink, passed to a plugin once at load.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct HostLogger {
    /// The most verbose level code the host wants; more verbose events are not even formatted.
    pub max_level: u8,
    /// Receives `(level code, driver name, plugin-side target, formatted message)`.
    pub log: extern "C" fn(u8, RStr<'_>, RStr<'_>, RStr<'_>),
}

/// Installs the forwarding subscriber as this plugin's global dispatcher (once; later calls are
/// ignored because the dispatcher cannot be replaced).
pub(crate) fn install(logger: HostLogger, driver: &'static str) {
    let forwarder = Forwarder {
        logger,
        driver,
        next_span: AtomicU64::new(1),
    };
    let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::new(forwarder));
}

struct Forwarder {
    logger: HostLogger,
    driver: &'static str,
    next_span: AtomicU64,
}

impl Subscriber for Forwarder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_code(*metadata.level()) <= self.logger.max_level
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        Some(match self.logger.max_level {
            0 => LevelFilter::OFF,
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    // Spans are not forwarded; they only need distinct ids.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = MessageVisitor(String::new());
        event.record(&mut message);
        let metadata = event.metadata();
        (self.logger.log)(
            level_code(*metadata.level()),
            RStr::from_str(self.driver),
            RStr::from_str(metadata.target()),
            RStr::from_str(&message.0),
        );
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Renders the `message` field first, then the other fields as ` name=value`.
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{rest}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
