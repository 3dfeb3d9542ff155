use sea_orm::DbErr;

/// Why the registry refused or failed a request.
///
/// Deliberately not `Display`: callers must map it to their own error shape
/// (GraphQL errors carry a stable code) rather than print it.
#[derive(Debug)]
pub enum RegistryError {
    /// The caller sent something malformed (a bad cursor, an out-of-range page size).
    InvalidArgument { argument: &'static str, message: String },
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
