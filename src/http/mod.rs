//! The HTTP surface: the registry page at `/`, `/graphql` (POST, GET and
//! GraphiQL), `/schema.graphql`, the downloads under `/export/`, `/healthz`,
//! `/readyz` and `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql_axum::GraphQLRequest;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

mod assets;
pub mod cache;
pub use assets::embedded_files;
mod export;
mod negotiate;
pub(crate) mod problem;
pub mod security;
mod websocket;

use crate::auth::{Actor, AuthError, Authenticator};
use crate::db::StatementCounter;
use crate::graphql::{ErrorCode, RegistrySchema, RequestMeta};
use crate::registry::{Readiness, Registry};

/// The header naming the API version of every response.
const API_VERSION_HEADER: header::HeaderName = header::HeaderName::from_static("api-version");
const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Largest request body accepted (queries are small; this stops abuse).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A backstop for every route: a request still running after this is
/// answered with 503. GraphQL requests meet their own, shorter deadline first.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub schema: RegistrySchema,
    pub registry: Registry,
    pub statements: StatementCounter,
    pub authenticator: Authenticator,
    /// `max-age` of public query responses.
    pub cache_max_age: Duration,
    /// How long one GraphQL request may run.
    pub execution_timeout: Duration,
    /// GraphQL requests handled at once; more are refused with 503.
    pub max_in_flight: usize,
    /// Caps on live subscriptions.
    pub subscriptions: crate::graphql::SubscriptionLimits,
    /// How long a WebSocket client may take to send `connection_init`.
    pub connection_init_timeout: Duration,
    /// Requests per client.
    pub rate_limits: crate::ratelimit::RateLimits,
    /// Identifies this build's schema and version, for ETags.
    pub build: String,
    /// Answers to public queries, per registry version.
    pub answers: cache::ResponseCache,
    /// Web origins that may read answers; empty: any.
    pub cors_allowed_origins: Vec<HeaderValue>,
}

pub fn router(state: AppState) -> Router {
    // Beyond the in-flight cap a request is answered at once instead of
    // queueing without bound; health, metrics and WebSockets stay outside it.
    let mut graphql = Router::new().route("/graphql", get(graphql_get).post(graphql_post)).layer(
        tower::ServiceBuilder::new()
            .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async { overloaded() }))
            .load_shed()
            .concurrency_limit(state.max_in_flight),
    );
    graphql = graphql.route("/graphql/ws", get(websocket::graphql_ws));
    // Counted before the in-flight cap, so a client over its rate takes no slot.
    if let Some(rate_limit) = crate::ratelimit::layer(&state.rate_limits, state.authenticator.clone()) {
        graphql = graphql.layer(rate_limit);
    }
    let router = Router::new()
        .merge(graphql)
        .route("/schema.graphql", get(schema_sdl))
        .route("/export/{file}", get(export::download))
        .route("/", get(assets::site_page))
        .route("/site/{file}", get(assets::site_asset))
        .route("/graphiql/{file}", get(assets::graphiql_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(security::cors(
            &state.cors_allowed_origins,
            vec![header::ETAG, header::RETRY_AFTER, header::CONTENT_DISPOSITION, API_VERSION_HEADER, X_REQUEST_ID],
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        // Each request's log lines carry its request id (set by the layer outside this one).
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request.headers().get(X_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            let uri = crate::secrets::RedactedUri(request.uri());
            tracing::info_span!("request", method = %request.method(), %uri, request_id)
        }))
        .layer(axum::middleware::from_fn(problem::problem_details))
        // Every response names its request (the client's own X-Request-Id, or a new UUID)...
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // ...and the version of the API that answered (Dutch API Design Rules).
        .layer(SetResponseHeaderLayer::overriding(API_VERSION_HEADER, HeaderValue::from_static(crate::API_VERSION)));
    security::with_security_headers(router).with_state(state)
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|content_type| content_type.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    run_graphql(&state, &headers, request.into_inner(), false).await
}

/// The caller's actor; a bad token is refused, never treated as anonymous.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, AuthError> {
    let header = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    state.authenticator.authenticate(header)
}

fn unauthenticated(error: AuthError) -> Response {
    let mut response = graphql_error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, &error.0);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Executes one GraphQL request under the execution deadline.
