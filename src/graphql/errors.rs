//! Error codes: the `extensions.code` of every GraphQL error and of every
//! error body the HTTP layer writes itself. Each code is spelled here and
//! nowhere else, so a client can rely on the list in the README.

use async_graphql::ErrorExtensions;

use crate::registry::RegistryError;

/// The extension that carries the code.
const CODE: &str = "code";

/// The stable code of an error a request can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument was malformed (a bad cursor, an out-of-range page size).
    BadUserInput,
    /// The HTTP request itself was malformed (for example bad URL parameters, or
    /// an `operationName` the document has no operation for).
    BadRequest,
    /// No valid token: writing needs one, and a bad token is never anonymous.
    Unauthenticated,
    /// The caller may not make this change.
    Forbidden,
    /// A mutation or subscription was sent over GET.
    MethodNotAllowed,
    /// Something failed inside the service; the detail is logged, not shown.
    InternalServerError,
    /// The request's computed cost is over the budget; it did not run.
    CostLimitExceeded,
    /// The request resolved more fields than one request may; it was stopped.
    ResultLimitExceeded,
    /// The request ran longer than the execution deadline, or one of its
    /// database statements longer than the statement timeout; it was stopped.
    Timeout,
    /// The service has as many requests in flight as it takes, or its database
    /// is unavailable (HTTP 503); retry after `Retry-After`.
    ServiceUnavailable,
    /// The connection or the service has as many live subscriptions as it takes.
    SubscriptionLimitExceeded,
    /// The caller sent more requests than its rate limit; retry after `Retry-After`.
    RateLimited,
    /// The document breaks a validation rule of the GraphQL specification.
    GraphqlValidationFailed,
    /// A cursor names no place to resume from (malformed, or beyond the newest change).
    InvalidCursor,
    /// The document is not valid GraphQL syntax.
    GraphqlParseFailed,
    /// An automatic persisted query's hash is not known: send the query with it once.
    PersistedQueryNotFound,
    /// A date before the registry's coverage (2015-01-01); `extensions.earliest` names the first date.
    AsOfOutOfRange,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::BadUserInput,
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::MethodNotAllowed,
        ErrorCode::InternalServerError,
        ErrorCode::CostLimitExceeded,
        ErrorCode::ResultLimitExceeded,
        ErrorCode::Timeout,
        ErrorCode::ServiceUnavailable,
        ErrorCode::SubscriptionLimitExceeded,
        ErrorCode::RateLimited,
        ErrorCode::GraphqlValidationFailed,
        ErrorCode::InvalidCursor,
        ErrorCode::GraphqlParseFailed,
        ErrorCode::PersistedQueryNotFound,
        ErrorCode::AsOfOutOfRange,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            ErrorCode::CostLimitExceeded => "COST_LIMIT_EXCEEDED",
            ErrorCode::ResultLimitExceeded => "RESULT_LIMIT_EXCEEDED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::SubscriptionLimitExceeded => "SUBSCRIPTION_LIMIT_EXCEEDED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::InvalidCursor => "INVALID_CURSOR",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::AsOfOutOfRange => "AS_OF_OUT_OF_RANGE",
        }
    }

    /// A GraphQL error with this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, e| e.set(CODE, self.as_str()))
    }

    /// A request-level error with this code, for extensions that refuse a
    /// request before it runs (such an error has no position in the query).
    pub fn server_error(self, message: impl Into<String>) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(message, None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set(CODE, self.as_str());
        error.extensions = Some(extensions);
        error
    }

    /// The body of an error response the HTTP layer writes itself, shaped like a GraphQL error.
    pub fn body(self, message: &str) -> serde_json::Value {
        serde_json::json!({ "errors": [{ "message": message, "extensions": { (CODE): self.as_str() } }] })
    }

    /// Gives an error that has no code this one (errors the executor or a
    /// library extension made); a code already set is kept.
    pub fn unless_coded(self, mut error: async_graphql::ServerError) -> async_graphql::ServerError {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get(CODE).is_none() {
            extensions.set(CODE, self.as_str());
        }
        error
    }

    /// True when a server error carries this code.
    pub fn is_on(self, error: &async_graphql::ServerError) -> bool {
        error
            .extensions
            .as_ref()
            .and_then(|e| e.get(CODE))
            .is_some_and(|code| *code == async_graphql::Value::from(self.as_str()))
    }

    /// The code a server error carries, when it is one of ours.
    pub fn of(error: &async_graphql::ServerError) -> Option<ErrorCode> {
        let code = error.extensions.as_ref()?.get(CODE)?;
        ErrorCode::ALL.into_iter().find(|known| *code == async_graphql::Value::from(known.as_str()))
    }
}

/// Turns a registry failure into a GraphQL error with a stable `extensions.code`;
/// database detail is logged and never shown to the caller.
pub(crate) fn registry_error(error: &RegistryError) -> async_graphql::Error {
    match error {
        RegistryError::InvalidArgument { argument, message } => {
            ErrorCode::BadUserInput.error(message.clone()).extend_with(|_, e| e.set("argument", *argument))
        }
        RegistryError::InvalidCursor { argument, message } => {
            ErrorCode::InvalidCursor.error(message.clone()).extend_with(|_, e| e.set("argument", *argument))
        }
        RegistryError::OutOfCoverage { argument, earliest, message } => {
            ErrorCode::AsOfOutOfRange.error(message.clone()).extend_with(|_, e| {
                e.set("argument", *argument);
                e.set("earliest", earliest.to_string());
            })
        }
        RegistryError::Database(db) => match crate::db::failure(db) {
            crate::db::Failure::Unavailable => {
                tracing::warn!(error = %db, "the database is unavailable");
                ErrorCode::ServiceUnavailable
                    .error("the database is unavailable; nothing was changed; retry after the time in Retry-After")
            }
            crate::db::Failure::StatementTimeout => {
                tracing::warn!(error = %db, "a database statement was stopped by statement_timeout");
                let limit = crate::db::STATEMENT_TIMEOUT.as_secs();
                ErrorCode::Timeout.error(format!(
                    "a database statement took longer than {limit} s and was stopped; nothing was changed"
                ))
            }
            crate::db::Failure::Internal => {
                tracing::error!(error = %db, "database error");
                ErrorCode::InternalServerError.error("internal error")
            }
        },
    }
}

impl From<RegistryError> for async_graphql::Error {
    fn from(error: RegistryError) -> Self {
        registry_error(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clients branch on these strings: changing one is a breaking change.
    #[test]
    fn wire_strings_are_pinned() {
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "BAD_USER_INPUT",
                "BAD_REQUEST",
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "METHOD_NOT_ALLOWED",
                "INTERNAL_SERVER_ERROR",
                "COST_LIMIT_EXCEEDED",
                "RESULT_LIMIT_EXCEEDED",
                "TIMEOUT",
                "SERVICE_UNAVAILABLE",
                "SUBSCRIPTION_LIMIT_EXCEEDED",
                "RATE_LIMITED",
                "GRAPHQL_VALIDATION_FAILED",
                "INVALID_CURSOR",
                "GRAPHQL_PARSE_FAILED",
                "PERSISTED_QUERY_NOT_FOUND",
                "AS_OF_OUT_OF_RANGE"
            ]
        );
    }

    /// The HTTP layer's own error bodies look like the GraphQL errors a client already handles.
    #[test]
    fn http_error_body_has_the_graphql_shape() {
        assert_eq!(
            ErrorCode::BadRequest.body("bad"),
            serde_json::json!({ "errors": [{ "message": "bad", "extensions": { "code": "BAD_REQUEST" } }] })
        );
    }
}
