//! Files served from the binary, so the service needs no internet access and
//! no files beside it: the registry page at `/` (`assets/site/`, our own) and
//! GraphiQL (`assets/graphiql/`, vendored with its licences).
//!
//! They change only with a deploy, so their ETag is the build and the path:
//! a browser revalidates them and gets 304 until the next deploy.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, cache, set_header};

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// GraphiQL's page, for `GET /graphql` from a browser.
pub const GRAPHIQL_PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// `GET /`: the registry for people.
pub async fn site_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, &headers, "/", include_bytes!("../../assets/site/index.html"), HTML)
}

/// `GET /site/{file}`: the page's script and style sheet.
pub async fn site_asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (body, content_type): (&'static [u8], _) = match file.as_str() {
        "app.js" => (include_bytes!("../../assets/site/app.js"), JAVASCRIPT),
        "app.css" => (include_bytes!("../../assets/site/app.css"), CSS),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    serve(&state, &headers, &format!("/site/{file}"), body, content_type)
}

/// `GET /graphiql/{file}`: GraphiQL's scripts and style sheet.
pub async fn graphiql_asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (body, content_type): (&'static [u8], _) = match file.as_str() {
        "graphiql.min.js" => (include_bytes!("../../assets/graphiql/graphiql.min.js"), JAVASCRIPT),
        "graphiql.min.css" => (include_bytes!("../../assets/graphiql/graphiql.min.css"), CSS),
        "react.production.min.js" => (include_bytes!("../../assets/graphiql/react.production.min.js"), JAVASCRIPT),
        "graphql-ws.min.js" => (include_bytes!("../../assets/graphiql/graphql-ws.min.js"), JAVASCRIPT),
        "react-dom.production.min.js" => {
            (include_bytes!("../../assets/graphiql/react-dom.production.min.js"), JAVASCRIPT)
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    serve(&state, &headers, &format!("/graphiql/{file}"), body, content_type)
}

fn serve(state: &AppState, headers: &HeaderMap, path: &str, body: &'static [u8], content_type: &str) -> Response {
    let etag = cache::weak_etag([state.build.clone(), path.to_owned()]);
    let mut response = if cache::matches_etag(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    set_header(&mut response, header::CONTENT_TYPE, content_type);
    set_header(&mut response, header::ETAG, &etag);
    // Revalidated on every use: a deploy must reach the browser at once, and a 304 costs little.
    set_header(&mut response, header::CACHE_CONTROL, "no-cache");
    set_header(&mut response, header::VARY, "Accept-Encoding");
    response
}
