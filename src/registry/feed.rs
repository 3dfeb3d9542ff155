//! The change feed: every committed write appends its changes at positions
//! of one global sequence that is gap-free, strictly increasing, and visible
//! in order.
//!
//! Why not a database sequence: on PostgreSQL a value taken from a sequence
//! in one transaction can become visible after a higher value taken by a
//! transaction that committed earlier, and rolled-back transactions leave
//! gaps. A reader polling "after N" could then skip a change for good.
//! Instead each write transaction, as its last step before COMMIT, increments
//! the single row of `feed_head` and takes the positions after the old value.
//! The UPDATE holds that row's lock until the transaction ends, so a second
//! writer waits at its own UPDATE until the first has committed (and sees the
//! first's positions) or rolled back (and its increment with it). Positions
//! are therefore handed out in commit order, without gaps, and position N+1
//! cannot be visible before position N. The lock is held only from that
//! UPDATE to COMMIT. On SQLite writers are serialised anyway.

use chrono::Utc;
use entity::{change_event, feed_head};
use sea_orm::sea_query::{
    CommonTableExpression, Expr, ExprTrait, Query, UnionType, UpdateStatement, WithClause, WithQuery,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::bounds::CODES_PER_LIST;
use super::{ChangeOperation, ObjectType, Page, Registry, RegistryError};
use crate::codes::RegionCode;

/// A change recorded in a write transaction, waiting for its position.
#[derive(Debug, Clone)]
pub(super) struct PendingChange {
    pub object_type: ObjectType,
    pub object_code: String,
    pub operation: ChangeOperation,
    pub version: Option<i32>,
    /// The object's public view after the change (see `view.rs`).
    pub state: Value,
    pub region_codes: Vec<String>,
}

/// Takes the next positions for `changes` and appends them; must be the last
/// statement group before COMMIT (see the module comment). Returns the new head.
pub(super) async fn append<C: ConnectionTrait>(txn: &C, changes: &[PendingChange]) -> Result<i64, DbErr> {
    let Some((first, rest)) = changes.split_first() else {
        // Nothing to append (no write path commits without a change): the head stays.
        return head(txn).await;
    };
    let count = changes.len() as i64;
    let take = Query::update()
        .table(feed_head::Entity)
        .value(feed_head::Column::Position, Expr::col(feed_head::Column::Position).add(count))
        .and_where(feed_head::Column::Id.eq(1))
        .returning_col(feed_head::Column::Position)
        .to_owned();
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // One statement: every round trip here is time the head row stays
        // locked while the other writers queue for it, and under load it is
        // what their latency is made of. (SQLite has no UPDATE in a WITH
        // clause, and one writer anyway.)
        let rows = txn.query_all(&append_after(take, first, rest)).await?;
        let positions = rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<Vec<_>, _>>()?;
        // No row back: the head row is missing (the UPDATE matched nothing).
        return positions.into_iter().reduce(Ord::max).ok_or_else(|| DbErr::RecordNotFound("feed_head".into()));
    }
    let head: i64 =
        txn.query_one(&take).await?.ok_or_else(|| DbErr::RecordNotFound("feed_head".into()))?.try_get_by_index(0)?;
    let first = head - count + 1;
    let committed_at = Utc::now();
    let rows = changes.iter().enumerate().map(|(i, change)| change_event::ActiveModel {
        position: Set(first + i as i64),
        committed_at: Set(committed_at),
        object_type: Set(change.object_type.as_str().to_owned()),
        object_code: Set(change.object_code.clone()),
        operation: Set(change.operation.as_str().to_owned()),
        version: Set(change.version),
        state: Set(change.state.to_string()),
        region_codes: Set(region_codes(change)),
    });
    change_event::Entity::insert_many(rows).exec(txn).await?;
    Ok(head)
}

/// `WITH head AS (take) INSERT INTO change_event SELECT head.position - …, … FROM head
/// UNION ALL …`: the positions taken and the entries written in one statement.
fn append_after(take: UpdateStatement, first: &PendingChange, rest: &[PendingChange]) -> WithQuery {
    use change_event::Column;
    let head =
        CommonTableExpression::new().query(take).column(feed_head::Column::Position).table_name("head").to_owned();
    let count = 1 + rest.len() as i64;
    let entry = |(i, change): (usize, &PendingChange)| {
        Query::select()
            .expr(Expr::col(("head", feed_head::Column::Position)).sub(count - 1 - i as i64))
            // The time the head was taken, not before the wait for it: a
            // later position never has an earlier `committedAt`.
            .expr(Expr::cust("clock_timestamp()"))
            .expr(Expr::val(change.object_type.as_str()))
            .expr(Expr::val(change.object_code.as_str()))
            .expr(Expr::val(change.operation.as_str()))
            .expr(Expr::val(change.version))
            .expr(Expr::val(change.state.to_string()))
            .expr(Expr::val(region_codes(change)))
            .from("head")
            .to_owned()
    };
    let mut select = entry((0, first));
    select.unions(rest.iter().enumerate().map(|(i, change)| (UnionType::All, entry((i + 1, change)))));
    let mut insert = Query::insert();
    insert
        .into_table(change_event::Entity)
        .columns([
            Column::Position,
            Column::CommittedAt,
            Column::ObjectType,
            Column::ObjectCode,
            Column::Operation,
            Column::Version,
            Column::State,
            Column::RegionCodes,
        ])
        .returning_col(Column::Position);
    // Cannot fail: the select has as many columns as the insert names.
    let _ = insert.select_from(select);
    insert.with(WithClause::new().cte(head).to_owned())
}

