//! Read side of the registry: single lookups by code, filtered pages, and the
//! batch relation queries the GraphQL DataLoaders call. Every batch function
//! runs a fixed number of statements however many ids it is given.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entity::enums::{RoleKind, Scale};
use entity::*;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Registry, RegistryError, valid_on};

/// Which slice of an ordered list the caller wants: rows after the row with
/// code `after`, at most `first` of them.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    pub first: u64,
}

impl PageRequest {
    pub fn new(first: Option<i32>, after: Option<String>) -> Result<Self, RegistryError> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => return Err(RegistryError::invalid("first", "first must not be negative")),
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(RegistryError::invalid("first", format!("first must be at most {MAX_PAGE_SIZE}")));
            }
            Some(n) => n as u64,
        };
        Ok(Self { after, first })
    }
}

/// One page of a list ordered by code.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub total_count: u64,
}

/// Access to the primary key of any registry row, so batch code can group rows.
pub trait Keyed {
    fn key(&self) -> i32;
}

macro_rules! keyed {
    ($($module:ident),*) => {$(impl Keyed for $module::Model { fn key(&self) -> i32 { self.id } })*};
}
keyed!(
    landsdeel,
    province,
    region,
    municipality,
    membership,
    cooperation,
    cooperation_member,
    care_form,
    provider,
    role,
    framework_contract
);

/// Members of a cooperation on a date.
#[derive(Debug, Clone, Default)]
pub struct CooperationMembers {
    pub municipalities: Vec<municipality::Model>,
    pub regions: Vec<region::Model>,
}

#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    pub name_contains: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MunicipalityFilter {
    pub region_code: Option<String>,
    pub province_code: Option<String>,
    pub name_contains: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CooperationFilter {
    pub scale: Option<Scale>,
    pub region_code: Option<String>,
    pub municipality_code: Option<String>,
    pub name_contains: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RoleFilter {
    pub kind: Option<RoleKind>,
    /// A municipality (`GM…`) or region (`JZ…`) code.
    pub holder_code: Option<String>,
    pub region_code: Option<String>,
    pub cooperation_code: Option<String>,
    pub care_form_code: Option<String>,
    pub provider_code: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    pub scale: Option<Scale>,
    pub care_form_code: Option<String>,
    pub party_region_code: Option<String>,
    /// Only contracts whose term includes this date (in addition to `asOf`).
    pub active_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct ProviderFilter {
    pub name_contains: Option<String>,
}

/// Case-insensitive substring match; `%` and `_` in the needle match literally.
fn name_contains<C: ColumnTrait>(column: C, needle: &str) -> Expr {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column.as_column_ref()))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

async fn page<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    code: E::Column,
    request: &PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total_count = select.clone().count(db).await?;
    let mut query = select.order_by_asc(code).limit(request.first + 1);
    if let Some(after) = &request.after {
        query = query.filter(code.gt(after.clone()));
    }
    let mut items = query.all(db).await?;
    let has_next_page = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    Ok(Page { items, has_next_page, total_count })
}

fn by_key<M: Keyed>(rows: Vec<M>) -> HashMap<i32, M> {
    rows.into_iter().map(|row| (row.key(), row)).collect()
}

/// Groups `(owner, target)` links into owner -> targets, keeping the order of
/// `targets` (which callers sort by code) and dropping links to targets that
/// are not in it (for instance because they are not valid on the date).
fn group<M: Keyed + Clone>(links: impl IntoIterator<Item = (i32, i32)>, targets: &[M]) -> HashMap<i32, Vec<M>> {
    let position: HashMap<i32, usize> = targets.iter().enumerate().map(|(i, t)| (t.key(), i)).collect();
    let mut grouped: HashMap<i32, BTreeMap<usize, M>> = HashMap::new();
    for (owner, target) in links {
        if let Some(&i) = position.get(&target) {
            grouped.entry(owner).or_default().insert(i, targets[i].clone());
        }
    }
    grouped.into_iter().map(|(owner, rows)| (owner, rows.into_values().collect())).collect()
}

