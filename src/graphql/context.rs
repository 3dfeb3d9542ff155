//! What a resolver reaches through its context: the registry, the caller, and
//! the date a question is asked for. Resolvers use these and nothing else, so
//! "anonymous when no token" and "`asOf` defaults to today" hold everywhere.

use async_graphql::Context;
use chrono::NaiveDate;

use super::scalars::Date;
use crate::auth::Actor;
use crate::registry::{self, Registry};

/// The registry the schema was built with.
pub fn registry<'a>(ctx: &'a Context<'_>) -> &'a Registry {
    ctx.data_unchecked::<Registry>()
}

/// The caller as the HTTP layer authenticated it; a request without one (a
/// subscription, a test executing the schema directly) is anonymous.
pub fn actor<'a>(ctx: &'a Context<'_>) -> &'a Actor {
    ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous)
}

/// The date a field answers for: its `asOf` argument, else the date its parent was read for.
pub fn as_of(value: Option<Date>, default: NaiveDate) -> NaiveDate {
    value.map_or(default, |date| date.0)
}

/// A date argument, else today in the Netherlands: the default of every root
/// field's `asOf` (and of the date a new member list holds from).
pub fn or_today(value: Option<Date>) -> NaiveDate {
    value.map_or_else(registry::today, |date| date.0)
}
