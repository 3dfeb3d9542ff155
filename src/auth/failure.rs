//! The kinds of refused `Authorization` headers and how many of each the
//! service has seen, for the log and `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The kinds of refused `Authorization` headers, as logs and metrics name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Not `Bearer <token>`.
    MalformedHeader,
    /// The service has no key, so it accepts no token.
    NoKey,
    /// Not a JWT: bad base64, JSON or shape, or a claim of the wrong type.
    Malformed,
    /// An algorithm other than the key's.
    WrongAlgorithm,
    BadSignature,
    Expired,
    /// `nbf` in the future.
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    /// `exp`, `iss`, `aud` or `sub` missing.
    MissingClaim,
    /// Signed and valid, but for no municipality (or one that is not a CBS code) and not the operator.
    NoActor,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 11] = [
        AuthFailure::MalformedHeader,
        AuthFailure::NoKey,
        AuthFailure::Malformed,
        AuthFailure::WrongAlgorithm,
        AuthFailure::BadSignature,
        AuthFailure::Expired,
        AuthFailure::NotYetValid,
        AuthFailure::WrongIssuer,
        AuthFailure::WrongAudience,
        AuthFailure::MissingClaim,
        AuthFailure::NoActor,
    ];

    /// The `reason` label of the log line and the metric.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::MalformedHeader => "malformed_header",
            AuthFailure::NoKey => "no_key",
            AuthFailure::Malformed => "malformed",
            AuthFailure::WrongAlgorithm => "wrong_algorithm",
            AuthFailure::BadSignature => "bad_signature",
            AuthFailure::Expired => "expired",
            AuthFailure::NotYetValid => "not_yet_valid",
            AuthFailure::WrongIssuer => "wrong_issuer",
            AuthFailure::WrongAudience => "wrong_audience",
            AuthFailure::MissingClaim => "missing_claim",
            AuthFailure::NoActor => "no_actor",
        }
    }

    pub(super) fn of(error: &jsonwebtoken::errors::Error) -> AuthFailure {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::InvalidSignature => AuthFailure::BadSignature,
            ErrorKind::ExpiredSignature => AuthFailure::Expired,
            ErrorKind::ImmatureSignature => AuthFailure::NotYetValid,
            ErrorKind::InvalidIssuer => AuthFailure::WrongIssuer,
            ErrorKind::InvalidAudience => AuthFailure::WrongAudience,
            ErrorKind::MissingRequiredClaim(_) => AuthFailure::MissingClaim,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
                AuthFailure::WrongAlgorithm
            }
            _ => AuthFailure::Malformed,
        }
    }
}

/// The label of `jeugdregio_authentication_failures_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    reason: &'static str,
}

/// Refused headers per [`AuthFailure`], as the metric
/// `jeugdregio_authentication_failures_total{reason}` (see `crate::metrics`);
/// clones count into the same counters.
#[derive(Clone, Debug)]
pub struct FailureCounts(Family<Reason, Counter>);

impl Default for FailureCounts {
    /// Every reason starts at zero (also those never seen, so that rates start at zero).
    fn default() -> Self {
        let family = Family::default();
        for failure in AuthFailure::ALL {
            let _ = family.get_or_create(&Reason { reason: failure.as_str() });
        }
        FailureCounts(family)
    }
}

impl FailureCounts {
    pub fn record(&self, failure: AuthFailure) {
        self.0.get_or_create(&Reason { reason: failure.as_str() }).inc();
    }

    pub fn count(&self, failure: AuthFailure) -> u64 {
        self.0.get_or_create(&Reason { reason: failure.as_str() }).get()
    }

    /// The counters, for the metrics registry.
    pub fn family(&self) -> Family<Reason, Counter> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_own_label() {
        let labels: std::collections::HashSet<&str> = AuthFailure::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(labels.len(), AuthFailure::ALL.len());
    }
}
