use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::municipality;

use super::history::{LineageKind, LineageLink, LinkEnd, NamePeriodObject, RegionPeriod};
use super::{Cooperation, Province, Region, Role, global_id, load, load_list, load_value};
use crate::graphql::context;
use crate::graphql::loaders::{
    MunicipalityCooperations, MunicipalityNames, MunicipalityPredecessors, MunicipalityRegion,
    MunicipalityRegionHistory, MunicipalityRolesHeld, MunicipalitySuccessors, ProvinceById,
};
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// The youth-care access point of a municipality (toegang jeugdhulp).
#[derive(SimpleObject)]
pub struct AccessPoint {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
}

impl AccessPoint {
    /// Null rather than an object of nulls when the municipality has not given one.
    fn of(r: &municipality::Model) -> Option<Self> {
        let any = [&r.access_name, &r.access_phone, &r.access_email, &r.access_website, &r.access_address]
            .iter()
            .any(|field| field.is_some());
        any.then(|| AccessPoint {
            name: r.access_name.clone(),
            phone: r.access_phone.clone(),
            email: r.access_email.clone(),
            website: r.access_website.clone(),
            address: r.access_address.clone(),
        })
    }
}

/// A municipality (gemeente), responsible for youth care under the Jeugdwet.
pub struct Municipality {
    pub row: municipality::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl Municipality {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Municipality, &self.row.code)
    }
    /// CBS code: `GM` and four digits (`GM0772` = Eindhoven).
    async fn code(&self) -> &str {
        &self.row.code
    }
    /// CBS name (statnaam) on `asOf`, e.g. `'s-Gravenhage`; `names` has every name over time.
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        let names = load_value(ctx, MunicipalityNames(self.row.id)).await?.unwrap_or_default();
        Ok(crate::registry::name_on(&names, self.as_of, &self.row.name).to_owned())
    }
    /// Every CBS name of this code, oldest first (e.g. `Hengelo` became `Hengelo (O.)` on 2024-01-01).
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::PERIODS_PER_OBJECT)")]
    async fn names(&self, ctx: &Context<'_>) -> Result<Vec<NamePeriodObject>> {
        let names = load_value(ctx, MunicipalityNames(self.row.id)).await?.unwrap_or_default();
        Ok(names.iter().cloned().map(Into::into).collect())
    }
    /// The municipality's website, as it maintains it.
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    /// The youth-care access point (toegang), as the municipality maintains it; null when not yet given.
    async fn access_point(&self) -> Option<AccessPoint> {
        AccessPoint::of(&self.row)
    }
    /// First day the municipality exists (a CBS classification date); for one that already
    /// existed on 2015-01-01, that date, with `validFromIsLowerBound` true.
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since"),
    /// false when it is the real start ("since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    /// First day the municipality no longer exists (exclusive), e.g. after a merger (herindeling):
    /// the first CBS classification without it, which can be later than the legal date.
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// The date this object was read for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// The province (provincie) the municipality lies in; null where no source gives it: for a
    /// municipality that ended before 2025 (the registry has provinces from the 2025
    /// classification only), and for one imported without a `province_code`.
    async fn province(&self, ctx: &Context<'_>) -> Result<Option<Province>> {
        match self.row.province_id {
            Some(id) => load(ctx, ProvinceById(id), self.as_of).await,
            None => Ok(None),
        }
    }
    /// The youth-care region the municipality belongs to on `asOf`; null if none is recorded for that date.
    async fn region(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Option<Region>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load(ctx, MunicipalityRegion(self.row.id, as_of), as_of).await
    }
    /// Every region the municipality belonged to, oldest first: a change of region without a
    /// merger shows as two periods (Weesp: Utrecht West, then Gooi en Vechtstreek from 2019).
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::PERIODS_PER_OBJECT)")]
    async fn region_history(&self, ctx: &Context<'_>) -> Result<Vec<RegionPeriod>> {
        let rows = load_value(ctx, MunicipalityRegionHistory(self.row.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|row| RegionPeriod { row }).collect())
    }
    /// Where the municipality's territory went when it ended (main successor first); empty while it exists.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::LINEAGE_PER_MUNICIPALITY)"
    )]
    async fn successors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of these kinds (default: all).")] kinds: Option<Vec<LineageKind>>,
    ) -> Result<Vec<LineageLink>> {
        let rows = load_value(ctx, MunicipalitySuccessors(self.row.id)).await?.unwrap_or_default();
        Ok(LineageLink::of_kinds(rows, LinkEnd::Successor, kinds))
    }
    /// The ended municipalities whose territory this one took over.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::LINEAGE_PER_MUNICIPALITY)"
    )]
    async fn predecessors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links of these kinds (default: all).")] kinds: Option<Vec<LineageKind>>,
    ) -> Result<Vec<LineageLink>> {
        let rows = load_value(ctx, MunicipalityPredecessors(self.row.id)).await?.unwrap_or_default();
        Ok(LineageLink::of_kinds(rows, LinkEnd::Predecessor, kinds))
    }
    /// Cooperations the municipality takes part in, directly or through its region.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::COOPERATIONS_PER_MEMBER)"
    )]
    async fn cooperations(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Cooperation>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, MunicipalityCooperations(self.row.id, as_of), as_of).await
    }
    /// Roles the municipality holds.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles_held(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, MunicipalityRolesHeld(self.row.id, as_of), as_of).await
    }
}
