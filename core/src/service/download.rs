//! `GET /v2/images/{id}/file`: find a readable copy and stream it.

use futures::FutureExt;
use glint_sdk::{DataStream, ErrorKind, ReadRange, StoreError};
use uuid::Uuid;

use super::images::get_for;
use super::{ServiceError, ServiceResult};
use crate::app::App;
use crate::cache::Origin;
use crate::context::RequestContext;
use crate::domain::{ImageStatus, Location};

/// A byte range as the client asked for it, before the image size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=first-` or `bytes=first-last` (inclusive).
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

/// The resolved, inclusive range `first..=last` of an image of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: u64,
    pub last: u64,
    pub size: u64,
}

impl RangeRequest {
    /// Resolve against the image size; `None` when nothing can be served.
    pub fn resolve(self, size: u64) -> Option<Span> {
        let (first, last) = match self {
            Self::From { first, last } => {
                if last.is_some_and(|l| l < first) {
                    return None;
                }
                (
                    first,
                    last.map_or(size.saturating_sub(1), |l| l.min(size.saturating_sub(1))),
                )
            }
            Self::Suffix(0) => return None,
            Self::Suffix(n) => (size.saturating_sub(n), size.saturating_sub(1)),
        };
        (first < size).then_some(Span { first, last, size })
    }
}

pub struct Download {
    /// Set for a ranged answer (206).
    pub span: Option<Span>,
    /// Bytes in this answer.
    pub length: u64,
    /// md5 of the whole image, for `Content-MD5`.
    pub checksum: Option<String>,
    pub data: DataStream,
}

