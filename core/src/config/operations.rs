//! What operators run the service with: the health check, the metrics
//! listener, TLS, the log format, the `bind` address parser.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

/// `[health]`: `/healthcheck`, answered before authentication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// While this file exists the check answers 503, so that a load
    /// balancer drains the node before it is stopped.
    pub disable_by_file: Option<PathBuf>,
    /// Seconds between SIGTERM and the start of the shutdown, during which
    /// the node goes on serving while the check answers 503 "DRAINING", so
    /// that a load balancer stops sending it requests before it stops
    /// accepting them. 0: the shutdown starts at once.
    pub drain_secs: u64,
}

/// `[metrics]`: Prometheus metrics on a listener of their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address `/metrics` is served on; off when unset. A separate port keeps
    /// the metrics off the public API and out of its authentication.
    // `default`: an optional setting may be absent (a plain Option needs no attribute,
    // one read through a function does).
    #[serde(default, deserialize_with = "optional_bind")]
    pub bind: Option<SocketAddr>,
}

/// `[tls]`: serve the API over HTTPS when both files are set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's certificate first.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of that certificate.
    pub key_file: Option<PathBuf>,
}

impl TlsConfig {
    /// The certificate and key, when TLS is on.
    pub fn files(&self) -> Option<(&PathBuf, &PathBuf)> {
        self.cert_file.as_ref().zip(self.key_file.as_ref())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// `host:port` where host may be a name: resolved once, at load, to its first address.
pub fn resolve_bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|e| format!("cannot resolve the address {text:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("the host of {text:?} has no address"))
}

/// Deserializes `bind`: an address or `host name:port`.
pub(super) fn bind<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    resolve_bind(&text).map_err(serde::de::Error::custom)
}

fn optional_bind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    Option::<String>::deserialize(d)?
        .filter(|text| !text.is_empty())
        .map(|text| resolve_bind(&text).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_addresses_and_host_names() {
        assert_eq!(
            resolve_bind("127.0.0.1:9292").unwrap(),
            "127.0.0.1:9292".parse().unwrap()
        );
        assert_eq!(resolve_bind("localhost:81").unwrap().port(), 81);
        assert!(resolve_bind("localhost").is_err());
    }
}