/// The regions of a change as stored for filtering: `;JZ39;JZ33;`.
fn region_codes(change: &PendingChange) -> String {
    format!(";{};", change.region_codes.join(";"))
}

/// The position of the last committed change (0 before any write).
pub(super) async fn head<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let head: Option<i64> = feed_head::Entity::find()
        .select_only()
        .column(feed_head::Column::Position)
        .filter(feed_head::Column::Id.eq(1))
        .into_tuple()
        .one(db)
        .await?;
    Ok(head.unwrap_or(0))
}

/// Which changes a reader wants.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub object_types: Option<Vec<super::ObjectType>>,
    pub codes: Option<Vec<String>>,
    pub region_code: Option<String>,
}

impl Registry {
    /// The position of the last committed change (0 before any write).
    pub async fn registry_version(&self) -> Result<i64, RegistryError> {
        Ok(head(&self.db).await?)
    }

    /// The feed position a cursor names: a change's cursor or a
    /// `registryVersion`, the position in decimal. A cursor beyond the newest
    /// change was never handed out (or belongs to another registry), so
    /// reading on from it would silently skip changes made later: refused.
    pub async fn feed_position(&self, argument: &'static str, cursor: &str) -> Result<i64, RegistryError> {
        let restart = "start again from the registryVersion you read the registry at (or without a cursor)";
        let position = cursor.parse::<i64>().ok().filter(|p| *p >= 0).ok_or_else(|| RegistryError::InvalidCursor {
            argument,
            message: format!("{argument} is not a change cursor or a registryVersion; {restart}"),
        })?;
        let head = self.registry_version().await?;
        if position > head {
            return Err(RegistryError::InvalidCursor {
                argument,
                message: format!("{argument} is beyond the newest change ({head}); {restart}"),
            });
        }
        Ok(position)
    }

    /// Changes after position `after`, in order; `total_count` only when `count` is set.
    pub async fn changes(
        &self,
        filter: &ChangeFilter,
        after: i64,
        first: u64,
        count: bool,
    ) -> Result<Page<change_event::Model>, RegistryError> {
        read_changes(&self.db, filter, after, first, count).await
    }

    /// A receiver that is told the new head after every commit of this process.
    pub fn watch_feed(&self) -> tokio::sync::watch::Receiver<i64> {
        self.feed.subscribe()
    }
}

impl ChangeFilter {
    /// The same test as the database query of [`read_changes`], for changes held in memory.
    pub fn matches(&self, change: &change_event::Model) -> bool {
        !self.names_no_region()
            && self.object_types.as_ref().is_none_or(|types| types.iter().any(|t| t.as_str() == change.object_type))
            && self.codes.as_ref().is_none_or(|codes| codes.contains(&change.object_code))
            && self.region_code.as_ref().is_none_or(|region| change.region_codes.contains(&format!(";{region};")))
    }

    /// A region code that is no region code (`%`, `jz39`) names no region:
    /// the database would take it as a `LIKE` pattern, and SQLite without case.
    fn names_no_region(&self) -> bool {
        self.region_code.as_ref().is_some_and(|code| !RegionCode::is_valid(code))
    }
}

/// Changes after position `after`, in order; `total_count` only when `count` is set.
pub(super) async fn read_changes<C: ConnectionTrait>(
    db: &C,
    filter: &ChangeFilter,
    after: i64,
    first: u64,
    count: bool,
) -> Result<Page<change_event::Model>, RegistryError> {
    use change_event::Column;
    let codes = filter.codes.iter().flatten().collect::<std::collections::BTreeSet<_>>().len();
    if codes > CODES_PER_LIST {
        return Err(RegistryError::invalid("filter", format!("filter.codes names at most {CODES_PER_LIST} codes")));
    }
    if filter.names_no_region() {
        return Ok(Page { items: vec![], has_next_page: false, total_count: 0 });
    }
    let mut condition = Condition::all();
    if let Some(types) = &filter.object_types {
        condition = condition.add(Column::ObjectType.is_in(types.iter().map(|t| t.as_str())));
    }
    if let Some(codes) = &filter.codes {
        condition = condition.add(Column::ObjectCode.is_in(codes.iter().map(String::as_str)));
    }
    if let Some(region) = &filter.region_code {
        condition = condition.add(Column::RegionCodes.contains(format!(";{region};")));
    }
    let select = change_event::Entity::find().filter(condition);
    let total_count = if count { sea_orm::PaginatorTrait::count(select.clone(), db).await? } else { 0 };
    let mut items =
        select.filter(Column::Position.gt(after)).order_by_asc(Column::Position).limit(first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page { items, has_next_page, total_count })
}
