//! The mutation root, one object per aggregate merged into one. Each mutation
//! takes one `input` object and returns a payload with the changed object and
//! `userErrors`; failed authentication or authorisation is a GraphQL error
//! with `extensions.code` (`UNAUTHENTICATED`, `FORBIDDEN`). Rules live in the
//! registry: an input converts to its registry command with a `From` impl
//! beside it, and a resolver only builds the intent, calls the registry and
//! maps the outcome to its payload.

mod catalogue;
mod contract;
mod cooperation;
mod merge;
mod municipality;
mod role;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, MergedObject, Result, SimpleObject};
use chrono::NaiveDate;

use super::ErrorCode;
use super::context::actor;
use super::scalars::Date;
use super::types::FromRow;
use crate::auth::Actor;
use crate::registry::{self, Intent, WriteError, Written};

// The SDL lists mutations in this order; membership changes sit apart from
// the other municipality mutations so the published order stays as it was.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    municipality::MunicipalityMutation,
    role::RoleMutation,
    cooperation::CooperationMutation,
    contract::ContractMutation,
    municipality::MembershipMutation,
    merge::MergeMutation,
    catalogue::CatalogueMutation,
);

/// Stable codes of input problems.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::registry::UserErrorCode")]
pub enum UserErrorKind {
    /// The value breaks a rule (format, length, range).
    Invalid,
    /// A code names nothing.
    NotFound,
    /// `expectedVersion` is stale, a code is taken, or a `clientMutationId` was reused for other input.
    Conflict,
    /// Two periods would overlap where only one may hold.
    Overlap,
}

/// A problem with the input the caller can fix. Nothing was written.
#[derive(SimpleObject)]
pub struct UserError {
    /// Path of the input field, e.g. `["accessPoint", "email"]`.
    pub field: Vec<String>,
    pub message: String,
    pub code: UserErrorKind,
}

impl From<registry::UserError> for UserError {
    fn from(e: registry::UserError) -> Self {
        Self { field: e.field, message: e.message, code: e.code.into() }
    }
}

/// An optional input field as a registry patch: omitted keeps the value, null clears it.
fn patch<T: Into<U>, U>(value: MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.into())),
    }
}

/// Ends something from a date: it is no longer valid on `validTo` and after.
#[derive(InputObject)]
pub struct EndInput {
    pub code: String,
    pub expected_version: i32,
    pub valid_to: Date,
    pub client_mutation_id: Option<String>,
}

impl From<EndInput> for registry::End {
    fn from(input: EndInput) -> Self {
        Self { code: input.code, expected_version: input.expected_version, valid_to: input.valid_to.0 }
    }
}

/// What every payload carries besides its object.
struct Outcome<T> {
    client_mutation_id: Option<String>,
    object: Option<T>,
    user_errors: Vec<UserError>,
    replayed: bool,
}

/// A mutation payload and the object type it returns.
trait Payload: From<Outcome<Self::Object>> {
    type Object: FromRow;
}

/// Declares a payload type whose object field is `$field`.
macro_rules! payload {
    ($name:ident, $field:ident: $object:ty) => {
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial)]
        pub struct $name {
            /// Echo of the input's `clientMutationId`.
            pub client_mutation_id: Option<String>,
            /// The object after the change; null when `userErrors` is not empty.
            pub $field: Option<$object>,
            /// Problems with the input; empty when the change was made.
            pub user_errors: Vec<$crate::graphql::mutation::UserError>,
            /// True when this answer comes from an earlier attempt with the same `clientMutationId` (nothing was written now).
            pub replayed: bool,
        }

        impl From<$crate::graphql::mutation::Outcome<$object>> for $name {
            fn from(o: $crate::graphql::mutation::Outcome<$object>) -> Self {
                Self {
                    client_mutation_id: o.client_mutation_id,
                    $field: o.object,
                    user_errors: o.user_errors,
                    replayed: o.replayed,
                }
            }
        }

        impl $crate::graphql::mutation::Payload for $name {
            type Object = $object;
        }
    };
}
use payload;

/// One call of a mutation: who asks, which mutation, and the caller's id for
/// this attempt (which the payload echoes and the registry keys retries on).
struct Attempt<'a> {
    actor: &'a Actor,
    mutation: &'static str,
    client_mutation_id: Option<String>,
}

impl<'a> Attempt<'a> {
    fn new(ctx: &'a Context<'_>, mutation: &'static str, client_mutation_id: &Option<String>) -> Self {
        Self { actor: actor(ctx), mutation, client_mutation_id: client_mutation_id.clone() }
    }

    fn intent(&self) -> Intent<'_> {
        Intent { actor: self.actor, mutation: self.mutation, client_mutation_id: self.client_mutation_id.as_deref() }
    }

    /// Maps a registry outcome to what a payload carries, with the object read
    /// for `as_of`; authentication, authorisation and internal failures become
    /// GraphQL errors instead.
    fn outcome<T: FromRow>(self, result: Result<Written<T::Row>, WriteError>, as_of: NaiveDate) -> Result<Outcome<T>> {
        let (object, user_errors, replayed) = match result {
            Ok(written) => (Some(T::from_row(written.object, as_of)), vec![], written.replayed),
            Err(WriteError::Rejected(errors)) => (None, errors.into_iter().map(Into::into).collect(), false),
            Err(WriteError::Unauthenticated(message)) => return Err(ErrorCode::Unauthenticated.error(message)),
            Err(WriteError::Forbidden(message)) => return Err(ErrorCode::Forbidden.error(message)),
            Err(WriteError::Failed(error)) => return Err(error.into()),
        };
        Ok(Outcome { client_mutation_id: self.client_mutation_id, object, user_errors, replayed })
    }

    /// The payload, with its object read as of today.
    fn payload<P: Payload>(self, result: Result<Written<<P::Object as FromRow>::Row>, WriteError>) -> Result<P> {
        Ok(self.outcome(result, registry::today())?.into())
    }
}
