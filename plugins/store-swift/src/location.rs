//! Locations: `swift+config://<store-id>/<container>/<object>`.
//!
//! `swift+config` is glance_store's scheme for "the credentials come from the configuration", so a
//! location never carries a user, key or token, and stays valid when they change. The store id
//! stands where Glance names its credentials reference.

use glint_sdk::{ErrorKind, StoreError};

use crate::client::ObjectPath;

const SCHEME: &str = "swift+config://";

/// A parsed location of this store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub container: String,
    pub object: String,
}

impl Location {
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
}
