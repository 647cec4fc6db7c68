//! HTTP requests, sent from the plugin's runtime: reqwest needs a tokio reactor and timers, which
//! the host's threads do not have for this library's copy of tokio.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use glint_sdk::{DataStream, ErrorKind, GetOutcome, ReadRange, StoreError, runtime};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderMap, RANGE};
use reqwest::{Certificate, Method, RequestBuilder, Response, StatusCode, Url, redirect};
use tokio::sync::mpsc;

use crate::config::{HttpConfig, invalid};
use crate::error::parse_error;

/// Body chunks read ahead of the consumer.
const QUEUE: usize = 8;

/// An HTTP client configured for one store.
pub struct HttpClient {
    client: reqwest::Client,
    basic_auth: Option<(String, String)>,
}

/// An object's location: the URL to request and how messages name it (without a password).
pub struct Target {
    pub url: Url,
    pub subject: String,
}

impl HttpClient {
    /// Builds the client; an unusable `ca_file` is `ConfigInvalid` naming the option.
    pub fn new(config: &HttpConfig) -> Result<Self, StoreError> {
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("glint-store-http/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .redirect(redirect::Policy::limited(config.max_redirects))
            .danger_accept_invalid_certs(config.insecure);
        if let Some(ca_file) = &config.ca_file {
            let unusable = |err: &dyn std::fmt::Display| {
                invalid(format!("option `ca_file` ({}): {err}", ca_file.display()))
            };
            let pem = std::fs::read(ca_file).map_err(|err| unusable(&err))?;
            for certificate in Certificate::from_pem_bundle(&pem).map_err(|err| unusable(&err))? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|err| invalid(format!("cannot build the HTTP client: {err}")))?;
        Ok(HttpClient {
            client,
            basic_auth: config.basic_auth(),
        })
    }

    /// The object's size, from the `Content-Length` of a `HEAD` request.
    pub async fn size(&self, target: &Target) -> Result<u64, StoreError> {
        let response = self
            .send(self.request(Method::HEAD, target), target)
            .await?;
        content_length(response.headers(), &target.subject)
    }

    /// Streams the object, or the requested range of it.
    pub async fn get(
        &self,
        target: &Target,
        range: Option<ReadRange>,
    ) -> Result<GetOutcome, StoreError> {
        let mut request = self.request(Method::GET, target);
        if let Some(range) = range {
            request = request.header(RANGE, range_header(range));
        }
        let response = self.send(request, target).await?;
        let window = Window::of(&response, range, &target.subject)?;
        let total_size = window.total_size;
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let subject = target.subject.clone();
        runtime::handle().spawn(pump(response.bytes_stream(), window, sender, subject));
        let data: DataStream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
        Ok(GetOutcome { total_size, data })
    }

    fn request(&self, method: Method, target: &Target) -> RequestBuilder {
        let request = self.client.request(method, target.url.clone());
        match &self.basic_auth {
            // Credentials written in the location take precedence over the store's.
            Some((user, password)) if target.url.username().is_empty() => {
                request.basic_auth(user, Some(password))
            }
            _ => request,
        }
    }

    /// Sends `request` on the plugin's runtime; an error status becomes an error.
    async fn send(&self, request: RequestBuilder, target: &Target) -> Result<Response, StoreError> {
        let response = // `send` arms reqwest's timers, so it too must run on the plugin's runtime.
        runtime::spawn(async move { request.send().await })
            .await?
            .and_then(Response::error_for_status)
            .map_err(|err| parse_error(err, &target.subject))?;
        match response.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(response),
            status => Err(StoreError::new(
                ErrorKind::Unexpected,
                format!("{}: unexpected status {status}", target.subject),
            )),
        }
    }
}

/// `bytes=<first>-<last>`, or `bytes=<first>-` to the end.
fn range_header(range: ReadRange) -> String {
    match range.length {
        Some(length) => {
            let last = range.offset.saturating_add(length.max(1) - 1);
            format!("bytes={}-{last}", range.offset)
        }
        None => format!("bytes={}-", range.offset),
    }
}

/// Which bytes of a response body the caller asked for.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    total_size: u64,
    /// Body bytes to drop first: a server that ignores `Range` sends the whole object.
    skip: u64,
    /// Body bytes to yield after the skipped ones.
    take: u64,
}

impl Window {
    fn of(
        response: &Response,
        range: Option<ReadRange>,
        subject: &str,
    ) -> Result<Self, StoreError> {
        Self::from_parts(response.status(), response.headers(), range, subject)
    }

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
        // 200: the server ignored the Range header and sends the whole object.
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
                let _ = sender.send(Err(parse_error(err, &subject))).await;
                return;
            }
            None => {
                let early_end = StoreError::new(
                    ErrorKind::Unavailable,
                    format!("{subject}: the body ended {} bytes early", window.take),
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
    fn range_headers() {
        assert_eq!(
            range_header(ReadRange {
                offset: 0,
                length: Some(10)
            }),
            "bytes=0-9"
        );
        assert_eq!(
            range_header(ReadRange {
                offset: 5,
                length: None
            }),
            "bytes=5-"
        );
        assert_eq!(
            range_header(ReadRange {
                offset: u64::MAX,
                length: Some(1)
            }),
            format!("bytes={0}-{0}", u64::MAX)
        );
        assert_eq!(
            range_header(ReadRange {
                offset: 7,
                length: Some(u64::MAX)
            }),
            format!("bytes=7-{}", u64::MAX)
        );
    }

    #[test]
    fn partial_content_takes_the_served_span() {
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
        let err = Window::from_parts(StatusCode::PARTIAL_CONTENT, &partial, range(50, None), "x")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unexpected);
        let err = Window::from_parts(
            StatusCode::PARTIAL_CONTENT,
            &HeaderMap::new(),
            range(0, None),
            "x",
        )
        .unwrap_err();
        assert!(err.message.contains("Content-Range"), "{err}");
    }

    #[test]
    fn a_server_ignoring_range_is_skipped_to_the_offset() {
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
    }

    #[test]
    fn a_missing_content_length_is_an_error() {
        let err =
            Window::from_parts(StatusCode::OK, &HeaderMap::new(), None, "http://h/x").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unexpected);
        assert!(err.message.starts_with("http://h/x: "), "{err}");
        let garbage = headers(&[(CONTENT_LENGTH, "-1")]);
        assert!(content_length(&garbage, "x").is_err());
    }

    #[tokio::test]
    async fn pump_skips_and_truncates_across_chunks() {
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
    }

    #[tokio::test]
    async fn pump_reports_a_short_body() {
        let body = futures::stream::iter([Ok(Bytes::from_static(b"abc"))]);
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        pump(
            body,
            Window {
                total_size: 5,
                skip: 0,
                take: 5,
            },
            sender,
            "x".to_owned(),
        )
        .await;
        assert_eq!(receiver.recv().await.unwrap().unwrap(), "abc");
        let err = receiver.recv().await.unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert!(
            err.temporary && err.message.contains("2 bytes early"),
            "{err}"
        );
    }
}
