use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::cooperation;

use super::membership::CooperationMembership;
use super::{
    CareArrangement, FromRow, Instrument, Municipality, Region, Role, Scale, global_id, load, load_list, load_value,
};
use crate::graphql::context;
use crate::graphql::loaders::{
    CooperationArrangements, CooperationById, CooperationMembersOf, CooperationParts, CooperationRoles,
    CooperationRolesHeld,
};
use crate::graphql::scalars::Date;
use crate::registry::{CooperationMembers, ObjectType};

/// A cooperation (samenwerkingsverband): municipalities and/or regions that do a task together,
/// e.g. a purchasing sub-region or a bi-regional arrangement.
pub struct Cooperation {
    pub row: cooperation::Model,
    pub as_of: NaiveDate,
}

impl Cooperation {
    /// Both member lists come from one loader key, so asking for both costs one batch.
    async fn members(&self, ctx: &Context<'_>, as_of: NaiveDate) -> Result<CooperationMembers> {
        Ok(load_value(ctx, CooperationMembersOf(self.row.id, as_of)).await?.unwrap_or_default())
    }
}

#[Object(serial)]
impl Cooperation {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Cooperation, &self.row.code)
    }
    /// The registry's code for the cooperation (not an official code).
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn scale(&self) -> Scale {
        self.row.scale.into()
    }
    /// The legal form; null when the source does not state it.
    async fn instrument(&self) -> Option<Instrument> {
        self.row.instrument.map(Into::into)
    }
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
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
    /// The source document and, where a fact was derived, how.
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Member municipalities on `asOf`.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::MUNICIPALITIES_PER_COOPERATION)"
    )]
    async fn member_municipalities(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Municipality>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        let members = self.members(ctx, as_of).await?.municipalities;
        Ok(members.into_iter().map(|row| Municipality::from_row(row, as_of)).collect())
    }
    /// Every membership on `asOf`, with how much of the cooperation's work each member takes
    /// part in (Landgraaf, Heerlen and Voerendaal take part in Jeugdhulp Zuid-Limburg only partly).
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::MUNICIPALITIES_PER_COOPERATION + crate::registry::bounds::REGIONS)"
    )]
    async fn memberships(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<CooperationMembership>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        let links = self.members(ctx, as_of).await?.links;
        Ok(links.into_iter().map(|row| CooperationMembership { row, as_of }).collect())
    }
    /// The cooperation this one is part of: a sub-region's purchasing region; null for none.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Cooperation>> {
        let Some(id) = self.row.parent_cooperation_id else { return Ok(None) };
        load(ctx, CooperationById(id), self.as_of).await
    }
    /// The cooperations that are part of this one on `asOf` (a purchasing region's sub-regions).
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::COOPERATIONS_PER_MEMBER)"
    )]
    async fn parts(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Cooperation>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CooperationParts(self.row.id, as_of), as_of).await
    }
    /// Roles the cooperation itself holds (21 voor de Jeugd commissions the Regional Expert Team).
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles_held(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CooperationRolesHeld(self.row.id, as_of), as_of).await
    }
    /// Member regions on `asOf`.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::REGIONS)")]
    async fn member_regions(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Region>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        let members = self.members(ctx, as_of).await?.regions;
        Ok(members.into_iter().map(|row| Region::from_row(row, as_of)).collect())
    }
    /// Roles for this cooperation (lead, purchasing, contract management, ...).
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CooperationRoles(self.row.id, as_of), as_of).await
    }
    /// Care-form arrangements recorded for this cooperation on `asOf` (e.g. what Samen voor Jeugd
    /// organises as a purchasing region).
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
        load_list(ctx, CooperationArrangements(self.row.id, as_of, care_form_code.map(Into::into)), as_of).await
    }
}
