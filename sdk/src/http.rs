//! Ranged reads over HTTP, for drivers whose backend speaks it (Swift, a datastore's `/folder`
//! URLs, a web server): the `Range` header to send, and which bytes of the answer's body are
//! the ones the host asked for.
//!
//! Servers differ in what they do with a `Range`: most answer `206 Partial Content` with a
//! `Content-Range`, some (or some proxies) ignore it and send the whole object with `200`.
//! [`Window`](crate::http::Window) covers both, so a driver streams the body through
//! [`Window::trim`](crate::http::Window::trim) and yields
//! exactly the requested bytes either way.
//!
//! Only header *values* and a body stream cross this API, so drivers keep whatever HTTP client
//! they use.

use bytes::{Bytes, BytesMut};
use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::mpsc;

use crate::{DataStream, ErrorKind, ReadRange, StoreError};

/// Body buffers read ahead of the consumer.
const QUEUE: usize = 8;

/// The largest buffer [`stream_body`] gathers small chunks into.
pub const BATCH: usize = 256 * 1024;

/// The largest byte position servers parse (a signed 64-bit integer).
const LAST_BYTE: u64 = i64::MAX as u64;

/// The `Range` header value for `range`: `bytes=<first>-<last>`, or `bytes=<first>-` to the end.
/// The last position is capped at `i64::MAX`, which servers still parse; a zero length asks for
/// one byte (the host never sends one).
pub fn range_header(range: ReadRange) -> String {
    match range.length {
        Some(length) => {
            let last = range
                .offset
                .saturating_add(length.max(1) - 1)
                .min(LAST_BYTE);
            format!("bytes={}-{}", range.offset, last.max(range.offset))
        }
        None => format!("bytes={}-", range.offset),
    }
}

/// An object's size from a `Content-Length` header value (a `HEAD` answer's, say); `subject`
/// names the object in the error, which is `Unexpected` when the value is missing or not a
/// byte count.
pub fn content_length(value: Option<&str>, subject: &str) -> Result<u64, StoreError> {
    value
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| unexpected(format!("{subject}: no valid Content-Length")))
}

/// The store error kind of an HTTP error status, and whether retrying later may succeed: the
/// one mapping every HTTP-backed driver shares. A driver with a status of its own meaning maps
/// that one first.
pub fn status_kind(status: u16) -> (ErrorKind, bool) {
    match status {
        404 | 410 => (ErrorKind::NotFound, false),
        401 | 403 => (ErrorKind::PermissionDenied, false),
        409 | 412 => (ErrorKind::AlreadyExists, false),
        413 | 507 => (ErrorKind::StorageFull, false),
        416 => (ErrorKind::RangeNotSatisfiable, false),
        408 | 504 => (ErrorKind::Timeout, true),
        429 => (ErrorKind::Unavailable, true),
        // 499 is "the client closed the request" (Swift's proxy, nginx): nothing lasting; 5xx
        // are the server's trouble.
        499..=599 => (ErrorKind::Unavailable, true),
        _ => (ErrorKind::Unexpected, false),
    }
}

/// What a `GET` answer said about its body, as the header values arrived.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// `206 Partial Content`; otherwise a `200` carrying the whole object.
    pub partial: bool,
    /// The `Content-Length` header, if any.
    pub content_length: Option<&'a str>,
    /// The `Content-Range` header, if any.
    pub content_range: Option<&'a str>,
}

/// Which bytes of one response body are the caller's: skip `skip`, then yield `take`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The size of the whole object, whatever was asked for.
    pub total_size: u64,
    /// Body bytes to drop first: an answer that ignored `Range` holds the whole object.
    pub skip: u64,
    /// Body bytes to yield after the skipped ones.
    pub take: u64,
}

