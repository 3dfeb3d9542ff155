//! Relations for the loaders (`graphql/loaders.rs`), answered from the
//! registry snapshot (`snapshot.rs`) through its indexes (`links.rs`): no
//! statement, on any date, and a parent's relation costs what it returns.
//! The rules are those of the registry everywhere: validity is half-open,
//! related rows come ordered by code, and a row counts only when both the
//! link and the row are valid on the date.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::*;
use sea_orm::{ColumnTrait, Condition};

use super::links::{Index, Links, Neighbours, RoleLink};
use super::snapshot::{InSnapshot, Snapshot};
use super::unique;
use crate::registry::record::Dated;
use crate::registry::validity::is_valid_on;
use crate::registry::{Registry, RegistryError};

/// Members of a cooperation on a date.
#[derive(Debug, Clone, Default)]
pub struct CooperationMembers {
    pub municipalities: Vec<municipality::Model>,
    pub regions: Vec<region::Model>,
    /// The membership rows of both, with how much each member takes part in.
    pub links: Vec<cooperation_member::Model>,
}

fn valid<M: Dated>(row: &M, date: NaiveDate) -> bool {
    is_valid_on(row.valid_from(), row.valid_to(), date)
}

impl Snapshot {
    /// Memberships valid on `date`, as `(municipality_id, region_id)`.
    pub(super) fn memberships_on(&self, date: NaiveDate) -> impl Iterator<Item = (i32, i32)> + '_ {
        self.memberships.iter().filter(move |m| valid(*m, date)).map(|m| (m.municipality_id, m.region_id))
    }

    /// The rows of `M` with these ids that are valid on `date`, once each, in code order.
    fn in_code_order<M: InSnapshot>(&self, ids: impl IntoIterator<Item = i32>, date: NaiveDate) -> Vec<M> {
        let table = M::table(self);
        let mut ranks: Vec<usize> = ids
            .into_iter()
            .filter_map(|id| table.rank(id))
            .filter(|&rank| table.rows[rank].is_valid_on(date))
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        ranks.into_iter().map(|rank| table.rows[rank].clone()).collect()
    }

    /// Member municipalities of a region on `date` (by the membership alone).
    pub(super) fn municipality_ids_in(&self, region_id: i32, date: NaiveDate) -> impl Iterator<Item = i32> + '_ {
        let memberships = self.links.memberships_by_region.rows(&self.memberships, region_id);
        memberships.filter(move |m| valid(*m, date)).map(|m| m.municipality_id)
    }

    /// The region of a municipality on `date` (by the membership alone).
    fn region_id_of(&self, municipality_id: i32, date: NaiveDate) -> Option<i32> {
        let mut memberships = self.links.memberships_by_municipality.rows(&self.memberships, municipality_id);
        memberships.find(|m| valid(*m, date)).map(|m| m.region_id)
    }

    /// The cooperation memberships valid on `date` found under `key` in `index`.
    fn cooperation_links<'a>(
        &'a self,
        index: &'a Index<i32>,
        key: i32,
        date: NaiveDate,
    ) -> impl Iterator<Item = &'a cooperation_member::Model> + 'a {
        index.rows(&self.cooperation_members, key).filter(move |m| valid(*m, date))
    }

    /// The cooperations of a region: with the region as a member, or with a
    /// member municipality that is in the region on that date.
    fn cooperation_ids_of_region(&self, region_id: i32, date: NaiveDate) -> HashSet<i32> {
        let by_municipality = &self.links.cooperation_members_by_municipality;
        let direct = self.cooperation_links(&self.links.cooperation_members_by_region, region_id, date);
        let through_members =
            self.municipality_ids_in(region_id, date).flat_map(|m| self.cooperation_links(by_municipality, m, date));
        direct.chain(through_members).map(|link| link.cooperation_id).collect()
    }

    /// The cooperations of a municipality: with the municipality as a member,
    /// or with its region as a member.
    fn cooperation_ids_of_municipality(&self, municipality_id: i32, date: NaiveDate) -> HashSet<i32> {
        let by_region = &self.links.cooperation_members_by_region;
        let direct = self.cooperation_links(&self.links.cooperation_members_by_municipality, municipality_id, date);
        let through_region = self
            .region_id_of(municipality_id, date)
            .into_iter()
            .flat_map(|r| self.cooperation_links(by_region, r, date))
            .filter(|link| link.municipality_id.is_none());
        direct.chain(through_region).map(|link| link.cooperation_id).collect()
    }

    /// Cooperation ids per region on `date`.
    pub(super) fn cooperation_ids_of_regions(&self, region_ids: &[i32], date: NaiveDate) -> HashMap<i32, HashSet<i32>> {
        each(region_ids, |id| self.cooperation_ids_of_region(id, date))
    }

    /// Cooperation ids per municipality on `date`.
    pub(super) fn cooperation_ids_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> HashMap<i32, HashSet<i32>> {
        each(municipality_ids, |id| self.cooperation_ids_of_municipality(id, date))
    }

    /// Roles valid on `date` under any of `links`, once each, in code order.
    fn roles_linked(&self, links: impl IntoIterator<Item = (RoleLink, i32)>, date: NaiveDate) -> Vec<role::Model> {
        let mut positions: Vec<usize> =
            links.into_iter().flat_map(|key| self.links.roles.positions(key).iter().copied()).collect();
        positions.sort_unstable();
        positions.dedup();
        positions.into_iter().map(|p| &self.roles[p]).filter(|r| valid(*r, date)).cloned().collect()
    }
}

