//! GraphQL over HTTP: which media type an answer is sent as, from the
//! client's `Accept`, and the status of an answer that is a request error.

use async_graphql::Value;
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{cache, set_header};
use crate::graphql::ErrorCode;

/// The two media types of a GraphQL answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// The legacy type: every well-formed GraphQL answer is HTTP 200.
    Json,
    /// The specification's type: a request error is HTTP 400, without `data`.
    GraphqlResponse,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::GraphqlResponse => "application/graphql-response+json",
        }
    }
}

/// The client's most preferred of the two; `application/json` when it sends
/// no `Accept` or only a wildcard; `None` when it takes neither (406).
pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let ranges: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|range| !range.is_empty())
        .collect();
    if ranges.is_empty() {
        return Some(MediaType::Json);
    }
    // (quality, specificity, type): the highest quality wins, then an exact
    // type over a wildcard, then the specification's own type.
    let mut best: Option<(f32, u8, MediaType)> = None;
    for range in ranges {
        let mut parts = range.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts.find_map(|p| p.strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        let candidate = match name.as_str() {
            "application/graphql-response+json" => (quality, 2, MediaType::GraphqlResponse),
            "application/json" => (quality, 1, MediaType::Json),
            "application/*" | "*/*" => (quality, 0, MediaType::Json),
            _ => continue,
        };
        if candidate.0 > 0.0 && best.is_none_or(|b| (candidate.0, candidate.1) > (b.0, b.1)) {
            best = Some(candidate);
        }
    }
    best.map(|b| b.2)
}

/// True when an answer is a request error: nothing was executed (no data)
/// because the document or its variables were refused before running.
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    let refused_before_running = [
        ErrorCode::GraphqlParseFailed,
        ErrorCode::GraphqlValidationFailed,
        ErrorCode::CostLimitExceeded,
        ErrorCode::PersistedQueryNotFound,
        ErrorCode::BadRequest,
    ];
    // Bad variables are refused before running too: such an error belongs to
    // the request, not to a field, so it has no path.
    let bad_variables = |e: &async_graphql::ServerError| ErrorCode::BadUserInput.is_on(e) && e.path.is_empty();
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| refused_before_running.iter().any(|code| code.is_on(e)) || bad_variables(e))
}

/// An answer with data, gzip-compressed when the client takes it.
pub fn answer_response(answer: &cache::Answer, headers: &HeaderMap, media: MediaType) -> Response {
    let gzip = if cache::accepts_gzip(headers) { answer.gzip() } else { None };
    let mut response = match gzip {
        Some(gzip) => {
            let mut response = Response::new(Body::from(gzip.clone()));
            set_header(&mut response, header::CONTENT_ENCODING, "gzip");
            response
        }
        None => Response::new(Body::from(answer.body.clone())),
    };
    set_header(&mut response, header::CONTENT_TYPE, media.as_str());
    response
}

/// A mutation's answer, or one with errors: never cached. Under the
/// specification's media type a request error is 400 without `data`.
pub fn uncacheable_response(result: async_graphql::Response, media: MediaType) -> Response {
    let refused_over_get = result.errors.iter().any(|e| ErrorCode::MethodNotAllowed.is_on(e));
    let mut response = if media == MediaType::GraphqlResponse && is_request_error(&result) {
        let body = serde_json::json!({ "errors": result.errors, "extensions": result.extensions });
        (StatusCode::BAD_REQUEST, body.to_string()).into_response()
    } else {
        GraphQLResponse::from(result).into_response()
    };
    if refused_over_get {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        set_header(&mut response, header::ALLOW, "POST");
    }
    set_header(&mut response, header::CONTENT_TYPE, media.as_str());
    set_header(&mut response, header::CACHE_CONTROL, "no-store");
    set_header(&mut response, header::VARY, "Authorization");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_client_gets_the_type_it_prefers() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("application/json")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("application/graphql-response+json")), Some(MediaType::GraphqlResponse));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json, application/json;q=0.9")),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept("application/graphql-response+json;q=0.5, application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(negotiate(&accept("application/json, */*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }
}