///
/// The query runs in a task of its own. Inside it, Tokio's cooperative
/// budget is switched off: it would make a large query yield half-way through
/// one level of the tree, cutting its DataLoader batches in two. That is also
/// why a deadline polled in the *same* task fired late (73 s for a 30 s
/// limit): a task that never yields never looks at its timer. Here the
/// deadline is awaited by the request's own task while the query runs on
/// another, so it fires on time, and the query is aborted (its work freed) at
/// its next await; a query that never awaits stops itself at its next field
/// (`graphql/cost.rs`).
async fn execute(state: &AppState, request: async_graphql::Request) -> async_graphql::Response {
    let schema = state.schema.clone();
    let query = async move { tokio::task::unconstrained(schema.execute(request)).await };
    let mut task = tokio::spawn(tracing::Instrument::in_current_span(query));
    match tokio::time::timeout(state.execution_timeout, &mut task).await {
        Ok(Ok(response)) => response,
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, "a query panicked");
            async_graphql::Response::from_errors(vec![ErrorCode::InternalServerError.server_error("internal error")])
        }
        Err(_) => {
            task.abort();
            async_graphql::Response::from_errors(vec![crate::graphql::cost::timeout_error(state.execution_timeout)])
        }
    }
}

/// A weak ETag for a query's answer: the build (a deploy may answer the same
/// query differently), the registry version, the day (the default `asOf`),
/// the caller and the request itself.
fn etag(build: &str, version: i64, actor: &Actor, request: &async_graphql::Request) -> String {
    let extensions: BTreeMap<&String, &async_graphql::Value> = request.extensions.iter().collect();
    cache::weak_etag([
        build.to_owned(),
        version.to_string(),
        crate::registry::today().to_string(),
        actor.organisation().to_owned(),
        actor.subject().to_owned(),
        request.query.clone(),
        request.operation_name.clone().unwrap_or_default(),
        serde_json::to_string(&request.variables).unwrap_or_default(),
        serde_json::to_string(&extensions).unwrap_or_default(),
    ])
}