/// `ids` -> what `relation` gives for each.
fn each<V>(ids: &[i32], relation: impl Fn(i32) -> V) -> HashMap<i32, V> {
    ids.iter().map(|&id| (id, relation(id))).collect()
}

/// Roles for one of the regions, held by one, or for one of their cooperations.
fn region_roles_condition(region_ids: &[i32], cooperations: &HashMap<i32, HashSet<i32>>) -> Condition {
    Condition::any()
        .add(role::Column::RegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::HolderRegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::CooperationId.is_in(unique(cooperations.values().flatten().copied())))
}

impl Registry {
    /// Member municipalities of each region on `date`, ordered by code.
    pub async fn municipalities_in_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<municipality::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        Ok(each(region_ids, |id| snapshot.in_code_order(snapshot.municipality_ids_in(id, date), date)))
    }

    /// The region each municipality belongs to on `date` (at most one).
    pub async fn regions_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, region::Model>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let region_of = |id| snapshot.in_code_order::<region::Model>(snapshot.region_id_of(id, date), date).pop();
        Ok(municipality_ids.iter().filter_map(|&id| Some((id, region_of(id)?))).collect())
    }

    /// Cooperation ids per region on `date` (for filters).
    pub(super) async fn cooperation_ids_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, HashSet<i32>>, RegistryError> {
        Ok(self.snapshot().await?.cooperation_ids_of_regions(region_ids, date))
    }

    /// Cooperation ids per municipality on `date` (for filters).
    pub(super) async fn cooperation_ids_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, HashSet<i32>>, RegistryError> {
        Ok(self.snapshot().await?.cooperation_ids_of_municipalities(municipality_ids, date))
    }

    pub async fn cooperations_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        Ok(each(region_ids, |id| snapshot.in_code_order(snapshot.cooperation_ids_of_region(id, date), date)))
    }

    pub async fn cooperations_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        Ok(each(municipality_ids, |id| {
            snapshot.in_code_order(snapshot.cooperation_ids_of_municipality(id, date), date)
        }))
    }

    /// Member municipalities and member regions of each cooperation on `date`.
    pub async fn members_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, CooperationMembers>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let exists = |link: &cooperation_member::Model| match (link.municipality_id, link.region_id) {
            (Some(m), _) => snapshot.municipalities.get(m).is_some_and(|row| valid(row, date)),
            (None, Some(r)) => snapshot.regions.get(r).is_some_and(|row| valid(row, date)),
            (None, None) => false,
        };
        let members = |id: i32| {
            let by_cooperation = &snapshot.links.cooperation_members_by_cooperation;
            let mut links: Vec<cooperation_member::Model> =
                snapshot.cooperation_links(by_cooperation, id, date).filter(|l| exists(l)).cloned().collect();
            // Municipalities, then regions, each in code order.
            links.sort_by_key(|l| {
                (
                    l.region_id.and_then(|r| snapshot.regions.rank(r)),
                    l.municipality_id.and_then(|m| snapshot.municipalities.rank(m)),
                )
            });
            CooperationMembers {
                municipalities: snapshot.in_code_order(links.iter().filter_map(|l| l.municipality_id), date),
                regions: snapshot.in_code_order(links.iter().filter_map(|l| l.region_id), date),
                links,
            }
        };
        Ok(each(cooperation_ids, members))
    }

    /// A condition selecting the roles that concern the regions on `date` (for filters).
    pub(super) async fn roles_of_regions_condition(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<Condition, RegistryError> {
        let cooperations = self.cooperation_ids_of_regions(region_ids, date).await?;
        Ok(region_roles_condition(region_ids, &cooperations))
    }

    /// Roles concerning each region on `date`: held by it, for it, or for one of its cooperations.
    pub async fn roles_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<role::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let roles = |id: i32| {
            let cooperations = snapshot.cooperation_ids_of_region(id, date);
            let own = [(RoleLink::Region, id), (RoleLink::HolderRegion, id)];
            snapshot
                .roles_linked(own.into_iter().chain(cooperations.into_iter().map(|c| (RoleLink::Cooperation, c))), date)
        };
        Ok(each(region_ids, roles))
    }

    /// Roles valid on `date` linked to each of `ids` by `link`, in code order.
    pub async fn roles_by(
        &self,
        link: RoleLink,
        ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<role::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        Ok(each(ids, |id| snapshot.roles_linked([(link, id)], date)))
    }

    /// Framework contracts valid on `date` per region that is a party.
    pub async fn contracts_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        self.neighbours(region_ids, date, |links| &links.contracts_of_region).await
    }

    /// Framework contracts valid on `date` per care form they cover.
    pub async fn contracts_of_care_forms(
        &self,
        care_form_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        self.neighbours(care_form_ids, date, |links| &links.contracts_of_care_form).await
    }

    /// Party regions of each contract, valid on `date`.
    pub async fn parties_of_contracts(
        &self,
        contract_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<region::Model>>, RegistryError> {
        self.neighbours(contract_ids, date, |links| &links.parties_of_contract).await
    }

    /// Care forms of each contract (they have no validity of their own).
    pub async fn care_forms_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<care_form::Model>>, RegistryError> {
        self.neighbours(contract_ids, crate::registry::today(), |links| &links.care_forms_of_contract).await
    }

    /// Providers of each contract (they have no validity of their own).
    pub async fn providers_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<provider::Model>>, RegistryError> {
        self.neighbours(contract_ids, crate::registry::today(), |links| &links.providers_of_contract).await
    }

    /// The parts (sub-regions) of each cooperation valid on `date`, in code order.
    pub async fn parts_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        self.neighbours(cooperation_ids, date, |links| &links.parts_of_cooperation).await
    }

    /// The rows of `M` each id is linked to by `neighbours`, valid on `date`, in code order.
    async fn neighbours<M: InSnapshot>(
        &self,
        ids: &[i32],
        date: NaiveDate,
        neighbours: impl Fn(&Links) -> &Neighbours,
    ) -> Result<HashMap<i32, Vec<M>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let linked = neighbours(&snapshot.links);
        Ok(each(ids, |id| snapshot.in_code_order(linked.of(id), date)))
    }

    /// Rows by primary key, whatever their validity: the caller already
    /// decided the link is valid on its date.
    pub async fn by_ids<M: InSnapshot>(&self, ids: &[i32]) -> Result<HashMap<i32, M>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let table = M::table(&snapshot);
        Ok(ids.iter().filter_map(|&id| table.get(id).map(|row| (id, row.clone()))).collect())
    }

    /// [`Registry::by_ids`] for one id.
    pub async fn by_id<M: InSnapshot>(&self, id: i32) -> Result<Option<M>, RegistryError> {
        Ok(M::table(&*self.snapshot().await?).get(id).cloned())
    }
}
