//! Keeps the relation bounds of `registry::bounds` true. The cost of a query
//! is computed from them before it runs, so a relation that outgrew its bound
//! would make that cost a lie. Every write that can grow a relation names
//! what it grew, and the counts are taken here, in its own transaction, after
//! its changes and before it commits.
//!
//! Some relations are derived: a region's cooperations include those of its
//! member municipalities, and its roles include its cooperations' roles. So a
//! municipality moving region, a cooperation gaining a member and a role for
//! a cooperation can each grow a region's lists; the counts follow the same
//! rules as the reads in `read/relations.rs`.
//!
//! Each count takes every row valid on or after the write's date, which can
//! only overestimate what is valid on any one date.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::{contract_care_form, contract_party, cooperation_member, framework_contract, membership, role};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};

use super::txn::WriteTxn;
use crate::registry::bounds::{
    CONTRACTS_PER_OBJECT, COOPERATIONS_PER_MEMBER, MUNICIPALITIES_PER_REGION, ROLES_PER_OBJECT,
};
use crate::registry::error::WriteError;
use crate::registry::validity::overlaps;

/// The objects whose relation lists a write may have grown, from a date on.
pub(super) struct Grown {
    /// None when the start is unknown: every row counts.
    from: Option<NaiveDate>,
    regions: BTreeSet<i32>,
    municipalities: BTreeSet<i32>,
    care_forms: BTreeSet<i32>,
    /// The field of the input a refusal points at.
    field: &'static str,
}

impl Grown {
    pub fn from(from: impl Into<Option<NaiveDate>>, field: &'static str) -> Self {
        Grown {
            from: from.into(),
            regions: BTreeSet::new(),
            municipalities: BTreeSet::new(),
            care_forms: BTreeSet::new(),
            field,
        }
    }

    pub fn regions(mut self, ids: impl IntoIterator<Item = i32>) -> Self {
        self.regions.extend(ids);
        self
    }

    pub fn municipalities(mut self, ids: impl IntoIterator<Item = i32>) -> Self {
        self.municipalities.extend(ids);
        self
    }

    /// A cooperation's members and roles count for its member regions, the
    /// regions of its member municipalities, and the municipalities of its
    /// member regions.
    pub async fn cooperation(mut self, w: &WriteTxn, cooperation_id: i32) -> Result<Self, WriteError> {
        use cooperation_member::Column;
        let members: Vec<(Option<i32>, Option<i32>)> = cooperation_member::Entity::find()
            .select_only()
            .columns([Column::MunicipalityId, Column::RegionId])
            .filter(Column::CooperationId.eq(cooperation_id))
            .filter(overlaps(Column::ValidFrom, Column::ValidTo, self.from, None))
            .into_tuple()
            .all(&w.txn)
            .await?;
        let municipalities: Vec<i32> = members.iter().filter_map(|m| m.0).collect();
        let regions: Vec<i32> = members.iter().filter_map(|m| m.1).collect();
        let links =
            memberships(w, Condition::all().add(membership::Column::RegionId.is_in(regions.clone())), self.from)
                .await?;
        let of_municipalities = memberships(
            w,
            Condition::all().add(membership::Column::MunicipalityId.is_in(municipalities.clone())),
            self.from,
        )
        .await?;
        self.municipalities.extend(municipalities.into_iter().chain(links.into_iter().map(|l| l.0)));
        self.regions.extend(regions.into_iter().chain(of_municipalities.into_iter().map(|l| l.1)));
        Ok(self)
    }

    /// A contract's party regions and care forms.
    pub async fn contract(mut self, w: &WriteTxn, contract_id: i32) -> Result<Self, WriteError> {
        let parties: Vec<i32> = contract_party::Entity::find()
            .select_only()
            .column(contract_party::Column::RegionId)
            .filter(contract_party::Column::ContractId.eq(contract_id))
            .into_tuple()
            .all(&w.txn)
            .await?;
        let care_forms: Vec<i32> = contract_care_form::Entity::find()
            .select_only()
            .column(contract_care_form::Column::CareFormId)
            .filter(contract_care_form::Column::ContractId.eq(contract_id))
            .into_tuple()
            .all(&w.txn)
            .await?;
        self.regions.extend(parties);
        self.care_forms.extend(care_forms);
        Ok(self)
    }

