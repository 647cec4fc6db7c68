//! Image bytes through the datastore file service (`https://<host>/folder/<path>?dcPath=&dsName=`),
//! authorised by the API session's cookie. Runs on the plugin's runtime.

use std::io;

use bytes::Bytes;
use futures::Stream;
use glint_sdk::http::{self, Answer, Window, range_header};
use glint_sdk::{ErrorKind, GetOutcome, ReadRange, StoreError};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, COOKIE, HeaderMap, HeaderName, RANGE};
use reqwest::{Method, Response, StatusCode, Url};

use crate::error::{retryable_status, status_error, transport_error};
use crate::session::{Vim, backoff, cookie_header};

/// Body chunks read ahead of the server (uploads).
pub const QUEUE: usize = 8;

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
    let range_value = range.map(range_header);
    let response = send(vim, Method::GET, url, range_value.as_deref(), subject).await?;
    let headers = response.headers();
    let answer = Answer {
        partial: response.status() == StatusCode::PARTIAL_CONTENT,
        content_length: header(headers, CONTENT_LENGTH),
        content_range: header(headers, CONTENT_RANGE),
    };
    let window = Window::of(answer, range, subject)?;
    let data = http::stream_body(
        response.bytes_stream(),
        window,
        subject.to_owned(),
        transport_error,
    );
    Ok(GetOutcome {
        total_size: window.total_size,
        data,
    })
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

/// The file's size, from a `Content-Length` header.
fn content_length(headers: &HeaderMap, subject: &str) -> Result<u64, StoreError> {
    http::content_length(header(headers, CONTENT_LENGTH), subject)
}

fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}
