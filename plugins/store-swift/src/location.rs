//! Locations: `swift+config://<store-id>/<container>/<object>`, and in multi-tenant mode
//! `swift+http(s)://<storage URL without its scheme>/<container>/<object>`.
//!
//! `swift+config` is glance_store's scheme for "the credentials come from the configuration", so a
//! location never carries a user, key or token, and stays valid when they change. The store id
//! stands where Glance names its credentials reference. A multi-tenant location names the account
//! (the caller brings the token), as glance_store's multi-tenant store writes them, and never
//! carries credentials either.

use glint_sdk::{ErrorKind, StoreError};
use reqwest::Url;

use crate::client::ObjectPath;

const SCHEME: &str = "swift+config://";

/// A parsed location of this store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The account's storage URL, for multi-tenant locations.
    pub account: Option<Url>,
    pub container: String,
    pub object: String,
}

impl Location {
    /// The multi-tenant location of `object` in `container` of the account at `storage_url`.
    pub fn format_account(storage_url: &Url, container: &str, object: &str) -> String {
        let without_scheme = &storage_url.as_str()[storage_url.scheme().len() + 3..];
        format!(
            "swift+{}://{}/{container}/{object}",
            storage_url.scheme(),
            without_scheme.trim_end_matches('/')
        )
    }

    /// Parses a multi-tenant location; anything else is `PermissionDenied`.
    pub fn parse_account(location: &str) -> Result<Self, StoreError> {
        let refused = |reason: &str| {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!("location {location:?}: {reason}"),
            )
        };
        let rest = location
            .strip_prefix("swift+")
            .ok_or_else(|| refused("not a swift+http(s) location"))?;
        if !(rest.starts_with("https://") || rest.starts_with("http://")) {
            return Err(refused("not a swift+http(s) location"));
        }
        let (account, object) = rest
            .rsplit_once('/')
            .ok_or_else(|| refused("no object name"))?;
        let (account, container) = account
            .rsplit_once('/')
            .ok_or_else(|| refused("no container"))?;
        let account = Url::parse(account).map_err(|_| refused("no account URL"))?;
        if account.cannot_be_a_base() || !account.has_host() {
            return Err(refused("no account URL"));
        }
        if !account.username().is_empty() || account.password().is_some() {
            return Err(refused("a location must not carry credentials"));
        }
        if account.query().is_some() || account.fragment().is_some() {
            return Err(refused("the account URL has a query or fragment"));
        }
        if container.is_empty() || object.is_empty() || account.path().trim_matches('/').is_empty()
        {
            return Err(refused("empty account, container or object name"));
        }
        Ok(Location {
            account: Some(account),
            container: container.to_owned(),
            object: object.to_owned(),
        })
    }

    /// The location string for `object` in `container` of the store `store_id`.
    pub fn format(store_id: &str, container: &str, object: &str) -> String {
        format!("{SCHEME}{store_id}/{container}/{object}")
    }

    /// Parses a location of the store `store_id`; anything else is `PermissionDenied`.
    pub fn parse(store_id: &str, location: &str) -> Result<Self, StoreError> {
        let refused = |reason: String| {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!("location {location:?}: {reason}"),
            )
        };
        let rest = location
            .strip_prefix(SCHEME)
            .ok_or_else(|| refused(format!("not a {SCHEME} location")))?;
        let (reference, path) = rest
            .split_once('/')
            .ok_or_else(|| refused("no container".into()))?;
        if reference != store_id {
            return Err(refused(format!(
                "belongs to store {reference:?}, not to {store_id:?}"
            )));
        }
        let (container, object) = path
            .split_once('/')
            .ok_or_else(|| refused("no object name".into()))?;
        if container.is_empty() || object.is_empty() {
            return Err(refused("empty container or object name".into()));
        }
        Ok(Location {
            account: None,
            container: container.to_owned(),
            object: object.to_owned(),
        })
    }

    pub fn path(&self) -> ObjectPath<'_> {
        ObjectPath {
            container: &self.container,
            object: &self.object,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip() {
        let text = Location::format("images", "glance_3a1", "3a1b-0001");
        assert_eq!(text, "swift+config://images/glance_3a1/3a1b-0001");
        assert_eq!(
            Location::parse("images", &text).unwrap(),
            Location {
                account: None,
                container: "glance_3a1".into(),
                object: "3a1b-0001".into()
            }
        );
        let nested = Location::parse("images", "swift+config://images/c/a/b").unwrap();
        assert_eq!(nested.object, "a/b");
    }

    #[test]
    fn foreign_locations_are_permission_denied() {
        for bad in [
            "swift+config://other/glance/x",
            "swift+http://user:key@host/v1/glance/x",
            "swift+config://images/glance",
            "swift+config://images//x",
            "swift+config://images/glance/",
            "file:///etc/passwd",
            "",
        ] {
            let err = Location::parse("images", bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
    }

    #[test]
    fn multi_tenant_locations_name_the_account_and_round_trip() {
        let account = Url::parse("https://swift.example.org:8443/v1/AUTH_3f2a").unwrap();
        let text = Location::format_account(&account, "glance_ab-1", "ab-1");
        assert_eq!(
            text,
            "swift+https://swift.example.org:8443/v1/AUTH_3f2a/glance_ab-1/ab-1"
        );
        let parsed = Location::parse_account(&text).unwrap();
        assert_eq!(parsed.account.as_ref(), Some(&account));
        assert_eq!(
            (parsed.container.as_str(), parsed.object.as_str()),
            ("glance_ab-1", "ab-1")
        );
        let plain = Url::parse("http://127.0.0.1:8080/v1/AUTH_x/").unwrap();
        let text = Location::format_account(&plain, "c", "o");
        assert_eq!(text, "swift+http://127.0.0.1:8080/v1/AUTH_x/c/o");
        assert_eq!(
            Location::parse_account(&text)
                .unwrap()
                .account
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/v1/AUTH_x"
        );
    }

    #[test]
    fn multi_tenant_locations_with_credentials_or_without_parts_are_refused() {
        for bad in [
            "swift+https://user:key@host/v1/AUTH_x/c/o",
            "swift+https://host/c/o",
            "swift+https://host/v1/AUTH_x/c/",
            "swift+https://host/v1/AUTH_x//o",
            "swift+config://images/glance/x",
            "swift+ftp://host/v1/AUTH_x/c/o",
            "swift://host/v1/AUTH_x/c/o",
            "swift+https://host/v1/AUTH_x?q=1/c/o",
            "",
        ] {
            let err = Location::parse_account(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
    }
}
