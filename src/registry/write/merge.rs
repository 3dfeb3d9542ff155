//! A municipal merger (herindeling): municipalities end on a date and a
//! successor takes over their region, cooperation memberships and roles; the
//! lineage records where each went.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::enums::LineageKind;
use entity::{
    cooperation, cooperation_member, lineage, membership, municipality, municipality_name, province, region, role,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;

use super::Command;
use super::cooperation::{Members, add_members, end_or_remove_member};
use super::journal::Snapshot;
use super::municipality::{end_membership, membership_on, move_to_region};
use super::role::next_role_code;
use super::room::Grown;
use super::txn::WriteTxn;
use crate::codes::MunicipalityCode;
use crate::registry::bounds::LINEAGE_PER_MUNICIPALITY;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::valid_on;
use crate::registry::validate::{Checks, MAX_NAME};
use crate::registry::validity::{is_valid_on, overlaps};

#[derive(Debug, Clone, Serialize)]
pub struct MunicipalityMerge {
    /// The municipalities that end on `date`.
    pub municipality_codes: Vec<String>,
    /// An existing municipality, or a new code (then `successor_name` and `province_code` are required).
    pub successor_code: String,
    pub successor_name: Option<String>,
    pub province_code: Option<String>,
    /// The successor's region; by default the region of the ending municipalities (which must then agree).
    pub region_code: Option<String>,
    pub date: NaiveDate,
}

#[async_trait::async_trait]
impl Command for MunicipalityMerge {
    type Object = municipality::Model;
    /// The municipalities that end, in code order.
    type Loaded = Vec<municipality::Model>;

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        let codes: BTreeSet<&String> = self.municipality_codes.iter().collect();
        let mut ending = Vec::new();
        for code in codes {
            ending.push(w.require::<municipality::Model>(code, "municipalityCodes").await?);
        }
        Ok(ending)
    }

    fn target(&self, _: &Self::Loaded) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, ending: &Self::Loaded, checks: &mut Checks) {
        checks.code::<MunicipalityCode>(&["successorCode"], &self.successor_code);
        if self.municipality_codes.is_empty() {
            checks.invalid(&["municipalityCodes"], "name at least one municipality that ends");
        }
        if self.municipality_codes.len() > LINEAGE_PER_MUNICIPALITY {
            checks.invalid(
                &["municipalityCodes"],
                format!("at most {LINEAGE_PER_MUNICIPALITY} municipalities can end in one merger"),
            );
        }
        if self.municipality_codes.contains(&self.successor_code) {
            checks.invalid(&["successorCode"], "the successor cannot be one of the municipalities that end");
        }
        for m in ending {
            if !is_valid_on(m.valid_from, m.valid_to, self.date) || m.valid_from == Some(self.date) {
                checks.invalid(&["municipalityCodes"], format!("{} does not exist on {}", m.code, self.date));
            }
        }
    }

    async fn apply(&self, w: &WriteTxn, ending: Self::Loaded) -> Result<Self::Object, WriteError> {
        let region_id = self.successor_region(w, &ending).await?;
        let successor = match w.find::<municipality::Model>(&self.successor_code).await? {
            Some(existing) => self.take_over_with(w, existing, region_id).await?,
            None => self.create_successor(w, region_id).await?,
        };
        let cooperations = guard_cooperations_of(w, self.date, &ending).await?;
        for old in &ending {
            self.hand_over(w, old, &successor).await?;
        }
        let predecessors =
            lineage::Entity::find().filter(lineage::Column::SuccessorId.eq(successor.id)).count(&w.txn).await?;
        if predecessors as usize > LINEAGE_PER_MUNICIPALITY {
            return Err(WriteError::invalid(
                &["successorCode"],
                format!("the successor would have more than {LINEAGE_PER_MUNICIPALITY} predecessors"),
            ));
        }
        record_cooperations(w, cooperations).await?;
        // The successor takes over its predecessors' members, cooperations and roles.
        Grown::from(self.date, "municipalityCodes")
            .regions([region_id])
            .municipalities([successor.id])
            .ensure_within_bounds(w)
            .await?;
        let successor = municipality::Entity::find_by_id(successor.id).one(&w.txn).await?.unwrap_or(successor);
        Ok(successor)
    }
}

impl MunicipalityMerge {
    /// The region given, or the one region all ending municipalities are in on the day before.
    async fn successor_region(&self, w: &WriteTxn, ending: &[municipality::Model]) -> Result<i32, WriteError> {
        if let Some(code) = &self.region_code {
            return Ok(w.require::<region::Model>(code, "regionCode").await?.id);
        }
        let day_before = self.date.pred_opt().unwrap_or(self.date);
        let mut regions = BTreeSet::new();
        for m in ending {
            if let Some(link) = membership_on(w, m.id, day_before).await? {
                regions.insert(link.region_id);
            }
        }
        match (regions.pop_first(), regions.is_empty()) {
            (Some(region), true) => Ok(region),
            _ => Err(WriteError::invalid(
                &["regionCode"],
                "the municipalities are in different regions: name the successor's region",
            )),
        }
    }

