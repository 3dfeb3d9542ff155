//! Files served from the binary, so the service needs no internet access and
//! no files beside it: the registry page at `/` (`assets/site/`, our own) and
//! GraphiQL (`assets/graphiql/`, vendored with its licences, started by our
//! `init.js`).
//!
//! They change only with a deploy, and the build's identity covers their
//! bytes ([`embedded_files`]), so their ETag is the build and the path: a
//! browser revalidates them and gets 304 until the next deploy.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, cache, set_header};

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// GraphiQL's page, for `GET /graphql` from a browser.
pub const GRAPHIQL_PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// Every file served: its path, its bytes and its media type.
const FILES: &[(&str, &[u8], &str)] = &[
    ("/", include_bytes!("../../assets/site/index.html"), HTML),
    ("/site/app.js", include_bytes!("../../assets/site/app.js"), JAVASCRIPT),
    ("/site/app.css", include_bytes!("../../assets/site/app.css"), CSS),
    ("/graphiql/graphiql.min.js", include_bytes!("../../assets/graphiql/graphiql.min.js"), JAVASCRIPT),
    ("/graphiql/graphiql.min.css", include_bytes!("../../assets/graphiql/graphiql.min.css"), CSS),
    ("/graphiql/react.production.min.js", include_bytes!("../../assets/graphiql/react.production.min.js"), JAVASCRIPT),
    (
        "/graphiql/react-dom.production.min.js",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
        JAVASCRIPT,
    ),
    ("/graphiql/graphql-ws.min.js", include_bytes!("../../assets/graphiql/graphql-ws.min.js"), JAVASCRIPT),
    ("/graphiql/init.js", include_bytes!("../../assets/graphiql/init.js"), JAVASCRIPT),
];

/// The bytes of every file served, GraphiQL's page included, for the build's identity.
pub fn embedded_files() -> impl Iterator<Item = &'static [u8]> {
    FILES.iter().map(|(_, body, _)| *body).chain([GRAPHIQL_PAGE.as_bytes()])
}

/// `GET /`: the registry for people.
pub async fn site_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, &headers, "/")
}

/// `GET /site/{file}`: the page's script and style sheet.
pub async fn site_asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&state, &headers, &format!("/site/{file}"))
}

/// `GET /graphiql/{file}`: GraphiQL's scripts and style sheet.
pub async fn graphiql_asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&state, &headers, &format!("/graphiql/{file}"))
}

fn serve(state: &AppState, headers: &HeaderMap, path: &str) -> Response {
    let Some((_, body, content_type)) = FILES.iter().find(|(served, _, _)| *served == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
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
