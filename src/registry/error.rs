//! Why the registry refused or failed a request.

use sea_orm::{DbErr, SqlErr};

/// A failed read.
///
/// Deliberately not `Display`: callers must map it to their own error shape
/// (GraphQL errors carry a stable code) rather than print it.
#[derive(Debug)]
pub enum RegistryError {
    /// The caller sent something malformed (a bad cursor, an out-of-range page size).
    InvalidArgument { argument: &'static str, message: String },
    /// A cursor names no place the caller can resume from (malformed, or
    /// beyond the newest change); the message says where to start instead.
    InvalidCursor { argument: &'static str, message: String },
    /// A date before the registry's coverage (see `coverage.rs`).
    OutOfCoverage { argument: &'static str, earliest: chrono::NaiveDate, message: String },
    /// The database failed; the detail is logged, never shown to callers.
    Database(DbErr),
}

impl From<DbErr> for RegistryError {
    fn from(error: DbErr) -> Self {
        Self::Database(error)
    }
}

impl RegistryError {
    pub fn invalid(argument: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument { argument, message: message.into() }
    }
}

/// Stable codes of problems the caller can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorCode {
    /// The input breaks a rule (format, length, range).
    Invalid,
    /// A code in the input names nothing.
    NotFound,
    /// `expectedVersion` is stale, or a `clientMutationId` was reused for other input.
    Conflict,
    /// The change would make two periods overlap where only one may hold.
    Overlap,
}

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// Path of the input field, e.g. `["accessPoint", "email"]`.
    pub field: Vec<String>,
    pub code: UserErrorCode,
    pub message: String,
}

impl UserError {
    pub fn new(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        Self { field: field.iter().map(|f| f.to_string()).collect(), code, message: message.into() }
    }
}

/// Why a write did not happen. Nothing is written in any of these cases.
#[derive(Debug)]
pub enum WriteError {
    /// No (valid) token: writes need one.
    Unauthenticated(String),
    /// The caller may not make this change.
    Forbidden(String),
    /// The input was refused; each problem names its field.
    Rejected(Vec<UserError>),
    /// The database failed.
    Failed(RegistryError),
}

impl WriteError {
    /// One problem with one field.
    pub fn rejected(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        WriteError::Rejected(vec![UserError::new(field, code, message)])
    }

    pub fn invalid(field: &[&str], message: impl Into<String>) -> Self {
        Self::rejected(field, UserErrorCode::Invalid, message)
    }

    pub fn overlap(field: &[&str], message: impl Into<String>) -> Self {
        Self::rejected(field, UserErrorCode::Overlap, message)
    }

    pub fn not_found(field: &[&str], what: &str, code: &str) -> Self {
        Self::rejected(field, UserErrorCode::NotFound, format!("no {what} with code {code:?}"))
    }

    /// `expectedVersion` is not the object's version.
    pub fn stale(expected: i32, current: i32) -> Self {
        Self::rejected(
            &["expectedVersion"],
            UserErrorCode::Conflict,
            format!(
                "the object has changed: expected version {expected}, current version {current}; read it again and retry"
            ),
        )
    }

    pub fn code_taken() -> Self {
        Self::rejected(&["code"], UserErrorCode::Conflict, "this code is taken; codes are never reused")
    }
}

impl From<DbErr> for WriteError {
    /// A unique violation means a concurrent write took the same code first:
    /// the caller can read again and retry.
    fn from(error: DbErr) -> Self {
        if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return WriteError::rejected(
                &[],
                UserErrorCode::Conflict,
                "a concurrent change took the same code or slot first; read again and retry",
            );
        }
        WriteError::Failed(RegistryError::Database(error))
    }
}

impl From<RegistryError> for WriteError {
    fn from(error: RegistryError) -> Self {
        WriteError::Failed(error)
    }
}
