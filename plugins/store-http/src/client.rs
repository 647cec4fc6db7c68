//! HTTP requests, sent from the plugin's runtime: reqwest needs a tokio reactor and timers, which
//! the host's threads do not have for this library's copy of tokio.

use std::time::Duration;

use glint_sdk::http::{self, Answer, Window, range_header};
use glint_sdk::{ErrorKind, GetOutcome, ReadRange, StoreError, runtime};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderMap, HeaderName, RANGE};
use reqwest::{Certificate, Method, RequestBuilder, Response, StatusCode, Url, redirect};

use crate::config::{HttpConfig, invalid};
use crate::error::parse_error;

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
        // A server may ignore `Range` and send the whole object; the window skips through it.
        let headers = response.headers();
        let answer = Answer {
            partial: response.status() == StatusCode::PARTIAL_CONTENT,
            content_length: header(headers, CONTENT_LENGTH),
            content_range: header(headers, CONTENT_RANGE),
        };
        let window = Window::of(answer, range, &target.subject)?;
        let subject = target.subject.clone();
        let data = http::stream_body(response.bytes_stream(), window, subject, parse_error);
        Ok(GetOutcome {
            total_size: window.total_size,
            data,
        })
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

/// The object's size, from a `Content-Length` header.
fn content_length(headers: &HeaderMap, subject: &str) -> Result<u64, StoreError> {
    http::content_length(header(headers, CONTENT_LENGTH), subject)
}

fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}
