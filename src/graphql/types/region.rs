use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::region;

use super::history::NamePeriodObject;
use super::{CareArrangement, Cooperation, FrameworkContract, Municipality, Role, global_id, load_list, load_value};
use crate::graphql::context;
use crate::graphql::loaders::{
    RegionArrangements, RegionContracts, RegionCooperations, RegionMunicipalities, RegionNames, RegionRoles,
};
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// A youth-care region (jeugdzorgregio, jeugdregio): one of the 42 regions in
/// which municipalities purchase specialist youth care together.
pub struct Region {
    pub row: region::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl Region {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Region, &self.row.code)
    }
    /// CBS code, `JZ01`–`JZ39` or `JZ41`–`JZ43` (there is no `JZ40`).
    async fn code(&self) -> &str {
        &self.row.code
    }
    /// CBS name (statnaam) on `asOf`; `names` has every name over time.
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        let names = load_value(ctx, RegionNames(self.row.id)).await?.unwrap_or_default();
        Ok(crate::registry::name_on(&names, self.as_of, &self.row.name).to_owned())
    }
    /// Every CBS name of this code, oldest first (JZ28 `Arnhem` became `Centraal Gelderland` in 2021).
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::PERIODS_PER_OBJECT)")]
    async fn names(&self, ctx: &Context<'_>) -> Result<Vec<NamePeriodObject>> {
        let names = load_value(ctx, RegionNames(self.row.id)).await?.unwrap_or_default();
        Ok(names.iter().cloned().map(Into::into).collect())
    }
    /// The name of the same code in the CBS 2015 classification.
    #[graphql(deprecation = "Use `names` (every name over time), or `name` with asOf 2015-01-01.")]
    async fn name_2015(&self) -> Option<&str> {
        self.row.name_2015.as_deref()
    }
    /// First day the region exists; null when the source does not say.
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    /// First day the region no longer exists (exclusive); null while open.
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    /// Where the registry's facts about this region come from.
    async fn source(&self) -> &str {
        &self.row.source
    }
    /// Optimistic-concurrency version of the region row.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// The date this object was read for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Member municipalities (gemeenten) on `asOf` (default: the region's own `asOf`), ordered by code.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::MUNICIPALITIES_PER_REGION)"
    )]
    async fn municipalities(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Municipality>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, RegionMunicipalities(self.row.id, as_of), as_of).await
    }
    /// Cooperations (samenwerkingsverbanden) the region takes part in, as a member region or
    /// through its member municipalities.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::COOPERATIONS_PER_MEMBER)"
    )]
    async fn cooperations(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Cooperation>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, RegionCooperations(self.row.id, as_of), as_of).await
    }
    /// Roles that concern the region: held by it, for it, or for one of its cooperations.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, RegionRoles(self.row.id, as_of), as_of).await
    }
    /// Framework contracts (raamcontracten) the region is a party to.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::CONTRACTS_PER_OBJECT)"
    )]
    async fn framework_contracts(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<FrameworkContract>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, RegionContracts(self.row.id, as_of), as_of).await
    }
    /// Care-form arrangements that concern the region on `asOf`: recorded for the region, or for a
    /// cooperation it takes part in (each arrangement's `region` or `cooperation` says which).
    /// Empty for a region the registry has no arrangements for: that is not knowing, not "none".
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ARRANGEMENTS_PER_OBJECT)"
    )]
    async fn care_arrangements(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
        #[graphql(
            desc = "Only the arrangements for this care form (code, e.g. `VEILIG-THUIS`); a code that names no care form gives an empty list."
        )]
        care_form_code: Option<String>,
    ) -> Result<Vec<CareArrangement>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, RegionArrangements(self.row.id, as_of, care_form_code.map(Into::into)), as_of).await
    }
}
