//! Filtered, paged lists ordered by code.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::enums::{RoleKind, Scale};
use entity::*;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};

use super::snapshot::InSnapshot;
use super::{Page, PageRequest, page, page_of};
use crate::registry::{Registry, RegistryError, valid_on};

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
    /// A municipality (`GM…`), region (`JZ…`) or cooperation code.
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

/// `nameContains` on rows of the snapshot: a literal substring, case ignored
/// (all of Unicode); no needle matches every name.
fn name_matches(needle: Option<&str>) -> impl Fn(&str) -> bool {
    let needle = needle.map(str::to_lowercase);
    move |name| needle.as_deref().is_none_or(|needle| name.to_lowercase().contains(needle))
}

impl Registry {
    pub async fn regions(
        &self,
        filter: &RegionFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<region::Model>, RegistryError> {
        // From the snapshot, like the relations below it: the portal's whole
        // query then sends no statement, and reads one registry version.
        let snapshot = self.snapshot().await?;
        let named = name_matches(filter.name_contains.as_deref());
        let matches = |row: &&region::Model| row.is_valid_on(date) && named(&row.name);
        Ok(page_of(snapshot.regions.rows.iter().filter(matches), request))
    }

    pub async fn municipalities(
        &self,
        filter: &MunicipalityFilter,
        date: NaiveDate,
        request: &PageRequest,
    ) -> Result<Page<municipality::Model>, RegistryError> {
        // From the snapshot, as regions: no statement, one registry version,
        // and `nameContains` ignores case beyond ASCII on SQLite too
        // (Súdwest-Fryslân), which SQL `lower()` does not.
        let snapshot = self.snapshot().await?;
        let in_region: Option<HashSet<i32>> = filter.region_code.as_ref().map(|code| {
            let regions = snapshot.regions.rows.iter().filter(|region| &region.code == code);
            regions.flat_map(|region| snapshot.municipality_ids_in(region.id, date)).collect()
        });
        // `Some(None)`: a province code that names no province, so no municipality.
        let province_id = filter.province_code.as_ref().map(|code| {
            snapshot.provinces.rows.iter().find(|province| &province.code == code).map(|province| province.id)
        });
        let named = name_matches(filter.name_contains.as_deref());
        let matches = |row: &&municipality::Model| {
            row.is_valid_on(date)
                && in_region.as_ref().is_none_or(|members| members.contains(&row.id))
                && province_id.is_none_or(|province| province.is_some() && row.province_id == province)
                && named(&row.name)
        };
        Ok(page_of(snapshot.municipalities.rows.iter().filter(matches), request))
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
            let region_ids = self.ids_of::<region::Model>(code).await?;
            let ids: Vec<i32> =
                self.cooperation_ids_of_regions(&region_ids, date).await?.into_values().flatten().collect();
            select = select.filter(cooperation::Column::Id.is_in(ids));
        }
        if let Some(code) = &filter.municipality_code {
            let municipality_ids = self.ids_of::<municipality::Model>(code).await?;
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
            let municipality_ids = self.ids_of::<municipality::Model>(code).await?;
            let region_ids = self.ids_of::<region::Model>(code).await?;
            let cooperation_ids = self.ids_of::<cooperation::Model>(code).await?;
            select = select.filter(
                Condition::any()
                    .add(role::Column::HolderMunicipalityId.is_in(municipality_ids))
                    .add(role::Column::HolderRegionId.is_in(region_ids))
                    .add(role::Column::HolderCooperationId.is_in(cooperation_ids)),
            );
        }
        if let Some(code) = &filter.region_code {
            let region_ids = self.ids_of::<region::Model>(code).await?;
            select = select.filter(self.roles_of_regions_condition(&region_ids, date).await?);
        }
        if let Some(code) = &filter.cooperation_code {
            let ids = self.ids_of::<cooperation::Model>(code).await?;
            select = select.filter(role::Column::CooperationId.is_in(ids));
        }
        if let Some(code) = &filter.care_form_code {
            let ids = self.ids_of::<care_form::Model>(code).await?;
            select = select.filter(role::Column::CareFormId.is_in(ids));
        }
        if let Some(code) = &filter.provider_code {
            let ids = self.ids_of::<provider::Model>(code).await?;
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
            let ids = self.ids_of::<care_form::Model>(code).await?;
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
            let ids = self.ids_of::<region::Model>(code).await?;
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
}