impl Window {
    /// The window of `answer` for `range` (`None`: the whole object). `subject` names the
    /// object in error messages.
    ///
    /// Errors: `Unexpected` when a header is missing or malformed, or a partial answer starts
    /// elsewhere than asked; `RangeNotSatisfiable` when a whole-object answer shows the offset
    /// at or past the end.
    pub fn of(
        answer: Answer<'_>,
        range: Option<ReadRange>,
        subject: &str,
    ) -> Result<Window, StoreError> {
        let content_length = || content_length(answer.content_length, subject);
        let Some(range) = range else {
            let total_size = content_length()?;
            return Ok(Window {
                total_size,
                skip: 0,
                take: total_size,
            });
        };
        let wanted = |available: u64| range.length.map_or(available, |len| len.min(available));
        if answer.partial {
            let (first, last, total_size) = answer
                .content_range
                .and_then(parse_content_range)
                .ok_or_else(|| {
                    unexpected(format!(
                        "{subject}: a partial answer without a valid Content-Range"
                    ))
                })?;
            if first != range.offset {
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
        let total_size = content_length()?;
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

    /// The part of the next body `chunk` that is the caller's (often all of it, possibly none),
    /// and moves the window past it.
    pub fn trim(&mut self, mut chunk: Bytes) -> Bytes {
        let skipped = self.skip.min(chunk.len() as u64);
        self.skip -= skipped;
        let _ = chunk.split_to(skipped as usize);
        chunk.truncate(self.take.min(chunk.len() as u64) as usize);
        self.take -= chunk.len() as u64;
        chunk
    }

    /// Whether every byte of the window was yielded.
    pub fn is_done(&self) -> bool {
        self.take == 0
    }
}

/// Streams the `window` of a response `body` to the host: the body is read on the plugin's
/// runtime ([`crate::runtime`]), up to a few buffers ahead of the consumer, and dropping the
/// returned stream stops the reading (and so closes the connection).
///
/// TLS hands out records of 16 KiB at most: the small chunks that are ready at once are gathered
/// into buffers of up to [`BATCH`] bytes (one copy), so each crossing to the host carries more.
/// A body error is reported through `on_error` after the bytes that did arrive; a body that ends
/// before the window does is a temporary `Unavailable` error.
pub fn stream_body<S, E>(
    body: S,
    window: Window,
    subject: String,
    on_error: impl Fn(E, &str) -> StoreError + Send + 'static,
) -> DataStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel(QUEUE);
    crate::runtime::handle().spawn(pump(body, window, sender, subject, on_error));
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed()
}

/// Forwards the window's bytes of `body` to `sender`; stops when the consumer leaves.
async fn pump<E>(
    body: impl Stream<Item = Result<Bytes, E>>,
    mut window: Window,
    sender: mpsc::Sender<Result<Bytes, StoreError>>,
    subject: String,
    on_error: impl Fn(E, &str) -> StoreError,
) {
    let mut body = std::pin::pin!(body);
    let mut gathered = BytesMut::new();
    while !window.is_done() {
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
        let chunk = match next {
            Some(Ok(chunk)) => window.trim(chunk),
            failed => {
                let err = match failed {
                    Some(Err(err)) => on_error(err, &subject),
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
        let ready = if gathered.is_empty() && chunk.len() >= BATCH / 2 {
            chunk
        } else {
            if gathered.is_empty() {
                gathered.reserve(BATCH);
            }
            gathered.extend_from_slice(&chunk);
            if gathered.len() < BATCH && !window.is_done() {
                continue;
            }
            gathered.split().freeze()
        };
        if !ready.is_empty() && sender.send(Ok(ready)).await.is_err() {
            return;
        }
    }
}

/// `bytes <first>-<last>/<total>` as `(first, last, total)`, with `first <= last < total`.
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let (span, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, total) = (first.parse().ok()?, last.parse().ok()?, total.parse().ok()?);
    (first <= last && last < total).then_some((first, last, total))
}

fn unexpected(message: String) -> StoreError {
    StoreError::new(ErrorKind::Unexpected, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (404, ErrorKind::NotFound, false),
            (410, ErrorKind::NotFound, false),
            (401, ErrorKind::PermissionDenied, false),
            (403, ErrorKind::PermissionDenied, false),
            (409, ErrorKind::AlreadyExists, false),
            (412, ErrorKind::AlreadyExists, false),
            (413, ErrorKind::StorageFull, false),
            (507, ErrorKind::StorageFull, false),
            (416, ErrorKind::RangeNotSatisfiable, false),
            (408, ErrorKind::Timeout, true),
            (504, ErrorKind::Timeout, true),
            (429, ErrorKind::Unavailable, true),
            (499, ErrorKind::Unavailable, true),
            (500, ErrorKind::Unavailable, true),
            (503, ErrorKind::Unavailable, true),
            (400, ErrorKind::Unexpected, false),
            (405, ErrorKind::Unexpected, false),
        ];
        for (code, kind, temporary) in cases {
            assert_eq!(status_kind(code), (kind, temporary), "status {code}");
        }
    }

    fn range(offset: u64, length: Option<u64>) -> Option<ReadRange> {
        Some(ReadRange { offset, length })
    }

    fn partial(content_range: &str) -> Answer<'_> {
        Answer {
            partial: true,
            content_length: None,
            content_range: Some(content_range),
        }
    }

    fn whole(content_length: &str) -> Answer<'_> {
        Answer {
            partial: false,
            content_length: Some(content_length),
            content_range: None,
        }
    }

    #[test]
    fn range_headers() {
        assert_eq!(range_header(range(0, Some(10)).unwrap()), "bytes=0-9");
        assert_eq!(range_header(range(5, None).unwrap()), "bytes=5-");
        assert_eq!(range_header(range(5, Some(0)).unwrap()), "bytes=5-5");
        assert_eq!(
            range_header(range(7, Some(u64::MAX)).unwrap()),
            format!("bytes=7-{LAST_BYTE}")
        );
        // Past the largest position servers parse, the last byte is the first one.
        assert_eq!(
            range_header(range(u64::MAX, Some(1)).unwrap()),
            format!("bytes={0}-{0}", u64::MAX)
        );
    }

    #[test]
    fn content_lengths_are_byte_counts() {
        assert_eq!(content_length(Some(" 42"), "x").unwrap(), 42);
        for value in [None, Some("-1"), Some("ten"), Some("")] {
            let err = content_length(value, "obj").unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unexpected, "{value:?}");
            assert_eq!(err.message, "obj: no valid Content-Length");
        }
    }

