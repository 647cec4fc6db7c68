//! The client's scheme and host as a reverse proxy reports them, for links
//! (`Location`, the versions document) that must point at the proxy, not at
//! this listener. Read only with `enable_proxy_headers_parsing`: otherwise any
//! client could choose the links the service writes.

use poem::Request;

/// The scheme and host of the request as the client sent it to the proxy:
/// `Forwarded` (RFC 7239) first, then `X-Forwarded-Proto` / `X-Forwarded-Host`,
/// then `scheme` and `Host`. Of a list, the first (the client's own hop) counts.
pub fn forwarded(req: &Request, scheme: &str) -> (String, Option<String>) {
    let first = |v: &str| v.split(',').next().unwrap_or("").trim().to_owned();
    let mut proto = req.header("x-forwarded-proto").map(first);
    let mut host = req.header("x-forwarded-host").map(first);
    if let Some(forwarded) = req.header("forwarded") {
        for pair in first(forwarded).split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "proto" => proto = Some(value),
                "host" => host = Some(value),
                _ => {}
            }
        }
    }
    let proto = proto
        .filter(|p| matches!(p.as_str(), "http" | "https"))
        .unwrap_or_else(|| scheme.to_owned());
    let host = host
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .or_else(|| self::host(req));
    (proto, host)
}

/// The host the client addressed: `Host`, or the URI's authority (HTTP/2 has no `Host`).
pub fn host(req: &Request) -> Option<String> {
    req.header("host")
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().header("host", "backend:9292");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.finish()
    }

    #[test]
    fn forwarded_headers_name_the_client_side() {
        assert_eq!(
            forwarded(&req(&[]), "http"),
            ("http".into(), Some("backend:9292".into()))
        );
        assert_eq!(
            forwarded(
                &req(&[
                    ("x-forwarded-proto", "https, http"),
                    ("x-forwarded-host", "images.example.org")
                ]),
                "http"
            ),
            ("https".into(), Some("images.example.org".into()))
        );
        assert_eq!(
            forwarded(
                &req(&[(
                    "forwarded",
                    "proto=https;host=\"a.example:8443\", proto=http"
                )]),
                "http"
            ),
            ("https".into(), Some("a.example:8443".into()))
        );
        // Nonsense is ignored rather than written into links.
        assert_eq!(
            forwarded(
                &req(&[("x-forwarded-proto", "gopher"), ("x-forwarded-host", "a/b")]),
                "http"
            ),
            ("http".into(), Some("backend:9292".into()))
        );
    }
}
