//! The Images API v2 calls the replicator makes to one endpoint. Image data
//! goes through as streams of chunks, in both directions; nothing holds an
//! image in memory.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::RemoteError;
use super::keystone::{Auth, Tokens};

/// Image data as it flows: chunks, or the error that ended the flow.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// How long a call waits for the service to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Images asked for per page of a listing.
const PAGE: u32 = 200;
/// The most of an error answer's text kept in a message.
const MESSAGE_CHARS: usize = 300;

/// One Images API v2 endpoint.
pub struct Images {
    http: reqwest::Client,
    /// The endpoint without a trailing `/` or `/v2`.
    base: String,
    tokens: Tokens,
}

impl Images {
    /// The endpoint at `url` (`http://host:9292`, with or without `/v2`).
    pub fn new(url: &str, auth: Auth) -> Result<Self, RemoteError> {
        let base = url.trim_end_matches('/');
        let base = base.strip_suffix("/v2").unwrap_or(base).to_owned();
        reqwest::Url::parse(&base).map_err(|e| RemoteError::Request {
            call: format!("endpoint {base}"),
            reason: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| RemoteError::Request {
                call: "HTTP client".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            tokens: Tokens::new(auth, http.clone()),
            http,
            base,
        })
    }

    /// The endpoint, as messages name it.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Every image the caller sees, hidden ones and community ones included,
    /// page by page.
    pub async fn list(&self) -> Result<Vec<Map<String, Value>>, RemoteError> {
        let mut images: Vec<Map<String, Value>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for hidden in ["false", "true"] {
            let mut next = Some(format!(
                "/v2/images?limit={PAGE}&visibility=all&os_hidden={hidden}"
            ));
            while let Some(path) = next.take() {
                let page = self.json(Method::GET, &path, None).await?;
                next = page.get("next").and_then(Value::as_str).map(str::to_owned);
                let listed = page.get("images").and_then(Value::as_array);
                for image in listed.into_iter().flatten().filter_map(Value::as_object) {
                    let id = image.get("id").and_then(Value::as_str).unwrap_or_default();
                    if seen.insert(id.to_owned()) {
                        images.push(image.clone());
                    }
                }
            }
        }
        Ok(images)
    }

    /// The image `id`, or `None` when the endpoint has none (or hides it).
    pub async fn get(&self, id: &str) -> Result<Option<Map<String, Value>>, RemoteError> {
        match self
            .json(Method::GET, &format!("/v2/images/{id}"), None)
            .await
        {
            Ok(image) => Ok(Some(image)),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates an image record (`id` included in `body`).
    pub async fn create(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, RemoteError> {
        self.json(
            Method::POST,
            "/v2/images",
            Some(Value::Object(body.clone())),
        )
        .await
    }

    /// Applies JSON-patch operations to the image's metadata.
    pub async fn patch(&self, id: &str, ops: &[Value]) -> Result<Map<String, Value>, RemoteError> {
        let path = format!("/v2/images/{id}");
        let body = serde_json::to_vec(ops).map_err(|e| RemoteError::Body {
            call: format!("PATCH {path}"),
            reason: e.to_string(),
        })?;
        let response = self
            .send(Method::PATCH, &path, |r| {
                r.header(
                    "content-type",
                    "application/openstack-images-v2.1-json-patch",
                )
                .body(body.clone())
            })
            .await?;
        read_json(&format!("PATCH {path}"), response).await
    }

    /// The image's data, as the service streams it.
    pub async fn download(&self, id: &str) -> Result<ByteStream, RemoteError> {
        let response = self
            .send(Method::GET, &format!("/v2/images/{id}/file"), |r| r)
            .await?;
        Ok(response
            .bytes_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed())
    }

    /// Uploads `data` as the image's data. The stream is sent as it is read
    /// (chunked); an error from it aborts the upload.
    pub async fn upload(&self, id: &str, data: ByteStream) -> Result<(), RemoteError> {
        let path = format!("/v2/images/{id}/file");
        let token = self.tokens.token().await?;
        let mut request = self
            .http
            .put(format!("{}{path}", self.base))
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(data));
        if let Some(token) = &token {
            request = request.header("x-auth-token", token);
        }
        let call = format!("PUT {path}");
        let response = request.send().await.map_err(|e| RemoteError::Request {
            call: call.clone(),
            reason: reason(e),
        })?;
        checked(&call, response).await.map(|_| ())
    }

    /// The image's members (project ids and statuses).
    pub async fn members(&self, id: &str) -> Result<Vec<Map<String, Value>>, RemoteError> {
        let body = self
            .json(Method::GET, &format!("/v2/images/{id}/members"), None)
            .await?;
        Ok(body
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_object().cloned())
            .collect())
    }

    /// Shares the image with `member` (status `pending`).
    pub async fn add_member(&self, id: &str, member: &str) -> Result<(), RemoteError> {
        self.json(
            Method::POST,
            &format!("/v2/images/{id}/members"),
            Some(json!({"member": member})),
        )
        .await
        .map(|_| ())
    }

    /// Sets `member`'s status (`accepted`, `rejected`, `pending`).
    pub async fn set_member_status(
        &self,
        id: &str,
        member: &str,
        status: &str,
    ) -> Result<(), RemoteError> {
        self.json(
            Method::PUT,
            &format!("/v2/images/{id}/members/{member}"),
            Some(json!({"status": status})),
        )
        .await
        .map(|_| ())
    }

    /// Stops sharing the image with `member`.
    pub async fn remove_member(&self, id: &str, member: &str) -> Result<(), RemoteError> {
        self.send(
            Method::DELETE,
            &format!("/v2/images/{id}/members/{member}"),
            |r| r,
        )
        .await
        .map(|_| ())
    }

    /// A call with an optional JSON body whose answer is a JSON object.
    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Map<String, Value>, RemoteError> {
        let call = format!("{method} {path}");
        let response = self
            .send(method, path, |r| {
                let r = r.header("accept", "application/json");
                match &body {
                    Some(body) => r.json(body),
                    None => r,
                }
            })
            .await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(Map::new());
        }
        read_json(&call, response).await
    }

    /// Sends a replayable request with the current token; a refused token
    /// issued by Keystone is replaced once and the request sent again.
    async fn send(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RemoteError> {
        let call = format!("{method} {path}");
        let url = format!("{}{path}", self.base);
        let mut retried = false;
        loop {
            let token = self.tokens.token().await?;
            let mut request = build(self.http.request(method.clone(), &url));
            if let Some(token) = &token {
                request = request.header("x-auth-token", token);
            }
            let response = request.send().await.map_err(|e| RemoteError::Request {
                call: call.clone(),
                reason: reason(e),
            })?;
            if response.status() == StatusCode::UNAUTHORIZED
                && !retried
                && self.tokens.renewable()
                && let Some(token) = &token
            {
                self.tokens.forget(token).await;
                retried = true;
                continue;
            }
            return checked(&call, response).await;
        }
    }
}

/// The response if it is a success, else its status and the start of its text.
async fn checked(call: &str, response: Response) -> Result<Response, RemoteError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    Err(RemoteError::Status {
        call: call.to_owned(),
        status,
        message: error_message(&text),
    })
}

async fn read_json(call: &str, response: Response) -> Result<Map<String, Value>, RemoteError> {
    response.json().await.map_err(|e| RemoteError::Body {
        call: call.to_owned(),
        reason: reason(e),
    })
}

/// The message of an error answer: Glance's JSON `message` (or the
/// `title`/`message` of its webob body), else the text with tags and
/// blank runs removed, cut short.
fn error_message(text: &str) -> String {
    let from_json = serde_json::from_str::<Value>(text).ok().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("error").and_then(|e| e.get("message")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let raw = from_json.unwrap_or_else(|| {
        let mut plain = String::with_capacity(text.len());
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    plain.push(' ');
                }
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        plain
    });
    let words: Vec<&str> = raw.split_whitespace().collect();
    words.join(" ").chars().take(MESSAGE_CHARS).collect()
}

/// The error and its causes, without the URL (a URL could carry credentials;
/// the caller names the call itself).
fn reason(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_json_or_plain_text() {
        assert_eq!(
            error_message(
                r#"{"message": "Image with identifier x already exists!", "code": "409 Conflict"}"#
            ),
            "Image with identifier x already exists!"
        );
        assert_eq!(
            error_message("<html><body><h1>403 Forbidden</h1>\n\nNot allowed<br /></body></html>"),
            "403 Forbidden Not allowed"
        );
        assert_eq!(error_message(""), "");
        assert_eq!(error_message(&"x".repeat(1000)).len(), MESSAGE_CHARS);
    }

    #[test]
    fn the_endpoint_is_kept_without_its_v2() {
        for url in [
            "http://h:9292",
            "http://h:9292/",
            "http://h:9292/v2",
            "http://h:9292/v2/",
        ] {
            assert_eq!(Images::new(url, Auth::None).unwrap().url(), "http://h:9292");
        }
        assert!(Images::new("not a url", Auth::None).is_err());
    }
}
