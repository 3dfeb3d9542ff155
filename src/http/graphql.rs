//! GraphQL over HTTP: POST, GET (and GraphiQL for browsers), with
//! authentication, the execution deadline, ETags and the kept answers of
//! public queries.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::ParseRequestError;
use async_graphql::parser::types::OperationType;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::observe::{CacheUse, RequestFacts};
use super::{AppState, X_REQUEST_ID, assets, cache, negotiate, set_header};
use crate::auth::{Actor, AuthError};
use crate::graphql::{ErrorCode, RequestMeta};

/// A POST must be `application/json` (parameters such as `charset` aside);
/// anything else is 415 before the body is read, so that no other body
/// (a multipart upload, say) is parsed at all.
pub(super) async fn graphql_post(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let Some(content_type) = content_type.filter(|content_type| {
        let media_type = content_type.split(';').next().unwrap_or_default();
        media_type.trim().eq_ignore_ascii_case("application/json")
    }) else {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    };
    match read_post_body(content_type, body).await {
        Ok(request) => run_graphql(&state, &parts.headers, request, false).await,
        Err(error) => GraphQLRejection(error).into_response(),
    }
}

/// The GraphQL request in a JSON body, refused as async-graphql-axum's
/// extractor refuses it (same status, same message), but read without its
/// streaming reader and parsed once: the extractor parses every body as a
/// possible batch, which makes serde buffer the whole document and read it
/// twice. A body that is not one request (a batch, or no request at all) is
/// parsed again as a batch, only for the extractor's error.
async fn read_post_body(
    content_type: &str,
    body: axum::body::Body,
) -> Result<async_graphql::Request, ParseRequestError> {
    // As the extractor: a content type mime cannot read is a bad request.
    content_type.parse::<mime::Mime>()?;
    // The body limit (`MAX_BODY_BYTES`) is already on the body.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ParseRequestError::Io(std::io::Error::other(error.to_string())))?;
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(request) => Ok(request),
        Err(_) => serde_json::from_slice::<async_graphql::BatchRequest>(&bytes)
            .map_err(|error| ParseRequestError::InvalidRequest(Box::new(error)))?
            .into_single(),
    }
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
/// budget is switched off: a query that reads only the in-memory snapshot
/// has nothing to wait for, and yielding half-way would only delay it. A
/// deadline polled in the *same* task would fire late (73 s for a 30 s
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
    // Hashed where they are; only what is not text yet is written out.
    let (version, today) = (version.to_string(), crate::registry::today().to_string());
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    let extensions = serde_json::to_string(&extensions).unwrap_or_default();
    cache::weak_etag([
        build,
        &version,
        &today,
        actor.organisation(),
        actor.subject(),
        &request.query,
        request.operation_name.as_deref().unwrap_or_default(),
        &variables,
        &extensions,
    ])
}

/// [`answer`], with what it learnt about the request for the request log and metrics.
async fn run_graphql(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    via_get: bool,
) -> Response {
    let mut facts = RequestFacts::default();
    let mut response = answer(state, headers, request, via_get, &mut facts).await;
    response.extensions_mut().insert(facts);
    response
}

/// Authenticates, answers a matching `If-None-Match` with 304 without
/// executing, answers from the kept answers or executes, and sets the
/// caching headers.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    via_get: bool,
    facts: &mut RequestFacts,
) -> Response {
    let Some(media) = negotiate::negotiate(headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let actor = match authenticate(state, headers) {
        Ok(actor) => actor,
        Err(error) => {
            facts.code = Some(ErrorCode::Unauthenticated);
            return unauthenticated(error);
        }
    };
    facts.caller = Some(actor.kind());
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
    let not_modified = via_get && cache::matches_etag(headers, &etag);
    let kept = if shared && !not_modified {
        let kept = state.answers.get(&etag);
        state.metrics.cache_lookup(kept.is_some());
        facts.cache = if kept.is_some() { CacheUse::Hit } else { CacheUse::Miss };
        kept
    } else {
        None
    };
    let mut response = if not_modified {
        // Only the successful answer of a query has an ETag, and it hashes the whole request.
        facts.operation = Some(OperationType::Query);
        facts.operation_name = request.operation_name.as_deref().map(Arc::from);
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some(answer) = kept {
        facts.operation = Some(OperationType::Query);
        facts.operation_name = answer.operation_name.clone();
        negotiate::answer_response(&answer, headers, media)
    } else {
        let meta = Arc::new(RequestMeta { via_get, ..Default::default() });
        // Boxed, so that the future of every request, most of them kept
        // answers, is not as large as an execution's state: it is moved
        // while it is built.
        let mut result = Box::pin(execute(state, request.data(actor).data(meta.clone()))).await;
        name_the_request(&mut result, headers);
        facts.operation = meta.operation.get().copied();
        facts.operation_name = meta.operation_name.get().map(|name| Arc::from(name.as_str()));
        facts.code = result.errors.iter().find_map(ErrorCode::of);
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
        let answer = cache::Answer::new(body).named(facts.operation_name.clone());
        if shared {
            negotiate::answer_response(&state.answers.keep(etag.clone(), answer), headers, media)
        } else {
            negotiate::answer_response(&answer, headers, media)
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

/// GET serves GraphiQL to browsers and executes queries given as URL
/// parameters otherwise. Mutations are never executed over GET.
pub(super) async fn graphql_get(
    State(state): State<AppState>,
    RawQuery(query_string): RawQuery,
    headers: HeaderMap,
) -> Response {
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
    let mut response =
        (status, [(header::CONTENT_TYPE, "application/json")], code.body(message).to_string()).into_response();
    response.extensions_mut().insert(RequestFacts { code: Some(code), ..Default::default() });
    response
}