    /// An existing successor, moved to the successor region if it is elsewhere.
    async fn take_over_with(
        &self,
        w: &WriteTxn,
        existing: municipality::Model,
        region_id: i32,
    ) -> Result<municipality::Model, WriteError> {
        if !is_valid_on(existing.valid_from, existing.valid_to, self.date) {
            return Err(WriteError::invalid(
                &["successorCode"],
                "the existing successor does not exist on the merge date",
            ));
        }
        if membership_on(w, existing.id, self.date).await?.map(|m| m.region_id) == Some(region_id) {
            return Ok(existing);
        }
        let snapshot = w.snapshot(&existing).await?;
        move_to_region(w, &existing, region_id, self.date).await?;
        let moved = w.guarded(&existing, existing.clone()).await.map_err(|error| match error {
            // The merger names no version: say which object changed under it.
            WriteError::Rejected(_) => WriteError::rejected(
                &["successorCode"],
                crate::registry::UserErrorCode::Conflict,
                "the successor changed during the merger; retry",
            ),
            other => other,
        })?;
        w.record(Some(snapshot), &moved).await?;
        Ok(moved)
    }

    async fn create_successor(&self, w: &WriteTxn, region_id: i32) -> Result<municipality::Model, WriteError> {
        let mut checks = Checks::default();
        match &self.successor_name {
            Some(name) => checks.text(&["successorName"], name, MAX_NAME),
            None => checks.invalid(&["successorName"], "a new successor needs a name"),
        }
        if self.province_code.is_none() {
            checks.invalid(&["provinceCode"], "a new successor needs a province");
        }
        checks.finish()?;
        let province_code = self.province_code.as_deref().unwrap_or_default();
        let province = province::Entity::find()
            .filter(province::Column::Code.eq(province_code))
            .one(&w.txn)
            .await?
            .ok_or_else(|| WriteError::not_found(&["provinceCode"], "province", province_code))?;
        let created = w
            .insert(municipality::ActiveModel {
                code: Set(self.successor_code.clone()),
                name: Set(self.successor_name.clone().unwrap_or_default()),
                province_id: Set(Some(province.id)),
                valid_from: Set(Some(self.date)),
                valid_to: Set(None),
                website: Set(None),
                access_name: Set(None),
                access_phone: Set(None),
                access_email: Set(None),
                access_website: Set(None),
                access_address: Set(None),
                source: Set(w.source()),
                version: Set(1),
                ..Default::default()
            })
            .await?;
        w.insert(municipality_name::ActiveModel {
            municipality_id: Set(created.id),
            name: Set(created.name.clone()),
            valid_from: Set(Some(self.date)),
            valid_to: Set(None),
            source: Set(w.source()),
            ..Default::default()
        })
        .await?;
        w.insert(membership::ActiveModel {
            municipality_id: Set(created.id),
            region_id: Set(region_id),
            valid_from: Set(Some(self.date)),
            valid_to: Set(None),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        })
        .await?;
        w.record(None, &created).await?;
        Ok(created)
    }

    /// Ends `old` on the merge date; its cooperation memberships and roles pass to the successor.
    async fn hand_over(
        &self,
        w: &WriteTxn,
        old: &municipality::Model,
        successor: &municipality::Model,
    ) -> Result<(), WriteError> {
        let link = Territory { successor_id: successor.id, area_share: None, area_km2: None, kind: LineageKind::Main };
        let source = format!("{}. The share of the territory is not recorded", w.source());
        end_into(w, self.date, old, successor, &[link], &source).await
    }
}

/// The cooperations the ending municipalities are members of on or after
/// `date`, each read as it is and version-guarded before its members change:
/// whatever many of its members end, it is journalled once, by
/// [`record_cooperations`] after the change.
pub(super) async fn guard_cooperations_of(
    w: &WriteTxn,
    date: NaiveDate,
    ending: &[municipality::Model],
) -> Result<Vec<(Snapshot, cooperation::Model)>, WriteError> {
    use cooperation_member::Column as Member;
    let ids: BTreeSet<i32> = cooperation_member::Entity::find()
        .filter(Member::MunicipalityId.is_in(ending.iter().map(|m| m.id)))
        .filter(overlaps(Member::ValidFrom, Member::ValidTo, Some(date), None))
        .all(&w.txn)
        .await?
        .into_iter()
        .map(|member| member.cooperation_id)
        .collect();
    let mut guarded = Vec::new();
    for cooperation in cooperation::Entity::find().filter(cooperation::Column::Id.is_in(ids)).all(&w.txn).await? {
        guarded.push((w.snapshot(&cooperation).await?, w.guarded(&cooperation, cooperation.clone()).await?));
    }
    Ok(guarded)
}

