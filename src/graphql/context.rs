//! What a resolver reaches through its context: the registry, the caller, and
//! the date a question is asked for. Resolvers use these and nothing else, so
//! "anonymous when no token" and "`asOf` defaults to today" hold everywhere.

use std::any::Any;
use std::sync::Arc;

use async_graphql::extensions::ExtensionContext;
use async_graphql::{Context, Request};
use chrono::NaiveDate;

use super::RegistryLoader;
use super::cost::ResultBudget;
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

/// A query reads the registry, and its relations the loader, through a copy
/// that pins the first snapshot it reads: every relation of one answer comes
/// from one registry version. (A mutation reads the newest snapshot after its
/// write instead.)
pub fn pin_snapshot(ctx: &ExtensionContext<'_>, request: Request) -> Request {
    let Some(registry) = ctx.data_opt::<Registry>() else { return request };
    let registry = registry.pinning_snapshot();
    request.data(RegistryLoader::new(registry.clone())).data(registry)
}

/// Copies into `request` the request data that resolvers read here (the
/// caller, the mark of provisional answers, the pinned registry), for a
/// request the guarded schema prepared and the lean schema runs (`cost.rs`).
pub fn carry_over(ctx: &ExtensionContext<'_>, request: Request) -> Request {
    fn copy<D: Any + Clone + Send + Sync>(ctx: &ExtensionContext<'_>, request: Request) -> Request {
        // The request's data, else the connection's (a WebSocket's), else the schema's.
        match ctx.data_opt::<D>() {
            Some(item) => request.data(item.clone()),
            None => request,
        }
    }
    let request = copy::<Actor>(ctx, request);
    let request = copy::<Registry>(ctx, request);
    let request = copy::<RegistryLoader>(ctx, request);
    copy::<Arc<ProvisionalMark>>(ctx, request)
}

/// Charges a relation's `rows` times the fields selected on each to the
/// request's result budget, when it runs lean (the guarded schema counts
/// every field itself).
pub fn charge(ctx: &Context<'_>, rows: usize) -> async_graphql::Result<()> {
    let Some(budget) = ctx.data_opt::<Arc<ResultBudget>>() else { return Ok(()) };
    let fields = ctx.field().selection_set().count().max(1);
    // The error stops this field, with the code it has as a request error.
    budget.charge(rows.saturating_mul(fields)).map_err(|error| async_graphql::Error {
        message: error.message,
        source: None,
        extensions: error.extensions,
    })
}
