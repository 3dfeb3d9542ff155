//! What a request may cost, decided before it runs, and a second line while
//! it runs.
//!
//! The cost of a field is 1 plus the cost of what it selects; a list field
//! multiplies what it selects by the most items it can return: the page size
//! (`first`) for connections, the declared bound of `registry::bounds` for a
//! relation. A request over the budget is refused with
//! `COST_LIMIT_EXCEEDED` before any resolver runs. While a request runs,
//! every resolved field counts against a second budget, so a mistake in an
//! estimate cannot become an outage (`RESULT_LIMIT_EXCEEDED`). Each response
//! tells its cost in `extensions.cost`.
//!
//! Root fields run concurrently, and each may hold a database connection: a
//! request of 900 aliased root fields would take the whole pool. So at most
//! [`ROOT_FIELDS_AT_ONCE`] root fields of one request resolve at a time; the
//! relations below them are read from the in-memory snapshot.
//!
//! Most requests are then run on the lean schema (`lean.rs`), where the
//! result budget and the deadline are charged per relation instead of per
//! field.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextResolve, NextValidation,
    ResolveInfo,
};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value, value};
use tokio::sync::Semaphore;

use super::lean::{LeanRequest, fields_in, runs_lean};
use super::{ErrorCode, RegistrySchema};
use crate::registry::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Default budget of one request: the whole registry for a portal (1,144,801)
/// fits with room (see docs/limits.md for the worked example).
pub const DEFAULT_COST_LIMIT: usize = 2_500_000;
/// Default number of fields one request may resolve: the whole registry
/// resolves about 4,400; this keeps the largest answer well under 200 MB.
pub const DEFAULT_RESULT_LIMIT: usize = 200_000;

/// Answers this large leave enough freed memory behind to be worth returning to the system.
const LARGE_ANSWER: usize = 20_000;

/// Root fields of one request resolved at the same time.
pub const ROOT_FIELDS_AT_ONCE: usize = 2;

/// A cap far below `usize::MAX`, so sums of capped costs cannot overflow.
const CEILING: usize = 1 << 48;

/// The cost of a list of at most `most` items, each costing `child`.
pub fn list(child: usize, most: usize) -> usize {
    child.saturating_mul(most).saturating_add(1).min(CEILING)
}

/// The cost of one page of a connection; `first` as the caller sent it.
pub fn page(child: usize, first: Option<i32>) -> usize {
    let size = first.map_or(DEFAULT_PAGE_SIZE, |n| (n.max(0) as u64).min(MAX_PAGE_SIZE));
    list(child, size as usize)
}

/// A request whose computed cost is at least this is heavy (the whole
/// registry costs about 1.1 million; one municipality with its region 5).
pub const HEAVY_COST: usize = 100_000;

/// How often (in fields charged) a running request looks at the clock.
const CLOCK_EVERY: usize = 64;

/// The budgets of one request.
#[derive(Debug, Clone)]
pub struct CostLimits {
    pub cost: usize,
    pub result: usize,
    /// The execution deadline, also checked between fields: a query whose
    /// work is all CPU never yields, so aborting its task alone would not stop
    /// it (`http::execute` answers on time either way).
    pub deadline: Duration,
    /// Heavy requests run here one lane at a time, so that they cannot take
    /// every core: a cheap request (one municipality, a feed page) then never
    /// waits behind them for more than a moment. Waiting counts against the
    /// deadline.
    pub heavy_lanes: Arc<Semaphore>,
}

/// One lane per core but one, and at least one: a heavy query works without
/// yielding for long stretches, so it holds its core while it does.
pub fn heavy_lanes() -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Arc::new(Semaphore::new(cores.saturating_sub(1).max(1)))
}

impl Default for CostLimits {
    fn default() -> Self {
        Self {
            cost: DEFAULT_COST_LIMIT,
            result: DEFAULT_RESULT_LIMIT,
            deadline: crate::DEFAULT_EXECUTION_TIMEOUT,
            heavy_lanes: heavy_lanes(),
        }
    }
}

/// The TIMEOUT error of a request stopped at its deadline.
pub fn timeout_error(limit: Duration) -> ServerError {
    ErrorCode::Timeout.server_error(format!(
        "the request ran longer than the execution limit of {} ms and was stopped; ask for less",
        limit.as_millis()
    ))
}

