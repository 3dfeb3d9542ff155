//! A registry seeded before the history was kept (version 1.1: the 2025
//! classification only, municipalities without a start, memberships from
//! 2025-01-01) gets the CBS history 2015-2025 on its first start with this
//! version, in one audited transaction: what the registry already knows is
//! kept, and the history fills in what came before it.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{lineage, membership, municipality, municipality_name, region, region_name};
use migration::seed::cbs_files::{ClassificationFiles, MembershipRow, NamePeriod};
use migration::seed::{CBS_HISTORY_SOURCE, bundled_history, coverage_start};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::super::room::serialise_structural_writes;
use super::super::txn::{Began, WriteTxn};
use super::super::{Intent, policy};
use super::plan::kind_of;
use crate::auth::Actor;
use crate::registry::Registry;
use crate::registry::error::{RegistryError, WriteError};
use crate::registry::policy::Target;

/// Who the audit log names for the upgrade.
const UPGRADE: &str = "jeugdregio 1.2 upgrade";

impl Registry {
    /// Loads the CBS history into a registry that has regions but no history;
    /// returns whether it did (false for a registry seeded with its history).
    pub async fn backfill_history(&self) -> Result<bool, WriteError> {
        if municipality_name::Entity::find().count(&self.db).await? > 0
            || region::Entity::find().count(&self.db).await? == 0
        {
            return Ok(false);
        }
        let files = bundled_history()?;
        let actor = Actor::Operator { subject: UPGRADE.to_owned() };
        let intent = Intent { actor: &actor, mutation: "historyBackfill", client_mutation_id: None };
        let Began::Fresh(w) = WriteTxn::begin(self, &intent, &intent.mutation).await? else {
            unreachable!("a write without a clientMutationId is never a replay")
        };
        policy::authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        // Instances starting together: one loads, the others find it loaded.
        serialise_structural_writes(&w).await?;
        if municipality_name::Entity::find().count(&w.txn).await? > 0 {
            return Ok(false);
        }
        let source = format!("{CBS_HISTORY_SOURCE}. Loaded into a registry seeded before the history was kept");
        backfill_regions(&w, &files, &source).await?;
        let ids = backfill_municipalities(&w, &files, &source).await?;
        for row in &files.lineage {
            let id = |code: &str| {
                ids.get(code)
                    .copied()
                    .ok_or_else(|| RegistryError::invalid("lineage.csv", format!("unknown code {code}")))
            };
            w.insert(lineage::ActiveModel {
                effective_date: Set(row.effective_date),
                predecessor_id: Set(id(&row.old_code)?),
                successor_id: Set(id(&row.new_code)?),
                area_share: Set(row.area_share),
                area_km2: Set(row.area_km2),
                kind: Set(kind_of(&row.kind)?),
                source: Set(source.clone()),
                ..Default::default()
            })
            .await?;
        }
        let head = w.commit_without_receipt().await?;
        if let Some(head) = head {
            self.saw_head(head);
            self.feed.send_replace(head);
        }
        Ok(true)
    }
}

async fn backfill_regions(w: &WriteTxn, files: &ClassificationFiles, source: &str) -> Result<(), WriteError> {
    let periods = ClassificationFiles::by_code(&files.regions).map_err(|e| RegistryError::invalid("regions.csv", e))?;
    for r in region::Entity::find().all(&w.txn).await? {
        for period in periods.get(&r.code).into_iter().flatten() {
            w.insert(region_name::ActiveModel {
                region_id: Set(r.id),
                name: Set(period.name.clone()),
                valid_from: Set(Some(period.valid_from)),
                valid_to: Set(period.valid_to),
                source: Set(source.to_owned()),
                ..Default::default()
            })
            .await?;
        }
        if r.valid_from == Some(coverage_start()) && !r.valid_from_is_lower_bound {
            let before = w.snapshot(&r).await?;
            let after = w.guarded(&r, region::Model { valid_from_is_lower_bound: true, ..r.clone() }).await?;
            w.record(Some(before), &after).await?;
        }
    }
    Ok(())
}