pub(super) async fn record_cooperations(
    w: &WriteTxn,
    guarded: Vec<(Snapshot, cooperation::Model)>,
) -> Result<(), WriteError> {
    for (before, cooperation) in guarded {
        w.record(Some(before), &cooperation).await?;
    }
    Ok(())
}

/// Where part of an ended municipality's territory went.
pub(super) struct Territory {
    pub successor_id: i32,
    pub area_share: Option<f64>,
    pub area_km2: Option<f64>,
    pub kind: LineageKind,
}

/// Ends `old` on `date`: its region memberships end, its cooperation
/// memberships and roles pass to `successor`, and `territory` records where
/// its territory went (lineage, with `source`).
pub(super) async fn end_into(
    w: &WriteTxn,
    date: NaiveDate,
    old: &municipality::Model,
    successor: &municipality::Model,
    territory: &[Territory],
    source: &str,
) -> Result<(), WriteError> {
    let snapshot = w.snapshot(old).await?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(old.id))
        .filter(overlaps(membership::Column::ValidFrom, membership::Column::ValidTo, Some(date), None))
        .all(&w.txn)
        .await?;
    for link in &memberships {
        end_membership(w, link, date).await?;
    }
    use cooperation_member::Column as Member;
    let cooperations = cooperation_member::Entity::find()
        .filter(Member::MunicipalityId.eq(old.id))
        .filter(overlaps(Member::ValidFrom, Member::ValidTo, Some(date), None))
        .all(&w.txn)
        .await?;
    for member in &cooperations {
        end_or_remove_member(w, member, date).await?;
        let already = cooperation_member::Entity::find()
            .filter(Member::CooperationId.eq(member.cooperation_id))
            .filter(Member::MunicipalityId.eq(successor.id))
            .filter(valid_on(Member::ValidFrom, Member::ValidTo, date))
            .one(&w.txn)
            .await?;
        if already.is_none() {
            add_members(w, member.cooperation_id, &Members::municipality(successor.id), Some(date), false).await?;
        }
    }
    let roles = role::Entity::find()
        .filter(role::Column::HolderMunicipalityId.eq(old.id))
        .filter(overlaps(role::Column::ValidFrom, role::Column::ValidTo, Some(date), None))
        .all(&w.txn)
        .await?;
    for held in roles {
        pass_role(w, date, held, old, successor).await?;
    }
    let ended = w.guarded(old, municipality::Model { valid_to: Some(date), ..old.clone() }).await?;
    // Its name ends with it.
    municipality_name::Entity::update_many()
        .col_expr(municipality_name::Column::ValidTo, Expr::value(date))
        .filter(municipality_name::Column::MunicipalityId.eq(old.id))
        .filter(overlaps(municipality_name::Column::ValidFrom, municipality_name::Column::ValidTo, Some(date), None))
        .exec(&w.txn)
        .await?;
    for part in territory {
        w.insert(lineage::ActiveModel {
            effective_date: Set(date),
            predecessor_id: Set(old.id),
            successor_id: Set(part.successor_id),
            area_share: Set(part.area_share),
            area_km2: Set(part.area_km2),
            kind: Set(part.kind),
            source: Set(source.to_owned()),
            ..Default::default()
        })
        .await?;
    }
    w.record(Some(snapshot), &ended).await
}

/// A role of an ending municipality: one starting on or after the merger
/// simply passes; one running ends, and the successor gets a new one.
async fn pass_role(
    w: &WriteTxn,
    date: NaiveDate,
    held: role::Model,
    old: &municipality::Model,
    successor: &municipality::Model,
) -> Result<(), WriteError> {
    if held.valid_from.is_some_and(|from| from >= date) {
        w.update(&held, role::Model { holder_municipality_id: Some(successor.id), ..held.clone() }).await?;
        return Ok(());
    }
    w.update(&held, role::Model { valid_to: Some(date), ..held.clone() }).await?;
    w.create(role::ActiveModel {
        code: Set(next_role_code(w).await?),
        kind: Set(held.kind),
        holder_municipality_id: Set(Some(successor.id)),
        holder_region_id: Set(None),
        region_id: Set(held.region_id),
        cooperation_id: Set(held.cooperation_id),
        care_form_id: Set(held.care_form_id),
        provider_id: Set(held.provider_id),
        note: Set(Some(format!("Taken over from {} ({}) at the merger of {date}", old.name, old.code))),
        valid_from: Set(Some(date)),
        valid_to: Set(held.valid_to),
        source: Set(w.source()),
        version: Set(1),
        ..Default::default()
    })
    .await?;
    Ok(())
}
