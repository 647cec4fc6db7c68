//! Image bytes through the datastore file service (`https://<host>/folder/<path>?dcPath=&dsName=`),
//! authorised by the API session's cookie. Runs on the plugin's runtime.

use std::io;

use bytes::{Bytes, BytesMut};
use futures::{FutureExt, Stream, StreamExt};
use glint_sdk::{DataStream, ErrorKind, GetOutcome, ReadRange, StoreError};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, COOKIE, HeaderMap, RANGE};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::sync::mpsc;

use crate::error::{retryable_status, status_error, transport_error};
use crate::session::{Vim, backoff, cookie_header};

/// Body chunks read ahead of the consumer (downloads) or of the server (uploads).
pub const QUEUE: usize = 8;
/// The largest buffer a download gathers from small chunks.
const BATCH: usize = 256 * 1024;

/// A `GET` or `HEAD` of a datastore file with the session cookie. A 401 logs in again once; a
/// refused connection or a gateway error is retried up to `api_retry_count` times. Any status
/// but 200 and 206 is an error.
async fn send(
    vim: &Vim,
    method: Method,
    url: &Url,
    range: Option<&str>,
    subject: &str,
) -> Result<Response, StoreError> {
    let mut attempt = 0;
    let mut relogged = false;
    loop {
        let cookie = vim.cookie();
        let mut request = vim.http().request(method.clone(), url.clone());
        if let Some(cookie) = &cookie {
            request = request.header(COOKIE, cookie_header(cookie)?);
        }
        if let Some(range) = range {
            request = request.header(RANGE, range);
        }
        let failure = match request.send().await {
            Ok(response) => match response.status() {
                StatusCode::OK | StatusCode::PARTIAL_CONTENT => return Ok(response),
                StatusCode::UNAUTHORIZED if !relogged => {
                    relogged = true;
                    vim.relogin(cookie.as_ref()).await?;
                    continue;
                }
                status if retryable_status(status) => status_error(status, subject),
                status => return Err(status_error(status, subject)),
            },
            Err(err) => transport_error(err, subject),
        };
        if attempt >= vim.retries() || !failure.temporary {
            return Err(failure);
        }
        attempt += 1;
        tracing::debug!(%subject, attempt, error = %failure, "retrying");
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// The file's size, from the `Content-Length` of a `HEAD`.
pub async fn size(vim: &Vim, url: &Url, subject: &str) -> Result<u64, StoreError> {
    let response = send(vim, Method::HEAD, url, None, subject).await?;
    content_length(response.headers(), subject)
}

/// Whether the file exists (`HEAD` answers 200 rather than 404).
pub async fn exists(vim: &Vim, url: &Url, subject: &str) -> Result<bool, StoreError> {
    match send(vim, Method::HEAD, url, None, subject).await {
        Ok(_) => Ok(true),
        Err(err) if err.kind == ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Streams the file, or the requested range of it, a few chunks ahead of the consumer.
pub async fn get(
    vim: &Vim,
    url: &Url,
    range: Option<ReadRange>,
    subject: &str,
) -> Result<GetOutcome, StoreError> {
    let header = range.map(range_header);
    let response = send(vim, Method::GET, url, header.as_deref(), subject).await?;
    let window = Window::from_parts(response.status(), response.headers(), range, subject)?;
    let total_size = window.total_size;
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    glint_sdk::runtime::handle().spawn(pump(
        response.bytes_stream(),
        window,
        sender,
        subject.to_owned(),
    ));
    let data: DataStream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
    Ok(GetOutcome { total_size, data })
}

/// `PUT`s `body` as the file at `url`; `Content-Length` when the size is known, chunked
/// otherwise. An `Err` item aborts the request, so the server never sees a complete body. No retry: the body cannot be sent twice.
pub async fn put(
    vim: &Vim,
    url: &Url,
    size_hint: Option<u64>,
    body: impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    subject: &str,
) -> Result<(), StoreError> {
    let mut request = vim
        .http()
        .put(url.clone())
        .body(reqwest::Body::wrap_stream(body));
    if let Some(cookie) = vim.cookie() {
        request = request.header(COOKIE, cookie_header(&cookie)?);
    }
    if let Some(size) = size_hint {
        request = request.header(CONTENT_LENGTH, size);
    }
    let response = request
        .send()
        .await
        .map_err(|err| transport_error(err, subject))?;
    match response.status() {
        StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT => Ok(()),
        status => Err(status_error(status, subject)),
    }
}

/// `bytes=<first>-<last>`, or `bytes=<first>-` to the end. The last byte is capped at the
/// largest value servers parse (a signed 64-bit integer).
fn range_header(range: ReadRange) -> String {
    const LAST: u64 = i64::MAX as u64;
    match range.length {
        Some(length) => {
            let last = range.offset.saturating_add(length.max(1) - 1).min(LAST);
            format!("bytes={}-{}", range.offset, last.max(range.offset))
        }
        None => format!("bytes={}-", range.offset),
    }
}

/// Which bytes of a response body the caller asked for.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    total_size: u64,
    /// Body bytes to drop first: a server that ignores `Range` sends the whole file.
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
                    "{subject}: asked for bytes from {}, the server sent {first}-{last}",
                    range.offset
                )));
            }
            return Ok(Window {
                total_size,
                skip: 0,
                take: wanted(last - first + 1),
            });
        }
        // 200: the server ignored the Range header and sends the whole file.
        let total_size = content_length(headers, subject)?;
        if range.offset >= total_size {
            return Err(StoreError::new(
                ErrorKind::RangeNotSatisfiable,
                format!(
                    "{subject}: offset {} is not before the end of a {total_size}-byte file",
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
///
/// TLS hands out records of 16 KiB at most: the small chunks that are ready at once are gathered
/// into buffers of up to [`BATCH`] bytes (one copy), so each crossing to the host carries more.
async fn pump(
    body: impl Stream<Item = reqwest::Result<Bytes>>,
    mut window: Window,
    sender: mpsc::Sender<Result<Bytes, StoreError>>,
    subject: String,
) {
    let mut body = std::pin::pin!(body);
    let mut gathered = BytesMut::new();
    while window.take > 0 {
        let next = match body.next().now_or_never() {
            Some(next) => next,
            None => {
                // Nothing more is ready: hand over what was gathered before waiting.
                if !gathered.is_empty() && sender.send(Ok(gathered.split().freeze())).await.is_err()
                {
                    return;
                }
                body.next().await
            }
        };
        let mut chunk = match next {
            Some(Ok(chunk)) => chunk,
            failed => {
                let err = match failed {
                    Some(Err(err)) => transport_error(err, &subject),
                    _ => StoreError::new(
                        ErrorKind::Unavailable,
                        format!("{subject}: the body ended {} bytes early", window.take),
                    )
                    .temporary(),
                };
                // The bytes that did arrive go first, then the error. Ignored failures: the
                // consumer is gone, nobody is left to tell.
                if !gathered.is_empty() {
                    let _ = sender.send(Ok(gathered.split().freeze())).await;
                }
                let _ = sender.send(Err(err)).await;
                return;
            }
        };
        let skipped = window.skip.min(chunk.len() as u64);
        window.skip -= skipped;
        let _ = chunk.split_to(skipped as usize);
        chunk.truncate(window.take.min(chunk.len() as u64) as usize);
        window.take -= chunk.len() as u64;
        let ready = if gathered.is_empty() && chunk.len() >= BATCH / 2 {
            chunk
        } else {
            if gathered.is_empty() {
                gathered.reserve(BATCH);
            }
            gathered.extend_from_slice(&chunk);
            if gathered.len() < BATCH && window.take > 0 {
                continue;
            }
            gathered.split().freeze()
        };
        if !ready.is_empty() && sender.send(Ok(ready)).await.is_err() {
            return;
        }
    }
}

fn content_length(headers: &HeaderMap, subject: &str) -> Result<u64, StoreError> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .ok_or_else(|| {
            unexpected(format!(
                "{subject}: the server sent no valid Content-Length"
            ))
        })
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
                "{subject}: a partial response without a valid Content-Range"
            ))
        })
}