/// Roles for one of the regions, held by one, or for one of their cooperations.
fn region_roles_condition(region_ids: &[i32], cooperations: &HashMap<i32, HashSet<i32>>) -> Condition {
    Condition::any()
        .add(role::Column::RegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::HolderRegionId.is_in(region_ids.iter().copied()))
        .add(role::Column::CooperationId.is_in(unique(cooperations.values().flatten().copied())))
}

fn unique(ids: impl IntoIterator<Item = i32>) -> Vec<i32> {
    ids.into_iter().collect::<HashSet<_>>().into_iter().collect()
}

impl Registry {
    // ----- single lookups -------------------------------------------------

    pub async fn region(&self, code: &str, date: NaiveDate) -> Result<Option<region::Model>, RegistryError> {
        Ok(region::Entity::find()
            .filter(region::Column::Code.eq(code))
            .filter(valid_on(region::Column::ValidFrom, region::Column::ValidTo, date))
            .one(&self.db)
            .await?)
    }

    pub async fn municipality(
        &self,
        code: &str,
        date: NaiveDate,
    ) -> Result<Option<municipality::Model>, RegistryError> {
        Ok(municipality::Entity::find()
            .filter(municipality::Column::Code.eq(code))
            .filter(valid_on(municipality::Column::ValidFrom, municipality::Column::ValidTo, date))
            .one(&self.db)
            .await?)
    }

    pub async fn cooperation(&self, code: &str, date: NaiveDate) -> Result<Option<cooperation::Model>, RegistryError> {
        Ok(cooperation::Entity::find()
            .filter(cooperation::Column::Code.eq(code))
            .filter(valid_on(cooperation::Column::ValidFrom, cooperation::Column::ValidTo, date))
            .one(&self.db)
            .await?)
    }

    pub async fn role(&self, code: &str, date: NaiveDate) -> Result<Option<role::Model>, RegistryError> {
        Ok(role::Entity::find()
            .filter(role::Column::Code.eq(code))
            .filter(valid_on(role::Column::ValidFrom, role::Column::ValidTo, date))
            .one(&self.db)
            .await?)
    }

    pub async fn framework_contract(
        &self,
        code: &str,
        date: NaiveDate,
    ) -> Result<Option<framework_contract::Model>, RegistryError> {
        Ok(framework_contract::Entity::find()
            .filter(framework_contract::Column::Code.eq(code))
            .filter(valid_on(framework_contract::Column::ValidFrom, framework_contract::Column::ValidTo, date))
            .one(&self.db)
            .await?)
    }

    pub async fn care_form(&self, code: &str) -> Result<Option<care_form::Model>, RegistryError> {
        Ok(care_form::Entity::find().filter(care_form::Column::Code.eq(code)).one(&self.db).await?)
    }

    pub async fn provider(&self, code: &str) -> Result<Option<provider::Model>, RegistryError> {
        Ok(provider::Entity::find().filter(provider::Column::Code.eq(code)).one(&self.db).await?)
    }

    pub async fn province(&self, code: &str) -> Result<Option<province::Model>, RegistryError> {
        Ok(province::Entity::find().filter(province::Column::Code.eq(code)).one(&self.db).await?)
    }

    // ----- small closed lists ---------------------------------------------

    pub async fn care_forms(&self) -> Result<Vec<care_form::Model>, RegistryError> {
        Ok(care_form::Entity::find().order_by_asc(care_form::Column::Code).all(&self.db).await?)
    }

    pub async fn provinces(&self) -> Result<Vec<province::Model>, RegistryError> {
        Ok(province::Entity::find().order_by_asc(province::Column::Code).all(&self.db).await?)
    }

    // ----- filtered pages -------------------------------------------------

