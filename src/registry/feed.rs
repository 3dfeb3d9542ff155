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
use entity::{change_event, cooperation_member, feed_head, membership, region};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{Page, Registry, RegistryError, today, valid_on};

/// A change recorded in a write transaction, waiting for its position.
#[derive(Debug, Clone)]
pub(super) struct PendingChange {
    pub object_type: String,
    pub object_code: String,
    pub operation: &'static str,
    pub version: Option<i32>,
    pub state: Value,
    pub region_codes: Vec<String>,
}

/// CREATED, DELETED, ENDED (its `valid_to` was set or moved) or UPDATED.
pub(super) fn operation(before: Option<&Value>, after: Option<&Value>) -> &'static str {
    match (before, after) {
        (None, _) => "CREATED",
        (_, None) => "DELETED",
        (Some(b), Some(a))
            if a.get("valid_to").is_some_and(|t| !t.is_null()) && a.get("valid_to") != b.get("valid_to") =>
        {
            "ENDED"
        }
        _ => "UPDATED",
    }
}

/// The codes of the regions an object concerns, for the feed's region filter.
pub(super) async fn concerned_regions<C: ConnectionTrait>(
    db: &C,
    object_type: &str,
    row: &Value,
) -> Result<Vec<String>, DbErr> {
    let id = |key: &str| row.get(key).and_then(Value::as_i64).map(|v| v as i32);
    let mut region_ids: Vec<i32> = Vec::new();
    let cooperation_regions = |cooperation_id: i32| async move {
        let members: Vec<(Option<i32>, Option<i32>)> = cooperation_member::Entity::find()
            .select_only()
            .columns([cooperation_member::Column::MunicipalityId, cooperation_member::Column::RegionId])
            .filter(cooperation_member::Column::CooperationId.eq(cooperation_id))
            .into_tuple()
            .all(db)
            .await?;
        let municipality_ids: Vec<i32> = members.iter().filter_map(|m| m.0).collect();
        let mut ids: Vec<i32> = members.iter().filter_map(|m| m.1).collect();
        let via_municipalities: Vec<i32> = membership::Entity::find()
            .select_only()
            .column(membership::Column::RegionId)
            .filter(membership::Column::MunicipalityId.is_in(municipality_ids))
            .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, today()))
            .into_tuple()
            .all(db)
            .await?;
        ids.extend(via_municipalities);
        Ok::<_, DbErr>(ids)
    };
    match object_type {
        "Municipality" => {
            if let Some(municipality_id) = id("id") {
                // The region now, or the last one it had (after a merger it has none now).
                let link = membership::Entity::find()
                    .filter(membership::Column::MunicipalityId.eq(municipality_id))
                    .order_by_desc(membership::Column::ValidFrom)
                    .one(db)
                    .await?;
                region_ids.extend(link.map(|l| l.region_id));
            }
        }
        "Region" => region_ids.extend(id("id")),
        "Cooperation" => {
            if let Some(cooperation_id) = id("id") {
                region_ids.extend(cooperation_regions(cooperation_id).await?);
            }
        }
        "Role" => {
            region_ids.extend(id("region_id"));
            region_ids.extend(id("holder_region_id"));
            if let Some(cooperation_id) = id("cooperation_id") {
                region_ids.extend(cooperation_regions(cooperation_id).await?);
            }
            if let Some(holder) = id("holder_municipality_id") {
                let regions: Vec<i32> = membership::Entity::find()
                    .select_only()
                    .column(membership::Column::RegionId)
                    .filter(membership::Column::MunicipalityId.eq(holder))
                    .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, today()))
                    .into_tuple()
                    .all(db)
                    .await?;
                region_ids.extend(regions);
            }
        }
        "FrameworkContract" => {
            if let Some(contract_id) = id("id") {
                let parties: Vec<i32> = entity::contract_party::Entity::find()
                    .select_only()
                    .column(entity::contract_party::Column::RegionId)
                    .filter(entity::contract_party::Column::ContractId.eq(contract_id))
                    .into_tuple()
                    .all(db)
                    .await?;
                region_ids.extend(parties);
            }
        }
        _ => {}
    }
    if region_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut codes: Vec<String> = region::Entity::find()
        .select_only()
        .column(region::Column::Code)
        .filter(region::Column::Id.is_in(region_ids))
        .into_tuple()
        .all(db)
        .await?;
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Takes the next positions for `changes` and appends them; must be the last
/// statement group before COMMIT (see the module comment). Returns the new head.
pub(super) async fn append<C: ConnectionTrait>(txn: &C, changes: &[PendingChange]) -> Result<i64, DbErr> {
    feed_head::Entity::update_many()
        .col_expr(feed_head::Column::Position, Expr::col(feed_head::Column::Position).add(changes.len() as i64))
        .filter(feed_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let head: i64 = feed_head::Entity::find()
        .select_only()
        .column(feed_head::Column::Position)
        .filter(feed_head::Column::Id.eq(1))
        .into_tuple()
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("feed_head".into()))?;
    let first = head - changes.len() as i64 + 1;
    let committed_at = Utc::now();
    let rows = changes.iter().enumerate().map(|(i, change)| change_event::ActiveModel {
        position: Set(first + i as i64),
        committed_at: Set(committed_at),
        object_type: Set(change.object_type.clone()),
        object_code: Set(change.object_code.clone()),
        operation: Set(change.operation.to_owned()),
        version: Set(change.version),
        state: Set(change.state.to_string()),
        region_codes: Set(format!(";{};", change.region_codes.join(";"))),
    });
    change_event::Entity::insert_many(rows).exec(txn).await?;
    Ok(head)
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
        let head: Option<i64> = feed_head::Entity::find()
            .select_only()
            .column(feed_head::Column::Position)
            .filter(feed_head::Column::Id.eq(1))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(head.unwrap_or(0))
    }

    /// Changes after position `after`, in order; `total_count` only when `count` is set.
    pub async fn changes(
        &self,
        filter: &ChangeFilter,
        after: i64,
        first: u64,
        count: bool,
    ) -> Result<Page<change_event::Model>, RegistryError> {
        use change_event::Column;
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
        let total_count = if count { sea_orm::PaginatorTrait::count(select.clone(), &self.db).await? } else { 0 };
        let mut items = select
            .filter(Column::Position.gt(after))
            .order_by_asc(Column::Position)
            .limit(first + 1)
            .all(&self.db)
            .await?;
        let has_next_page = items.len() as u64 > first;
        items.truncate(first as usize);
        Ok(Page { items, has_next_page, total_count })
    }

    /// A receiver that is told the new head after every commit of this process.
    pub fn watch_feed(&self) -> tokio::sync::watch::Receiver<i64> {
        self.feed.subscribe()
    }
}
