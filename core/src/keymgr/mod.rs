//! The key manager: managed objects (certificates, keys) read from
//! Barbican's secrets API with the caller's token, as castellan's Barbican
//! backend reads them.
//!
//! Only reading is needed: image signature verification fetches the signing
//! certificate named by an image's `img_signature_certificate_uuid`.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde::Deserialize;

use crate::config::BarbicanConfig;

/// The largest payload read from Barbican: certificates are a few KiB.
const MAX_PAYLOAD: usize = 1 << 20;

/// One managed object: its format in castellan's words and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedObject {
    /// `X.509` for a certificate; `RAW`, `SubjectPublicKeyInfo`, `PKCS8`
    /// or `Opaque` for the other kinds of secret.
    pub format: &'static str,
    /// The payload as stored (castellan stores certificates as DER).
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyManagerError {
    /// The key manager has no such object, or does not show it to the caller.
    #[error("no managed object {0}")]
    NotFound(String),
    /// Anything else: no token, the key manager unreachable or refusing.
    #[error("{0}")]
    Failed(String),
}

/// A Barbican client. Holds no credentials: every call carries the caller's token.
pub struct KeyManager {
    client: reqwest::Client,
    api_version: String,
}

/// What `GET /v1/secrets/{id}` tells about a secret.
#[derive(Deserialize)]
struct SecretMeta {
    secret_type: Option<String>,
    #[serde(default)]
    content_types: Option<ContentTypes>,
}

#[derive(Deserialize)]
struct ContentTypes {
    default: Option<String>,
}

impl KeyManager {
    pub fn new(config: &BarbicanConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with a timeout builds");
        Self {
            client,
            api_version: config.barbican_api_version.trim_matches('/').to_owned(),
        }
    }

    /// The versioned API root below `endpoint` (castellan appends the
    /// version unless the endpoint already names it).
    fn api_root(&self, endpoint: &str) -> String {
        let endpoint = endpoint.trim_end_matches('/');
        if self.api_version.is_empty() || endpoint.ends_with(&format!("/{}", self.api_version)) {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/{}", self.api_version)
        }
    }

    /// The secret `id` at the Barbican of `endpoint`, read as `token`'s bearer.
    pub async fn get(
        &self,
        endpoint: &str,
        token: &str,
        id: &str,
    ) -> Result<ManagedObject, KeyManagerError> {
        // Barbican's ids are UUIDs; anything else names no secret, and must
        // not be spliced into a path.
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(KeyManagerError::NotFound(id.to_owned()));
        }
        let secret = format!("{}/secrets/{id}", self.api_root(endpoint));
        let meta: SecretMeta = self
            .call(&secret, token, "application/json", id)
            .await?
            .json()
            .await
            .map_err(|e| KeyManagerError::Failed(format!("unreadable secret metadata: {e}")))?;
        let format = castellan_format(meta.secret_type.as_deref().unwrap_or("opaque"));
        let accept = meta
            .content_types
            .and_then(|c| c.default)
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut response = self
            .call(&format!("{secret}/payload"), token, &accept, id)
            .await?;
        let mut data = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| KeyManagerError::Failed(format!("reading the secret payload: {e}")))?
        {
            if data.len() + chunk.len() > MAX_PAYLOAD {
                return Err(KeyManagerError::Failed(format!(
                    "the secret payload is larger than {MAX_PAYLOAD} bytes"
                )));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(ManagedObject { format, data })
    }

    async fn call(
        &self,
        url: &str,
        token: &str,
        accept: &str,
        id: &str,
    ) -> Result<reqwest::Response, KeyManagerError> {
        let response = self
            .client
            .get(url)
            .header("X-Auth-Token", token)
            .header(header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| KeyManagerError::Failed(format!("Barbican at {url}: {e}")))?;
        match response.status() {
            s if s.is_success() => Ok(response),
            StatusCode::NOT_FOUND => Err(KeyManagerError::NotFound(id.to_owned())),
            s => Err(KeyManagerError::Failed(format!(
                "Barbican answered {s} for {url}"
            ))),
        }
    }
}

/// The format castellan gives the object it makes of a Barbican secret type.
fn castellan_format(secret_type: &str) -> &'static str {
    match secret_type {
        "certificate" => "X.509",
        "symmetric" | "passphrase" => "RAW",
        "public" => "SubjectPublicKeyInfo",
        "private" => "PKCS8",
        _ => "Opaque",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(version: &str) -> KeyManager {
        KeyManager::new(&BarbicanConfig {
            barbican_endpoint: String::new(),
            barbican_api_version: version.into(),
            barbican_endpoint_type: "public".into(),
            barbican_region_name: String::new(),
            timeout_secs: 5,
        })
    }

    #[test]
    fn the_version_is_appended_once() {
        let km = manager("v1");
        assert_eq!(km.api_root("http://b:9311"), "http://b:9311/v1");
        assert_eq!(km.api_root("http://b:9311/"), "http://b:9311/v1");
        assert_eq!(km.api_root("http://b:9311/v1/"), "http://b:9311/v1");
        assert_eq!(manager("").api_root("http://b/kms"), "http://b/kms");
    }

    #[test]
    fn secret_types_read_as_castellan_formats() {
        assert_eq!(castellan_format("certificate"), "X.509");
        assert_eq!(castellan_format("symmetric"), "RAW");
        assert_eq!(castellan_format("public"), "SubjectPublicKeyInfo");
        assert_eq!(castellan_format("private"), "PKCS8");
        assert_eq!(castellan_format("opaque"), "Opaque");
    }

    #[tokio::test]
    async fn an_id_that_is_no_uuid_names_no_secret() {
        let e = manager("v1").get("http://127.0.0.1:9", "t", "../x").await;
        assert!(matches!(e, Err(KeyManagerError::NotFound(_))), "{e:?}");
    }
}