/// Every municipality of the history, by code -> id: the ones the registry
/// has get their start, names and earlier regions; the others are added.
async fn backfill_municipalities(
    w: &WriteTxn,
    files: &ClassificationFiles,
    source: &str,
) -> Result<HashMap<String, i32>, WriteError> {
    let names = ClassificationFiles::by_code(&files.municipalities)
        .map_err(|e| RegistryError::invalid("municipalities.csv", e))?;
    let mut regions_of: HashMap<String, Vec<MembershipRow>> = HashMap::new();
    for row in ClassificationFiles::region_periods(files.memberships.clone()) {
        regions_of.entry(row.municipality_code.clone()).or_default().push(row);
    }
    let region_ids: HashMap<String, i32> =
        region::Entity::find().all(&w.txn).await?.into_iter().map(|r| (r.code, r.id)).collect();
    let mut ids: HashMap<String, i32> =
        municipality::Entity::find().all(&w.txn).await?.into_iter().map(|m| (m.code, m.id)).collect();
    for (code, periods) in &names {
        let (from, to) = (periods[0].valid_from, periods[periods.len() - 1].valid_to);
        let existing = municipality::Entity::find().filter(municipality::Column::Code.eq(code)).one(&w.txn).await?;
        let (m, before) = match existing {
            Some(m) => {
                let before = w.snapshot(&m).await?;
                let started = municipality::Model {
                    valid_from: Some(from),
                    valid_from_is_lower_bound: from == coverage_start(),
                    ..m.clone()
                };
                (w.guarded(&m, started).await?, Some(before))
            }
            None => {
                let created = w
                    .insert(municipality::ActiveModel {
                        code: Set(code.clone()),
                        name: Set(periods[periods.len() - 1].name.clone()),
                        province_id: Set(None),
                        valid_from: Set(Some(from)),
                        valid_from_is_lower_bound: Set(from == coverage_start()),
                        valid_to: Set(to),
                        source: Set(format!("{source}. Province not recorded")),
                        version: Set(1),
                        ..Default::default()
                    })
                    .await?;
                ids.insert(code.clone(), created.id);
                (created, None)
            }
        };
        insert_names(w, m.id, periods, m.valid_to, source).await?;
        let regions = regions_of.get(code).map_or(&[][..], Vec::as_slice);
        fill_earlier_regions(w, m.id, regions, &region_ids, source).await?;
        w.record(before, &m).await?;
    }
    Ok(ids)
}

/// The names of the history, ending no later than the municipality (which a
/// merger entered in the registry may have ended).
async fn insert_names(
    w: &WriteTxn,
    id: i32,
    periods: &[NamePeriod],
    end: Option<NaiveDate>,
    source: &str,
) -> Result<(), WriteError> {
    for period in periods.iter().filter(|p| end.is_none_or(|end| p.valid_from < end)) {
        let valid_to = match (period.valid_to, end) {
            (Some(to), Some(end)) => Some(to.min(end)),
            (to, end) => to.or(end),
        };
        w.insert(municipality_name::ActiveModel {
            municipality_id: Set(id),
            name: Set(period.name.clone()),
            valid_from: Set(Some(period.valid_from)),
            valid_to: Set(valid_to),
            source: Set(source.to_owned()),
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

/// The history's regions before the first membership the registry records: a
/// period that runs into it in the same region becomes one with it.
async fn fill_earlier_regions(
    w: &WriteTxn,
    id: i32,
    periods: &[MembershipRow],
    region_ids: &HashMap<String, i32>,
    source: &str,
) -> Result<(), WriteError> {
    let first = membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(id))
        .order_by_asc(membership::Column::ValidFrom)
        .one(&w.txn)
        .await?;
    let known_from = first.as_ref().and_then(|link| link.valid_from).unwrap_or(NaiveDate::MAX);
    for period in periods.iter().filter(|p| p.valid_from < known_from) {
        let region_id = *region_ids.get(&period.region_code).ok_or_else(|| {
            RegistryError::invalid("memberships.csv", format!("unknown region {}", period.region_code))
        })?;
        let runs_into_first = period.valid_to.is_none_or(|to| to >= known_from);
        match &first {
            Some(link) if runs_into_first && link.region_id == region_id => {
                let started = membership::Model {
                    valid_from: Some(period.valid_from),
                    valid_from_is_lower_bound: period.valid_from == coverage_start(),
                    ..link.clone()
                };
                w.guarded(link, started).await?;
            }
            _ => {
                let valid_to = match period.valid_to {
                    Some(to) if to < known_from => Some(to),
                    _ if first.is_some() => Some(known_from),
                    _ => period.valid_to,
                };
                w.insert(membership::ActiveModel {
                    municipality_id: Set(id),
                    region_id: Set(region_id),
                    valid_from: Set(Some(period.valid_from)),
                    valid_from_is_lower_bound: Set(period.valid_from == coverage_start()),
                    valid_to: Set(valid_to),
                    source: Set(source.to_owned()),
                    version: Set(1),
                    ..Default::default()
                })
                .await?;
            }
        }
    }
    Ok(())
}
