//! A request refused before its body was read (an empty or odd
//! `Content-Type`, a body over the limit) leaves the body's bytes on an
//! HTTP/1.1 connection. Hyper then closes the connection after the response,
//! but without saying so, and a client that reuses the connection for its
//! next request sees that request fail (`IncompleteMessage`; curl retries,
//! most clients do not). Such a response says `Connection: close`, so the
//! client opens a new connection instead.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

/// The middleware that says `Connection: close` when a request's body was left unread.
#[derive(Clone)]
pub struct CloseWhenUnread;

impl super::around::Around for CloseWhenUnread {
    /// Set when the body has been read; none when there is nothing to watch
    /// (no body, or not HTTP/1).
    type Pending = Option<Arc<AtomicBool>>;

    fn before(&self, request: &mut Request) -> (Self::Pending, tracing::Span) {
        if request.version() > Version::HTTP_11 || request.body().is_end_stream() {
            return (None, tracing::Span::none());
        }
        let read = Arc::new(AtomicBool::new(false));
        let body = std::mem::take(request.body_mut());
        *request.body_mut() = Body::new(Tracked { body, read: read.clone() });
        (Some(read), tracing::Span::none())
    }

    fn after(read: Self::Pending, mut response: Response) -> Response {
        if read.is_some_and(|read| !read.load(Ordering::Acquire)) {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A request body that notes when it has been read to its end.
struct Tracked {
    body: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.body.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