/// The RESULT_LIMIT_EXCEEDED error of a request stopped at its result budget.
fn result_limit_error(resolved: usize, limit: usize) -> ServerError {
    let message = format!("this request resolved more than {limit} fields and was stopped");
    error(ErrorCode::ResultLimitExceeded, message, [("resolved", resolved), ("limit", limit)])
}

/// Registers [`CostGuard`]: the limits, and the lean schema that runs what may run lean.
pub struct CostGuards {
    pub limits: CostLimits,
    pub lean: RegistrySchema,
}

impl ExtensionFactory for CostGuards {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostGuard {
            limits: self.limits.clone(),
            lean_schema: self.lean.clone(),
            lean: Mutex::new(None),
            cost: AtomicUsize::new(0),
            root_fields: Semaphore::new(ROOT_FIELDS_AT_ONCE),
            budget: OnceLock::new(),
        })
    }
}

struct CostGuard {
    limits: CostLimits,
    lean_schema: RegistrySchema,
    /// The request, kept for the lean schema when it may run there.
    lean: Mutex<Option<LeanRequest>>,
    cost: AtomicUsize,
    root_fields: Semaphore,
    /// Set when a query or mutation starts executing. Subscriptions never
    /// set it: their events are not one request's work, so neither the
    /// deadline nor the result budget applies to them (the cost check does).
    budget: OnceLock<Arc<ResultBudget>>,
}

/// The result budget and the deadline of one running request: the guarded
/// schema charges every field, the lean one every relation (`lean.rs`).
pub struct ResultBudget {
    resolved: AtomicUsize,
    limit: usize,
    deadline: Instant,
    timeout: Duration,
    expired: AtomicBool,
}

impl ResultBudget {
    fn new(limits: &CostLimits) -> Self {
        ResultBudget {
            resolved: AtomicUsize::new(0),
            limit: limits.result,
            deadline: Instant::now() + limits.deadline,
            timeout: limits.deadline,
            expired: AtomicBool::new(false),
        }
    }

    /// Counts `fields` about to be resolved; an error once the budget or the
    /// time is spent. Once past, every charge fails at once, so the rest of
    /// the tree is not built.
    pub fn charge(&self, fields: usize) -> ServerResult<()> {
        let before = self.resolved.fetch_add(fields, Ordering::Relaxed);
        let resolved = before.saturating_add(fields);
        if resolved > self.limit {
            return Err(result_limit_error(resolved, self.limit));
        }
        let clock = before / CLOCK_EVERY != resolved / CLOCK_EVERY;
        if self.expired.load(Ordering::Relaxed) || (clock && Instant::now() > self.deadline) {
            self.expired.store(true, Ordering::Relaxed);
            return Err(timeout_error(self.timeout));
        }
        Ok(())
    }

    fn resolved(&self) -> usize {
        self.resolved.load(Ordering::Relaxed)
    }
}

fn error(code: ErrorCode, message: String, fields: [(&str, usize); 2]) -> ServerError {
    let mut error = code.server_error(message);
    if let Some(extensions) = error.extensions.as_mut() {
        for (name, value) in fields {
            extensions.set(name, value as u64);
        }
    }
    error
}

/// A field error the executor made itself has no code: it is an argument
/// that does not parse as its type (a date like 2025-02-30), so the caller's
/// to fix. Errors our resolvers make keep the code they have.
fn coded(result: ServerResult<Option<Value>>) -> ServerResult<Option<Value>> {
    result.map_err(|error| ErrorCode::BadUserInput.unless_coded(error))
}

impl CostGuard {
    /// Runs the prepared request on the lean schema, with the request data
    /// its resolvers read and a budget charged per relation.
    async fn run_lean(&self, ctx: &ExtensionContext<'_>, lean: LeanRequest, budget: Arc<ResultBudget>) -> Response {
        let mut request = Request::new(lean.query).variables(lean.variables);
        if let Some(name) = lean.operation_name {
            request = request.operation_name(name);
        }
        request.set_parsed_query(lean.document);
        request = super::context::carry_over(ctx, request);
        let mut response = self.lean_schema.execute(request.data(budget)).await;
        let errors = std::mem::take(&mut response.errors);
        response.errors = errors.into_iter().map(|error| ErrorCode::BadUserInput.unless_coded(error)).collect();
        response
    }
}

