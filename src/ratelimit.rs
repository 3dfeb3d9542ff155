//! Rate limits: per token for callers with a valid token, per client address
//! for everyone else (including callers with a bad token, so inventing tokens
//! buys nothing). Behind a reverse proxy, the client address is taken from
//! `X-Forwarded-For` only when the connection comes from a configured trusted
//! proxy; otherwise that header is ignored, since anyone can send it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use prometheus_client::metrics::counter::Counter;
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

use crate::auth::{Actor, Authenticator};
use crate::graphql::ErrorCode;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// The organisation and subject of a valid token.
    Token(String),
    Address(IpAddr),
}

/// How many requests a client may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Sustained requests per second per client; 0 turns rate limiting off.
    pub per_second: u32,
    /// Requests a client may send at once before the sustained rate applies.
    pub burst: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_second: 100, burst: 200, trusted_proxies: vec![] }
    }
}

#[derive(Clone)]
pub struct ClientKeyExtractor {
    authenticator: Authenticator,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl ClientKeyExtractor {
    /// The client's address: the peer, or behind trusted proxies the nearest
    /// address in `X-Forwarded-For` that is not one of them.
    fn address<T>(&self, request: &Request<T>) -> Option<IpAddr> {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse().ok()).collect();
        Some(hops.into_iter().rev().find(|hop| !self.trusted_proxies.contains(hop)).unwrap_or(peer))
    }
}

impl KeyExtractor for ClientKeyExtractor {
    type Key = ClientKey;

    fn extract<T>(&self, request: &Request<T>) -> Result<ClientKey, GovernorError> {
        let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if authorization.is_some()
            && let Ok(actor) = self.authenticator.identify(authorization)
            && actor != Actor::Anonymous
        {
            return Ok(ClientKey::Token(format!("{}\n{}", actor.organisation(), actor.subject())));
        }
        self.address(request).map(ClientKey::Address).ok_or(GovernorError::UnableToExtractKey)
    }
}

/// The layer that applies `limits`, or `None` when they are off; it counts
/// the requests it refuses in `refusals`.
pub fn layer(
    limits: &RateLimits,
    authenticator: Authenticator,
    refusals: Counter,
) -> Option<tower_governor::GovernorLayer<ClientKeyExtractor, governor::middleware::NoOpMiddleware, axum::body::Body>> {
    if limits.per_second == 0 {
        return None;
    }
    let extractor = ClientKeyExtractor { authenticator, trusted_proxies: Arc::new(limits.trusted_proxies.clone()) };
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_secs(1) / limits.per_second)
        .burst_size(limits.burst.max(1))
        .key_extractor(extractor)
        .finish()?;
    let config = Arc::new(config);
    // Forget clients that have been quiet, so the table of keys cannot grow without end.
    let limiter = Arc::downgrade(&config);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(config) = limiter.upgrade() else { return };
            config.limiter().retain_recent();
        }
    });
    Some(tower_governor::GovernorLayer::new(config).error_handler(move |error| {
        if matches!(error, GovernorError::TooManyRequests { .. }) {
            refusals.inc();
        }
        refused(error)
    }))
}

fn refused(error: GovernorError) -> Response<axum::body::Body> {
    let (status, code, message, wait) = match error {
        GovernorError::TooManyRequests { wait_time, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many requests: retry after {} s", wait_time.max(1)),
            Some(wait_time.max(1)),
        ),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalServerError, "internal error".to_owned(), None),
    };
    let mut response = crate::http::problem::problem(status, code, message);
    if let Some(wait) = wait
        && let Ok(value) = HeaderValue::from_str(&wait.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
