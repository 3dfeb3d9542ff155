//! What a resolver reaches through its context: the registry, the caller, and
//! the date a question is asked for. Resolvers use these and nothing else, so
//! "anonymous when no token" and "`asOf` defaults to today" hold everywhere.

use async_graphql::Context;
use chrono::NaiveDate;

use std::sync::Arc;

use super::provisional::ProvisionalMark;
use super::scalars::Date;
use crate::auth::Actor;
use crate::registry::{self, Registry, RegistryError, coverage};

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
pub fn as_of(ctx: &Context<'_>, value: Option<Date>, default: NaiveDate) -> Result<NaiveDate, RegistryError> {
    answered_for(ctx, value.map_or(default, |date| date.0))
}

/// A root field's `asOf`, else today in the Netherlands.
pub fn or_today(ctx: &Context<'_>, value: Option<Date>) -> Result<NaiveDate, RegistryError> {
    answered_for(ctx, value.map_or_else(registry::today, |date| date.0))
}

/// A date a write names, else today (the date a new member list holds from);
/// the registry's write rules check it.
pub fn write_date_or_today(value: Option<Date>) -> NaiveDate {
    value.map_or_else(registry::today, |date| date.0)
}

/// Refuses a date before the registry's coverage and marks an answer for a
/// date after today as provisional.
fn answered_for(ctx: &Context<'_>, date: NaiveDate) -> Result<NaiveDate, RegistryError> {
    let date = coverage::check_as_of("asOf", date)?;
    if coverage::is_provisional(date)
        && let Some(mark) = ctx.data_opt::<Arc<ProvisionalMark>>()
    {
        mark.set();
    }
    Ok(date)
}
