//! Batch relations for the DataLoaders, answered from the registry snapshot
//! (`snapshot.rs`): no statement however many ids they are given, on any
//! date. The rules are those of the registry everywhere: validity is
//! half-open, related rows come ordered by code, and a row counts only when
//! both the link and the row are valid on the date.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::*;
use sea_orm::{ColumnTrait, Condition};

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

/// Owner -> the rows of `M` its links point at that are valid on `date`, in code order.
fn linked<M: InSnapshot>(
    snapshot: &Snapshot,
    links: impl IntoIterator<Item = (i32, i32)>,
    date: NaiveDate,
) -> HashMap<i32, Vec<M>> {
    let table = M::table(snapshot);
    let mut ranked: HashMap<i32, Vec<usize>> = HashMap::new();
    for (owner, target) in links {
        if let (Some(rank), Some(row)) = (table.rank(target), table.get(target))
            && row.is_valid_on(date)
        {
            ranked.entry(owner).or_default().push(rank);
        }
    }
    ranked
        .into_iter()
        .map(|(owner, mut ranks)| {
            ranks.sort_unstable();
            ranks.dedup();
            (owner, ranks.into_iter().map(|rank| table.rows[rank].clone()).collect())
        })
        .collect()
}

/// Roles for one of the regions, held by one, or for one of their cooperations.
fn region_roles_condition(region_ids: &[i32], cooperations: &HashMap<i32, HashSet<i32>>) -> Condition {
    Condition::any()
        .add(role::Column::RegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::HolderRegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::CooperationId.is_in(unique(cooperations.values().flatten().copied())))
}

impl Snapshot {
    /// Memberships valid on `date`, as `(municipality_id, region_id)`.
    pub(super) fn memberships_on(&self, date: NaiveDate) -> impl Iterator<Item = (i32, i32)> + '_ {
        self.memberships.iter().filter(move |m| valid(*m, date)).map(|m| (m.municipality_id, m.region_id))
    }

    /// `(cooperation_id, municipality_id, region_id)` of memberships valid on `date`.
    fn cooperation_members_on(&self, date: NaiveDate) -> impl Iterator<Item = (i32, Option<i32>, Option<i32>)> + '_ {
        self.cooperation_members
            .iter()
            .filter(move |m| valid(*m, date))
            .map(|m| (m.cooperation_id, m.municipality_id, m.region_id))
    }

    /// Cooperation ids per region: with the region as a member, or with a
    /// member municipality that is in the region on that date.
    pub(super) fn cooperation_ids_of_regions(&self, region_ids: &[i32], date: NaiveDate) -> HashMap<i32, HashSet<i32>> {
        let wanted: HashSet<i32> = region_ids.iter().copied().collect();
        let region_of: HashMap<i32, i32> = self.memberships_on(date).filter(|(_, r)| wanted.contains(r)).collect();
        let mut result: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (cooperation_id, municipality_id, region_id) in self.cooperation_members_on(date) {
            let region = match (municipality_id, region_id) {
                (_, Some(r)) if wanted.contains(&r) => Some(r),
                (Some(m), _) => region_of.get(&m).copied(),
                _ => None,
            };
            if let Some(region) = region {
                result.entry(region).or_default().insert(cooperation_id);
            }
        }
        result
    }

    /// Cooperation ids per municipality: with the municipality as a member, or
    /// with its region as a member.
    pub(super) fn cooperation_ids_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> HashMap<i32, HashSet<i32>> {
        let wanted: HashSet<i32> = municipality_ids.iter().copied().collect();
        let mut municipalities_of_region: HashMap<i32, Vec<i32>> = HashMap::new();
        for (municipality, region) in self.memberships_on(date).filter(|(m, _)| wanted.contains(m)) {
            municipalities_of_region.entry(region).or_default().push(municipality);
        }
        let mut result: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (cooperation_id, municipality_id, region_id) in self.cooperation_members_on(date) {
            let owners = match (municipality_id, region_id) {
                (Some(m), _) if wanted.contains(&m) => vec![m],
                (None, Some(r)) => municipalities_of_region.get(&r).cloned().unwrap_or_default(),
                _ => vec![],
            };
            for owner in owners {
                result.entry(owner).or_default().insert(cooperation_id);
            }
        }
        result
    }

    fn cooperations_for(
        &self,
        ids: HashMap<i32, HashSet<i32>>,
        date: NaiveDate,
    ) -> HashMap<i32, Vec<cooperation::Model>> {
        linked(self, ids.into_iter().flat_map(|(owner, cs)| cs.into_iter().map(move |c| (owner, c))), date)
    }

    fn roles_on(&self, date: NaiveDate) -> impl Iterator<Item = &role::Model> {
        self.roles.iter().filter(move |r| valid(*r, date))
    }
}

