//! The yearly CBS update (`jeugdregio import-cbs`): a classification history
//! in the format of the seed's (`migration::seed::cbs_files`) is compared
//! with the registry, and each change of the files that the registry does
//! not hold yet is applied, one transaction per classification date, through
//! the write pipeline's own steps: operator only, every changed object
//! audited and in the change feed. Changes the registry already holds are
//! skipped, so a second run changes nothing.

mod backfill;
mod names;
mod plan;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::{lineage, membership, municipality, municipality_name, province, region, region_name};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

pub use plan::{ClassificationChange, DatedChanges};

use names::{Named, start_name};

use super::merge::{Territory, end_into, guard_cooperations_of, record_cooperations};
use super::municipality::move_to_region;
use super::room::Grown;
use super::txn::{Began, WriteTxn};
use super::{Intent, policy};
use crate::auth::Actor;
use crate::registry::Registry;
use crate::registry::bounds::{LINEAGE_PER_MUNICIPALITY, PERIODS_PER_OBJECT};
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::valid_on;

impl Registry {
    /// Applies the changes of one date in one transaction; returns the feed
    /// position it committed at (none when the registry already held them).
    pub async fn apply_classification(
        &self,
        actor: &Actor,
        dated: &DatedChanges,
        source: &str,
    ) -> Result<Option<i64>, WriteError> {
        let intent = Intent { actor, mutation: "importCbs", client_mutation_id: None };
        policy::require_signed_in(actor, intent.mutation)?;
        let Began::Fresh(w) = WriteTxn::begin(self, &intent, dated).await? else {
            unreachable!("a write without a clientMutationId is never a replay")
        };
        policy::authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let source = format!("{source}. Applied by jeugdregio import-cbs ({})", w.source());
        let mut grown = (BTreeSet::new(), BTreeSet::new());
        // Successors begin before their predecessors end into them.
        for change in &dated.changes {
            if let ClassificationChange::Begins { code, name, region, province } = change {
                let created = begin(&w, dated.date, code, name, region, province.as_deref(), &source).await?;
                grown.0.insert(w.require::<region::Model>(region, "regionCode").await?.id);
                grown.1.insert(created.id);
            }
        }
        // The cooperations of municipalities that end lose (and their successors gain)
        // members: each is journalled once, before and after the whole date.
        let mut ending = Vec::new();
        for change in &dated.changes {
            if let ClassificationChange::Ends { code, .. } = change {
                ending.push(existing(&w, code, dated.date).await?);
            }
        }
        let cooperations = guard_cooperations_of(&w, dated.date, &ending).await?;
        for change in &dated.changes {
            match change {
                ClassificationChange::Begins { .. } => {}
                ClassificationChange::Renamed { code, to, .. } => {
                    grown.1.insert(rename(&w, dated.date, code, to, &source).await?);
                }
                ClassificationChange::RegionRenamed { code, to, .. } => {
                    rename_region(&w, dated.date, code, to, &source).await?
                }
                ClassificationChange::MovesRegion { code, to, .. } => {
                    let m = existing(&w, code, dated.date).await?;
                    let region = w.require::<region::Model>(to, "regionCode").await?;
                    let before = w.snapshot(&m).await?;
                    move_to_region(&w, &m, region.id, dated.date).await?;
                    let moved = w.guarded(&m, m.clone()).await?;
                    w.record(Some(before), &moved).await?;
                    grown.0.insert(region.id);
                    grown.1.insert(m.id);
                }
                ClassificationChange::Ends { code, successors, .. } => {
                    let old = existing(&w, code, dated.date).await?;
                    grown.1.insert(old.id);
                    let mut territory = Vec::new();
                    for (to, kind, area_share, area_km2) in successors {
                        let successor = existing(&w, to, dated.date).await?;
                        grown.1.insert(successor.id);
                        territory.push(Territory {
                            successor_id: successor.id,
                            area_share: *area_share,
                            area_km2: *area_km2,
                            kind: *kind,
                        });
                    }
                    let main = existing(&w, &successors[0].0, dated.date).await?;
                    end_into(&w, dated.date, &old, &main, &territory, &source).await?;
                }
            }
        }
        record_cooperations(&w, cooperations).await?;
        history_within_bounds(&w, &grown.1).await?;
        Grown::from(dated.date, "municipalities.csv")
            .regions(grown.0)
            .municipalities(grown.1)
            .ensure_within_bounds(&w)
            .await?;
        let head = w.commit_without_receipt().await?;
        if let Some(head) = head {
            self.saw_head(head);
            self.feed.send_replace(head);
        }
        Ok(head)
    }
}

