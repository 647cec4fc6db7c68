//! A client of Glint's Images API (and Glance's), generated at build time by progenitor
//! from the checked-in spec, `openapi/glint.json`.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let glint = glint_client::Client::with_token("http://127.0.0.1:9292", "a-keystone-token")?;
//! let page = glint.list_images().limit(10).send().await?;
//! for image in &page.images {
//!     println!("{} {:?}", image.id, image.name);
//! }
//! # Ok(())
//! # }
//! ```

#![allow(clippy::all, missing_docs, unreachable_pub, unused_qualifications)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

pub use generated::*;

/// The JSON-patch media type the server takes (and Glance's clients send).
pub const PATCH_MEDIA_TYPE: &str = "application/openstack-images-v2.1-json-patch";

impl Client {
    /// A client whose every request carries `X-Auth-Token: token`.
    pub fn with_token(
        baseurl: &str,
        token: &str,
    ) -> Result<Self, reqwest::header::InvalidHeaderValue> {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut value = reqwest::header::HeaderValue::from_str(token)?;
        value.set_sensitive(true);
        headers.insert("x-auth-token", value);
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("a client without TLS settings builds");
        Ok(Self::new_with_client(baseurl, client))
    }

    /// Bytes `first..=last` of an image's data (`206 Partial Content`), as a response whose
    /// body streams: the spec, like Glance's API reference, gives the `Range` header no
    /// parameter, so the generated `download_image_data` cannot ask for a part.
    pub async fn download_range(
        &self,
        image_id: &str,
        first: u64,
        last: u64,
    ) -> Result<reqwest::Response, reqwest::Error> {
        use progenitor_client::ClientInfo as _;
        self.client()
            .get(format!("{}/v2/images/{image_id}/file", self.baseurl()))
            .header(reqwest::header::RANGE, format!("bytes={first}-{last}"))
            .send()
            .await?
            .error_for_status()
    }
}

mod hooks {
    /// JSON-patch bodies go out with their own media type: the generated code sends JSON.
    pub(crate) fn before_send(request: &mut reqwest::Request) {
        if request.method() == reqwest::Method::PATCH {
            request.headers_mut().insert(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static(super::PATCH_MEDIA_TYPE),
            );
        }
    }
}