impl Registry {
    /// Member municipalities of each region on `date`, ordered by code.
    pub async fn municipalities_in_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<municipality::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = region_ids.iter().copied().collect();
        let links = snapshot.memberships_on(date).filter(|(_, r)| wanted.contains(r)).map(|(m, r)| (r, m));
        Ok(linked(&snapshot, links.collect::<Vec<_>>(), date))
    }

    /// The region each municipality belongs to on `date` (at most one).
    pub async fn regions_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, region::Model>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = municipality_ids.iter().copied().collect();
        let links: Vec<(i32, i32)> = snapshot.memberships_on(date).filter(|(m, _)| wanted.contains(m)).collect();
        Ok(linked::<region::Model>(&snapshot, links, date)
            .into_iter()
            .filter_map(|(m, mut regions)| regions.pop().map(|r| (m, r)))
            .collect())
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
        let ids = snapshot.cooperation_ids_of_regions(region_ids, date);
        Ok(snapshot.cooperations_for(ids, date))
    }

    pub async fn cooperations_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let ids = snapshot.cooperation_ids_of_municipalities(municipality_ids, date);
        Ok(snapshot.cooperations_for(ids, date))
    }

    /// Member municipalities and member regions of each cooperation on `date`.
    pub async fn members_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, CooperationMembers>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = cooperation_ids.iter().copied().collect();
        let links: Vec<_> = snapshot.cooperation_members_on(date).filter(|l| wanted.contains(&l.0)).collect();
        let mut municipalities = linked::<municipality::Model>(
            &snapshot,
            links.iter().filter_map(|l| Some((l.0, l.1?))).collect::<Vec<_>>(),
            date,
        );
        let mut regions = linked::<region::Model>(
            &snapshot,
            links.iter().filter_map(|l| Some((l.0, l.2?))).collect::<Vec<_>>(),
            date,
        );
        let exists = |link: &cooperation_member::Model| match (link.municipality_id, link.region_id) {
            (Some(m), _) => snapshot.municipalities.get(m).is_some_and(|row| valid(row, date)),
            (None, Some(r)) => snapshot.regions.get(r).is_some_and(|row| valid(row, date)),
            (None, None) => false,
        };
        Ok(cooperation_ids
            .iter()
            .map(|id| {
                let mut links: Vec<cooperation_member::Model> = snapshot
                    .cooperation_members
                    .iter()
                    .filter(|l| l.cooperation_id == *id && valid(*l, date) && exists(l))
                    .cloned()
                    .collect();
                // Municipalities, then regions, each in code order.
                links.sort_by_key(|l| {
                    (
                        l.region_id.and_then(|r| snapshot.regions.rank(r)),
                        l.municipality_id.and_then(|m| snapshot.municipalities.rank(m)),
                    )
                });
                let members = CooperationMembers {
                    municipalities: municipalities.remove(id).unwrap_or_default(),
                    regions: regions.remove(id).unwrap_or_default(),
                    links,
                };
                (*id, members)
            })
            .collect())
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
        let cooperations = snapshot.cooperation_ids_of_regions(region_ids, date);
        let mut result: HashMap<i32, Vec<role::Model>> = HashMap::new();
        for region_id in region_ids {
            let in_region = cooperations.get(region_id);
            let concerned: Vec<role::Model> = snapshot
                .roles_on(date)
                .filter(|r| {
                    r.region_id == Some(*region_id)
                        || r.holder_region_id == Some(*region_id)
                        || r.cooperation_id.is_some_and(|c| in_region.is_some_and(|set| set.contains(&c)))
                })
                .cloned()
                .collect();
            result.insert(*region_id, concerned);
        }
        Ok(result)
    }

    /// Roles valid on `date` per owner, where `column` names the owner.
    pub async fn roles_by(
        &self,
        column: role::Column,
        ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<role::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = ids.iter().copied().collect();
        let mut result: HashMap<i32, Vec<role::Model>> = HashMap::new();
        for role in snapshot.roles_on(date) {
            let owner = match column {
                role::Column::HolderMunicipalityId => role.holder_municipality_id,
                role::Column::CooperationId => role.cooperation_id,
                role::Column::CareFormId => role.care_form_id,
                role::Column::ProviderId => role.provider_id,
                role::Column::RegionId => role.region_id,
                role::Column::HolderRegionId => role.holder_region_id,
                role::Column::HolderCooperationId => role.holder_cooperation_id,
                _ => None,
            };
            if let Some(owner) = owner.filter(|o| wanted.contains(o)) {
                result.entry(owner).or_default().push(role.clone());
            }
        }
        Ok(result)
    }

    /// Framework contracts valid on `date` per region that is a party.
    pub async fn contracts_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = region_ids.iter().copied().collect();
        let links: Vec<_> =
            snapshot.contract_parties.iter().filter(|(_, r)| wanted.contains(r)).map(|&(c, r)| (r, c)).collect();
        Ok(linked(&snapshot, links, date))
    }

    /// Framework contracts valid on `date` per care form they cover.
    pub async fn contracts_of_care_forms(
        &self,
        care_form_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = care_form_ids.iter().copied().collect();
        let links: Vec<_> =
            snapshot.contract_care_forms.iter().filter(|(_, f)| wanted.contains(f)).map(|&(c, f)| (f, c)).collect();
        Ok(linked(&snapshot, links, date))
    }

    /// Party regions of each contract, valid on `date`.
    pub async fn parties_of_contracts(
        &self,
        contract_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<region::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = contract_ids.iter().copied().collect();
        let links: Vec<_> = snapshot.contract_parties.iter().filter(|(c, _)| wanted.contains(c)).copied().collect();
        Ok(linked(&snapshot, links, date))
    }

    /// Care forms of each contract (they have no validity of their own).
    pub async fn care_forms_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<care_form::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = contract_ids.iter().copied().collect();
        let links: Vec<_> = snapshot.contract_care_forms.iter().filter(|(c, _)| wanted.contains(c)).copied().collect();
        Ok(linked(&snapshot, links, crate::registry::today()))
    }

    /// Providers of each contract (they have no validity of their own).
    pub async fn providers_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<provider::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = contract_ids.iter().copied().collect();
        let links: Vec<_> = snapshot.contract_providers.iter().filter(|(c, _)| wanted.contains(c)).copied().collect();
        Ok(linked(&snapshot, links, crate::registry::today()))
    }

    /// The parts (sub-regions) of each cooperation valid on `date`, in code order.
    pub async fn parts_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let wanted: HashSet<i32> = cooperation_ids.iter().copied().collect();
        let links: Vec<(i32, i32)> = snapshot
            .cooperations
            .rows
            .iter()
            .filter_map(|c| c.parent_cooperation_id.filter(|p| wanted.contains(p)).map(|p| (p, c.id)))
            .collect();
        Ok(linked(&snapshot, links, date))
    }

    /// Rows by primary key, whatever their validity: the caller already
    /// decided the link is valid on its date.
    pub async fn by_ids<M: InSnapshot>(&self, ids: &[i32]) -> Result<HashMap<i32, M>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let table = M::table(&snapshot);
        Ok(ids.iter().filter_map(|&id| table.get(id).map(|row| (id, row.clone()))).collect())
    }
}
