//! Which resolved addresses a fetch may connect to. The lists of
//! [`super::filter`] speak of names; this speaks of where a name leads, so a
//! public name that resolves to this machine cannot reach its services.

use std::net::IpAddr;

use crate::config::ImportFilteringConfig;

/// Addresses that reach this machine or its link rather than the outside
/// world: loopback, link-local (cloud metadata services live there) and
/// unspecified, also when written as IPv4-mapped IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Whether a fetch of `host` may connect to `ip`: any outside address, and an
/// internal one only when the operator allowed that host (by name or by this
/// very address) in `allowed_hosts`.
pub fn allowed(filter: &ImportFilteringConfig, host: &str, ip: IpAddr) -> bool {
    !is_internal(ip)
        || filter
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host) || h.parse::<IpAddr>().ok() == Some(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_in_every_spelling() {
        for internal in [
            "127.0.0.1",
            "127.9.9.9",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip(internal)), "{internal}");
        }
        for outside in [
            "192.0.2.2",
            "10.0.0.1",
            "2001:db8::1",
            "fec0::1",
            "::ffff:192.0.2.2",
        ] {
            assert!(!is_internal(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn an_internal_address_needs_its_host_allowed() {
        let mut filter = ImportFilteringConfig::default();
        assert!(allowed(&filter, "example.org", ip("192.0.2.2")));
        assert!(!allowed(&filter, "example.org", ip("127.0.0.1")));
        assert!(!allowed(&filter, "127.0.0.1", ip("127.0.0.1")));
        filter.allowed_hosts = vec!["Example.ORG".into()];
        assert!(allowed(&filter, "example.org", ip("127.0.0.1")));
        assert!(!allowed(&filter, "other.org", ip("127.0.0.1")));
        filter.allowed_hosts = vec!["::1".into()];
        assert!(allowed(&filter, "localhost", ip("::1")));
        assert!(!allowed(&filter, "localhost", ip("127.0.0.1")));
    }
}