/// Authenticates, answers a matching `If-None-Match` with 304 without
/// executing, executes, and sets the caching headers.
async fn run_graphql(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    via_get: bool,
) -> Response {
    let Some(media) = negotiate::negotiate(headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let actor = match authenticate(state, headers) {
        Ok(actor) => actor,
        Err(error) => return unauthenticated(error),
    };
    // Read before executing: an ETag may then name an older version than the
    // body shows (costing the client one extra fetch later), never a newer one.
    let etag = etag(&state.build, state.registry.known_version(), &actor, &request);
    let shared = actor == Actor::Anonymous;
    let cache_control = if shared {
        cache::public_cache_control(state.cache_max_age)
    } else {
        // Depends on the token: no shared cache may keep it.
        "private, no-store".to_owned()
    };
    let mut response = if via_get && cache::matches_etag(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some(answer) = shared.then(|| state.answers.get(&etag)).flatten() {
        negotiate::answer_response(&answer, headers, media)
    } else {
        let meta = Arc::new(RequestMeta { via_get, ..Default::default() });
        let mut result = execute(state, request.data(actor).data(meta.clone())).await;
        name_the_request(&mut result, headers);
        let cacheable = result.errors.is_empty() && meta.operation.get() == Some(&OperationType::Query);
        if !cacheable {
            let unavailable = result.errors.iter().any(|e| ErrorCode::ServiceUnavailable.is_on(e));
            let mut response = negotiate::uncacheable_response(result, media);
            if unavailable {
                // As when the service is full: the client should come back, not give up.
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                set_header(&mut response, header::RETRY_AFTER, "1");
            }
            return response;
        }
        let body = Bytes::from(serde_json::to_vec(&result).unwrap_or_default());
        if shared {
            negotiate::answer_response(&state.answers.keep(etag.clone(), body), headers, media)
        } else {
            negotiate::answer_response(&cache::Answer::new(body), headers, media)
        }
    };
    set_header(&mut response, header::ETAG, &etag);
    set_header(&mut response, header::CACHE_CONTROL, &cache_control);
    // The answer depends on the token and may be compressed: shared caches must key on both.
    set_header(&mut response, header::VARY, "Authorization, Accept-Encoding");
    response
}

/// An internal error shows no detail; it names the request instead, so an
/// operator can find the detail in the log.
fn name_the_request(result: &mut async_graphql::Response, headers: &HeaderMap) {
    let Some(request_id) = headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok()) else { return };
    for error in result.errors.iter_mut().filter(|e| ErrorCode::InternalServerError.is_on(e)) {
        error.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
    }
}

/// The answer when the in-flight cap is reached.
fn overloaded() -> Response {
    let message = "the service is handling as many requests as it can; retry after the time in Retry-After";
    let mut response = problem::problem(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServiceUnavailable, message);
    set_header(&mut response, header::RETRY_AFTER, "1");
    response
}

pub(crate) fn set_header(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// GET serves GraphiQL to browsers and executes queries given as URL
/// parameters otherwise. Mutations are never executed over GET.
async fn graphql_get(State(state): State<AppState>, RawQuery(query_string): RawQuery, headers: HeaderMap) -> Response {
    let wants_html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    let query_string = query_string.unwrap_or_default();
    if wants_html && query_string.is_empty() {
        return Html(assets::GRAPHIQL_PAGE).into_response();
    }
    match parse_get_request(&query_string) {
        Ok(request) => run_graphql(&state, &headers, request, true).await,
        Err(message) => graphql_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, &message),
    }
}

/// URL parameters of a GraphQL-over-HTTP GET request.
#[derive(serde::Deserialize)]
struct GetParameters {
    #[serde(default)]
    query: String,
    /// The spec's name; `operation_name` is accepted too, as async-graphql's own GET parser uses it.
    #[serde(rename = "operationName", alias = "operation_name")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn parse_get_request(query_string: &str) -> Result<async_graphql::Request, String> {
    let parameters: GetParameters =
        serde_urlencoded::from_str(query_string).map_err(|e| format!("invalid URL parameters: {e}"))?;
    let json = |name: &str, text: Option<String>| -> Result<Option<serde_json::Value>, String> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| format!("{name} is not JSON: {e}"))).transpose()
    };
    let mut request = async_graphql::Request::new(parameters.query);
    if let Some(name) = parameters.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = json("variables", parameters.variables)? {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if let Some(serde_json::Value::Object(extensions)) = json("extensions", parameters.extensions)? {
        for (name, value) in extensions {
            let value = async_graphql::Value::from_json(value).map_err(|e| format!("invalid extension {name}: {e}"))?;
            request.extensions.insert(name, value);
        }
    }
    Ok(request)
}

fn graphql_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], code.body(message).to_string()).into_response()
}

async fn schema_sdl(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], state.schema.sdl())
}

async fn readyz(State(state): State<AppState>) -> Response {
    // A load balancer must learn of an outage in seconds, not after a pool timeout.
    let readiness = tokio::time::timeout(crate::db::ACQUIRE_TIMEOUT, state.registry.readiness()).await;
    // Why not, in the problem's `detail`.
    let not_ready =
        |detail: String| problem::problem(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServiceUnavailable, detail);
    match readiness.unwrap_or(Readiness::Unavailable) {
        Readiness::Ready => "ready".into_response(),
        Readiness::Unavailable => not_ready("not ready: the database does not answer".to_owned()),
        Readiness::ReadOnly(why) => not_ready(format!("not ready: the database can be read but not written: {why}")),
    }
}

/// Prometheus text format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = format!(
        "# HELP jeugdregio_sql_statements_total SQL statements sent to the database.\n\
         # TYPE jeugdregio_sql_statements_total counter\n\
         jeugdregio_sql_statements_total {}\n",
        state.statements.get()
    );
    // The names the Prometheus client libraries use for the same figures.
    for (field, name, help) in [
        ("VmRSS", "process_resident_memory_bytes", "Resident memory size in bytes."),
        ("VmHWM", "process_resident_memory_max_bytes", "Peak resident memory size in bytes."),
    ] {
        if let Some(kib) = process_status_kib(field) {
            body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}\n", kib * 1024));
        }
    }
    body.push_str(&state.authenticator.failures().prometheus_text());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// A `kB` figure of `/proc/self/status` (Linux only).
fn process_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))?;
    line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()
}
