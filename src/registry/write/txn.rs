//! One write transaction and the steps mutations are made of: lookups that
//! answer NOT_FOUND, the guarded versioned update, inserts, and the journal.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, SqlErr, SqliteTransactionMode, TransactionOptions,
};
use serde::Serialize;

use super::journal::{self, Author, Published, Snapshot};
use super::{Intent, receipts};
use crate::auth::Actor;
use crate::db::{Db, HeldConnection};
use crate::registry::bounds::CODES_PER_LIST;
use crate::registry::error::{UserError, UserErrorCode, WriteError};
use crate::registry::feed::{self, PendingChange};
use crate::registry::record::{Coded, Versioned};
use crate::registry::{Registry, today};

pub enum Began {
    Fresh(WriteTxn),
    /// The same mutation with the same input already ran: the code of its object.
    Replay(String),
}

pub struct WriteTxn {
    pub txn: DatabaseTransaction,
    _connection: HeldConnection,
    _lane: tokio::sync::OwnedSemaphorePermit,
    actor: Actor,
    mutation: &'static str,
    /// The id of this attempt's receipt row, when it has a `clientMutationId`.
    receipt: Option<i32>,
    /// Filled by `record` (which only borrows), drained at commit.
    changes: Mutex<Vec<PendingChange>>,
    /// Set by every statement that changes a row, so a write that forgot its
    /// journal fails instead of committing unseen.
    wrote: AtomicBool,
}

/// Begins a write transaction: the one place every write path begins one.
///
/// PostgreSQL: READ COMMITTED, because the feed's head row lock relies on a
/// blocked UPDATE seeing the committed value. Every connection has it as its
/// default (`db::postgres_options`), so BEGIN alone gives it.
///
/// SQLite: `BEGIN IMMEDIATE`, and no isolation level (SQLite has one, and
/// sea-orm logs a warning for every transaction asked for one). IMMEDIATE
/// takes the write lock at once, so a write that meets another process's
/// write lock waits up to the busy timeout (`db::SQLITE_BUSY_TIMEOUT`). A
/// deferred transaction reads first (receipt, lookups) and then upgrades to
/// a write lock; SQLite refuses that upgrade with SQLITE_BUSY at once,
/// without waiting, when another connection is writing.
async fn begin_write(db: &Db) -> Result<(DatabaseTransaction, HeldConnection), sea_orm::DbErr> {
    let options = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }
        }
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

