//! Locations in Glance's form: `rbd://<fsid>/<pool>/<image>/<snapshot>` (each part
//! percent-encoded), or the older `rbd://<image>` (the store's pool, no snapshot).

use glint_sdk::{ErrorKind, StoreError};

const SCHEME: &str = "rbd://";

/// A parsed location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The cluster the image lives in; `None` in the short form.
    pub fsid: Option<String>,
    /// `None` in the short form: the store's pool.
    pub pool: Option<String>,
    pub image: String,
    /// The snapshot reads are served from; `None` in the short form: the image head.
    pub snapshot: Option<String>,
}

impl Location {
    /// Glance's full form.
    pub fn format(fsid: &str, pool: &str, image: &str, snapshot: &str) -> String {
        format!(
            "{SCHEME}{}/{}/{}/{}",
            encode(fsid),
            encode(pool),
            encode(image),
            encode(snapshot)
        )
    }

    /// Parses either form; anything else is `PermissionDenied` (not a location of this store).
    pub fn parse(location: &str) -> Result<Location, StoreError> {
        let refuse = |why: &str| {
            StoreError::new(
                ErrorKind::PermissionDenied,
                format!("{location:?} is not an rbd location of this store: {why}"),
            )
        };
        let rest = location
            .strip_prefix(SCHEME)
            .ok_or_else(|| refuse("it does not start with rbd://"))?;
        let parts = rest
            .split('/')
            .map(|part| match decode(part) {
                Some(text) if !text.is_empty() => Ok(text),
                Some(_) => Err(refuse("it has an empty component")),
                None => Err(refuse("it has a malformed percent-encoding")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        match <[String; 4]>::try_from(parts) {
            Ok([fsid, pool, image, snapshot]) => Ok(Location {
                fsid: Some(fsid),
                pool: Some(pool),
                image,
                snapshot: Some(snapshot),
            }),
            Err(parts) => match <[String; 1]>::try_from(parts) {
                Ok([image]) => Ok(Location {
                    fsid: None,
                    pool: None,
                    image,
                    snapshot: None,
                }),
                Err(_) => Err(refuse("it must have 1 or 4 components")),
            },
        }
    }
}

/// Percent-encodes everything but ASCII letters, digits and `-._~`.
fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_form_round_trips() {
        let text = Location::format("c9b9-44", "images", "6f2b5a6e-0001", "snap");
        assert_eq!(text, "rbd://c9b9-44/images/6f2b5a6e-0001/snap");
        assert_eq!(
            Location::parse(&text).unwrap(),
            Location {
                fsid: Some("c9b9-44".into()),
                pool: Some("images".into()),
                image: "6f2b5a6e-0001".into(),
                snapshot: Some("snap".into()),
            }
        );
        let odd = Location::format("f", "my pool", "a/b", "s@1");
        assert_eq!(odd, "rbd://f/my%20pool/a%2Fb/s%401");
        let parsed = Location::parse(&odd).unwrap();
        assert_eq!(parsed.pool.as_deref(), Some("my pool"));
        assert_eq!(parsed.image, "a/b");
        assert_eq!(parsed.snapshot.as_deref(), Some("s@1"));
    }

    #[test]
    fn short_form_names_the_image_only() {
        assert_eq!(
            Location::parse("rbd://abc").unwrap(),
            Location {
                fsid: None,
                pool: None,
                image: "abc".into(),
                snapshot: None
            }
        );
    }

    #[test]
    fn malformed_locations_are_refused() {
        for bad in [
            "file:///x",
            "rbd://",
            "rbd://a/b",
            "rbd://a/b/c",
            "rbd://a/b/c/d/e",
            "rbd://a//c/d",
            "rbd://a/b/c/%zz",
            "rbd://a/b/c/%f",
            "rbd://%ff",
        ] {
            let err = Location::parse(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied, "{bad}");
        }
    }
}
