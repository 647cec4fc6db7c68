//! The http store: read-only access to images at http(s) URLs.

use glint_sdk::{
    Capabilities, DriverDescription, ErrorKind, GetOutcome, OpenContext, ReadRange, RequestContext,
    StoreDriver, StoreError,
};
use reqwest::Url;

use crate::client::{HttpClient, Target};
use crate::config::HttpConfig;

/// Images served by any HTTP(S) server; the locations are the URLs themselves.
pub struct HttpDriver {
    client: HttpClient,
}

impl StoreDriver for HttpDriver {
    const DRIVER: &'static str = "http";

    fn open(ctx: OpenContext, config: serde_json::Value) -> Result<Self, StoreError> {
        let config = HttpConfig::parse(config)?;
        let client = HttpClient::new(&config)?;
        tracing::info!(store = %ctx.store_id, ?config, "http store opened");
        Ok(HttpDriver { client })
    }

    fn describe() -> DriverDescription {
        DriverDescription::new(Self::DRIVER, &["http", "https"])
            .with_option_defaults(HttpConfig::defaults())
            .with_secret_options(&["password"])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::read_only()
    }

    async fn get(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        self.client.get(&target(location)?, range).await
    }

    async fn size(
        &self,
        _caller: Option<&RequestContext>,
        location: &str,
    ) -> Result<u64, StoreError> {
        self.client.size(&target(location)?).await
    }
}

/// The URL of a location; anything but an absolute http(s) URL is refused with `PermissionDenied`.
fn target(location: &str) -> Result<Target, StoreError> {
    let refused = |reason: &str| {
        // The location may carry a password: name it only by scheme and host.
        let shown = location.split(['@', '/']).next().unwrap_or_default();
        StoreError::new(
            ErrorKind::PermissionDenied,
            format!("location {shown}…: {reason}"),
        )
    };
    let url = Url::parse(location).map_err(|err| refused(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(refused("not an http(s) URL with a host"));
    }
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Ignored result: a URL with a password has a host, which is all set_password needs.
        let _ = shown.set_password(Some("***"));
    }
    Ok(Target {
        url,
        subject: shown.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_http_urls() {
        let plain = target("http://images.example/cirros.img").unwrap();
        assert_eq!(plain.subject, "http://images.example/cirros.img");
        let secret = target("https://glance:s3cr3t@images.example/a.img").unwrap();
        assert_eq!(secret.subject, "https://glance:***@images.example/a.img");
        assert_eq!(secret.url.password(), Some("s3cr3t"));
        for bad in [
            "file:///etc/passwd",
            "ftp://images.example/a.img",
            "images.example/a.img",
            "http://",
            "unsupported://location",
            "",
        ] {
            let err = target(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
        let err = target("ftp://glance:s3cr3t@images.example/a.img")
            .err()
            .unwrap();
        assert!(!err.message.contains("s3cr3t"), "{err}");
    }
}
