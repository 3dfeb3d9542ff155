//! The HTTP surface: `/graphql` (POST, GET and GraphiQL), `/schema.graphql`,
//! `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{AuthError, Authenticator};
use crate::db::StatementCounter;
use crate::graphql::RegistrySchema;
use crate::registry::Registry;

/// Largest request body accepted (queries are small; this stops abuse).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A request that takes longer than this is answered with 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub schema: RegistrySchema,
    pub registry: Registry,
    pub statements: StatementCounter,
    pub authenticator: Authenticator,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::IF_NONE_MATCH]),
        )
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    match authenticate(&state, &headers) {
        Ok(actor) => GraphQLResponse::from(execute(&state, request.into_inner().data(actor)).await).into_response(),
        Err(error) => unauthenticated(error),
    }
}

/// The caller's actor; a bad token is refused, never treated as anonymous.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<crate::auth::Actor, AuthError> {
    let header = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    state.authenticator.authenticate(header)
}

fn unauthenticated(error: AuthError) -> Response {
    let mut response = graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &error.0);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// Executes one GraphQL request. Tokio's cooperative budget would make a
/// large query yield half-way through one level of the tree, so its
/// DataLoader batches would be cut in two and cost extra statements; the
/// depth and complexity limits bound how long it can run unconstrained.
async fn execute(state: &AppState, request: async_graphql::Request) -> async_graphql::Response {
    tokio::task::unconstrained(state.schema.execute(request)).await
}

/// GET serves GraphiQL to browsers and executes queries given as URL
/// parameters otherwise. Mutations are never executed over GET: a GET must be
/// safe to repeat, cache and prefetch.
async fn graphql_get(State(state): State<AppState>, RawQuery(query_string): RawQuery, headers: HeaderMap) -> Response {
    let wants_html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    let query_string = query_string.unwrap_or_default();
    if wants_html && query_string.is_empty() {
        return Html(GraphiQLSource::build().endpoint("/graphql").title("jeugdregio").finish()).into_response();
    }
    let request = match parse_get_request(&query_string) {
        Ok(request) => request,
        Err(message) => return graphql_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message),
    };
    if !is_query_operation(&request) {
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations and subscriptions are not allowed over GET; use POST",
        );
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    match authenticate(&state, &headers) {
        Ok(actor) => GraphQLResponse::from(execute(&state, request.data(actor)).await).into_response(),
        Err(error) => unauthenticated(error),
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

/// Whether the operation the request would run is a query. A document that
/// does not parse counts as a query: execution then reports the syntax error.
fn is_query_operation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else { return true };
    let operation_type = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name).map(|op| op.node.ty),
        // Without a name the executor refuses a multi-operation document, but
        // only let it reach the executor when nothing in it could write.
        (DocumentOperations::Multiple(operations), None) => {
            return operations.values().all(|op| op.node.ty == OperationType::Query);
        }
    };
    // An unknown operation name is reported by the executor.
    operation_type.is_none_or(|ty| ty == OperationType::Query)
}

fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn schema_sdl(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], state.schema.sdl())
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.registry.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Prometheus text format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "# HELP jeugdregio_sql_statements_total SQL statements sent to the database.\n\
         # TYPE jeugdregio_sql_statements_total counter\n\
         jeugdregio_sql_statements_total {}\n",
        state.statements.get()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
