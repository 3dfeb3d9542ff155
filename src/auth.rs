//! Bearer tokens -> the acting organisation ([`Actor`]).
//!
//! Tokens are JWTs verified with one configured key: an HS256 shared secret
//! (development) or an RS256/EdDSA public key (production). The algorithm is
//! pinned to the key type, so `alg: none` or an HS256 token signed with a
//! public key is refused. `exp`, `iss`, `aud` and `sub` are required.
//!
//! A refused token leaves one log line with the kind of failure (never the
//! token) and counts on `/metrics` (`jeugdregio_authentication_failures_total`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::codes::MunicipalityCode;

mod failure;
pub use failure::{AuthFailure, FailureCounts};

/// The scope that makes a caller the registry operator.
pub const ADMIN_SCOPE: &str = "registry:admin";

/// Who is calling, as established by the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No token: may read, never write.
    Anonymous,
    /// Acts for the municipality with this CBS code (`GM0772`).
    Municipality { code: String, subject: String },
    /// The registry operator (`scope` contains `registry:admin`).
    Operator { subject: String },
}

impl Actor {
    /// How the audit log names the acting organisation.
    pub fn organisation(&self) -> &str {
        match self {
            Actor::Anonymous => "ANONYMOUS",
            Actor::Municipality { code, .. } => code,
            Actor::Operator { .. } => "OPERATOR",
        }
    }

    /// The kind of caller, as the request log names it (never who it is).
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Anonymous => "anonymous",
            Actor::Municipality { .. } => "municipality",
            Actor::Operator { .. } => "operator",
        }
    }

    pub fn subject(&self) -> &str {
        match self {
            Actor::Anonymous => "",
            Actor::Municipality { subject, .. } | Actor::Operator { subject } => subject,
        }
    }
}

/// Why a token was refused: the message for the caller (it names no
/// secret) and the kind of failure for the log and the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String, pub AuthFailure);

/// Verification settings. Its `Debug` shows no secret.
#[derive(Clone, Default)]
pub struct AuthConfig {
    pub secret: Option<String>,
    /// PEM text of an RSA or Ed25519 public key.
    pub public_key_pem: Option<String>,
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &self.secret.as_ref().map(|_| crate::secrets::REDACTED))
            .field("public_key_pem", &self.public_key_pem.as_ref().map(|_| "(PEM)"))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scope {
    Text(String),
    List(Vec<String>),
}

impl Scope {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Scope::Text(text) => text.split_whitespace().any(|s| s == wanted),
            Scope::List(list) => list.iter().any(|s| s == wanted),
        }
    }
}

#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    municipality: Option<String>,
    scope: Option<Scope>,
}

/// Claims of the development tokens `jeugdregio token` prints.
#[derive(Debug, Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    municipality: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// Verifies tokens with the configured key; with no key, refuses every token.
#[derive(Clone)]
pub struct Authenticator {
    /// Behind an `Arc` because the rate limiter's service holds a clone, and
    /// axum clones that service for every request.
    key: Option<Arc<(DecodingKey, Validation)>>,
    /// Refused headers, shared by every clone.
    failures: FailureCounts,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let (key, algorithm) = match (&config.secret, &config.public_key_pem) {
            (Some(_), Some(_)) => anyhow::bail!("configure either a JWT secret or a JWT public key, not both"),
            (None, None) => return Ok(Self { key: None, failures: Default::default() }),
            (Some(secret), None) => {
                check_secret(secret).map_err(anyhow::Error::msg)?;
                (DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256)
            }
            (None, Some(pem)) => public_key(pem).map_err(anyhow::Error::msg)?,
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self { key: Some(Arc::new((key, validation))), failures: Default::default() })
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The actor for a request's `Authorization` header value (or its
    /// absence). A refused header is logged (the kind of failure, never the
    /// token) and counted.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Actor, AuthError> {
        self.identify(authorization).inspect_err(|AuthError(_, failure)| {
            self.failures.record(*failure);
            tracing::warn!(reason = failure.as_str(), "refused the bearer token of a request");
        })
    }

    /// [`Authenticator::authenticate`] without logging or counting, for
    /// looking at a header again (the rate limiter keys clients by it).
    pub fn identify(&self, authorization: Option<&str>) -> Result<Actor, AuthError> {
        let Some(header) = authorization else { return Ok(Actor::Anonymous) };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AuthError("the Authorization header must be `Bearer <token>`".into(), AuthFailure::MalformedHeader)
            })?;
        let Some((key, validation)) = self.key.as_deref() else {
            return Err(AuthError(
                "this service has no token key configured and accepts no tokens".into(),
                AuthFailure::NoKey,
            ));
        };
        let claims = decode::<VerifiedClaims>(token, key, validation)
            .map_err(|e| AuthError(format!("invalid token: {e}"), AuthFailure::of(&e)))?
            .claims;
        // The subject is written to the audit log: it must be text that can be stored (PostgreSQL
        // holds no U+0000) and read as one line.
        if claims.sub.chars().any(char::is_control) {
            return Err(AuthError("the sub claim contains control characters".into(), AuthFailure::Malformed));
        }
        if claims.scope.as_ref().is_some_and(|s| s.contains(ADMIN_SCOPE)) {
            return Ok(Actor::Operator { subject: claims.sub });
        }
        match claims.municipality {
            Some(code) if MunicipalityCode::is_valid(&code) => Ok(Actor::Municipality { code, subject: claims.sub }),
            Some(_) => {
                Err(AuthError("the municipality claim is not a CBS code such as GM0772".into(), AuthFailure::NoActor))
            }
            None => Err(AuthError(
                format!("the token names no municipality and has no {ADMIN_SCOPE} scope"),
                AuthFailure::NoActor,
            )),
        }
    }

    /// Refused `Authorization` headers so far, per kind of failure.
    pub fn failures(&self) -> &FailureCounts {
        &self.failures
    }
}

