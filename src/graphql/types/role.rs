use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::role;

use super::{CareForm, Cooperation, Provider, Region, RoleHolder, RoleKind, global_id, load};
use crate::graphql::loaders::{CareFormById, CooperationById, MunicipalityById, ProviderById, RegionById};
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// A role: a municipality or region that holds a task (account holding, lead, purchasing,
/// contract management, coordination) for a region, cooperation, care form and/or provider.
pub struct Role {
    pub row: role::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl Role {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Role, &self.row.code)
    }
    /// The registry's code for the role, `RL` and five digits.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn kind(&self) -> RoleKind {
        self.row.kind.into()
    }
    /// Who holds the role.
    async fn holder(&self, ctx: &Context<'_>) -> Result<Option<RoleHolder>> {
        let (row, as_of) = (&self.row, self.as_of);
        Ok(match (row.holder_municipality_id, row.holder_region_id, row.holder_cooperation_id) {
            (Some(id), _, _) => load(ctx, MunicipalityById(id), as_of).await?.map(RoleHolder::Municipality),
            (None, Some(id), _) => load(ctx, RegionById(id), as_of).await?.map(RoleHolder::Region),
            (None, None, Some(id)) => load(ctx, CooperationById(id), as_of).await?.map(RoleHolder::Cooperation),
            (None, None, None) => None,
        })
    }
    /// The region the role is for, if it is for a whole region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(id) = self.row.region_id else { return Ok(None) };
        load(ctx, RegionById(id), self.as_of).await
    }
    /// The cooperation the role is for.
    async fn cooperation(&self, ctx: &Context<'_>) -> Result<Option<Cooperation>> {
        let Some(id) = self.row.cooperation_id else { return Ok(None) };
        load(ctx, CooperationById(id), self.as_of).await
    }
    /// The care form (zorgvorm) the role is for.
    async fn care_form(&self, ctx: &Context<'_>) -> Result<Option<CareForm>> {
        let Some(id) = self.row.care_form_id else { return Ok(None) };
        load(ctx, CareFormById(id), self.as_of).await
    }
    /// The provider (aanbieder) the role is for, e.g. for account holding.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Provider>> {
        let Some(id) = self.row.provider_id else { return Ok(None) };
        load(ctx, ProviderById(id), self.as_of).await
    }
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since"),
    /// false when it is the real start ("since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
}
