//! The map downloads (`/export/{regions,municipalities}.geojson`): the
//! regions and municipalities of one date, each with its outline from the CBS
//! layer that draws that date.
//!
//! The rules are here, the HTTP layer only writes GeoJSON:
//! - Which layer (`layers.rs`): a date is drawn by its own year's layer (the
//!   state on 1 January); after the latest one (2025) by the latest. The
//!   municipal layers of 2016–2024 are not in the sources, so municipalities
//!   of those years have no outline: none is made up.
//! - Which outline: the layer's, for the area of the same code, only while it
//!   still is the same territory on the date. Territory moves by a region
//!   membership change or by a merger (lineage), so a municipality that took
//!   over territory after the layer's 1 January has no outline, and a region
//!   has its outline only while its members on the date hold exactly the
//!   territory of its members then (a merger inside one region keeps it; a
//!   municipality moved, or split, across regions does not). A code the layer
//!   does not have (a region or municipality created later) has none either.
//!
//! Everything else (which regions and municipalities, their names, members and
//! regions) is what `/export/*.csv` has on the same date (`export.rs`).

mod layers;

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::value::RawValue;

pub use self::layers::embedded_layers;
use self::layers::{Kind, Layer};
use super::snapshot::{InSnapshot, Snapshot};
use crate::registry::coverage::check_as_of;
use crate::registry::{Registry, RegistryError};

/// What every map made from these downloads must show (CC BY 4.0).
pub const ATTRIBUTION: &str = "Bron: CBS";

/// The areas of one kind on a date, ready to write as a FeatureCollection.
#[derive(Debug)]
pub struct MapLayer<P> {
    pub as_of: NaiveDate,
    pub attribution: &'static str,
    /// Where the outlines come from; `None` when the download has none.
    pub geometry_source: Option<String>,
    /// What a map reader must know: why outlines are missing or older than `as_of`.
    pub note: Option<String>,
    /// In code order.
    pub features: Vec<MapFeature<P>>,
}

#[derive(Debug)]
pub struct MapFeature<P> {
    pub code: String,
    /// GeoJSON `Polygon` or `MultiPolygon`; `None` when no layer draws it on the date.
    pub geometry: Option<&'static RawValue>,
    pub properties: P,
}

/// A region on a date: what `/export/regions.csv` says, and its members' codes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionArea {
    pub code: String,
    pub name: String,
    pub municipality_count: usize,
    /// The member municipalities on the date, in code order.
    pub municipalities: Vec<String>,
    /// The year of the CBS layer the geometry is from; null without geometry.
    pub geometry_year: Option<i32>,
}

/// A municipality on a date, with its region then.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MunicipalityArea {
    pub code: String,
    pub name: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub geometry_year: Option<i32>,
}

/// The outline of `code` from `layer`, when `current` says the area is still the layer's.
fn outline_of(layer: Option<&'static Layer>, code: &str, current: bool) -> Option<(&'static RawValue, i32)> {
    let layer = layer.filter(|_| current)?;
    layer.outline(code).map(|geometry| (geometry, layer.year))
}

/// The map of `kind` on `date`, with the note its features call for.
fn map_layer<P>(kind: Kind, date: NaiveDate, layer: Option<&Layer>, features: Vec<MapFeature<P>>) -> MapLayer<P> {
    let missing = features.iter().filter(|f| f.geometry.is_none()).count();
    let note = match layer {
        None => Some(format!(
            "The CBS {} boundaries of {} are not in this registry's sources (it has the layers of {}), so no \
             feature has a geometry (the region map of that year has the region outlines).",
            kind.layer(),
            date.year(),
            kind.years().map(|year| year.to_string()).collect::<Vec<_>>().join(" and "),
        )),
        Some(layer) if layer.year < date.year() => Some(format!(
            "This registry has no CBS {} layer after {year}: the geometry is that of 1 January {year}, and the \
             {} that changed since have none ({missing} of these {}).",
            kind.layer(),
            kind.plural(),
            features.len(),
            year = layer.year,
        )),
        Some(layer) if missing > 0 => Some(format!(
            "{missing} of these {} are not as layer {} draws them on 1 January {} and have no geometry.",
            kind.plural(),
            layer.name(),
            layer.year,
        )),
        Some(_) => None,
    };
    MapLayer { as_of: date, attribution: ATTRIBUTION, geometry_source: layer.map(Layer::source), note, features }
}

