//! HEAD is answered as GET without the body (RFC 9110, section 9.3.2: the
//! same headers as a GET would have).
//!
//! axum's router does this itself, but it runs inside the layers now
//! (`router` in `mod.rs`), so the compression layer would see HEAD's empty
//! body and leave out `Content-Encoding` and `Vary`. The router is asked for
//! the GET answer instead, and its body is dropped here, outside every layer
//! that looks at bodies.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;

use super::around::Around;

#[derive(Clone)]
pub struct HeadAsGet;

impl Around for HeadAsGet {
    /// Whether the request was a HEAD.
    type Pending = bool;

    fn before(&self, request: &mut Request) -> (bool, tracing::Span) {
        let head = request.method() == Method::HEAD;
        if head {
            *request.method_mut() = Method::GET;
        }
        (head, tracing::Span::none())
    }

    fn after(head: bool, response: Response) -> Response {
        if !head {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        // As axum does: the length the GET would have, when it is known.
        if let (false, Some(length)) = (parts.headers.contains_key(header::CONTENT_LENGTH), body.size_hint().exact()) {
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        Response::from_parts(parts, Body::empty())
    }
}