impl WriteTxn {
    /// Begins the transaction and takes the receipt, or finds the earlier attempt.
    pub async fn begin(registry: &Registry, intent: &Intent<'_>, input: &impl Serialize) -> Result<Began, WriteError> {
        if let Some(id) = intent.client_mutation_id {
            receipts::check_format(id)?;
        }
        // Before taking a connection: a queued write holds none (see
        // `registry::write_lanes`). It waits as long as it would for a pooled
        // connection, and is then refused the same way (SERVICE_UNAVAILABLE,
        // retry later) instead of waiting until the request's deadline.
        let full = || sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let lane = tokio::time::timeout(crate::db::ACQUIRE_TIMEOUT, registry.writers.clone().acquire_owned())
            .await
            .map_err(|_| full())?
            .map_err(|_| full())?;
        let (txn, connection) = begin_write(&registry.db).await?;
        let mut receipt = None;
        if let Some(id) = intent.client_mutation_id {
            let hash = receipts::fingerprint(input);
            let organisation = intent.actor.organisation();
            if let Some(earlier) = receipts::find(&txn, organisation, id).await? {
                return receipts::answer_from(earlier, intent, &hash).map(Began::Replay);
            }
            match receipts::take(&txn, intent, id, &hash).await {
                Ok(row) => receipt = Some(row),
                Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    txn.rollback().await?;
                    drop(connection); // the lookup below takes its own
                    let earlier = receipts::find(&registry.db, organisation, id).await?.ok_or(error)?;
                    return receipts::answer_from(earlier, intent, &hash).map(Began::Replay);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Began::Fresh(WriteTxn {
            txn,
            _connection: connection,
            _lane: lane,
            actor: intent.actor.clone(),
            mutation: intent.mutation,
            receipt,
            changes: Default::default(),
            wrote: AtomicBool::new(false),
        }))
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Provenance of rows this write creates.
    pub fn source(&self) -> String {
        format!(
            "Entered through {} by {} ({}) on {}",
            self.mutation,
            self.actor.organisation(),
            self.actor.subject(),
            today()
        )
    }

    // ----- lookups ----------------------------------------------------------

    pub async fn find<M: Coded>(&self, code: &str) -> Result<Option<M>, WriteError> {
        Ok(M::Entity::find().filter(M::CODE.eq(code)).one(&self.txn).await?)
    }

    /// The object with `code`, or NOT_FOUND on `field`.
    pub async fn require<M: Coded>(&self, code: &str, field: &str) -> Result<M, WriteError> {
        self.find(code).await?.ok_or_else(|| WriteError::not_found(&[field], M::WHAT, code))
    }

    /// Like [`Self::require`] for an optional code.
    pub async fn require_opt<M: Coded>(&self, code: Option<&String>, field: &str) -> Result<Option<M>, WriteError> {
        match code {
            Some(code) => Ok(Some(self.require(code, field).await?)),
            None => Ok(None),
        }
    }

    /// Ids for a list of codes, in code order without repeats; every unknown code is reported on `field`.
    pub async fn require_all<M: Coded>(&self, codes: &[String], field: &str) -> Result<Vec<i32>, WriteError> {
        let unique: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
        if unique.len() > CODES_PER_LIST {
            return Err(WriteError::invalid(&[field], format!("name at most {CODES_PER_LIST} different codes")));
        }
        let rows: Vec<(String, i32)> = M::Entity::find()
            .select_only()
            .column(M::CODE)
            .column(M::ID)
            .filter(M::CODE.is_in(unique.iter().copied()))
            .into_tuple()
            .all(&self.txn)
            .await?;
        let found: HashMap<&str, i32> = rows.iter().map(|(code, id)| (code.as_str(), *id)).collect();
        let missing: Vec<UserError> = unique
            .iter()
            .filter(|code| !found.contains_key(*code))
            .map(|code| UserError::new(&[field], UserErrorCode::NotFound, format!("no {} with code {code:?}", M::WHAT)))
            .collect();
        if !missing.is_empty() {
            return Err(WriteError::Rejected(missing));
        }
        Ok(unique.iter().map(|code| found[code]).collect())
    }

    /// Codes are never reused: refuses a create with a code that exists.
    pub async fn ensure_code_free<M: Coded>(&self, code: &str) -> Result<(), WriteError> {
        match self.find::<M>(code).await? {
            Some(_) => Err(WriteError::code_taken()),
            None => Ok(()),
        }
    }

    // ----- changes ------------------------------------------------------------

    /// Writes `after` (with the next version) only if the row still has
    /// `before`'s version, so of two concurrent writers with the same version
    /// exactly one wins. The one place a versioned row is updated.
    pub async fn guarded<M: Versioned>(&self, before: &M, mut after: M) -> Result<M, WriteError>
    where
        <M::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = M::Entity> + Send,
    {
        after.set_version(before.version() + 1);
        self.wrote.store(true, Ordering::Relaxed);
        let result = M::Entity::update_many()
            .set(after.clone().into_active().reset_all())
            .filter(M::ID.eq(before.id()))
            .filter(M::VERSION.eq(before.version()))
            .exec(&self.txn)
            .await?;
        if result.rows_affected == 0 {
            let current: Option<i32> = M::Entity::find()
                .select_only()
                .column(M::VERSION)
                .filter(M::ID.eq(before.id()))
                .into_tuple()
                .one(&self.txn)
                .await?;
            return Err(WriteError::stale(before.version(), current.unwrap_or(before.version())));
        }
        Ok(after)
    }

    /// A guarded update of a published object, journalled.
    pub async fn update<M: Published>(&self, before: &M, after: M) -> Result<M, WriteError>
    where
        <M::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = M::Entity> + Send,
    {
        let snapshot = self.snapshot(before).await?;
        let after = self.guarded(before, after).await?;
        self.record(Some(snapshot), &after).await?;
        Ok(after)
    }

    /// Inserts a row and returns it as stored.
    pub async fn insert<A>(&self, row: A) -> Result<<A::Entity as EntityTrait>::Model, WriteError>
    where
        A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        self.wrote.store(true, Ordering::Relaxed);
        Ok(row.insert(&self.txn).await?)
    }

    /// Updates a row without a version of its own (a name period): it changes
    /// only inside a guarded change of its owner, which is journalled.
    pub async fn update_row<A>(&self, row: A) -> Result<<A::Entity as EntityTrait>::Model, WriteError>
    where
        A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        self.wrote.store(true, Ordering::Relaxed);
        Ok(row.update(&self.txn).await?)
    }

