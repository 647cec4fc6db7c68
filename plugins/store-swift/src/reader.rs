//! Reading an object, or a range of it, as a stream fed from the plugin's runtime.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use glint_sdk::{DataStream, ErrorKind, ReadRange, StoreError, runtime};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderMap};
use reqwest::{Response, StatusCode};
use tokio::sync::mpsc;

use crate::error::{transport_error, unexpected};

/// Body chunks read ahead of the consumer.
const QUEUE: usize = 8;

/// `bytes=<first>-<last>`, or `bytes=<first>-` to the end.
pub fn range_header(range: ReadRange) -> String {
    match range.length {
        Some(length) => {
            let last = range.offset.saturating_add(length.max(1) - 1);
            format!("bytes={}-{last}", range.offset)
        }
        None => format!("bytes={}-", range.offset),
    }
}

/// Turns a `GET` response into the requested bytes; the body is read on the plugin's runtime
/// and dropping the stream closes the connection.
pub fn stream(
    response: Response,
    range: Option<ReadRange>,
    subject: String,
) -> Result<(u64, DataStream), StoreError> {
    let window = Window::from_parts(response.status(), response.headers(), range, &subject)?;
    let total_size = window.total_size;
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    runtime::handle().spawn(pump(response.bytes_stream(), window, sender, subject));
    let data: DataStream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
    Ok((total_size, data))
}

/// The object's size, from the `Content-Length` of a `HEAD` answer.
pub fn content_length(headers: &HeaderMap, subject: &str) -> Result<u64, StoreError> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .ok_or_else(|| unexpected(format!("{subject}: Swift sent no valid Content-Length")))
}

/// Which bytes of a response body the caller asked for.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    total_size: u64,
    /// Body bytes to drop first: an answer that ignored `Range` holds the whole object.
    skip: u64,
    /// Body bytes to yield after the skipped ones.
    take: u64,
}

impl Window {
    fn from_parts(
        status: StatusCode,
        headers: &HeaderMap,
        range: Option<ReadRange>,
        subject: &str,
    ) -> Result<Self, StoreError> {
        let Some(range) = range else {
            let total_size = content_length(headers, subject)?;
            return Ok(Window {
                total_size,
                skip: 0,
                take: total_size,
            });
        };
        let wanted = |available: u64| range.length.map_or(available, |len| len.min(available));
        if status == StatusCode::PARTIAL_CONTENT {
            let (first, last, total_size) = content_range(headers, subject)?;
            if first != range.offset || last < first {
                return Err(unexpected(format!(
                    "{subject}: asked for bytes from {}, Swift sent {first}-{last}",
                    range.offset
                )));
            }
            return Ok(Window {
                total_size,
                skip: 0,
                take: wanted(last - first + 1),
            });
        }
        // 200: the whole object (Swift ignores a Range it cannot parse).
        let total_size = content_length(headers, subject)?;
        if range.offset >= total_size {
            return Err(StoreError::new(
                ErrorKind::RangeNotSatisfiable,
                format!(
                    "{subject}: offset {} is not before the end of a {total_size}-byte object",
                    range.offset
                ),
            ));
        }
        Ok(Window {
            total_size,
            skip: range.offset,
            take: wanted(total_size - range.offset),
        })
    }
}

/// Forwards the window's bytes of `body` to `sender`; stops when the consumer leaves.
async fn pump(
    body: impl Stream<Item = reqwest::Result<Bytes>>,
    mut window: Window,
    sender: mpsc::Sender<Result<Bytes, StoreError>>,
    subject: String,
) {
    let mut body = std::pin::pin!(body);
    while window.take > 0 {
        let mut chunk = match body.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(err)) => {
                // Ignored failure: the consumer is gone, nobody is left to tell.
                let _ = sender.send(Err(transport_error(err, &subject))).await;
                return;
            }
            None => {
                let early_end = StoreError::new(
                    ErrorKind::Unavailable,
                    format!("{subject}: the download ended {} bytes early", window.take),
                );
                // Ignored failure: as above.
                let _ = sender.send(Err(early_end.temporary())).await;
                return;
            }
        };
        let skipped = window.skip.min(chunk.len() as u64);
        window.skip -= skipped;
        let _ = chunk.split_to(skipped as usize);
        chunk.truncate(window.take.min(chunk.len() as u64) as usize);
        window.take -= chunk.len() as u64;
        if !chunk.is_empty() && sender.send(Ok(chunk)).await.is_err() {
            return;
        }
    }
}

/// `Content-Range: bytes <first>-<last>/<total>` as `(first, last, total)`.
fn content_range(headers: &HeaderMap, subject: &str) -> Result<(u64, u64, u64), StoreError> {
    let parse = |value: &str| -> Option<(u64, u64, u64)> {
        let (span, total) = value.strip_prefix("bytes ")?.split_once('/')?;
        let (first, last) = span.split_once('-')?;
        Some((first.parse().ok()?, last.parse().ok()?, total.parse().ok()?))
    };
    headers
        .get(CONTENT_RANGE)
        .and_then(|value| parse(value.to_str().ok()?))
        .ok_or_else(|| {
            unexpected(format!(
                "{subject}: a partial answer without a valid Content-Range"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    fn range(offset: u64, length: Option<u64>) -> Option<ReadRange> {
        Some(ReadRange { offset, length })
    }

    #[test]
    fn range_headers() {
        assert_eq!(range_header(range(0, Some(10)).unwrap()), "bytes=0-9");
        assert_eq!(range_header(range(5, None).unwrap()), "bytes=5-");
        assert_eq!(
            range_header(range(7, Some(u64::MAX)).unwrap()),
            format!("bytes=7-{}", u64::MAX)
        );
    }

    #[test]
    fn windows() {
        let partial = headers(&[(CONTENT_RANGE, "bytes 100-199/1000")]);
        let window = Window::from_parts(
            StatusCode::PARTIAL_CONTENT,
            &partial,
            range(100, Some(100)),
            "x",
        )
        .unwrap();
        assert_eq!(
            window,
            Window {
                total_size: 1000,
                skip: 0,
                take: 100
            }
        );
        let whole = headers(&[(CONTENT_LENGTH, "1000")]);
        let window =
            Window::from_parts(StatusCode::OK, &whole, range(990, Some(100)), "x").unwrap();
        assert_eq!(
            window,
            Window {
                total_size: 1000,
                skip: 990,
                take: 10
            }
        );
        let err = Window::from_parts(StatusCode::OK, &whole, range(1000, None), "x").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RangeNotSatisfiable);
        let wrong = headers(&[(CONTENT_RANGE, "bytes 0-99/1000")]);
        assert!(
            Window::from_parts(StatusCode::PARTIAL_CONTENT, &wrong, range(100, None), "x").is_err()
        );
    }
}