/// `Ok(None)` when the image has no data (Glance answers 204).
///
/// Copies are read in Glance's order: by store weight, highest first (equal
/// weights keep the order the copies were added in); with `prefer` (the
/// `?prefer=a,b` stores), the copies in those stores come first, in that same
/// order, and the others stay as a fallback. When a copy cannot be read, the
/// next one is tried.
pub async fn download(
    app: &App,
    ctx: &RequestContext,
    id: Uuid,
    range: Option<RangeRequest>,
    prefer: &[String],
) -> ServiceResult<Option<Download>> {
    let image = get_for(app, ctx, id, "download_image").await?;
    if !prefer.is_empty() {
        app.policy.enforce(
            "download_from_store",
            ctx,
            &super::locations::target(&image),
        )?;
        if let Some(unknown) = prefer.iter().find(|s| !app.config.stores.contains_key(*s)) {
            return Err(ServiceError::UnknownPreferredStore(unknown.to_owned()));
        }
    }
    if image.status == ImageStatus::Deactivated && !ctx.is_admin {
        return Err(ServiceError::DownloadDeactivated);
    }
    let size = match (image.status, image.size) {
        (ImageStatus::Active | ImageStatus::Deactivated, Some(size))
            if !image.locations.is_empty() =>
        {
            size as u64
        }
        _ => return Ok(None),
    };
    let span = match range {
        None => None,
        Some(r) => Some(
            r.resolve(size)
                .ok_or_else(|| ServiceError::RangeNotSatisfiable {
                    size,
                    detail: format!(
                        "Invalid start position in Range header. Start position MUST be in the \
                         inclusive range [0, {}].",
                        size.saturating_sub(1)
                    ),
                })?,
        ),
    };
    let read_range = span.map(|s| ReadRange {
        offset: s.first,
        length: Some(s.last - s.first + 1),
    });
    // The cache answers a read as a store does; either way the answer is built here.
    let answer = |total_size: u64, data: DataStream| {
        let length = span.map_or(total_size, |s| s.last - s.first + 1);
        Download {
            span,
            length,
            checksum: image.checksum.clone(),
            data: super::notify::image_sent(app, ctx, &image, length, data),
        }
    };
    if let Some(cached) = app.cache.serve(&image, read_range).await {
        return Ok(Some(answer(cached.total_size, cached.data)));
    }

    let mut locations: Vec<_> = image
        .locations
        .iter()
        .filter(|l| l.status == "active")
        .cloned()
        .collect();
    app.stores.sort_locations(&mut locations);
    let (mut locations, others): (Vec<_>, Vec<_>) = locations
        .into_iter()
        .partition(|l| l.store().is_some_and(|s| prefer.iter().any(|p| p == s)));
    locations.extend(others);
    let locations = healthy_first(app, id, locations).await?;
    let mut last_error = None;
    for location in locations {
        let Some(store) = location.store().and_then(|s| app.stores.get(s)) else {
            continue;
        };
        let store = store.acting_for(ctx);
        match store.get(&location.url, read_range).await {
            Ok(got) => {
                let origin = Origin {
                    driver: store.driver().to_owned(),
                    ranged: store.capabilities().ranged_read,
                    reread: {
                        let url = location.url.clone();
                        Box::new(move |range| store.get(&url, range).boxed())
                    },
                };
                let data = app.cache.tee(&image, read_range, got.data, origin);
                return Ok(Some(answer(got.total_size, data)));
            }
            Err(e) => {
                tracing::warn!(image = %id, store = store.id(), error = %e, "could not read image data from this location");
                last_error = Some(e);
            }
        }
    }
    match last_error {
        Some(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Some(e) if e.kind == ErrorKind::Unsupported => Err(ServiceError::RangeUnsupported),
        Some(e) => Err(StoreError::new(ErrorKind::Unavailable, e.message).into()),
        None => Err(StoreError::new(
            ErrorKind::Unavailable,
            "no store holding this image is available",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::*;
    use super::*;

    #[test]
    fn ranges_resolve_like_rfc_7233() {
        assert_eq!(
            From {
                first: 0,
                last: Some(4)
            }
            .resolve(10),
            Some(Span {
                first: 0,
                last: 4,
                size: 10
            })
        );
        assert_eq!(
            From {
                first: 5,
                last: None
            }
            .resolve(10),
            Some(Span {
                first: 5,
                last: 9,
                size: 10
            })
        );
        assert_eq!(
            From {
                first: 5,
                last: Some(100)
            }
            .resolve(10),
            Some(Span {
                first: 5,
                last: 9,
                size: 10
            })
        );
        assert_eq!(
            Suffix(3).resolve(10),
            Some(Span {
                first: 7,
                last: 9,
                size: 10
            })
        );
        assert_eq!(
            Suffix(30).resolve(10),
            Some(Span {
                first: 0,
                last: 9,
                size: 10
            })
        );
    }

    #[test]
    fn unsatisfiable_ranges_resolve_to_none() {
        assert_eq!(
            From {
                first: 10,
                last: None
            }
            .resolve(10),
            None
        );
        assert_eq!(
            From {
                first: 5,
                last: Some(4)
            }
            .resolve(10),
            None
        );
        assert_eq!(Suffix(0).resolve(10), None);
        assert_eq!(
            From {
                first: 0,
                last: None
            }
            .resolve(0),
            None
        );
    }
}

/// `locations` with the copies the auditor found damaged moved last: such a
/// copy is read only when no other one can be (one read of the audit rows,
/// and only for an image with more than one copy).
async fn healthy_first(
    app: &App,
    id: Uuid,
    locations: Vec<Location>,
) -> ServiceResult<Vec<Location>> {
    if locations.len() < 2 {
        return Ok(locations);
    }
    let urls: Vec<&str> = locations.iter().map(|l| l.url.as_str()).collect();
    let damaged = app.db.damaged_locations(id, &urls).await?;
    if damaged.is_empty() {
        return Ok(locations);
    }
    let (mut healthy, damaged): (Vec<_>, Vec<_>) = locations
        .into_iter()
        .partition(|l| !damaged.contains(&l.url));
    healthy.extend(damaged);
    Ok(healthy)
}
