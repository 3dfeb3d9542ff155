//! The one way the service reaches the connection pool, counted.
//!
//! Neither sea-orm nor sqlx says how many callers are waiting for a pooled
//! connection, and that is the figure that tells an operator the pool is too
//! small. So every statement and transaction first takes a permit from a
//! semaphore sized to the connections the pool can lend: a caller that finds
//! none free is counted as waiting until it gets one. Holding a permit, the
//! pool always has a connection for it, so the count is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ACQUIRE_TIMEOUT, Failure, PoolUse, failure, pool_use};

/// The service's database: the pool behind a counted gate. Clones share both.
#[derive(Clone)]
pub struct Db {
    connection: DatabaseConnection,
    gate: Arc<Gate>,
}

/// A connection lent to a transaction: hold it as long as the transaction.
pub struct HeldConnection {
    _permit: OwnedSemaphorePermit,
}

struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicU32,
    /// When a statement last found the database unavailable, in ms since
    /// `started`, plus one; 0 while it answers.
    unavailable_at: AtomicU64,
    started: Instant,
}

impl Db {
    pub fn new(connection: DatabaseConnection) -> Self {
        let pool = pool_use(&connection);
        // On PostgreSQL the commit listener keeps one pooled connection for itself.
        let reserved = u32::from(connection.get_database_backend() == DbBackend::Postgres);
        let lendable = pool.max.saturating_sub(reserved).max(1);
        let gate = Gate {
            permits: Arc::new(Semaphore::new(lendable as usize)),
            waiting: AtomicU32::new(0),
            unavailable_at: AtomicU64::new(0),
            started: Instant::now(),
        };
        Db { connection, gate: Arc::new(gate) }
    }

    /// The pool itself, for what must reach the driver: migrations, the
    /// commit listener, the read-only check.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// The pool's connections now, and the callers waiting for one.
    pub fn pool_use(&self) -> PoolUse {
        PoolUse { waiting: self.gate.waiting.load(Ordering::Relaxed), ..pool_use(&self.connection) }
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.gated(|connection| connection.ping()).await
    }

    /// Begins a transaction; the connection stays counted as lent until the
    /// returned [`HeldConnection`] is dropped.
    pub async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<(DatabaseTransaction, HeldConnection), DbErr> {
        let permit = self.gate.enter().await?;
        let txn = self.gate.observe(self.connection.begin_with_options(options).await)?;
        Ok((txn, HeldConnection { _permit: permit }))
    }

    async fn gated<'a, T, F>(&'a self, statement: impl FnOnce(&'a DatabaseConnection) -> F) -> Result<T, DbErr>
    where
        F: Future<Output = Result<T, DbErr>>,
    {
        let _permit = self.gate.enter().await?;
        self.gate.observe(statement(&self.connection).await)
    }
}

impl Gate {
    /// A permit, at once when one is free. Otherwise the caller waits, counted,
    /// up to [`ACQUIRE_TIMEOUT`]; but while the database is unavailable it is
    /// told so at once, because the callers ahead of it are only waiting to
    /// fail (each request must fail within the deadline, not queue behind them).
    async fn enter(&self) -> Result<OwnedSemaphorePermit, DbErr> {
        let timeout = || DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.unavailable() {
            return Err(timeout());
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match permit {
            Ok(Ok(permit)) if !self.unavailable() => Ok(permit),
            _ => Err(timeout()),
        }
    }

    fn unavailable(&self) -> bool {
        match self.unavailable_at.load(Ordering::Relaxed) {
            0 => false,
            at => self.started.elapsed().as_millis() < u128::from(at - 1) + ACQUIRE_TIMEOUT.as_millis(),
        }
    }

    /// Notes whether the database answered; called before the permit is
    /// released, so a waiter that gets it next knows.
    fn observe<T>(&self, outcome: Result<T, DbErr>) -> Result<T, DbErr> {
        match &outcome {
            Err(error) if failure(error) == Failure::Unavailable => {
                let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
                self.unavailable_at.store(now + 1, Ordering::Relaxed);
            }
            Ok(_) => self.unavailable_at.store(0, Ordering::Relaxed),
            Err(_) => {}
        }
        outcome
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.connection.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.gated(|connection| connection.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.gated(|connection| connection.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.gated(|connection| connection.query_one_raw(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.gated(|connection| connection.query_all_raw(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.connection.support_returning()
    }
}