    #[test]
    fn a_partial_answer_is_taken_as_sent_up_to_the_length_asked() {
        let window = Window::of(partial("bytes 100-199/1000"), range(100, Some(100)), "x").unwrap();
        assert_eq!(
            window,
            Window {
                total_size: 1000,
                skip: 0,
                take: 100
            }
        );
        // A server may send more than asked; only the asked length is the caller's.
        let window = Window::of(partial("bytes 100-999/1000"), range(100, Some(10)), "x").unwrap();
        assert_eq!(window.take, 10);
        // Or less (the end of the object).
        let window = Window::of(partial("bytes 990-999/1000"), range(990, Some(50)), "x").unwrap();
        assert_eq!(window.take, 10);
    }

    #[test]
    fn a_whole_answer_is_skipped_to_the_offset() {
        let window = Window::of(whole("1000"), range(100, Some(50)), "x").unwrap();
        assert_eq!(
            window,
            Window {
                total_size: 1000,
                skip: 100,
                take: 50
            }
        );
        let window = Window::of(whole("1000"), range(100, None), "x").unwrap();
        assert_eq!(window.take, 900);
        let window = Window::of(whole("1000"), None, "x").unwrap();
        assert_eq!((window.skip, window.take), (0, 1000));
    }

    #[test]
    fn bad_answers_are_errors_not_guesses() {
        let err = Window::of(whole("1000"), range(1000, None), "obj").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RangeNotSatisfiable, "{err}");
        for (answer, asked) in [
            (partial("bytes 0-9/1000"), range(100, Some(10))),
            (partial("bytes 9-0/1000"), range(9, Some(10))),
            (partial("bytes 0-1000/1000"), range(0, None)),
            (partial("items 0-9/1000"), range(0, None)),
            (partial("bytes 0-9/*"), range(0, None)),
            (whole("ten"), range(0, None)),
            (whole("-1"), None),
        ] {
            let err = Window::of(answer, asked, "obj").unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unexpected, "{answer:?}: {err}");
            assert!(err.message.starts_with("obj: "), "{err}");
        }
    }

    #[test]
    fn trimming_yields_exactly_the_window_across_chunks() {
        let body: Vec<u8> = (0..=255).collect();
        for chunk_size in [1, 3, 64, 256] {
            let mut window = Window::of(whole("256"), range(10, Some(100)), "x").unwrap();
            let mut got = Vec::new();
            for chunk in body.chunks(chunk_size) {
                got.extend_from_slice(&window.trim(Bytes::copy_from_slice(chunk)));
            }
            assert!(window.is_done());
            assert_eq!(got, body[10..110], "chunks of {chunk_size}");
        }
    }

    /// Runs the pump to completion and collects what the consumer would see.
    async fn pumped(
        chunks: Vec<Result<Bytes, &'static str>>,
        window: Window,
    ) -> Vec<Result<Bytes, StoreError>> {
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let on_error = |err: &str, subject: &str| {
            StoreError::new(ErrorKind::Unavailable, format!("{subject}: {err}"))
        };
        pump(
            futures::stream::iter(chunks),
            window,
            sender,
            "obj".to_owned(),
            on_error,
        )
        .await;
        let mut got = Vec::new();
        while let Some(item) = receiver.recv().await {
            got.push(item);
        }
        got
    }

    fn window(skip: u64, take: u64) -> Window {
        Window {
            total_size: skip + take,
            skip,
            take,
        }
    }

    #[tokio::test]
    async fn small_ready_chunks_are_gathered_into_batches() {
        let data: Vec<u8> = (0..100 * 4096).map(|i| (i * 7 % 251) as u8).collect();
        let chunks = data
            .chunks(4096)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let got = pumped(chunks, window(0, data.len() as u64)).await;
        let sizes: Vec<usize> = got.iter().map(|c| c.as_ref().unwrap().len()).collect();
        assert_eq!(sizes, [BATCH, data.len() - BATCH]);
        let joined: Vec<u8> = got.into_iter().flat_map(|c| c.unwrap()).collect();
        assert!(joined == data);
    }

    #[tokio::test]
    async fn the_pump_skips_truncates_and_stops_at_the_window() {
        let chunks = [&b"abc"[..], b"defg", b"hij", b"never read"]
            .map(|chunk| Ok(Bytes::from_static(chunk)))
            .to_vec();
        let got = pumped(chunks, window(4, 4)).await;
        let joined: Vec<u8> = got.into_iter().flat_map(|c| c.unwrap()).collect();
        assert_eq!(joined, b"efgh");
    }

    #[tokio::test]
    async fn short_and_failed_bodies_end_with_an_error_after_the_bytes_that_came() {
        let got = pumped(vec![Ok(Bytes::from_static(b"abc"))], window(0, 5)).await;
        assert_eq!(got[0].as_ref().unwrap(), "abc");
        let err = got[1].as_ref().unwrap_err();
        assert!(
            err.temporary && err.message == "obj: the body ended 2 bytes early",
            "{err}"
        );

        let got = pumped(
            vec![Ok(Bytes::from_static(b"abc")), Err("connection reset")],
            window(0, 5),
        )
        .await;
        assert_eq!(got[0].as_ref().unwrap(), "abc");
        assert_eq!(
            got[1].as_ref().unwrap_err().message,
            "obj: connection reset"
        );
        assert_eq!(got.len(), 2);
    }
}