    pub async fn regions(
        &self,
        filter: &RegionFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<region::Model>, RegistryError> {
        let mut select =
            region::Entity::find().filter(valid_on(region::Column::ValidFrom, region::Column::ValidTo, date));
        if let Some(needle) = &filter.name_contains {
            select = select.filter(name_contains(region::Column::Name, needle));
        }
        Ok(page(&self.db, select, region::Column::Code, request).await?)
    }

    pub async fn municipalities(
        &self,
        filter: &MunicipalityFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<municipality::Model>, RegistryError> {
        let mut select = municipality::Entity::find().filter(valid_on(
            municipality::Column::ValidFrom,
            municipality::Column::ValidTo,
            date,
        ));
        if let Some(code) = &filter.region_code {
            let region_ids = self.ids_of::<region::Entity>(region::Column::Code, code).await?;
            let members: Vec<i32> = self
                .municipalities_in_regions(&region_ids, date)
                .await?
                .into_values()
                .flatten()
                .map(|m| m.id)
                .collect();
            select = select.filter(municipality::Column::Id.is_in(members));
        }
        if let Some(code) = &filter.province_code {
            let province_ids = self.ids_of::<province::Entity>(province::Column::Code, code).await?;
            select = select.filter(municipality::Column::ProvinceId.is_in(province_ids));
        }
        if let Some(needle) = &filter.name_contains {
            select = select.filter(name_contains(municipality::Column::Name, needle));
        }
        Ok(page(&self.db, select, municipality::Column::Code, request).await?)
    }

    pub async fn cooperations(
        &self,
        filter: &CooperationFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<cooperation::Model>, RegistryError> {
        let mut select = cooperation::Entity::find().filter(valid_on(
            cooperation::Column::ValidFrom,
            cooperation::Column::ValidTo,
            date,
        ));
        if let Some(scale) = filter.scale {
            select = select.filter(cooperation::Column::Scale.eq(scale));
        }
        if let Some(code) = &filter.region_code {
            let region_ids = self.ids_of::<region::Entity>(region::Column::Code, code).await?;
            let ids: Vec<i32> =
                self.cooperation_ids_of_regions(&region_ids, date).await?.into_values().flatten().collect();
            select = select.filter(cooperation::Column::Id.is_in(ids));
        }
        if let Some(code) = &filter.municipality_code {
            let municipality_ids = self.ids_of::<municipality::Entity>(municipality::Column::Code, code).await?;
            let ids: Vec<i32> = self
                .cooperation_ids_of_municipalities(&municipality_ids, date)
                .await?
                .into_values()
                .flatten()
                .collect();
            select = select.filter(cooperation::Column::Id.is_in(ids));
        }
        if let Some(needle) = &filter.name_contains {
            select = select.filter(name_contains(cooperation::Column::Name, needle));
        }
        Ok(page(&self.db, select, cooperation::Column::Code, request).await?)
    }

    pub async fn roles(
        &self,
        filter: &RoleFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<role::Model>, RegistryError> {
        let mut select = role::Entity::find().filter(valid_on(role::Column::ValidFrom, role::Column::ValidTo, date));
        if let Some(kind) = filter.kind {
            select = select.filter(role::Column::Kind.eq(kind));
        }
        if let Some(code) = &filter.holder_code {
            let municipality_ids = self.ids_of::<municipality::Entity>(municipality::Column::Code, code).await?;
            let region_ids = self.ids_of::<region::Entity>(region::Column::Code, code).await?;
            select = select.filter(
                Condition::any()
                    .add(role::Column::HolderMunicipalityId.is_in(municipality_ids))
                    .add(role::Column::HolderRegionId.is_in(region_ids)),
            );
        }
        if let Some(code) = &filter.region_code {
            let region_ids = self.ids_of::<region::Entity>(region::Column::Code, code).await?;
            select = select.filter(self.roles_of_regions_condition(&region_ids, date).await?);
        }
        if let Some(code) = &filter.cooperation_code {
            let ids = self.ids_of::<cooperation::Entity>(cooperation::Column::Code, code).await?;
            select = select.filter(role::Column::CooperationId.is_in(ids));
        }
        if let Some(code) = &filter.care_form_code {
            let ids = self.ids_of::<care_form::Entity>(care_form::Column::Code, code).await?;
            select = select.filter(role::Column::CareFormId.is_in(ids));
        }
        if let Some(code) = &filter.provider_code {
            let ids = self.ids_of::<provider::Entity>(provider::Column::Code, code).await?;
            select = select.filter(role::Column::ProviderId.is_in(ids));
        }
        Ok(page(&self.db, select, role::Column::Code, request).await?)
    }

    pub async fn framework_contracts(
        &self,
        filter: &ContractFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<framework_contract::Model>, RegistryError> {
        use framework_contract::Column;
        let mut select = framework_contract::Entity::find().filter(valid_on(Column::ValidFrom, Column::ValidTo, date));
        if let Some(active_on) = filter.active_on {
            select = select.filter(valid_on(Column::ValidFrom, Column::ValidTo, active_on));
        }
        if let Some(scale) = filter.scale {
            select = select.filter(Column::Scale.eq(scale));
        }
        if let Some(code) = &filter.care_form_code {
            let ids = self.ids_of::<care_form::Entity>(care_form::Column::Code, code).await?;
            let contracts: Vec<i32> = contract_care_form::Entity::find()
                .select_only()
                .column(contract_care_form::Column::ContractId)
                .filter(contract_care_form::Column::CareFormId.is_in(ids))
                .into_tuple()
                .all(&self.db)
                .await?;
            select = select.filter(Column::Id.is_in(contracts));
        }
        if let Some(code) = &filter.party_region_code {
            let ids = self.ids_of::<region::Entity>(region::Column::Code, code).await?;
            let contracts: Vec<i32> = contract_party::Entity::find()
                .select_only()
                .column(contract_party::Column::ContractId)
                .filter(contract_party::Column::RegionId.is_in(ids))
                .into_tuple()
                .all(&self.db)
                .await?;
            select = select.filter(Column::Id.is_in(contracts));
        }
        Ok(page(&self.db, select, Column::Code, request).await?)
    }

    pub async fn providers(
        &self,
        filter: &ProviderFilter,
        request: &PageRequest,
    ) -> Result<Page<provider::Model>, RegistryError> {
        let mut select = provider::Entity::find();
        if let Some(needle) = &filter.name_contains {
            select = select.filter(name_contains(provider::Column::Name, needle));
        }
        Ok(page(&self.db, select, provider::Column::Code, request).await?)
    }

    /// Ids of the rows of `E` with the given code (none or one).
    async fn ids_of<E: EntityTrait>(&self, code_column: E::Column, code: &str) -> Result<Vec<i32>, DbErr> {
        E::find()
            .select_only()
            .column_as(Expr::col("id"), "id")
            .filter(code_column.eq(code))
            .into_tuple()
            .all(&self.db)
            .await
    }

    // ----- batch relations (DataLoaders) ------------------------------------

    /// Rows of `E` by primary key, whatever their validity: the caller already
    /// decided the link is valid on its date.
    pub async fn by_ids<E>(&self, id_column: E::Column, ids: &[i32]) -> Result<HashMap<i32, E::Model>, RegistryError>
    where
        E: EntityTrait,
        E::Model: Keyed,
    {
        Ok(by_key(E::find().filter(id_column.is_in(ids.iter().copied())).all(&self.db).await?))
    }

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

    async fn valid_municipalities(&self, ids: Vec<i32>, date: NaiveDate) -> Result<Vec<municipality::Model>, DbErr> {
        municipality::Entity::find()
            .filter(municipality::Column::Id.is_in(ids))
            .filter(valid_on(municipality::Column::ValidFrom, municipality::Column::ValidTo, date))
            .order_by_asc(municipality::Column::Code)
            .all(&self.db)
            .await
    }

    async fn valid_regions(&self, ids: Vec<i32>, date: NaiveDate) -> Result<Vec<region::Model>, DbErr> {
        region::Entity::find()
            .filter(region::Column::Id.is_in(ids))
            .filter(valid_on(region::Column::ValidFrom, region::Column::ValidTo, date))
            .order_by_asc(region::Column::Code)
            .all(&self.db)
            .await
    }

    async fn valid_cooperations(&self, ids: Vec<i32>, date: NaiveDate) -> Result<Vec<cooperation::Model>, DbErr> {
        cooperation::Entity::find()
            .filter(cooperation::Column::Id.is_in(ids))
            .filter(valid_on(cooperation::Column::ValidFrom, cooperation::Column::ValidTo, date))
            .order_by_asc(cooperation::Column::Code)
            .all(&self.db)
            .await
    }

    async fn valid_contracts(&self, ids: Vec<i32>, date: NaiveDate) -> Result<Vec<framework_contract::Model>, DbErr> {
        use framework_contract::Column;
        framework_contract::Entity::find()
            .filter(Column::Id.is_in(ids))
            .filter(valid_on(Column::ValidFrom, Column::ValidTo, date))
            .order_by_asc(Column::Code)
            .all(&self.db)
            .await
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
        let municipalities = self.valid_municipalities(unique(links.iter().map(|l| l.0)), date).await?;
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
        let regions = self.valid_regions(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &regions).into_iter().filter_map(|(m, mut rs)| rs.pop().map(|r| (m, r))).collect())
    }

    /// Cooperation ids per region on `date`: cooperations with the region as a
    /// member, or with a member municipality that is in the region on that date.
    async fn cooperation_ids_of_regions(
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
    async fn cooperation_ids_of_municipalities(
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
        let cooperations = self.valid_cooperations(unique(ids.values().flatten().copied()), date).await?;
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
        let municipalities = self.valid_municipalities(unique(links.iter().filter_map(|l| l.1)), date).await?;
        let regions = self.valid_regions(unique(links.iter().filter_map(|l| l.2)), date).await?;
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
    async fn roles_of_regions_condition(&self, region_ids: &[i32], date: NaiveDate) -> Result<Condition, DbErr> {
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
        let links: Vec<(i32, i32)> = contract_party::Entity::find()
            .select_only()
            .columns([contract_party::Column::RegionId, contract_party::Column::ContractId])
            .filter(contract_party::Column::RegionId.is_in(region_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let contracts = self.valid_contracts(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &contracts))
    }

    /// Framework contracts valid on `date` per care form they cover.
    pub async fn contracts_of_care_forms(
        &self,
        care_form_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<framework_contract::Model>>, RegistryError> {
        let links: Vec<(i32, i32)> = contract_care_form::Entity::find()
            .select_only()
            .columns([contract_care_form::Column::CareFormId, contract_care_form::Column::ContractId])
            .filter(contract_care_form::Column::CareFormId.is_in(care_form_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let contracts = self.valid_contracts(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &contracts))
    }

    /// Party regions of each contract, valid on `date`.
    pub async fn parties_of_contracts(
        &self,
        contract_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<region::Model>>, RegistryError> {
        let links: Vec<(i32, i32)> = contract_party::Entity::find()
            .select_only()
            .columns([contract_party::Column::ContractId, contract_party::Column::RegionId])
            .filter(contract_party::Column::ContractId.is_in(contract_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let regions = self.valid_regions(unique(links.iter().map(|l| l.1)), date).await?;
        Ok(group(links, &regions))
    }

    pub async fn care_forms_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<care_form::Model>>, RegistryError> {
        let links: Vec<(i32, i32)> = contract_care_form::Entity::find()
            .select_only()
            .columns([contract_care_form::Column::ContractId, contract_care_form::Column::CareFormId])
            .filter(contract_care_form::Column::ContractId.is_in(contract_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let care_forms = care_form::Entity::find()
            .filter(care_form::Column::Id.is_in(unique(links.iter().map(|l| l.1))))
            .order_by_asc(care_form::Column::Code)
            .all(&self.db)
            .await?;
        Ok(group(links, &care_forms))
    }

    pub async fn providers_of_contracts(
        &self,
        contract_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<provider::Model>>, RegistryError> {
        let links: Vec<(i32, i32)> = contract_provider::Entity::find()
            .select_only()
            .columns([contract_provider::Column::ContractId, contract_provider::Column::ProviderId])
            .filter(contract_provider::Column::ContractId.is_in(contract_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let providers = provider::Entity::find()
            .filter(provider::Column::Id.is_in(unique(links.iter().map(|l| l.1))))
            .order_by_asc(provider::Column::Code)
            .all(&self.db)
            .await?;
        Ok(group(links, &providers))
    }
}