/// The history lists of the municipalities an import touched stay within the
/// bounds the cost of a query counts on (`registry::bounds`).
async fn history_within_bounds(w: &WriteTxn, municipality_ids: &BTreeSet<i32>) -> Result<(), WriteError> {
    for &id in municipality_ids {
        let names =
            municipality_name::Entity::find().filter(municipality_name::Column::MunicipalityId.eq(id)).count(&w.txn);
        let predecessors = lineage::Entity::find().filter(lineage::Column::SuccessorId.eq(id)).count(&w.txn);
        let successors = lineage::Entity::find().filter(lineage::Column::PredecessorId.eq(id)).count(&w.txn);
        let (names, predecessors, successors) = (names.await?, predecessors.await?, successors.await?);
        if names as usize > PERIODS_PER_OBJECT {
            return Err(WriteError::invalid(
                &["municipalities.csv"],
                format!("a municipality would have more than {PERIODS_PER_OBJECT} names"),
            ));
        }
        if predecessors.max(successors) as usize > LINEAGE_PER_MUNICIPALITY {
            return Err(WriteError::invalid(
                &["lineage.csv"],
                format!("a municipality would have more than {LINEAGE_PER_MUNICIPALITY} lineage links one way"),
            ));
        }
    }
    Ok(())
}

/// The municipality with `code` that exists on the day before `date` (the
/// state a change on `date` starts from) or, for a successor, on `date`.
async fn existing(w: &WriteTxn, code: &str, date: NaiveDate) -> Result<municipality::Model, WriteError> {
    let found = municipality::Entity::find()
        .filter(municipality::Column::Code.eq(code))
        .filter(valid_on(municipality::Column::ValidFrom, municipality::Column::ValidTo, date))
        .one(&w.txn)
        .await?;
    found.ok_or_else(|| WriteError::invalid(&["municipalities.csv"], format!("{code} does not exist on {date}")))
}

async fn begin(
    w: &WriteTxn,
    date: NaiveDate,
    code: &str,
    name: &str,
    region: &str,
    province: Option<&str>,
    source: &str,
) -> Result<municipality::Model, WriteError> {
    if w.find::<municipality::Model>(code).await?.is_some() {
        return Err(WriteError::invalid(
            &["municipalities.csv"],
            format!("{code} begins on {date} in the file, but the registry already has that code on other dates"),
        ));
    }
    let region = w.require::<region::Model>(region, "regionCode").await?;
    let province_id = match province {
        Some(code) => Some(
            province::Entity::find()
                .filter(province::Column::Code.eq(code))
                .one(&w.txn)
                .await?
                .ok_or_else(|| WriteError::not_found(&["provinceCode"], "province", code))?
                .id,
        ),
        None => None,
    };
    let created = w
        .insert(municipality::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
            province_id: Set(province_id),
            valid_from: Set(Some(date)),
            valid_from_is_lower_bound: Set(false),
            valid_to: Set(None),
            source: Set(source.to_owned()),
            version: Set(1),
            ..Default::default()
        })
        .await?;
    w.insert(municipality_name::ActiveModel {
        municipality_id: Set(created.id),
        name: Set(name.to_owned()),
        valid_from: Set(Some(date)),
        valid_to: Set(None),
        source: Set(source.to_owned()),
        ..Default::default()
    })
    .await?;
    w.insert(membership::ActiveModel {
        municipality_id: Set(created.id),
        region_id: Set(region.id),
        valid_from: Set(Some(date)),
        valid_to: Set(None),
        source: Set(source.to_owned()),
        version: Set(1),
        ..Default::default()
    })
    .await?;
    w.record(None, &created).await?;
    Ok(created)
}

/// A new name from `date`: the running name period ends, the new one starts.
/// Returns the municipality's id.
async fn rename(w: &WriteTxn, date: NaiveDate, code: &str, to: &str, source: &str) -> Result<i32, WriteError> {
    let m = existing(w, code, date).await?;
    let before = w.snapshot(&m).await?;
    let owner = Named { id: m.id, name: &m.name, valid_from: m.valid_from, source: &m.source };
    start_name::<municipality_name::Entity>(w, owner, date, to, source).await?;
    let renamed = w.guarded(&m, municipality::Model { name: to.to_owned(), ..m.clone() }).await?;
    w.record(Some(before), &renamed).await?;
    Ok(m.id)
}

async fn rename_region(w: &WriteTxn, date: NaiveDate, code: &str, to: &str, source: &str) -> Result<(), WriteError> {
    let r = w.require::<region::Model>(code, "regionCode").await?;
    let before = w.snapshot(&r).await?;
    let owner = Named { id: r.id, name: &r.name, valid_from: r.valid_from, source: &r.source };
    start_name::<region_name::Entity>(w, owner, date, to, source).await?;
    let names = region_name::Entity::find().filter(region_name::Column::RegionId.eq(r.id)).count(&w.txn).await?;
    if names as usize > PERIODS_PER_OBJECT {
        return Err(WriteError::invalid(
            &["regions.csv"],
            format!("region {code} would have more than {PERIODS_PER_OBJECT} names"),
        ));
    }
    let renamed = w.guarded(&r, region::Model { name: to.to_owned(), ..r.clone() }).await?;
    w.record(Some(before), &renamed).await
}
