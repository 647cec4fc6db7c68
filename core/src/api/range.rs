//! `Range` (and the legacy request `Content-Range`) headers of a download.

use crate::service::download::RangeRequest;

/// Why a range header was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeError {
    /// Several ranges at once: 400.
    MultiRange,
    /// Not a byte range we can read: 416.
    Unsatisfiable,
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`.
pub fn parse_range(header: &str) -> Result<RangeRequest, RangeError> {
    let spec = header
        .trim()
        .strip_prefix("bytes=")
        .ok_or(RangeError::Unsatisfiable)?;
    if spec.contains(',') {
        return Err(RangeError::MultiRange);
    }
    let (first, last) = spec
        .trim()
        .split_once('-')
        .ok_or(RangeError::Unsatisfiable)?;
    let num = |s: &str| -> Result<u64, RangeError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeError::Unsatisfiable);
        }
        s.parse().map_err(|_| RangeError::Unsatisfiable)
    };
    match (first.trim(), last.trim()) {
        ("", n) => Ok(RangeRequest::Suffix(num(n)?)),
        (a, "") => Ok(RangeRequest::From {
            first: num(a)?,
            last: None,
        }),
        (a, b) => {
            let (first, last) = (num(a)?, num(b)?);
            if last < first {
                return Err(RangeError::Unsatisfiable);
            }
            Ok(RangeRequest::From {
                first,
                last: Some(last),
            })
        }
    }
}

/// The legacy `Content-Range: bytes a-b/total` sent on a request.
pub fn parse_content_range(header: &str) -> Result<RangeRequest, RangeError> {
    let spec = header
        .trim()
        .strip_prefix("bytes ")
        .ok_or(RangeError::Unsatisfiable)?;
    let (range, _total) = spec.split_once('/').ok_or(RangeError::Unsatisfiable)?;
    match parse_range(&format!("bytes={range}"))? {
        r @ RangeRequest::From { last: Some(_), .. } => Ok(r),
        _ => Err(RangeError::Unsatisfiable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    #[test]
    fn byte_ranges() {
        assert_eq!(
            parse_range("bytes=0-4"),
            Ok(From {
                first: 0,
                last: Some(4)
            })
        );
        assert_eq!(
            parse_range("bytes=7-"),
            Ok(From {
                first: 7,
                last: None
            })
        );
        assert_eq!(parse_range("bytes=-3"), Ok(Suffix(3)));
        assert_eq!(
            parse_range(" bytes= 1 - 2 "),
            Ok(From {
                first: 1,
                last: Some(2)
            })
        );
    }

    #[test]
    fn bad_ranges() {
        assert_eq!(parse_range("bytes=0-1,4-5"), Err(RangeError::MultiRange));
        for bad in [
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "items=0-1",
            "bytes=5-1",
            "bytes=1",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse_range(bad), Err(RangeError::Unsatisfiable), "{bad}");
        }
    }

    #[test]
    fn legacy_content_range() {
        assert_eq!(
            parse_content_range("bytes 2-5/10"),
            Ok(From {
                first: 2,
                last: Some(5)
            })
        );
        assert_eq!(
            parse_content_range("bytes 2-5/*"),
            Ok(From {
                first: 2,
                last: Some(5)
            })
        );
        assert!(parse_content_range("bytes 2-/10").is_err());
        assert!(parse_content_range("2-5/10").is_err());
    }
}
