//! RFC 9457 problem details for the errors the HTTP layer answers outside
//! GraphQL (an unknown path, a wrong method, a body too large, a malformed
//! request), so that every error a client can get has a machine-readable
//! body naming the request, instead of an empty or plain-text one. Answers
//! that already are JSON (GraphQL errors) are left as they are.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::graphql::ErrorCode;

/// An error response the service makes itself outside GraphQL (overload,
/// rate limit): `problem_details` writes its body, with the request id.
#[derive(Debug, Clone)]
struct Problem {
    code: ErrorCode,
    detail: String,
    /// Extension members (RFC 9457 section 3.2), e.g. the `earliest` date a client may ask for.
    members: serde_json::Map<String, serde_json::Value>,
}

/// A problem-details response with this status, code and explanation.
pub fn problem(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Response {
    problem_with(status, code, detail, serde_json::Map::new())
}

/// [`problem`] with extension members, so that a client can act on the
/// problem without parsing `detail`.
pub fn problem_with(
    status: StatusCode,
    code: ErrorCode,
    detail: impl Into<String>,
    members: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(Problem { code, detail: detail.into(), members });
    response
}

/// The code of a response made with [`problem`].
pub(crate) fn code_of(response: &Response) -> Option<ErrorCode> {
    response.extensions().get::<Problem>().map(|problem| problem.code)
}

/// The middleware that gives error responses without a JSON body a problem-details body.
#[derive(Clone)]
pub struct ProblemDetails;

impl super::around::Around for ProblemDetails {
    /// The request id, for the body.
    type Pending = Option<String>;

    fn before(&self, request: &mut Request) -> (Option<String>, tracing::Span) {
        let request_id = request.headers().get(super::X_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (request_id, tracing::Span::none())
    }

    fn after(request_id: Option<String>, response: Response) -> Response {
        problem_details(request_id, response)
    }
}

fn problem_details(request_id: Option<String>, response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|content_type| content_type.contains("json"));
    let problem = response.extensions().get::<Problem>().cloned();
    if problem.is_none() && (!(status.is_client_error() || status.is_server_error()) || is_json) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": problem.as_ref().map_or(detail(status), |p| p.detail.as_str()),
        "requestId": request_id,
    });
    if let Some(problem) = problem {
        // The same code a GraphQL error would carry, for clients that branch on it.
        body["code"] = problem.code.as_str().into();
        for (name, value) in problem.members {
            body[name] = value;
        }
    }
    // The new body is plain JSON: the length and encoding (the compression
    // layer inside this one may have gzipped the old body) no longer apply.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

fn detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "there is nothing at this path; the API is at /graphql (README: endpoints)",
        StatusCode::METHOD_NOT_ALLOWED => "this path does not take this method; the Allow header lists those it takes",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the service accepts (1 MiB)",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "send GraphQL requests as application/json",
        StatusCode::NOT_ACCEPTABLE => {
            "GraphQL answers are application/json or application/graphql-response+json; accept one of them"
        }
        StatusCode::BAD_REQUEST => "the request is malformed; a GraphQL request is JSON with a query",
        StatusCode::SERVICE_UNAVAILABLE => "the service cannot answer now; retry later",
        _ => "the request failed; quote the requestId when you report it",
    }
}
