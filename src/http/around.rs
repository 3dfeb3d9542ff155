//! Middleware that works on the request before the services inside it and on
//! their response after, without copying those services per request.
//!
//! axum's `from_fn` and `map_request` hand each request a copy of every
//! service inside them (their futures own the service they call). With the
//! layers outside the router, built once per connection (`server.rs`), an
//! [`Around`] calls the inner service in place and keeps only what it needs
//! for the response.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

/// What a middleware does before the services inside it see a request and
/// after they answered it.
pub trait Around: Clone {
    /// What `before` hands to `after`. When the client leaves before the
    /// answer, it is dropped without `after`.
    type Pending: Send + 'static;

    /// Looks at (or changes) the request. The services inside run in the span
    /// returned with the pending state (`Span::none()` for none).
    fn before(&self, request: &mut Request) -> (Self::Pending, tracing::Span);

    fn after(pending: Self::Pending, response: Response) -> Response;
}

/// The layer of an [`Around`].
#[derive(Clone)]
pub struct AroundLayer<A>(pub A);

impl<A: Around, S> Layer<S> for AroundLayer<A> {
    type Service = AroundService<A, S>;

    fn layer(&self, inner: S) -> Self::Service {
        AroundService { around: self.0.clone(), inner }
    }
}

#[derive(Clone)]
pub struct AroundService<A, S> {
    around: A,
    inner: S,
}

impl<A, S> Service<Request> for AroundService<A, S>
where
    A: Around,
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AroundFuture<A, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let (pending, span) = self.around.before(&mut request);
        let inner = span.in_scope(|| self.inner.call(request));
        AroundFuture { inner: inner.instrument(span), pending: Some(pending) }
    }
}

pin_project_lite::pin_project! {
    pub struct AroundFuture<A: Around, F> {
        #[pin]
        inner: Instrumented<F>,
        pending: Option<A::Pending>,
    }
}

impl<A, F> Future for AroundFuture<A, F>
where
    A: Around,
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.inner.poll(cx));
        Poll::Ready(Ok(match this.pending.take() {
            Some(pending) => A::after(pending, response),
            // Polled again after it answered: a caller's bug, answered as it was.
            None => response,
        }))
    }
}