    /// Inserts a published object and journals its creation.
    pub async fn create<A>(&self, row: A) -> Result<<A::Entity as EntityTrait>::Model, WriteError>
    where
        A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Published,
    {
        let created = self.insert(row).await?;
        self.record(None, &created).await?;
        Ok(created)
    }

    /// The object's public view now, before its relations change.
    pub async fn snapshot<M: Published>(&self, object: &M) -> Result<Snapshot, WriteError> {
        Ok(Snapshot::of(&self.txn, object).await?)
    }

    /// Journals one changed object: its audit record now, its feed entry at commit.
    pub async fn record<M: Published>(&self, before: Option<Snapshot>, after: &M) -> Result<(), WriteError> {
        let author =
            Author { organisation: self.actor.organisation(), subject: self.actor.subject(), mutation: self.mutation };
        let change = journal::record(&self.txn, &author, before, after).await?;
        self.changes.lock().expect("changes lock").push(change);
        Ok(())
    }

    /// Completes the receipt, appends the feed and commits; returns the new
    /// feed head, or `None` when the write changed nothing (then nothing is
    /// committed: the transaction rolls back on drop).
    pub async fn commit<M: Coded>(self, object: &M) -> Result<Option<i64>, WriteError> {
        let receipt = self.receipt.map(|row| (row, M::TYPE.as_str(), object.code().to_owned()));
        self.finish(receipt).await
    }

    /// [`WriteTxn::commit`] for a write that answers with no one object (it
    /// can have no `clientMutationId`, so no receipt).
    pub async fn commit_without_receipt(self) -> Result<Option<i64>, WriteError> {
        debug_assert!(self.receipt.is_none());
        self.finish(None).await
    }

    async fn finish(self, receipt: Option<(i32, &str, String)>) -> Result<Option<i64>, WriteError> {
        let changes = std::mem::take(&mut *self.changes.lock().expect("changes lock"));
        if changes.is_empty() {
            if self.wrote.load(Ordering::Relaxed) {
                // A bug in a command: refuse rather than commit a change no one can see.
                return Err(
                    sea_orm::DbErr::Custom(format!("{} changed rows without journalling them", self.mutation)).into()
                );
            }
            return Ok(None);
        }
        if let Some((row, object_type, code)) = receipt {
            receipts::complete(&self.txn, row, object_type, &code).await?;
        }
        if sea_orm::ConnectionTrait::get_database_backend(&self.txn) == DatabaseBackend::Postgres {
            // Delivered at commit: other instances' listeners wake at once and
            // read the feed (the payload is not needed). Sent before the feed
            // head is locked, so that the lock is held one round trip less.
            let announce = sea_orm::Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, '')",
                [crate::registry::live::COMMIT_CHANNEL.into()],
            );
            sea_orm::ConnectionTrait::execute_raw(&self.txn, announce).await?;
        }
        // Last, so the feed head stays locked for as short as possible.
        let head = feed::append(&self.txn, &changes).await?;
        self.txn.commit().await?;
        Ok(Some(head))
    }
}
