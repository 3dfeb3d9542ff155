//! The history types: a name during a period, a region membership during a
//! period, and a lineage link between municipalities.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{lineage, membership};

use super::{Municipality, Region, load};
use crate::graphql::loaders::{MunicipalityById, RegionById};
use crate::graphql::scalars::Date;
use crate::registry::NamePeriod;

/// A name an object had from `validFrom` until `validTo` (exclusive).
#[derive(SimpleObject)]
#[graphql(name = "NamePeriod")]
pub struct NamePeriodObject {
    pub name: String,
    pub valid_from: Option<Date>,
    /// Null while the name is still in use.
    pub valid_to: Option<Date>,
    pub source: String,
}

impl From<NamePeriod> for NamePeriodObject {
    fn from(period: NamePeriod) -> Self {
        NamePeriodObject {
            name: period.name,
            valid_from: period.valid_from.map(Date),
            valid_to: period.valid_to.map(Date),
            source: period.source,
        }
    }
}

/// How much of an ended municipality's territory a lineage link carries.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::LineageKind")]
pub enum LineageKind {
    /// The successor: the municipality that received the largest share.
    Main,
    /// A further part of at least 3 km² (a real split).
    Part,
    /// A further part under 3 km²: at the size of the differences between generalised
    /// boundary files, so possibly an artefact. Unverified.
    Minor,
}

/// Which end of a lineage link the `municipality` field shows.
#[derive(Clone, Copy)]
pub enum LinkEnd {
    Successor,
    Predecessor,
}

/// Part of the territory of a municipality that ended, and the municipality
/// that took it over (herindeling: merger, split or code change).
pub struct LineageLink {
    pub row: lineage::Model,
    pub end: LinkEnd,
}

impl LineageLink {
    pub fn of_kinds(rows: Vec<lineage::Model>, end: LinkEnd, kinds: Option<Vec<LineageKind>>) -> Vec<LineageLink> {
        rows.into_iter()
            .filter(|row| kinds.as_ref().is_none_or(|kinds| kinds.contains(&row.kind.into())))
            .map(|row| LineageLink { row, end })
            .collect()
    }
}

#[Object(serial)]
impl LineageLink {
    /// The first CBS classification (1 January) without the ended municipality, or the date a
    /// merger was entered for. The legal date can be earlier: Weesp joined Amsterdam on
    /// 2022-03-24, and the classification of 2023 is the first without it.
    async fn effective_date(&self) -> Date {
        Date(self.row.effective_date)
    }
    /// The municipality at the other end: the successor (read on `effectiveDate`) or the
    /// predecessor (read on its last day).
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let (id, as_of) = match self.end {
            LinkEnd::Successor => (self.row.successor_id, self.row.effective_date),
            LinkEnd::Predecessor => (self.row.predecessor_id, day_before(self.row.effective_date)),
        };
        load(ctx, MunicipalityById(id), as_of).await
    }
    async fn kind(&self) -> LineageKind {
        self.row.kind.into()
    }
    /// Share (0–1) of the ended municipality's area that went this way; approximate.
    async fn area_share(&self) -> Option<f64> {
        self.row.area_share
    }
    /// That share in km²; approximate.
    async fn area_km2(&self) -> Option<f64> {
        self.row.area_km2
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
}

pub fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().unwrap_or(date)
}

/// A period in which a municipality belonged to a youth-care region.
pub struct RegionPeriod {
    pub row: membership::Model,
}

#[Object(serial)]
impl RegionPeriod {
    /// The region, read on the last day of the period (or today while it lasts).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let as_of = match self.row.valid_to {
            Some(end) => day_before(end),
            None => crate::registry::today().max(self.row.valid_from.unwrap_or_default()),
        };
        load(ctx, RegionById(self.row.region_id), as_of).await
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    /// First day in another region or no longer existing (exclusive); null while it lasts.
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
}

/// The dates the registry answers for.
pub struct Coverage {
    pub latest_change: Option<Date>,
}

#[Object(serial)]
impl Coverage {
    /// The first date the registry answers for: 2015-01-01, when the Jeugdwet took effect and
    /// the 42 youth-care regions began. An earlier `asOf` is refused with `AS_OF_OUT_OF_RANGE`.
    async fn from(&self) -> Date {
        Date(crate::registry::coverage::coverage_start())
    }
    /// Today in the Netherlands, the default `asOf`. An answer for a later date is today's
    /// registry plus changes already decided, and says so in `extensions.provisional`.
    async fn today(&self) -> Date {
        Date(crate::registry::today())
    }
    /// The latest date on which a recorded change of municipalities or memberships takes
    /// effect (with the seed 2024-01-01, when Zeewolde and Voorschoten changed region; the 2025
    /// classification, the latest loaded, changed nothing).
    async fn latest_change(&self) -> Option<Date> {
        self.latest_change
    }
    /// What the seed's municipalities, memberships, names and lineage rest on; a change entered
    /// later (by a mutation or `import-cbs`) names its own source on its row.
    async fn source(&self) -> &str {
        migration::seed::CBS_HISTORY_SOURCE
    }
}
