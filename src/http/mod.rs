//! The HTTP surface: the registry page at `/`, `/graphql` (POST, GET and
//! GraphiQL), `/schema.graphql`, the downloads under `/export/`, `/healthz`,
//! `/readyz` and `/metrics`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::util::BoxCloneSyncService;
use tower_http::body::Limited;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use around::AroundLayer;

mod around;
mod assets;
pub mod cache;
pub use assets::embedded_files;
mod export;
mod graphql;
mod head;
mod negotiate;
mod observe;
pub(crate) mod problem;
pub mod security;
mod unread;
mod websocket;

use crate::auth::Authenticator;
use crate::graphql::{ErrorCode, RegistrySchema};
use crate::metrics::Metrics;
use crate::registry::{Readiness, Registry};

/// The header naming the API version of every response.
const API_VERSION_HEADER: header::HeaderName = header::HeaderName::from_static("api-version");
const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Largest request body accepted (queries are small; this stops abuse).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A backstop for every route: a request still running after this is
/// answered with 503. GraphQL requests meet their own, shorter deadline first.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares, behind one `Arc`: axum hands each request its
/// own copy of the state, and copying the parts (the cache, the key set, the
/// registry handles) on every request cost more than a kept answer.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

pub struct AppParts {
    pub schema: RegistrySchema,
    pub registry: Registry,
    /// Every metric `/metrics` shows.
    pub metrics: Metrics,
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

/// The service every connection calls: the routes inside the layers every
/// request passes.
pub type App = BoxCloneSyncService<Request, Response, Infallible>;

pub fn router(state: AppState) -> App {
    // Beyond the in-flight cap a request is answered at once instead of
    // queueing without bound; health, metrics and WebSockets stay outside it.
    let mut graphql = Router::new().route("/graphql", get(graphql::graphql_get).post(graphql::graphql_post)).layer(
        tower::ServiceBuilder::new()
            .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async { overloaded() }))
            .load_shed()
            .concurrency_limit(state.max_in_flight),
    );
    graphql = graphql.route("/graphql/ws", get(websocket::graphql_ws));
    // Counted before the in-flight cap, so a client over its rate takes no slot.
    let refusals = state.metrics.rate_limited();
    if let Some(rate_limit) = crate::ratelimit::layer(&state.rate_limits, state.authenticator.clone(), refusals) {
        graphql = graphql.layer(rate_limit);
    }
    // A new route: add it to `observe::ROUTES` too, or its metrics say `other`.
    let routes = Router::new()
        .merge(graphql)
        .route("/schema.graphql", get(schema_sdl))
        .route("/export/{file}", get(export::download))
        .route("/", get(assets::site_page))
        .route("/site/{file}", get(assets::site_asset))
        .route("/graphiql/{file}", get(assets::graphiql_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    // The layers wrap the router rather than each route (`Router::layer`):
    // axum copies a route's layers for every request it routes, which was a
    // sixth of the CPU of a small kept answer. Wrapped, they are copied once
    // per connection (`server.rs`). First listed is outermost.
    let outer = tower::ServiceBuilder::new()
        // So that a body any layer refused unread is seen as unread.
        .layer(AroundLayer(unread::CloseWhenUnread))
        .layer(security::security_headers())
        // The version of the API that answered (Dutch API Design Rules)...
        .layer(SetResponseHeaderLayer::overriding(API_VERSION_HEADER, HeaderValue::from_static(crate::API_VERSION)))
        // ...and the request it answered (the client's own X-Request-Id, or a new UUID).
        .map_request(observe::drop_unusable_request_id)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(AroundLayer(problem::ProblemDetails))
        // One log line per request, with its request id (set by the layer outside
        // this one); the request's own log lines are in its span. And its metrics.
        .layer(AroundLayer(observe::Observe(state.metrics.clone())));
    let inner = tower::ServiceBuilder::new()
        .layer(AroundLayer(head::HeadAsGet))
        // The layers inside answer with bodies of their own types.
        .map_response(IntoResponse::into_response)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(compression())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(security::cors(
            &state.cors_allowed_origins,
            vec![header::ETAG, header::RETRY_AFTER, header::CONTENT_DISPOSITION, API_VERSION_HEADER, X_REQUEST_ID],
        ));
    // Each layer's future holds the future of the layers inside it and is
    // moved as it is built, so a deep stack copies the innermost state again
    // at every level: copying was about 5 % of the CPU of a small kept answer.
    // Boxed at two depths, each level holds a pointer instead.
    let routes = BoxCloneSyncService::<Request<Limited<Body>>, Response, Infallible>::new(routes);
    App::new(outer.service(App::new(inner.service(routes))))
}

/// tower-http's compression with its default choice of what to compress,
/// except that a body must have at least [`cache::COMPRESS_FROM`] bytes, the
/// size from which kept answers are kept compressed. With its default (from
/// 32 bytes), every smaller kept answer was compressed again for each client
/// that takes gzip: a new compressor per request, at a tenth of the speed of
/// sending the answer as it is.
fn compression() -> CompressionLayer<impl Predicate> {
    let worth_it = SizeAbove::new(cache::COMPRESS_FROM as u64)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new().compress_when(worth_it)
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

/// The metrics: OpenMetrics text when the scraper asks for it, else the Prometheus text format.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains("application/openmetrics-text"));
    let readings = crate::metrics::Readings {
        registry_version: state.registry.known_version(),
        subscriptions_open: state.subscriptions.open(),
        pool: state.registry.db().pool_use(),
    };
    let (content_type, body) = state.metrics.encode(readings, openmetrics);
    ([(header::CONTENT_TYPE, content_type)], body)
}
