//! Where an image lives: `<root>/<shard>/<image id>`, with the location `dirhash://<shard>/<image id>`.
//!
//! The shard is the first two hex digits of the id: glint's image ids are UUIDs, so 256 shards
//! spread evenly. Locations are relative to the root, so a store keeps working when its directory
//! is mounted elsewhere.

use std::path::{Path, PathBuf};

use glint_sdk::{ErrorKind, StoreError};

/// The scheme of this driver's locations.
pub const SCHEME: &str = "dirhash://";

/// The directory, under the root, for files being written. It starts with a dot, so it can never
/// be a shard.
const INCOMING: &str = ".incoming";

/// The object paths of one store.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

/// One image's place in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The shard directory holding the file.
    pub shard_dir: PathBuf,
    /// The file itself.
    pub path: PathBuf,
    /// The location glint records for it.
    pub location: String,
}

impl Layout {
    /// The layout under `root`, an absolute, canonical directory.
    pub fn new(root: PathBuf) -> Self {
        Layout { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where files are written before they are published.
    pub fn incoming(&self) -> PathBuf {
        self.root.join(INCOMING)
    }

    /// The place of a new image; ids that are not lowercase hex digits and dashes are refused.
    pub fn object(&self, image_id: &str) -> Result<Object, StoreError> {
        let shard = shard_of(image_id).ok_or_else(|| {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "image id {image_id:?} cannot be stored: a dirhash store takes ids of lowercase hex digits and '-', starting with two hex digits, at most 64 characters"
                ),
            )
        })?;
        let shard_dir = self.root.join(shard);
        Ok(Object {
            path: shard_dir.join(image_id),
            shard_dir,
            location: format!("{SCHEME}{shard}/{image_id}"),
        })
    }

    /// The place of an existing location; anything this store could not have returned from a put is
    /// refused with `PermissionDenied`, so no location reaches outside the root.
    pub fn resolve(&self, location: &str) -> Result<Object, StoreError> {
        let foreign = || {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!("{location:?} is not a location of this dirhash store"),
            )
        };
        let (shard, image_id) = location
            .strip_prefix(SCHEME)
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(foreign)?;
        match shard_of(image_id) {
            Some(expected) if expected == shard => self.object(image_id),
            _ => Err(foreign()),
        }
    }
}

/// The shard of a valid image id, `None` for an invalid one.
fn shard_of(image_id: &str) -> Option<&str> {
    let bytes = image_id.as_bytes();
    let valid = (2..=64).contains(&bytes.len())
        && bytes[..2]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && bytes
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'));
    valid.then(|| &image_id[..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

    fn layout() -> Layout {
        Layout::new(PathBuf::from("/srv/images"))
    }

    #[test]
    fn objects_are_sharded_by_the_first_two_hex_digits() {
        let object = layout().object(ID).unwrap();
        assert_eq!(object.shard_dir, Path::new("/srv/images/1b"));
        assert_eq!(object.path, Path::new("/srv/images/1b").join(ID));
        assert_eq!(object.location, format!("dirhash://1b/{ID}"));
        assert_eq!(layout().resolve(&object.location).unwrap(), object);
    }

    #[test]
    fn ids_that_are_not_lowercase_hex_are_refused() {
        let too_long = "a".repeat(65);
        for bad in [
            "",
            "a",
            "..",
            "../etc",
            "1b/../../x",
            "-b4e28ba",
            "1B4E28BA-2FA1-11D2-883F-0016D3CCA427",
            "zz4e28ba",
            ".incoming",
            "1b\0",
            too_long.as_str(),
        ] {
            let err = layout().object(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad:?}");
        }
    }

    #[test]
    fn foreign_locations_are_refused() {
        for bad in [
            format!("file:///srv/images/1b/{ID}"),
            format!("dirhash://1c/{ID}"),
            format!("dirhash://1b/{ID}/x"),
            format!("dirhash://1b//{ID}"),
            format!("dirhash:///1b/{ID}"),
            "dirhash://1b/../../etc/passwd".into(),
            "dirhash://.incoming/x".into(),
            "dirhash://1b".into(),
            ID.into(),
        ] {
            let err = layout().resolve(&bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
    }
}
