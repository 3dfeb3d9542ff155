//! Every request leaves exactly one log line and is counted on `/metrics`.
//!
//! The line is written at INFO when the answer is ready (or when the client
//! leaves before it: `cancelled`), as an event of its own outside the
//! request's span, so that it carries every field itself: `request_id`,
//! `method`, `path` (with the query string, parameters that look like
//! secrets shown as `***`), `status`, `duration_ms`, and where they apply
//! `operation_type`, `operation_name`, `caller` (`anonymous`, `municipality`
//! or `operator`; never who, never the token), `cache` (`hit`, `miss` or
//! `none`) and the error `code`. Never a body or a header other than the
//! request id. The lines the request causes meanwhile (a refused token, say)
//! are in its span, `request`, which names only the request id.
//!
//! Handlers add what only they know to the response as [`RequestFacts`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::OperationType;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;

use super::X_REQUEST_ID;
use super::around::Around;
use crate::graphql::ErrorCode;
use crate::metrics::{Metrics, RequestOutcome};
use crate::secrets::RedactedUri;

/// The routes of the router, as the metrics label them; any other path is
/// `other`. A `{file}` stands for one path segment, as in the router.
const ROUTES: [&str; 10] = [
    "/graphql",
    "/graphql/ws",
    "/schema.graphql",
    "/export/{file}",
    "/",
    "/site/{file}",
    "/graphiql/{file}",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Whether the kept answers of public queries answered a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheUse {
    /// Not looked up: not an anonymous GraphQL request, or a 304.
    #[default]
    None,
    /// Answered from memory without executing.
    Hit,
    /// Looked up, not there: executed.
    Miss,
}

impl CacheUse {
    fn as_str(self) -> &'static str {
        match self {
            CacheUse::None => "none",
            CacheUse::Hit => "hit",
            CacheUse::Miss => "miss",
        }
    }
}

/// What a handler learnt about its request, for the log line and the metrics
/// (a response extension).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// [`crate::auth::Actor::kind`] of a caller whose token (or none) was accepted.
    pub caller: Option<&'static str>,
    pub operation: Option<OperationType>,
    /// The name of the operation that ran (a GraphQL name from the document).
    pub operation_name: Option<Arc<str>>,
    pub cache: CacheUse,
    /// The code of the answer's first error.
    pub code: Option<ErrorCode>,
}

/// The longest `X-Request-Id` kept from a client.
const MAX_REQUEST_ID: usize = 128;

/// Removes an `X-Request-Id` that cannot serve as one (empty, longer than
/// 128 bytes, or with anything but visible ASCII), so that the next layer
/// gives the request a new UUID instead of echoing it into the response and
/// every log line.
pub fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = |id: &HeaderValue| {
        let id = id.as_bytes();
        !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.iter().all(|byte| byte.is_ascii_graphic())
    };
    if request.headers().get(X_REQUEST_ID).is_some_and(|id| !usable(id)) {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    request
}

/// The label of the route `path` is on. The layers run before the router
/// has matched the path, so they match it themselves.
fn route_of(path: &str) -> &'static str {
    let on = |route: &str| match route.split_once('{') {
        Some((prefix, _)) => {
            path.strip_prefix(prefix).is_some_and(|segment| !segment.is_empty() && !segment.contains('/'))
        }
        None => path == route,
    };
    ROUTES.iter().find(|route| on(route)).copied().unwrap_or("other")
}

/// The middleware that runs each request in its span, then logs and counts it.
#[derive(Clone)]
pub struct Observe(pub Metrics);

impl Around for Observe {
    /// Logs when dropped: after the answer, or when the client leaves first.
    type Pending = RequestLine;

    fn before(&self, request: &mut Request) -> (RequestLine, tracing::Span) {
        let line = RequestLine {
            started: Instant::now(),
            metrics: self.0.clone(),
            route: route_of(request.uri().path()),
            method: request.method().clone(),
            uri: request.uri().clone(),
            request_id: request.headers().get(X_REQUEST_ID).cloned(),
            answer: None,
        };
        // Only the request id: the request's line names the method and path,
        // and formatting them again for every span was 2 % of the CPU of a
        // small kept answer.
        let span = tracing::info_span!("request", request_id = line.request_id());
        (line, span)
    }

    fn after(mut line: RequestLine, mut response: Response) -> Response {
        let facts = response.extensions_mut().remove::<RequestFacts>().unwrap_or_default();
        let code = facts.code.or_else(|| super::problem::code_of(&response));
        line.answer = Some(Answer { status: response.status(), code, facts });
        response
    }
}

/// One request, logged and counted when dropped.
pub struct RequestLine {
    started: Instant,
    metrics: Metrics,
    route: &'static str,
    method: Method,
    uri: Uri,
    request_id: Option<HeaderValue>,
    answer: Option<Answer>,
}

struct Answer {
    status: StatusCode,
    code: Option<ErrorCode>,
    facts: RequestFacts,
}

impl RequestLine {
    fn request_id(&self) -> &str {
        self.request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-")
    }
}

impl Drop for RequestLine {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        let answer = self.answer.take();
        let facts = answer.as_ref().map(|answer| &answer.facts);
        let operation = facts.and_then(|facts| facts.operation).map(operation_label);
        let code = answer.as_ref().and_then(|answer| answer.code).map(ErrorCode::as_str);
        let status = answer.as_ref().map(|answer| answer.status);
        let outcome = RequestOutcome {
            route: self.route,
            operation: operation.unwrap_or("none"),
            status: status.map_or("cancelled", status_class),
            code: code.unwrap_or("none"),
        };
        self.metrics.request(outcome, elapsed);
        tracing::info!(
            request_id = self.request_id(),
            method = %self.method,
            path = %RedactedUri(&self.uri),
            status = status.map(|status| status.as_u16()),
            cancelled = status.is_none().then_some(true),
            duration_ms = milliseconds(elapsed),
            operation_type = operation.map(display),
            operation_name = facts.and_then(|facts| facts.operation_name.as_deref()).map(shortened),
            caller = facts.and_then(|facts| facts.caller).map(display),
            cache = %facts.map_or(CacheUse::None, |facts| facts.cache).as_str(),
            code = code.map(display),
            "request"
        );
    }
}

fn operation_label(operation: OperationType) -> &'static str {
    match operation {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Milliseconds to the microsecond.
fn milliseconds(elapsed: Duration) -> f64 {
    elapsed.as_micros() as f64 / 1000.0
}

/// A GraphQL name is a client's choice and may be long: the log keeps 100 characters of it.
fn shortened(name: &str) -> &str {
    name.char_indices().nth(100).map_or(name, |(end, _)| &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_labelled_with_the_route_that_serves_it() {
        for route in ROUTES.iter().filter(|route| !route.contains('{')) {
            assert_eq!(route_of(route), *route);
        }
        assert_eq!(route_of("/export/regions.csv"), "/export/{file}");
        assert_eq!(route_of("/graphiql/graphiql.min.js"), "/graphiql/{file}");
        for unknown in ["/export/", "/export/a/b", "/graphql/", "/graphqlx", "/nothing", ""] {
            assert_eq!(route_of(unknown), "other", "{unknown}");
        }
    }
}
