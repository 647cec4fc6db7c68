//! The `[import_filtering]` lists, as Glance's `validate_import_uri` applies
//! them: the scheme, the host and (when the URL names one) the port must be
//! on their allowed list when it is set, else off their disallowed list.
//! Host names must resolve; IP addresses are compared in their normal form
//! (the URL parser turns `127.1` or `0x7f000001` into `127.0.0.1`, so encoded
//! addresses cannot slip past a list).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

use crate::config::ImportFilteringConfig;

/// The URL does not pass the filter. Callers word the refusal: each names
/// its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the URL does not pass filtering")]
pub struct Refused;

/// A URL that passed the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The host as the lists saw it: an IP address in its normal form, or a
    /// lower-cased name.
    pub host: String,
    /// The one address the host resolved to, with the URL's port; `None`
    /// when the scheme has no known default port and the URL names none.
    pub addr: Option<SocketAddr>,
}

/// A URL's host, normalised for the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    /// The host part of a URL (`127.0.0.1`, `[::1]`, `Example.org`).
    pub fn parse(host: &str) -> Result<Self, Refused> {
        let ip = host.parse::<Ipv4Addr>().map(IpAddr::from).or_else(|_| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<Ipv6Addr>()
                .map(IpAddr::from)
        });
        match ip {
            Ok(ip) => Ok(Self::Ip(ip)),
            // A name of digits and dots is an address the parser did not
            // normalise (a scheme it does not know): it could name anything.
            Err(_) if host.chars().all(|c| c.is_ascii_digit() || c == '.') => Err(Refused),
            Err(_) => Ok(Self::Name(host.to_ascii_lowercase())),
        }
    }

    /// As the lists compare it.
    pub fn listed_as(&self) -> String {
        match self {
            Self::Ip(ip) => ip.to_string(),
            Self::Name(name) => name.clone(),
        }
    }
}

/// The list checks alone, on a parsed URL and its normalised host (no DNS).
pub fn lists_allow(filter: &ImportFilteringConfig, url: &Url, host: &str) -> bool {
    let listed = |list: &[String], value: &str| list.iter().any(|v| v.eq_ignore_ascii_case(value));
    let passes = |allowed: &[String], disallowed: &[String], value: &str| {
        if allowed.is_empty() {
            !listed(disallowed, value)
        } else {
            listed(allowed, value)
        }
    };
    if !passes(
        &filter.allowed_schemes,
        &filter.disallowed_schemes,
        url.scheme(),
    ) {
        return false;
    }
    if !passes(&filter.allowed_hosts, &filter.disallowed_hosts, host) {
        return false;
    }
    // Only a port the URL names is checked: the scheme's default is implied.
    match url.port() {
        None => true,
        Some(port) if filter.allowed_ports.is_empty() => !filter.disallowed_ports.contains(&port),
        Some(port) => filter.allowed_ports.contains(&port),
    }
}