fn unexpected(message: String) -> StoreError {
    StoreError::new(ErrorKind::Unexpected, message)
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
    fn range_headers_stay_parseable() {
        let header = |offset, length| range_header(ReadRange { offset, length });
        assert_eq!(header(0, Some(10)), "bytes=0-9");
        assert_eq!(header(5, None), "bytes=5-");
        assert_eq!(header(7, Some(u64::MAX)), format!("bytes=7-{}", i64::MAX));
        // Past what a server parses: still a well-formed header, which it refuses with 416.
        assert_eq!(
            header(u64::MAX, Some(1)),
            format!("bytes={0}-{0}", u64::MAX)
        );
    }

    #[test]
    fn windows_of_partial_and_whole_answers() {
        let partial = headers(&[(CONTENT_RANGE, "bytes 100-199/1000")]);
        let window = Window::from_parts(
            StatusCode::PARTIAL_CONTENT,
            &partial,
            range(100, Some(100)),
            "x",
        )
        .unwrap();
        assert_eq!(
            (window.total_size, window.skip, window.take),
            (1000, 0, 100)
        );
        let err = Window::from_parts(StatusCode::PARTIAL_CONTENT, &partial, range(50, None), "x")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unexpected);

        let whole = headers(&[(CONTENT_LENGTH, "1000")]);
        let window =
            Window::from_parts(StatusCode::OK, &whole, range(990, Some(100)), "x").unwrap();
        assert_eq!(
            (window.total_size, window.skip, window.take),
            (1000, 990, 10)
        );
        let err = Window::from_parts(StatusCode::OK, &whole, range(1000, None), "x").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RangeNotSatisfiable);
        let err = Window::from_parts(StatusCode::OK, &HeaderMap::new(), None, "x").unwrap_err();
        assert!(err.message.contains("Content-Length"), "{err}");
    }

    #[tokio::test]
    async fn pump_gathers_small_ready_chunks() {
        let data = glint_testkit::random_bytes(100 * 4096, 9);
        let chunks: Vec<reqwest::Result<Bytes>> = data
            .chunks(4096)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let window = Window {
            total_size: data.len() as u64,
            skip: 0,
            take: data.len() as u64,
        };
        pump(
            futures::stream::iter(chunks),
            window,
            sender,
            "x".to_owned(),
        )
        .await;
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        while let Some(chunk) = receiver.recv().await {
            let chunk = chunk.unwrap();
            sizes.push(chunk.len());
            got.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [BATCH, data.len() - BATCH]);
        assert!(got == data);
    }

    #[tokio::test]
    async fn pump_skips_truncates_and_reports_short_bodies() {
        let body = futures::stream::iter(
            [&b"abc"[..], b"defg", b"hij"].map(|chunk| Ok(Bytes::from_static(chunk))),
        );
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let window = Window {
            total_size: 10,
            skip: 4,
            take: 4,
        };
        pump(body, window, sender, "x".to_owned()).await;
        let mut got = Vec::new();
        while let Some(chunk) = receiver.recv().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"efgh");

        let short = futures::stream::iter([Ok(Bytes::from_static(b"abc"))]);
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let window = Window {
            total_size: 5,
            skip: 0,
            take: 5,
        };
        pump(short, window, sender, "x".to_owned()).await;
        assert_eq!(receiver.recv().await.unwrap().unwrap(), "abc");
        let err = receiver.recv().await.unwrap().unwrap_err();
        assert!(
            err.temporary && err.message.contains("2 bytes early"),
            "{err}"
        );
    }
}
