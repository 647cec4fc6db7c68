//! Bounds on a request's framing, checked before anything reads it.

use poem::Request;

use super::error::RequestError;
use crate::app::App;

/// The request's target or headers over their bound (`[api] max_url_bytes`,
/// `max_header_bytes`): refused before anything reads them.
pub(super) fn oversized(app: &App, req: &Request) -> Option<RequestError> {
    let api = &app.config.api;
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > api.max_url_bytes {
        return Some(RequestError::UrlTooLong(api.max_url_bytes));
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (headers > api.max_header_bytes).then_some(RequestError::HeadersTooLarge(api.max_header_bytes))
}