#[async_trait::async_trait]
impl Extension for CostGuard {
    /// Keeps what the lean schema needs, once persisted queries are resolved.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = next.run(ctx, request).await?;
        let operation_name = request.operation_name.clone();
        let document = match request.parsed_query() {
            Ok(document) if runs_lean(document, operation_name.as_deref()) => document.clone(),
            _ => return Ok(request),
        };
        let (query, variables) = (request.query.clone(), request.variables.clone());
        *self.lean.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(LeanRequest { query, operation_name, variables, document });
        Ok(request)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        self.cost.store(result.complexity, Ordering::Relaxed);
        let limit = self.limits.cost;
        if result.complexity > limit {
            let message = format!(
                "this request may cost up to {} and the limit is {limit}: ask for smaller pages (first) or fewer nested lists",
                result.complexity
            );
            return Err(vec![error(
                ErrorCode::CostLimitExceeded,
                message,
                [("cost", result.complexity), ("limit", limit)],
            )]);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let budget = self.budget.get_or_init(|| Arc::new(ResultBudget::new(&self.limits))).clone();
        let _lane = if self.cost.load(Ordering::Relaxed) >= HEAVY_COST {
            Some(self.limits.heavy_lanes.acquire().await.expect("the semaphore is never closed"))
        } else {
            None
        };
        let lean = self.lean.lock().unwrap_or_else(|e| e.into_inner()).take();
        // The lean schema charges relations, not fields: its answer counts them.
        let (mut response, resolved) = match lean {
            Some(lean) => {
                let response = self.run_lean(ctx, lean, budget).await;
                let resolved = fields_in(&response.data);
                (response, resolved)
            }
            None => (next.run(ctx, operation_name).await, budget.resolved()),
        };
        let stopped = [ErrorCode::ResultLimitExceeded, ErrorCode::Timeout]
            .into_iter()
            .find_map(|code| response.errors.iter().find(|e| code.is_on(e)).cloned());
        if let Some(stopped) = stopped {
            // Every field still running when the budget ran out failed the
            // same way: one error says it, and no partial data is sent.
            response = Response::from_errors(vec![stopped]);
        }
        let cost = self.cost.load(Ordering::Relaxed);
        if resolved >= LARGE_ANSWER {
            crate::memory::large_answer_built();
        }
        response.extensions.insert(
            "cost".to_owned(),
            value!({ "requested": cost as u64, "limit": self.limits.cost as u64, "resolvedFields": resolved as u64 }),
        );
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let Some(budget) = self.budget.get() else {
            return coded(next.run(ctx, info).await);
        };
        budget.charge(1)?;
        if info.path_node.parent.is_some() {
            return coded(next.run(ctx, info).await);
        }
        let _turn = self.root_fields.acquire().await.expect("the semaphore is never closed");
        coded(next.run(ctx, info).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stops_at_its_limit_and_its_deadline() {
        let limits = CostLimits { result: 10, deadline: Duration::from_secs(60), ..Default::default() };
        let budget = ResultBudget::new(&limits);
        assert!(budget.charge(10).is_ok());
        assert!(budget.charge(1).is_err());
        let limits = CostLimits { result: 10 * CLOCK_EVERY, deadline: Duration::from_millis(1), ..Default::default() };
        let past = ResultBudget::new(&limits);
        std::thread::sleep(Duration::from_millis(2));
        assert!(past.charge(CLOCK_EVERY).is_err());
    }

    #[test]
    fn lists_multiply_and_never_overflow() {
        assert_eq!(list(3, 40), 121);
        assert_eq!(page(2, None), 101);
        assert_eq!(page(2, Some(1_000_000)), 1001);
        assert_eq!(page(2, Some(-5)), 1);
        let mut cost = 1;
        for _ in 0..20 {
            cost = list(cost, 500);
        }
        assert_eq!(cost, CEILING);
        assert!(CEILING.checked_mul(2_000).is_some(), "a sum of capped costs fits");
    }
}
