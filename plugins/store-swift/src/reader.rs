//! Reading an object, or a range of it, as a stream fed from the plugin's runtime.

use glint_sdk::http::{self, Answer, Window};
use glint_sdk::{DataStream, ReadRange, StoreError};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderMap};
use reqwest::{Response, StatusCode};

use crate::error::transport_error;

pub use glint_sdk::http::range_header;

/// Turns a `GET` response into the requested bytes; the body is read on the plugin's runtime
/// and dropping the stream closes the connection. Swift answers a `Range` it cannot parse with
/// the whole object, which the window then skips through.
pub fn stream(
    response: Response,
    range: Option<ReadRange>,
    subject: String,
) -> Result<(u64, DataStream), StoreError> {
    let headers = response.headers();
    let answer = Answer {
        partial: response.status() == StatusCode::PARTIAL_CONTENT,
        content_length: header(headers, CONTENT_LENGTH),
        content_range: header(headers, CONTENT_RANGE),
    };
    let window = Window::of(answer, range, &subject)?;
    let data = http::stream_body(response.bytes_stream(), window, subject, transport_error);
    Ok((window.total_size, data))
}

/// The object's size, from the `Content-Length` of a `HEAD` answer.
pub fn content_length(headers: &HeaderMap, subject: &str) -> Result<u64, StoreError> {
    http::content_length(header(headers, CONTENT_LENGTH), subject)
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}
