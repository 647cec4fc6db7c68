//! The HTTP client of outbound fetches: pinned to the address that was
//! checked, no redirects (a redirect would lead past the checks).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use serde_json::{Map, Value};

/// How long a fetch waits for the remote server to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a fetch failed. The text never contains the URL (it may carry
/// credentials); callers name the URL themselves, redacted.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request could not be made or answered (connection, TLS, timeout).
    #[error("{0}")]
    Request(String),
    /// The server answered, but not with success (a redirect included).
    #[error("the server answered {0}")]
    Status(StatusCode),
    /// The answer's body could not be read as expected.
    #[error("{0}")]
    Body(String),
}

impl From<reqwest::Error> for FetchError {
    fn from(e: reqwest::Error) -> Self {
        Self::Request(e.without_url().to_string())
    }
}

/// Where a checked URL's host must be reached: the address its check
/// resolved, so no second DNS answer can redirect the fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The host as checked (a lower-case name or an address).
    pub host: String,
    pub addr: SocketAddr,
}

impl Pinned {
    /// A client that reaches `host` only at `addr` and refuses redirects.
    fn client(&self) -> Result<reqwest::Client, FetchError> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .resolve(&self.host, self.addr)
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))
    }

    /// `GET url` (a URL of the pinned host), with `X-Auth-Token` when a token
    /// is given; any answer but a success is an error.
    async fn get(
        &self,
        url: &str,
        token: Option<&str>,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client()?.get(url);
        if let Some(token) = token {
            request = request.header("x-auth-token", token);
        }
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        Ok(response)
    }

    /// The body at `url`, as a stream of chunks.
    pub async fn stream(
        &self,
        url: &str,
        token: Option<&str>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, FetchError> {
        let response = self.get(url, token, None).await?;
        Ok(response
            .bytes_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed())
    }

    /// The JSON object at `url`.
    pub async fn json(
        &self,
        url: &str,
        token: Option<&str>,
    ) -> Result<Map<String, Value>, FetchError> {
        let response = self.get(url, token, Some("application/json")).await?;
        response
            .json()
            .await
            .map_err(|e| FetchError::Body(e.without_url().to_string()))
    }
}
