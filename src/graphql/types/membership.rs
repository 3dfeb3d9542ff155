//! A municipality's or region's membership of a cooperation.

use async_graphql::{Context, Enum, Object, Result};
use chrono::NaiveDate;
use entity::cooperation_member;

use super::{Municipality, Region, load};
use crate::graphql::loaders::{MunicipalityById, RegionById};
use crate::graphql::scalars::Date;

/// How much of a cooperation's work a member takes part in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Participation")]
pub enum Participation {
    /// In all of it.
    Full,
    /// In only some tasks; `participationNote` says what the source says about which.
    Partial,
}

/// One member of a cooperation during a period.
pub struct CooperationMembership {
    pub row: cooperation_member::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl CooperationMembership {
    /// The member municipality; null when the member is a region.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Some(id) = self.row.municipality_id else { return Ok(None) };
        load(ctx, MunicipalityById(id), self.as_of).await
    }
    /// The member region; null when the member is a municipality.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(id) = self.row.region_id else { return Ok(None) };
        load(ctx, RegionById(id), self.as_of).await
    }
    async fn participation(&self) -> Participation {
        self.row.participation.into()
    }
    async fn participation_note(&self) -> Option<&str> {
        self.row.participation_note.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
}