    /// Refuses the write, with BAD_USER_INPUT on `field`, when a grown
    /// relation is over its bound.
    pub async fn ensure_within_bounds(self, w: &WriteTxn) -> Result<(), WriteError> {
        serialise_structural_writes(w).await?;
        for &region in &self.regions {
            let municipalities = self.municipalities_of_region(w, region).await?;
            self.check(
                municipalities.len(),
                MUNICIPALITIES_PER_REGION,
                "a region has at most {} member municipalities",
            )?;
            let cooperations = self.cooperations_of(w, &municipalities, &[region]).await?;
            self.check(cooperations.len(), COOPERATIONS_PER_MEMBER, "a region takes part in at most {} cooperations")?;
            let roles = Condition::any()
                .add(role::Column::RegionId.eq(region))
                .add(role::Column::HolderRegionId.eq(region))
                .add(role::Column::CooperationId.is_in(cooperations));
            self.check(self.roles(w, roles).await?, ROLES_PER_OBJECT, "at most {} roles concern one region")?;
            let contracts = self
                .contracts::<contract_party::Entity>(
                    w,
                    (contract_party::Column::RegionId, contract_party::Column::ContractId),
                    region,
                )
                .await?;
            self.check(contracts, CONTRACTS_PER_OBJECT, "a region is a party to at most {} framework contracts")?;
        }
        for &municipality in &self.municipalities {
            let regions: Vec<i32> =
                memberships(w, Condition::all().add(membership::Column::MunicipalityId.eq(municipality)), self.from)
                    .await?
                    .into_iter()
                    .map(|l| l.1)
                    .collect();
            let cooperations = self.cooperations_of(w, &[municipality], &regions).await?;
            self.check(
                cooperations.len(),
                COOPERATIONS_PER_MEMBER,
                "a municipality takes part in at most {} cooperations",
            )?;
            let held = Condition::all().add(role::Column::HolderMunicipalityId.eq(municipality));
            self.check(self.roles(w, held).await?, ROLES_PER_OBJECT, "a municipality holds at most {} roles")?;
        }
        for &care_form in &self.care_forms {
            let contracts = self
                .contracts::<contract_care_form::Entity>(
                    w,
                    (contract_care_form::Column::CareFormId, contract_care_form::Column::ContractId),
                    care_form,
                )
                .await?;
            self.check(contracts, CONTRACTS_PER_OBJECT, "a care form is covered by at most {} framework contracts")?;
        }
        Ok(())
    }

    fn check(&self, count: usize, bound: usize, rule: &str) -> Result<(), WriteError> {
        if count > bound {
            return Err(WriteError::invalid(&[self.field], rule.replace("{}", &bound.to_string())));
        }
        Ok(())
    }

    async fn municipalities_of_region(&self, w: &WriteTxn, region: i32) -> Result<Vec<i32>, WriteError> {
        let links = memberships(w, Condition::all().add(membership::Column::RegionId.eq(region)), self.from).await?;
        Ok(links.into_iter().map(|l| l.0).collect::<BTreeSet<_>>().into_iter().collect())
    }

    /// Cooperations with one of the municipalities or regions as a member.
    async fn cooperations_of(
        &self,
        w: &WriteTxn,
        municipalities: &[i32],
        regions: &[i32],
    ) -> Result<BTreeSet<i32>, WriteError> {
        use cooperation_member::Column;
        let ids: Vec<i32> = cooperation_member::Entity::find()
            .select_only()
            .column(Column::CooperationId)
            .filter(
                Condition::any()
                    .add(Column::MunicipalityId.is_in(municipalities.iter().copied()))
                    .add(Column::RegionId.is_in(regions.iter().copied())),
            )
            .filter(overlaps(Column::ValidFrom, Column::ValidTo, self.from, None))
            .into_tuple()
            .all(&w.txn)
            .await?;
        Ok(ids.into_iter().collect())
    }

    async fn roles(&self, w: &WriteTxn, concerning: Condition) -> Result<usize, WriteError> {
        use sea_orm::PaginatorTrait;
        let count = role::Entity::find()
            .filter(concerning)
            .filter(overlaps(role::Column::ValidFrom, role::Column::ValidTo, self.from, None))
            .count(&w.txn)
            .await?;
        Ok(count as usize)
    }

    /// Contracts linked to `id` through link table `L`, valid on or after the date.
    async fn contracts<L: EntityTrait>(
        &self,
        w: &WriteTxn,
        (owner, contract): (L::Column, L::Column),
        id: i32,
    ) -> Result<usize, WriteError> {
        use sea_orm::PaginatorTrait;
        let linked: Vec<i32> =
            L::find().select_only().column(contract).filter(owner.eq(id)).into_tuple().all(&w.txn).await?;
        let count = framework_contract::Entity::find()
            .filter(framework_contract::Column::Id.is_in(linked))
            .filter(overlaps(
                framework_contract::Column::ValidFrom,
                framework_contract::Column::ValidTo,
                self.from,
                None,
            ))
            .count(&w.txn)
            .await?;
        Ok(count as usize)
    }
}

/// `(municipality_id, region_id)` of memberships valid on or after `from`.
async fn memberships(
    w: &WriteTxn,
    condition: Condition,
    from: Option<NaiveDate>,
) -> Result<Vec<(i32, i32)>, WriteError> {
    use membership::Column;
    Ok(membership::Entity::find()
        .select_only()
        .columns([Column::MunicipalityId, Column::RegionId])
        .filter(condition)
        .filter(overlaps(Column::ValidFrom, Column::ValidTo, from, None))
        .into_tuple()
        .all(&w.txn)
        .await?)
}

/// Two concurrent writes could each grow a shared derived list and both pass
/// their count. SQLite has one writer already; on PostgreSQL the writes that
/// grow relations (rare: operators and leads restructuring) take one
/// transaction-scoped advisory lock. It is taken after the write's row locks
/// and before the feed head's, the order every writer uses, so it cannot
/// deadlock.
pub(super) async fn serialise_structural_writes(w: &WriteTxn) -> Result<(), WriteError> {
    if w.txn.get_database_backend() == DatabaseBackend::Postgres {
        w.txn
            .execute_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT pg_advisory_xact_lock({STRUCTURAL_WRITE_LOCK})"),
            ))
            .await?;
    }
    Ok(())
}

/// An arbitrary key, the same in every instance ("jzregio" in ASCII).
const STRUCTURAL_WRITE_LOCK: i64 = 0x006a_7a72_6567_696f;
