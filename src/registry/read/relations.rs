//! Batch relations for the DataLoaders: every function runs a fixed number
//! of statements however many ids it is given.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::*;
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Keyed, group, unique};
use crate::registry::record::Coded;
use crate::registry::{Registry, RegistryError, valid_on};

/// Members of a cooperation on a date.
#[derive(Debug, Clone, Default)]
pub struct CooperationMembers {
    pub municipalities: Vec<municipality::Model>,
    pub regions: Vec<region::Model>,
}

/// Roles for one of the regions, held by one, or for one of their cooperations.
fn region_roles_condition(region_ids: &[i32], cooperations: &HashMap<i32, HashSet<i32>>) -> Condition {
    Condition::any()
        .add(role::Column::RegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::HolderRegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::CooperationId.is_in(unique(cooperations.values().flatten().copied())))
}

impl Registry {
    // ----- batch relations (DataLoaders) ------------------------------------

    /// Memberships valid on `date` for the given municipalities or regions, as
    /// `(municipality_id, region_id)` pairs.
    async fn memberships(&self, condition: Condition, date: NaiveDate) -> Result<Vec<(i32, i32)>, DbErr> {
        membership::Entity::find()
            .select_only()
            .column(membership::Column::MunicipalityId)
            .column(membership::Column::RegionId)
            .filter(condition)
            .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, date))
            .into_tuple()
            .all(&self.db)
            .await
    }

    /// Rows of `M` with these ids that are valid on `date`, ordered by code.
    async fn valid_rows<M: Coded>(&self, ids: Vec<i32>, date: NaiveDate) -> Result<Vec<M>, DbErr> {
        M::Entity::find().filter(M::ID.is_in(ids)).filter(M::valid_on(date)).order_by_asc(M::CODE).all(&self.db).await
    }

    /// `(owner, target)` pairs of link table `L` for the given owners.
    async fn links<L: EntityTrait>(
        &self,
        owner: L::Column,
        target: L::Column,
        owners: &[i32],
    ) -> Result<Vec<(i32, i32)>, DbErr> {
        L::find()
            .select_only()
            .columns([owner, target])
            .filter(owner.is_in(owners.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await
    }

    /// Owner id -> the rows of `M` linked to it through link table `L`, valid on `date`.
    async fn linked<L: EntityTrait, M: Coded + Keyed>(
        &self,
        (owner, target): (L::Column, L::Column),
        owners: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<M>>, RegistryError> {
        let links = self.links::<L>(owner, target, owners).await?;
        let rows = self.valid_rows::<M>(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &rows))
    }

    /// Member municipalities of each region on `date`, ordered by code.
    pub async fn municipalities_in_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<municipality::Model>>, RegistryError> {
        let links = self
            .memberships(Condition::all().add(membership::Column::RegionId.is_in(region_ids.iter().copied())), date)
            .await?;
        let municipalities = self.valid_rows::<municipality::Model>(unique(links.iter().map(|l| l.0)), date).await?;
        Ok(group(links.into_iter().map(|(m, r)| (r, m)), &municipalities))
    }

    /// The region each municipality belongs to on `date` (at most one).
    pub async fn regions_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, region::Model>, RegistryError> {
        let links = self
            .memberships(
                Condition::all().add(membership::Column::MunicipalityId.is_in(municipality_ids.iter().copied())),
                date,
            )
            .await?;
        let regions = self.valid_rows::<region::Model>(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &regions).into_iter().filter_map(|(m, mut rs)| rs.pop().map(|r| (m, r))).collect())
    }

    /// Cooperation ids per region on `date`: cooperations with the region as a
    /// member, or with a member municipality that is in the region on that date.
    pub(super) async fn cooperation_ids_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, HashSet<i32>>, DbErr> {
        let links = self
            .memberships(Condition::all().add(membership::Column::RegionId.is_in(region_ids.iter().copied())), date)
            .await?;
        let region_of: HashMap<i32, i32> = links.into_iter().collect();
        let members =
            self.cooperation_member_links(region_of.keys().copied(), region_ids.iter().copied(), date).await?;
        let mut result: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (cooperation_id, municipality_id, region_id) in members {
            let region = region_id.or_else(|| municipality_id.and_then(|m| region_of.get(&m).copied()));
            if let Some(region) = region {
                result.entry(region).or_default().insert(cooperation_id);
            }
        }
        Ok(result)
    }

    /// Cooperation ids per municipality on `date`: cooperations with the
    /// municipality as a member, or with its region as a member.
    pub(super) async fn cooperation_ids_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, HashSet<i32>>, DbErr> {
        let links = self
            .memberships(
                Condition::all().add(membership::Column::MunicipalityId.is_in(municipality_ids.iter().copied())),
                date,
            )
            .await?;
        let mut municipalities_of_region: HashMap<i32, Vec<i32>> = HashMap::new();
        for (municipality, region) in &links {
            municipalities_of_region.entry(*region).or_default().push(*municipality);
        }
        let members = self
            .cooperation_member_links(
                municipality_ids.iter().copied(),
                municipalities_of_region.keys().copied().collect::<Vec<_>>(),
                date,
            )
            .await?;
        let mut result: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (cooperation_id, municipality_id, region_id) in members {
            let owners = match (municipality_id, region_id) {
                (Some(m), _) => vec![m],
                (None, Some(r)) => municipalities_of_region.get(&r).cloned().unwrap_or_default(),
                (None, None) => vec![],
            };
            for owner in owners {
                result.entry(owner).or_default().insert(cooperation_id);
            }
        }
        Ok(result)
    }

    /// `(cooperation_id, municipality_id, region_id)` of memberships valid on
    /// `date` with one of the municipalities or regions as member.
    async fn cooperation_member_links(
        &self,
        municipality_ids: impl IntoIterator<Item = i32>,
        region_ids: impl IntoIterator<Item = i32>,
        date: NaiveDate,
    ) -> Result<Vec<(i32, Option<i32>, Option<i32>)>, DbErr> {
        use cooperation_member::Column;
        cooperation_member::Entity::find()
            .select_only()
            .columns([Column::CooperationId, Column::MunicipalityId, Column::RegionId])
            .filter(
                Condition::any()
                    .add(Column::MunicipalityId.is_in(municipality_ids))
                    .add(Column::RegionId.is_in(region_ids)),
            )
            .filter(valid_on(Column::ValidFrom, Column::ValidTo, date))
            .into_tuple()
            .all(&self.db)
            .await
    }

    async fn cooperations_for(
        &self,
        ids: HashMap<i32, HashSet<i32>>,
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let cooperations = self.valid_rows::<cooperation::Model>(unique(ids.values().flatten().copied()), date).await?;
        Ok(group(ids.into_iter().flat_map(|(owner, cs)| cs.into_iter().map(move |c| (owner, c))), &cooperations))
    }

    pub async fn cooperations_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let ids = self.cooperation_ids_of_regions(region_ids, date).await?;
        self.cooperations_for(ids, date).await
    }

    pub async fn cooperations_of_municipalities(
        &self,
        municipality_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<cooperation::Model>>, RegistryError> {
        let ids = self.cooperation_ids_of_municipalities(municipality_ids, date).await?;
        self.cooperations_for(ids, date).await
    }

    /// Member municipalities and member regions of each cooperation on `date`.
    pub async fn members_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, CooperationMembers>, RegistryError> {
        use cooperation_member::Column;
        let links: Vec<(i32, Option<i32>, Option<i32>)> = cooperation_member::Entity::find()
            .select_only()
            .columns([Column::CooperationId, Column::MunicipalityId, Column::RegionId])
            .filter(Column::CooperationId.is_in(cooperation_ids.iter().copied()))
            .filter(valid_on(Column::ValidFrom, Column::ValidTo, date))
            .into_tuple()
            .all(&self.db)
            .await?;
        let municipalities =
            self.valid_rows::<municipality::Model>(unique(links.iter().filter_map(|l| l.1)), date).await?;
        let regions = self.valid_rows::<region::Model>(unique(links.iter().filter_map(|l| l.2)), date).await?;
        let mut by_municipality = group(links.iter().filter_map(|l| Some((l.0, l.1?))), &municipalities);
        let mut by_region = group(links.iter().filter_map(|l| Some((l.0, l.2?))), &regions);
        Ok(cooperation_ids
            .iter()
            .map(|id| {
                let members = CooperationMembers {
                    municipalities: by_municipality.remove(id).unwrap_or_default(),
                    regions: by_region.remove(id).unwrap_or_default(),
                };
                (*id, members)
            })
            .collect())
    }

    /// Roles that concern a region: roles for the region, held by it, or for a
    /// cooperation the region takes part in on `date`.
    pub(super) async fn roles_of_regions_condition(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<Condition, DbErr> {
        let cooperations = self.cooperation_ids_of_regions(region_ids, date).await?;
        Ok(region_roles_condition(region_ids, &cooperations))
    }

    async fn valid_roles(&self, condition: Condition, date: NaiveDate) -> Result<Vec<role::Model>, DbErr> {
        role::Entity::find()
            .filter(condition)
            .filter(valid_on(role::Column::ValidFrom, role::Column::ValidTo, date))
            .order_by_asc(role::Column::Code)
            .all(&self.db)
            .await
    }

    pub async fn roles_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<role::Model>>, RegistryError> {
        let cooperations = self.cooperation_ids_of_regions(region_ids, date).await?;
        let roles = self.valid_roles(region_roles_condition(region_ids, &cooperations), date).await?;
        let mut result: HashMap<i32, Vec<role::Model>> = HashMap::new();
        for region_id in region_ids {
            let in_region = cooperations.get(region_id);
            let concerned: Vec<role::Model> = roles
                .iter()
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

    /// Roles per owner id, where `column` links a role to its owner.
    pub async fn roles_by(
        &self,
        column: role::Column,
        ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<role::Model>>, RegistryError> {
        let roles = self.valid_roles(Condition::all().add(column.is_in(ids.iter().copied())), date).await?;
        let mut result: HashMap<i32, Vec<role::Model>> = HashMap::new();
        for role in roles {
            let owner = match column {
                role::Column::HolderMunicipalityId => role.holder_municipality_id,
                role::Column::CooperationId => role.cooperation_id,
                role::Column::CareFormId => role.care_form_id,
                role::Column::ProviderId => role.provider_id,
                role::Column::RegionId => role.region_id,
                role::Column::HolderRegionId => role.holder_region_id,
                _ => None,
            };
            if let Some(owner) = owner {
                result.entry(owner).or_default().push(role);
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
        use contract_party::Column;
        self.linked::<contract_party::Entity, _>((Column::RegionId, Column::ContractId), region_ids, date).await
    }

    /// Framework contracts valid on `date` per care form they cover.
    pub async fn contracts_of_care_forms(
        &self,
        care_form_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        use contract_care_form::Column;
        self.linked::<contract_care_form::Entity, _>((Column::CareFormId, Column::ContractId), care_form_ids, date)
            .await
    }

    /// Party regions of each contract, valid on `date`.
    pub async fn parties_of_contracts(
        &self,
        contract_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<region::Model>>, RegistryError> {
        use contract_party::Column;
        self.linked::<contract_party::Entity, _>((Column::ContractId, Column::RegionId), contract_ids, date).await
    }

    /// Care forms of each contract (they have no validity of their own).
    pub async fn care_forms_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<care_form::Model>>, RegistryError> {
        use contract_care_form::Column;
        let any_date = crate::registry::today();
        self.linked::<contract_care_form::Entity, _>((Column::ContractId, Column::CareFormId), contract_ids, any_date)
            .await
    }

    /// Providers of each contract (they have no validity of their own).
    pub async fn providers_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<provider::Model>>, RegistryError> {
        use contract_provider::Column;
        let any_date = crate::registry::today();
        self.linked::<contract_provider::Entity, _>((Column::ContractId, Column::ProviderId), contract_ids, any_date)
            .await
    }
}
