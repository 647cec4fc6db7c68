//! Cross-origin resource sharing, with the rules of oslo.middleware's CORS filter, which sits
//! first in Glance's pipeline: a preflight (`OPTIONS`) is answered there, before version
//! negotiation and authentication, and every other answer to an allowed origin gets the
//! `Access-Control-*` headers. A request the rules do not allow gets no CORS header at all
//! (the browser then refuses it); it is never an error.

use poem::Request;
use poem::http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::config::CorsConfig;

/// Request headers a preflight may always name (the "simple" ones).
const SIMPLE_HEADERS: [&str; 8] = [
    "accept",
    "accept-language",
    "content-type",
    "cache-control",
    "content-language",
    "expires",
    "last-modified",
    "pragma",
];

pub struct Cors {
    config: CorsConfig,
}

impl Cors {
    pub fn new(config: CorsConfig) -> Self {
        Self { config }
    }

    /// The origin to answer with: the request's own when listed, `*` when any is allowed.
    fn origin(&self, req: &Request) -> Option<String> {
        let origin = req.header(header::ORIGIN)?;
        let listed = |o: &str| self.config.allowed_origin.iter().any(|a| a == o);
        if listed(origin) {
            Some(origin.to_owned())
        } else if listed("*") {
            Some("*".to_owned())
        } else {
            None
        }
    }

    /// Headers of the answer to a preflight: none unless the origin, the method and every
    /// requested header are allowed.
    pub fn preflight(&self, req: &Request) -> Vec<(HeaderName, String)> {
        let Some(origin) = self.origin(req) else {
            return Vec::new();
        };
        let Some(method) = req.header(header::ACCESS_CONTROL_REQUEST_METHOD) else {
            return Vec::new();
        };
        if !self.config.allow_methods.iter().any(|m| m == method) {
            return Vec::new();
        }
        let requested: Vec<&str> = req
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let permitted = |h: &str| {
            SIMPLE_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(h))
                || self
                    .config
                    .allow_headers
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(h))
        };
        if !requested.iter().all(|h| permitted(h)) {
            return Vec::new();
        }
        let mut out = vec![
            (header::VARY, "Origin".to_owned()),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        ];
        if self.config.allow_credentials {
            out.push((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true".to_owned()));
        }
        if self.config.max_age > 0 {
            out.push((
                header::ACCESS_CONTROL_MAX_AGE,
                self.config.max_age.to_string(),
            ));
        }
        out.push((header::ACCESS_CONTROL_ALLOW_METHODS, method.to_owned()));
        if !requested.is_empty() {
            out.push((header::ACCESS_CONTROL_ALLOW_HEADERS, requested.join(",")));
        }
        out
    }

    /// The origin an actual (non-preflight) request came from, when it is allowed; read
    /// before the request is handed on.
    pub fn allowed_origin(&self, req: &Request) -> Option<String> {
        self.origin(req)
    }

    /// Adds the headers an answer to an allowed `origin` carries.
    pub fn decorate(&self, origin: &str, headers: &mut HeaderMap) {
        let vary = match headers.get(header::VARY).and_then(|v| v.to_str().ok()) {
            Some(v) => format!("{v},Origin"),
            None => "Origin".to_owned(),
        };
        let mut set = |name: HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        set(header::VARY, &vary);
        set(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.config.allow_credentials {
            set(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        if !self.config.expose_headers.is_empty() {
            set(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                &self.config.expose_headers.join(","),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::Method;

    fn cors(origins: &[&str]) -> Cors {
        Cors::new(CorsConfig {
            allowed_origin: origins.iter().map(|o| (*o).to_owned()).collect(),
            ..CorsConfig::default()
        })
    }

    fn preflight(origin: &str, method: &str, headers: Option<&str>) -> Request {
        let mut b = Request::builder()
            .method(Method::OPTIONS)
            .uri_str("/v2/images")
            .header("origin", origin)
            .header("access-control-request-method", method);
        if let Some(h) = headers {
            b = b.header("access-control-request-headers", h);
        }
        b.finish()
    }

    fn names(h: &[(HeaderName, String)]) -> Vec<String> {
        h.iter().map(|(n, v)| format!("{n}: {v}")).collect()
    }

    #[test]
    fn an_allowed_preflight_gets_origin_method_and_headers() {
        let c = cors(&["http://a.example"]);
        let h = c.preflight(&preflight(
            "http://a.example",
            "PUT",
            Some("X-Auth-Token, content-type"),
        ));
        assert_eq!(
            names(&h),
            [
                "vary: Origin",
                "access-control-allow-origin: http://a.example",
                "access-control-allow-credentials: true",
                "access-control-max-age: 3600",
                "access-control-allow-methods: PUT",
                "access-control-allow-headers: X-Auth-Token,content-type",
            ]
        );
    }

    #[test]
    fn a_preflight_outside_the_rules_gets_no_header() {
        let c = cors(&["http://a.example"]);
        for req in [
            preflight("http://b.example", "GET", None),
            preflight("http://a.example", "TRACE", None),
            preflight("http://a.example", "GET", Some("X-Not-Listed")),
        ] {
            assert!(c.preflight(&req).is_empty());
        }
        assert!(
            cors(&[])
                .preflight(&preflight("http://a.example", "GET", None))
                .is_empty()
        );
    }

    #[test]
    fn a_wildcard_answers_any_origin_with_a_star() {
        let c = cors(&["*"]);
        let req = preflight("http://z.example", "GET", None);
        assert_eq!(c.allowed_origin(&req).as_deref(), Some("*"));
        let mut headers = HeaderMap::new();
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        c.decorate("*", &mut headers);
        assert_eq!(headers[header::VARY], "Accept,Origin");
        assert_eq!(
            headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            "X-Image-Meta-Checksum,X-Auth-Token,X-Subject-Token,X-Service-Token,X-OpenStack-Request-ID"
        );
    }
}
