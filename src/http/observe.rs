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
//! are in its span, `request`, which names the request id too.
//!
//! Handlers add what only they know to the response as [`RequestFacts`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::OperationType;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::X_REQUEST_ID;
use crate::graphql::ErrorCode;
use crate::metrics::{Metrics, RequestOutcome};
use crate::secrets::RedactedUri;

/// The routes of the router, as the metrics label them; any other path is `other`.
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
pub async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = |id: &HeaderValue| {
        let id = id.as_bytes();
        !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.iter().all(|byte| byte.is_ascii_graphic())
    };
    if request.headers().get(X_REQUEST_ID).is_some_and(|id| !usable(id)) {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    request
}

/// The middleware: runs the request in its span, then logs and counts it.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let route = matched.and_then(|path| ROUTES.iter().find(|route| **route == path).copied()).unwrap_or("other");
    let mut line = RequestLine {
        started: Instant::now(),
        metrics,
        route,
        method: request.method().clone(),
        uri: request.uri().clone(),
        request_id: request.headers().get(X_REQUEST_ID).cloned(),
        answer: None,
    };
    let span = tracing::info_span!(
        "request",
        method = %line.method,
        uri = %RedactedUri(&line.uri),
        request_id = line.request_id(),
    );
    // Dropped here when the client leaves: the line then says `cancelled`.
    let mut response = next.run(request).instrument(span).await;
    let facts = response.extensions_mut().remove::<RequestFacts>().unwrap_or_default();
    let code = facts.code.or_else(|| super::problem::code_of(&response));
    line.answer = Some(Answer { status: response.status(), code, facts });
    response
}

/// One request, logged and counted when dropped.
struct RequestLine {
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