/// Checks `uri` against the lists and resolves its host, once.
pub async fn check(filter: &ImportFilteringConfig, uri: &str) -> Result<Checked, Refused> {
    let url = Url::parse(uri).map_err(|_| Refused)?;
    let host = Host::parse(url.host_str().ok_or(Refused)?)?;
    let listed_as = host.listed_as();
    if !lists_allow(filter, &url, &listed_as) {
        return Err(Refused);
    }
    let port = url.port_or_known_default();
    let ip = match &host {
        Host::Ip(ip) => *ip,
        Host::Name(name) => {
            // Absolute, so the resolver's search domains cannot lend a
            // meaning to a name that has none.
            let absolute = format!("{}.", name.trim_end_matches('.'));
            tokio::net::lookup_host((absolute.as_str(), port.unwrap_or(80)))
                .await
                .map_err(|_| Refused)?
                .next()
                .ok_or(Refused)?
                .ip()
        }
    };
    Ok(Checked {
        host: listed_as,
        addr: port.map(|port| SocketAddr::new(ip, port)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn hosts_are_compared_in_their_normal_form() {
        assert_eq!(
            Host::parse("127.0.0.1"),
            Ok(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(Host::parse("[::1]"), Ok(Host::Ip("::1".parse().unwrap())));
        assert_eq!(
            Host::parse("Images.Example.ORG"),
            Ok(Host::Name("images.example.org".into()))
        );
        assert_eq!(Host::parse("2130706433"), Err(Refused));
        assert_eq!(Host::parse("127.1"), Err(Refused));
        // The URL parser normalises encoded addresses of http(s) URLs first.
        assert_eq!(url("http://0x7f000001/x").host_str(), Some("127.0.0.1"));
    }

    #[test]
    fn an_allowed_list_wins_over_its_disallowed_list() {
        let mut filter = ImportFilteringConfig::default();
        assert!(lists_allow(&filter, &url("http://h/x"), "h"));
        assert!(lists_allow(&filter, &url("https://h:443/x"), "h"));
        assert!(!lists_allow(&filter, &url("ftp://h/x"), "h"));
        assert!(!lists_allow(&filter, &url("http://h:8080/x"), "h"));

        filter.allowed_schemes.clear();
        filter.disallowed_schemes = vec!["FTP".into()];
        assert!(!lists_allow(&filter, &url("ftp://h/x"), "h"));
        assert!(lists_allow(&filter, &url("gopher://h/x"), "h"));

        filter.allowed_ports.clear();
        filter.disallowed_ports = vec![8080];
        assert!(!lists_allow(&filter, &url("http://h:8080/x"), "h"));
        assert!(lists_allow(&filter, &url("http://h:8081/x"), "h"));

        filter.disallowed_hosts = vec!["bad".into()];
        assert!(!lists_allow(&filter, &url("http://bad/x"), "bad"));
        filter.allowed_hosts = vec!["good".into()];
        assert!(!lists_allow(&filter, &url("http://other/x"), "other"));
        assert!(lists_allow(&filter, &url("http://good/x"), "good"));
    }

    #[tokio::test]
    async fn the_filter_follows_glance_lists() {
        let mut filter = ImportFilteringConfig::default();
        let allowed = |f: &ImportFilteringConfig, u: &'static str| {
            let f = f.clone();
            async move { check(&f, u).await.is_ok() }
        };
        assert!(allowed(&filter, "http://127.0.0.1/x").await);
        assert!(!allowed(&filter, "http://127.0.0.1:8088/x").await);
        assert!(!allowed(&filter, "ftp://127.0.0.1/x").await);
        filter.allowed_ports = vec![];
        filter.disallowed_hosts = vec!["127.0.0.1".into()];
        assert!(!allowed(&filter, "http://127.0.0.1:8088/x").await);
        // Encoded forms of a refused address are refused too.
        assert!(!allowed(&filter, "http://2130706433/x").await);
        assert!(!allowed(&filter, "http://127.1/x").await);
        filter.allowed_hosts = vec!["127.0.0.1".into()];
        assert!(allowed(&filter, "http://127.0.0.1:8088/x").await);
        assert!(!allowed(&filter, "http://[::1]/x").await);
        assert!(!allowed(&filter, "http://no-such-host.invalid/x").await);
        assert!(!allowed(&filter, "not a url").await);
    }

    #[tokio::test]
    async fn an_address_host_is_not_resolved_and_keeps_the_port() {
        let filter = ImportFilteringConfig {
            allowed_ports: vec![],
            ..Default::default()
        };
        let checked = check(&filter, "http://[::1]:8088/x").await.unwrap();
        assert_eq!(checked.host, "::1");
        assert_eq!(checked.addr, Some("[::1]:8088".parse().unwrap()));
        let checked = check(&filter, "https://127.0.0.1/x").await.unwrap();
        assert_eq!(checked.addr, Some("127.0.0.1:443".parse().unwrap()));
    }
}
