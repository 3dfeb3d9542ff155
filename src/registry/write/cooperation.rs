//! Cooperations: create, update, set members (ending one is in `end.rs`).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::enums::{Instrument, Scale};
use entity::{cooperation, cooperation_member, municipality, region};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::room::Grown;
use super::txn::WriteTxn;
use super::{Command, Patch, apply_patch};
use crate::codes::RegistryCode;
use crate::registry::bounds::MUNICIPALITIES_PER_COOPERATION;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::valid_on;
use crate::registry::validate::{Checks, MAX_NAME, MAX_TEXT};
use crate::registry::validity::{overlaps, recorded_start};

#[derive(Debug, Clone, Serialize)]
pub struct CooperationCreate {
    pub code: String,
    pub name: String,
    pub scale: Scale,
    pub instrument: Option<Instrument>,
    pub description: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub municipality_codes: Vec<String>,
    pub region_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CooperationUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub scale: Option<Scale>,
    pub instrument: Patch<Instrument>,
    pub description: Patch<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CooperationMembersSet {
    pub code: String,
    pub expected_version: i32,
    pub municipality_codes: Vec<String>,
    pub region_codes: Vec<String>,
    /// Members leave and join on this date.
    pub valid_from: NaiveDate,
}

/// Ids of the member municipalities and regions an input names.
pub struct Members {
    municipalities: Vec<i32>,
    regions: Vec<i32>,
}

async fn require_members(w: &WriteTxn, municipalities: &[String], regions: &[String]) -> Result<Members, WriteError> {
    Ok(Members {
        municipalities: w.require_all::<municipality::Model>(municipalities, "municipalityCodes").await?,
        regions: w.require_all::<region::Model>(regions, "regionCodes").await?,
    })
}

#[async_trait::async_trait]
impl Command for CooperationCreate {
    type Object = cooperation::Model;
    type Loaded = Members;

    async fn load(&self, w: &WriteTxn) -> Result<Members, WriteError> {
        require_members(w, &self.municipality_codes, &self.region_codes).await
    }

    fn target(&self, _: &Members) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, members: &Members, checks: &mut Checks) {
        members.check_bound(checks);
        checks.code::<RegistryCode>(&["code"], &self.code);
        checks.text(&["name"], &self.name, MAX_NAME);
        checks.optional_free_text(&["description"], self.description.as_ref(), MAX_TEXT);
    }

    async fn apply(&self, w: &WriteTxn, members: Members) -> Result<cooperation::Model, WriteError> {
        w.ensure_code_free::<cooperation::Model>(&self.code).await?;
        let (valid_from, lower_bound) = recorded_start(self.valid_from, None);
        let created = w
            .insert(cooperation::ActiveModel {
                code: Set(self.code.clone()),
                name: Set(self.name.clone()),
                scale: Set(self.scale),
                instrument: Set(self.instrument),
                description: Set(self.description.clone()),
                valid_from: Set(Some(valid_from)),
                valid_from_is_lower_bound: Set(lower_bound),
                valid_to: Set(None),
                source: Set(w.source()),
                version: Set(1),
                ..Default::default()
            })
            .await?;
        add_members(w, created.id, &members, Some(valid_from), lower_bound).await?;
        members.ensure_within_bounds(w, created.id, Some(valid_from)).await?;
        w.record(None, &created).await?;
        Ok(created)
    }
}

#[async_trait::async_trait]
impl Command for CooperationUpdate {
    type Object = cooperation::Model;
    type Loaded = cooperation::Model;

    async fn load(&self, w: &WriteTxn) -> Result<cooperation::Model, WriteError> {
        w.require(&self.code, "code").await
    }

    fn target(&self, before: &cooperation::Model) -> Target {
        Target::Cooperation(before.id)
    }

    fn validate(&self, _: &cooperation::Model, checks: &mut Checks) {
        checks.optional_text(&["name"], self.name.as_ref(), MAX_NAME);
        checks.optional_free_text(&["description"], self.description.as_ref().and_then(Option::as_ref), MAX_TEXT);
    }

    fn versions(&self, before: &cooperation::Model) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, before: cooperation::Model) -> Result<cooperation::Model, WriteError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.clone();
        }
        if let Some(scale) = self.scale {
            after.scale = scale;
        }
        apply_patch(&self.instrument, &mut after.instrument);
        apply_patch(&self.description, &mut after.description);
        w.update(&before, after).await
    }
}

