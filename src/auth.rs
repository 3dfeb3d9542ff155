//! Bearer tokens -> the acting organisation ([`Actor`]).
//!
//! Tokens are JWTs verified with one configured key: an HS256 shared secret
//! (development) or an RS256/EdDSA public key (production). The algorithm is
//! pinned to the key type, so `alg: none` or an HS256 token signed with a
//! public key is refused. `exp`, `iss`, `aud` and `sub` are required.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::codes::MunicipalityCode;

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

    pub fn subject(&self) -> &str {
        match self {
            Actor::Anonymous => "",
            Actor::Municipality { subject, .. } | Actor::Operator { subject } => subject,
        }
    }
}

/// Why a token was refused. Shown to the caller: it names no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

/// Verification settings.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub secret: Option<String>,
    /// PEM text of an RSA or Ed25519 public key.
    pub public_key_pem: Option<String>,
    pub issuer: String,
    pub audience: String,
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
    key: Option<(DecodingKey, Validation)>,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let (key, algorithm) = match (&config.secret, &config.public_key_pem) {
            (Some(_), Some(_)) => anyhow::bail!("configure either a JWT secret or a JWT public key, not both"),
            (None, None) => return Ok(Self { key: None }),
            (Some(secret), None) => {
                ensure_long_enough(secret)?;
                (DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256)
            }
            (None, Some(pem)) => match DecodingKey::from_rsa_pem(pem.as_bytes()) {
                Ok(key) => (key, Algorithm::RS256),
                Err(_) => (
                    DecodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| {
                        anyhow::anyhow!("the JWT public key is neither an RSA nor an Ed25519 PEM key: {e}")
                    })?,
                    Algorithm::EdDSA,
                ),
            },
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self { key: Some((key, validation)) })
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The actor for an `Authorization` header value (or its absence).
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Actor, AuthError> {
        let Some(header) = authorization else { return Ok(Actor::Anonymous) };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError("the Authorization header must be `Bearer <token>`".into()))?;
        let Some((key, validation)) = &self.key else {
            return Err(AuthError("this service has no token key configured and accepts no tokens".into()));
        };
        let claims = decode::<VerifiedClaims>(token, key, validation)
            .map_err(|e| AuthError(format!("invalid token: {e}")))?
            .claims;
        if claims.scope.as_ref().is_some_and(|s| s.contains(ADMIN_SCOPE)) {
            return Ok(Actor::Operator { subject: claims.sub });
        }
        match claims.municipality {
            Some(code) if MunicipalityCode::is_valid(&code) => Ok(Actor::Municipality { code, subject: claims.sub }),
            Some(_) => Err(AuthError("the municipality claim is not a CBS code such as GM0772".into())),
            None => Err(AuthError(format!("the token names no municipality and has no {ADMIN_SCOPE} scope"))),
        }
    }
}

/// HS256 secrets shorter than this are refused, when verifying and when signing.
const MIN_SECRET_BYTES: usize = 32;

fn ensure_long_enough(secret: &str) -> anyhow::Result<()> {
    anyhow::ensure!(secret.len() >= MIN_SECRET_BYTES, "the JWT secret must be at least {MIN_SECRET_BYTES} bytes");
    Ok(())
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
    // A token the service would refuse, or one for a municipality that does
    // not exist in the CBS code list's form, helps no one.
    ensure_long_enough(secret)?;
    if let TokenFor::Municipality(code) = token_for {
        anyhow::ensure!(
            crate::codes::MunicipalityCode::parse(code).is_some(),
            "{code} is not a CBS municipality code (GM followed by four digits, e.g. GM0772)"
        );
    }
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
        exp: now + ttl_seconds,
        municipality,
        scope,
    };
    Ok(encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))?)
}