/// HS256 secrets shorter than this are refused, when verifying and when signing.
const MIN_SECRET_BYTES: usize = 32;

/// Whether `secret` may be an HS256 secret. The message never shows it.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the JWT secret must be at least {MIN_SECRET_BYTES} bytes; this one has {} (generate one with `openssl rand -base64 48`)",
            secret.len()
        ));
    }
    Ok(())
}

/// The key and its pinned algorithm of a PEM public key: RSA (RS256) or Ed25519 (EdDSA).
fn public_key(pem: &str) -> Result<(DecodingKey, Algorithm), String> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
        return Ok((key, Algorithm::RS256));
    }
    match DecodingKey::from_ed_pem(pem.as_bytes()) {
        Ok(key) => Ok((key, Algorithm::EdDSA)),
        Err(error) => Err(format!(
            "it is neither an RSA nor an Ed25519 public key in PEM form (\"-----BEGIN PUBLIC KEY-----\"): {error}"
        )),
    }
}

/// Whether `pem` is a public key the service can verify tokens with.
pub fn check_public_key(pem: &str) -> Result<(), String> {
    public_key(pem).map(|_| ())
}

/// What a development token is for.
pub enum TokenFor<'a> {
    Municipality(&'a str),
    Operator,
}

/// Signs a development token with the HS256 secret.
pub fn issue_token(
    config: &AuthConfig,
    subject: &str,
    token_for: TokenFor,
    ttl_seconds: u64,
) -> anyhow::Result<String> {
    let secret = config
        .secret
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("set --jwt-secret or JEUGDREGIO_JWT_SECRET to sign development tokens"))?;
    // A token the service would refuse helps no one: the service's own
    // checks of the key and of the claims are made on it before it is shown.
    let verifier = Authenticator::new(config)?;
    if let TokenFor::Municipality(code) = token_for {
        anyhow::ensure!(
            crate::codes::MunicipalityCode::parse(code).is_some(),
            "{code} is not a CBS municipality code (GM followed by four digits, e.g. GM0772)"
        );
    }
    anyhow::ensure!(ttl_seconds > 0, "the token's lifetime (--ttl) must be longer than 0 s");
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let (municipality, scope) = match token_for {
        TokenFor::Municipality(code) => (Some(code), None),
        TokenFor::Operator => (None, Some(ADMIN_SCOPE)),
    };
    let claims = IssuedClaims {
        iss: &config.issuer,
        aud: &config.audience,
        sub: subject,
        iat: now,
        exp: now.checked_add(ttl_seconds).filter(|exp| *exp <= i64::MAX as u64).ok_or_else(|| {
            anyhow::anyhow!("the token's lifetime (--ttl) is too long: its expiry does not fit a timestamp")
        })?,
        municipality,
        scope,
    };
    let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))?;
    if let Err(AuthError(why, _)) = verifier.identify(Some(&format!("Bearer {token}"))) {
        anyhow::bail!("the service would refuse this token ({why}); none is printed");
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_by_reason_and_the_rate_limiter_s_look_is_not() {
        let secret = "a-secret-that-is-long-enough-for-hs256";
        let config = AuthConfig {
            secret: Some(secret.into()),
            issuer: "jeugdregio".into(),
            audience: "jeugdregio".into(),
            ..Default::default()
        };
        let authenticator = Authenticator::new(&config).unwrap();
        let count = |failure: AuthFailure| authenticator.failures().count(failure);
        assert_eq!(authenticator.authenticate(Some("Basic abc")).unwrap_err().1, AuthFailure::MalformedHeader);
        assert_eq!(authenticator.authenticate(Some("Bearer abc")).unwrap_err().1, AuthFailure::Malformed);
        let other = AuthConfig { secret: Some("another-secret-that-is-long-enough-too".into()), ..config.clone() };
        let forged = format!("Bearer {}", issue_token(&other, "x", TokenFor::Operator, 60).unwrap());
        assert_eq!(authenticator.authenticate(Some(&forged)).unwrap_err().1, AuthFailure::BadSignature);
        assert_eq!(authenticator.identify(Some(&forged)).unwrap_err().1, AuthFailure::BadSignature);
        let valid = format!("Bearer {}", issue_token(&config, "x", TokenFor::Municipality("GM0772"), 60).unwrap());
        assert!(authenticator.authenticate(Some(&valid)).is_ok());
        assert_eq!(authenticator.authenticate(None), Ok(Actor::Anonymous));
        assert_eq!(
            (count(AuthFailure::MalformedHeader), count(AuthFailure::Malformed), count(AuthFailure::BadSignature)),
            (1, 1, 1)
        );
        assert_eq!(count(AuthFailure::Expired), 0);
        // A clone (the router's copy) counts into the same counters.
        let _ = authenticator.clone().authenticate(Some("Bearer abc"));
        assert_eq!(count(AuthFailure::Malformed), 2);
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let config = AuthConfig { secret: Some("a-secret-that-is-long-enough-for-hs256".into()), ..Default::default() };
        assert!(!format!("{config:?}").contains("a-secret"), "{config:?}");
    }
}
