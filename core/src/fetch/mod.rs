//! Outbound HTTP: every request Glint makes to a URL a client gave it
//! (web-download, glance-download, the legacy import task) or names as a
//! location goes through here.
//!
//! - [`filter`]: the `[import_filtering]` lists (schemes, hosts, ports); the
//!   host is resolved once, while it is checked;
//! - [`address`]: the resolved address must not be an internal one
//!   (loopback, link-local, unspecified) unless the host is explicitly allowed;
//! - [`client`]: a client pinned to that checked address, so a second DNS
//!   answer cannot send the request elsewhere, and that follows no redirects;
//! - [`redact`]: URLs as messages and logs may show them.
//!
//! Services call this module; it knows nothing of images or tasks.

pub mod address;
pub mod client;
pub mod filter;
mod redact;

pub use client::{FetchError, Pinned};
pub use filter::{Checked, Refused};
pub use redact::redact;

use crate::config::ImportFilteringConfig;

/// Checks `uri` against the filter and the address rules, and returns where a
/// fetch of it must connect: the single DNS answer both checks looked at.
pub async fn pin(filter: &ImportFilteringConfig, uri: &str) -> Result<Pinned, Refused> {
    let checked = filter::check(filter, uri).await?;
    let addr = checked.addr.ok_or(Refused)?;
    if !address::allowed(filter, &checked.host, addr.ip()) {
        return Err(Refused);
    }
    Ok(Pinned {
        host: checked.host,
        addr,
    })
}