impl Snapshot {
    /// The municipalities of `then` whose territory municipality `id` holds
    /// on `now`: itself if it existed then, and, through the lineage links
    /// after `then`, those whose territory it took over.
    fn territory_then(&self, id: i32, then: NaiveDate, now: NaiveDate, into: &mut HashSet<i32>) {
        let mut open = vec![id];
        let mut seen = HashSet::new();
        while let Some(id) = open.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.municipalities.get(id).is_some_and(|m| m.is_valid_on(then)) {
                into.insert(id);
            }
            let taken_over = self.history.predecessors(id).iter().filter(|l| then < l.effective_date);
            open.extend(taken_over.filter(|l| l.effective_date <= now).map(|l| l.predecessor_id));
        }
    }

    /// The codes of the regions on `now` that hold the territory they held on `then`.
    fn unchanged_regions(&self, then: NaiveDate, now: NaiveDate) -> HashSet<&str> {
        let mut members_then: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (municipality, region) in self.region_of_municipalities(then) {
            members_then.entry(region).or_default().insert(municipality);
        }
        let mut territory_now: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (municipality, region) in self.region_of_municipalities(now) {
            self.territory_then(municipality, then, now, territory_now.entry(region).or_default());
        }
        // A municipality of `then` split across regions changed them all.
        let mut holders: HashMap<i32, usize> = HashMap::new();
        territory_now.values().flatten().for_each(|m| *holders.entry(*m).or_default() += 1);
        territory_now
            .iter()
            .filter(|(region, territory)| {
                members_then.get(region).is_some_and(|then| then == *territory)
                    && territory.iter().all(|m| holders[m] == 1)
            })
            .filter_map(|(region, _)| self.regions.get(*region).map(|r| r.code.as_str()))
            .collect()
    }

    /// The codes of the municipalities on `now` that hold the territory they held on `then`.
    fn unchanged_municipalities(&self, then: NaiveDate, now: NaiveDate) -> HashSet<&str> {
        let mut territory = HashSet::new();
        self.municipalities
            .rows
            .iter()
            .filter(|m| m.is_valid_on(now))
            .filter(|m| {
                territory.clear();
                self.territory_then(m.id, then, now, &mut territory);
                territory.len() == 1 && territory.contains(&m.id)
            })
            .map(|m| m.code.as_str())
            .collect()
    }

    fn region_areas(&self, date: NaiveDate) -> MapLayer<RegionArea> {
        let layer = Layer::drawing(Kind::Region, date);
        let unchanged = layer.map(|layer| self.unchanged_regions(layer.date(), date)).unwrap_or_default();
        let mut members = self.members_of_regions(date);
        let features = self
            .region_lines(date)
            .into_iter()
            .map(|line| {
                let outline = outline_of(layer, &line.code, unchanged.contains(line.code.as_str()));
                let municipalities = members.remove(line.code.as_str()).unwrap_or_default();
                MapFeature {
                    geometry: outline.map(|o| o.0),
                    properties: RegionArea {
                        code: line.code.clone(),
                        name: line.name,
                        municipality_count: line.municipality_count,
                        municipalities: municipalities.into_iter().map(str::to_owned).collect(),
                        geometry_year: outline.map(|o| o.1),
                    },
                    code: line.code,
                }
            })
            .collect();
        map_layer(Kind::Region, date, layer, features)
    }

    fn municipality_areas(&self, date: NaiveDate) -> MapLayer<MunicipalityArea> {
        let layer = Layer::drawing(Kind::Municipality, date);
        let unchanged = layer.map(|layer| self.unchanged_municipalities(layer.date(), date)).unwrap_or_default();
        let present = |text: String| (!text.is_empty()).then_some(text);
        let features = self
            .municipality_lines(date)
            .into_iter()
            .map(|line| {
                let outline = outline_of(layer, &line.code, unchanged.contains(line.code.as_str()));
                MapFeature {
                    geometry: outline.map(|o| o.0),
                    properties: MunicipalityArea {
                        code: line.code.clone(),
                        name: line.name,
                        region_code: present(line.region_code),
                        region_name: present(line.region_name),
                        geometry_year: outline.map(|o| o.1),
                    },
                    code: line.code,
                }
            })
            .collect();
        map_layer(Kind::Municipality, date, layer, features)
    }
}

impl Registry {
    /// Every region valid on `date`, in code order, with its members then and its outline.
    pub async fn export_region_areas(&self, date: NaiveDate) -> Result<MapLayer<RegionArea>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.region_areas(date))
    }

    /// Every municipality valid on `date`, in code order, with its region then and its outline.
    pub async fn export_municipality_areas(
        &self,
        date: NaiveDate,
    ) -> Result<MapLayer<MunicipalityArea>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.municipality_areas(date))
    }
}
