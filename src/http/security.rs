//! What every response says about how a browser may use it: security headers
//! and CORS.
//!
//! The Content-Security-Policy fits the two pages the service serves (the
//! registry page and GraphiQL): scripts and styles from the service only (no
//! inline script; GraphiQL and CodeMirror set inline styles), fonts and the
//! page's empty icon as `data:` URLs, requests (HTTP and WebSocket) to the
//! service only, and no framing. For JSON answers it is harmless.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower::layer::util::{Identity, Stack};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

/// The layers of [`security_headers`].
pub type SecurityHeaders = Stack<SetHeader, Stack<SetHeader, Stack<SetHeader, Stack<SetHeader, Identity>>>>;

/// Adds the security headers to every response that does not set its own.
pub fn security_headers() -> SecurityHeaders {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    tower::ServiceBuilder::new()
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .into_inner()
}

/// Which web pages may read answers: any origin by default (the registry is
/// public), or only `allowed` (`https://portal.example.nl`). No origin may
/// send cookies: the service uses none, and a token goes in `Authorization`,
/// which a page must set itself.
pub fn cors(allowed: &[HeaderValue], exposed: Vec<HeaderName>) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::IF_NONE_MATCH, super::X_REQUEST_ID])
        // So that browser clients can make conditional requests, back off and report.
        .expose_headers(exposed)
        .allow_credentials(false);
    if allowed.is_empty() {
        layer.allow_origin(Any)
    } else {
        layer.allow_origin(AllowOrigin::list(allowed.iter().cloned()))
    }
}

/// The origins of `--cors-allowed-origins`, each `scheme://host[:port]`.
pub fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, String> {
    origins
        .iter()
        .map(|origin| {
            let url = url::Url::parse(origin).map_err(|e| format!("CORS origin {origin:?} is not a URL: {e}"))?;
            let serialized = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || url.path() != "/" || serialized != origin.trim_end_matches('/') {
                return Err(format!(
                    "CORS origin {origin:?} must be just a scheme, host and optional port, such as https://portal.example.nl"
                ));
            }
            HeaderValue::from_str(&serialized).map_err(|e| format!("CORS origin {origin:?}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        let parsed = parse_origins(&["https://portal.example.nl".into(), "http://localhost:3000".into()]).unwrap();
        assert_eq!(parsed, ["https://portal.example.nl", "http://localhost:3000"]);
        for bad in ["portal.example.nl", "https://portal.example.nl/path", "ftp://x.nl", "*", "https://u:p@x.nl"] {
            assert!(parse_origins(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