#[async_trait::async_trait]
impl Command for CooperationMembersSet {
    type Object = cooperation::Model;
    type Loaded = (cooperation::Model, Members);

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        let before = w.require::<cooperation::Model>(&self.code, "code").await?;
        Ok((before, require_members(w, &self.municipality_codes, &self.region_codes).await?))
    }

    fn target(&self, (before, _): &Self::Loaded) -> Target {
        Target::Cooperation(before.id)
    }

    fn validate(&self, (_, members): &Self::Loaded, checks: &mut Checks) {
        members.check_bound(checks);
    }

    fn versions(&self, (before, _): &Self::Loaded) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, (before, wanted): Self::Loaded) -> Result<cooperation::Model, WriteError> {
        use cooperation_member::Column as Member;
        let future = cooperation_member::Entity::find()
            .filter(Member::CooperationId.eq(before.id))
            .filter(Member::ValidFrom.gt(self.valid_from))
            .one(&w.txn)
            .await?;
        if future.is_some() {
            return Err(WriteError::overlap(&["validFrom"], "membership changes are already recorded after this date"));
        }
        let snapshot = w.snapshot(&before).await?;
        let after = w.guarded(&before, before.clone()).await?;
        let current = cooperation_member::Entity::find()
            .filter(Member::CooperationId.eq(before.id))
            .filter(valid_on(Member::ValidFrom, Member::ValidTo, self.valid_from))
            .all(&w.txn)
            .await?;
        let keep_municipalities: BTreeSet<i32> = wanted.municipalities.iter().copied().collect();
        let keep_regions: BTreeSet<i32> = wanted.regions.iter().copied().collect();
        let (mut present_municipalities, mut present_regions) = (BTreeSet::new(), BTreeSet::new());
        for member in &current {
            let stays = match (member.municipality_id, member.region_id) {
                (Some(m), _) if keep_municipalities.contains(&m) => {
                    present_municipalities.insert(m);
                    true
                }
                (None, Some(r)) if keep_regions.contains(&r) => {
                    present_regions.insert(r);
                    true
                }
                _ => false,
            };
            if !stays {
                end_or_remove_member(w, member, self.valid_from).await?;
            }
        }
        let joining = Members {
            municipalities: keep_municipalities.difference(&present_municipalities).copied().collect(),
            regions: keep_regions.difference(&present_regions).copied().collect(),
        };
        add_members(w, before.id, &joining, Some(self.valid_from), false).await?;
        if !(joining.municipalities.is_empty() && joining.regions.is_empty()) {
            joining.ensure_within_bounds(w, before.id, Some(self.valid_from)).await?;
        }
        w.record(Some(snapshot), &after).await?;
        Ok(after)
    }
}

/// Ends every membership of a cooperation on `date`; ones that would start later are removed.
pub(super) async fn end_members(w: &WriteTxn, cooperation_id: i32, date: NaiveDate) -> Result<(), WriteError> {
    use cooperation_member::Column as Member;
    let members = cooperation_member::Entity::find()
        .filter(Member::CooperationId.eq(cooperation_id))
        .filter(overlaps(Member::ValidFrom, Member::ValidTo, Some(date), None))
        .all(&w.txn)
        .await?;
    for member in &members {
        end_or_remove_member(w, member, date).await?;
    }
    Ok(())
}

pub(super) async fn end_or_remove_member(
    w: &WriteTxn,
    member: &cooperation_member::Model,
    date: NaiveDate,
) -> Result<(), WriteError> {
    if member.valid_from.is_some_and(|from| from >= date) {
        cooperation_member::Entity::delete_by_id(member.id).exec(&w.txn).await?;
    } else {
        w.guarded(member, cooperation_member::Model { valid_to: Some(date), ..member.clone() }).await?;
    }
    Ok(())
}

/// Adds members from `valid_from`; `lower_bound` when that is only "at least since".
pub(super) async fn add_members(
    w: &WriteTxn,
    cooperation_id: i32,
    members: &Members,
    valid_from: Option<NaiveDate>,
    lower_bound: bool,
) -> Result<(), WriteError> {
    let source = w.source();
    let rows: Vec<cooperation_member::ActiveModel> = members
        .municipalities
        .iter()
        .map(|&m| (Some(m), None))
        .chain(members.regions.iter().map(|&r| (None, Some(r))))
        .map(|(municipality_id, region_id)| cooperation_member::ActiveModel {
            cooperation_id: Set(cooperation_id),
            municipality_id: Set(municipality_id),
            region_id: Set(region_id),
            valid_from: Set(valid_from),
            valid_from_is_lower_bound: Set(lower_bound),
            valid_to: Set(None),
            source: Set(source.clone()),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        cooperation_member::Entity::insert_many(rows).exec(&w.txn).await?;
    }
    Ok(())
}

impl Members {
    /// Members bring their cooperations and roles to each other's lists.
    async fn ensure_within_bounds(
        &self,
        w: &WriteTxn,
        cooperation_id: i32,
        from: Option<NaiveDate>,
    ) -> Result<(), WriteError> {
        let field = if self.regions.is_empty() { "municipalityCodes" } else { "regionCodes" };
        Grown::from(from, field).cooperation(w, cooperation_id).await?.ensure_within_bounds(w).await
    }

    /// The query cost model relies on `bounds::MUNICIPALITIES_PER_COOPERATION`.
    fn check_bound(&self, checks: &mut Checks) {
        if self.municipalities.len() > MUNICIPALITIES_PER_COOPERATION {
            checks.invalid(
                &["municipalityCodes"],
                format!("a cooperation has at most {MUNICIPALITIES_PER_COOPERATION} member municipalities"),
            );
        }
    }

    /// One municipality joining, at a merger.
    pub(super) fn municipality(id: i32) -> Self {
        Members { municipalities: vec![id], regions: vec![] }
    }
}
