//! The CBS map layers in the binary, and which one draws a date.
//!
//! CBS publishes one layer per year and kind, the state on 1 January. The
//! files (`assets/geo/`, CBS gebiedsindelingen via cartomap/nl, CC BY 4.0) are
//! compiled in and decoded by the `topojson` crate once each, at first use,
//! with coordinates rounded to 4 decimals (about 10 m, finer than the layers'
//! quantisation of about 70 × 110 m); each outline is kept as its GeoJSON
//! text, so a download copies no coordinates.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Region,
    Municipality,
}

impl Kind {
    /// The CBS name of the layer, before `_<year>`.
    pub fn layer(self) -> &'static str {
        match self {
            Kind::Region => "jeugdregio",
            Kind::Municipality => "gemeente",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Region => "regions",
            Kind::Municipality => "municipalities",
        }
    }

    /// The years of the layers of this kind in the binary, ascending.
    pub fn years(self) -> impl Iterator<Item = i32> {
        LAYERS.iter().filter(move |layer| layer.kind == self).map(|layer| layer.year)
    }
}

/// One CBS layer: a TopoJSON file whose object is named like the file, with
/// the code of each area in the property `statcode`.
pub struct Layer {
    pub kind: Kind,
    pub year: i32,
    topojson: &'static str,
    /// GeoJSON geometry by code, decoded at first use.
    outlines: OnceLock<HashMap<String, Box<RawValue>>>,
}

macro_rules! layers {
    ($($kind:ident $layer:literal $year:literal),* $(,)?) => {
        [$(Layer {
            kind: Kind::$kind,
            year: $year,
            topojson: include_str!(concat!("../../../../assets/geo/", $layer, "_", $year, ".topojson")),
            outlines: OnceLock::new(),
        }),*]
    };
}

/// Every layer in the binary. The municipal layers of 2016–2024 are not in
/// the sources (only their code lists were copied).
static LAYERS: [Layer; 13] = layers!(
    Region "jeugdregio" 2015, Region "jeugdregio" 2016, Region "jeugdregio" 2017, Region "jeugdregio" 2018,
    Region "jeugdregio" 2019, Region "jeugdregio" 2020, Region "jeugdregio" 2021, Region "jeugdregio" 2022,
    Region "jeugdregio" 2023, Region "jeugdregio" 2024, Region "jeugdregio" 2025,
    Municipality "gemeente" 2015, Municipality "gemeente" 2025,
);

/// The bytes of every layer in the binary, so that a deploy with other maps
/// changes the build's identity (and so the downloads' ETags).
pub fn embedded_layers() -> impl Iterator<Item = &'static [u8]> {
    LAYERS.iter().map(|layer| layer.topojson.as_bytes())
}

impl Layer {
    /// The layer that draws `kind` on `date`: its year's, or the latest one
    /// for dates after it (the sources have none later: CBS had published no
    /// jeugdregio layer after 2025 when they were made); none for a year
    /// whose layer is not in the sources.
    pub fn drawing(kind: Kind, date: NaiveDate) -> Option<&'static Layer> {
        let year = date.year().min(kind.years().max()?);
        LAYERS.iter().find(|layer| layer.kind == kind && layer.year == year)
    }

    pub fn name(&self) -> String {
        format!("{}_{}", self.kind.layer(), self.year)
    }

    /// The state the layer shows.
    pub fn date(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, 1, 1).expect("1 January exists")
    }

    /// The area of `code` as a GeoJSON `Polygon` or `MultiPolygon`, if the layer has it.
    pub fn outline(&'static self, code: &str) -> Option<&'static RawValue> {
        let outlines = self.outlines.get_or_init(|| decode(self).unwrap_or_else(|e| panic!("{}: {e}", self.name())));
        outlines.get(code).map(|geometry| &**geometry)
    }

    /// The sentence naming where the outlines come from.
    pub fn source(&self) -> String {
        format!(
            "CBS gebiedsindelingen, layer {} (generalised boundaries of 1 January {}, WGS84), as republished \
             by cartomap/nl; licence CC BY 4.0",
            self.name(),
            self.year
        )
    }
}

/// Every area of `layer` by its code. The files are compiled in and a unit
/// test decodes each, so an error here is a broken build, not a request's.
fn decode(layer: &Layer) -> Result<HashMap<String, Box<RawValue>>, String> {
    let topology = match layer.topojson.parse::<topojson::TopoJson>().map_err(|e| e.to_string())? {
        topojson::TopoJson::Topology(topology) => topology,
        _ => return Err("not a Topology".into()),
    };
    let collection = topojson::to_geojson(&topology, &layer.name()).map_err(|e| e.to_string())?;
    let mut outlines = HashMap::new();
    for feature in collection.features {
        let code = feature.property("statcode").and_then(|c| c.as_str()).ok_or("an area without statcode")?;
        let geometry = feature.geometry.as_ref().ok_or_else(|| format!("{code} has no geometry"))?;
        let value = compact(&geometry.value).ok_or_else(|| format!("{code}: no polygon left"))?;
        let text = serde_json::value::to_raw_value(&value).map_err(|e| e.to_string())?;
        outlines.insert(code.to_owned(), text);
    }
    Ok(outlines)
}

/// A GeoJSON geometry of an area, written `{"type": …, "coordinates": …}`.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "coordinates")]
enum Area {
    Polygon(Vec<Ring>),
    MultiPolygon(Vec<Vec<Ring>>),
}

type Ring = Vec<Vec<f64>>;

/// A polygon or multipolygon with coordinates rounded to 4 decimals, and
/// without the repeated positions where two arcs meet (the crate keeps both
/// ends) or that rounding makes; a ring left with fewer than 4 positions is
/// no ring (RFC 7946), and a polygon without its outer ring is dropped.
fn compact(value: &geojson::Value) -> Option<Area> {
    let round = |c: f64| (c * 1e4).round() / 1e4;
    let ring = |ring: &Ring| {
        let mut positions: Ring = ring.iter().map(|p| p.iter().map(|&c| round(c)).collect()).collect();
        positions.dedup();
        (positions.len() >= 4).then_some(positions)
    };
    let polygon = |rings: &Vec<Ring>| {
        let outer = ring(rings.first()?)?;
        Some(std::iter::once(outer).chain(rings[1..].iter().filter_map(ring)).collect::<Vec<_>>())
    };
    match value {
        geojson::Value::Polygon(rings) => polygon(rings).map(Area::Polygon),
        geojson::Value::MultiPolygon(polygons) => {
            let polygons: Vec<_> = polygons.iter().filter_map(polygon).collect();
            (!polygons.is_empty()).then_some(Area::MultiPolygon(polygons))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_decodes_to_polygons_of_every_area() {
        for layer in &LAYERS {
            let outlines = decode(layer).unwrap_or_else(|e| panic!("{}: {e}", layer.name()));
            let expected = match (layer.kind, layer.year) {
                (Kind::Region, _) => 42,
                (Kind::Municipality, 2015) => 393,
                (Kind::Municipality, _) => 342,
            };
            assert_eq!(outlines.len(), expected, "{}", layer.name());
            for (code, geometry) in &outlines {
                let geometry: geojson::Geometry = serde_json::from_str(geometry.get()).unwrap();
                let polygonal = matches!(geometry.value, geojson::Value::Polygon(_) | geojson::Value::MultiPolygon(_));
                assert!(polygonal, "{} {code}", layer.name());
            }
        }
    }

    #[test]
    fn a_date_is_drawn_by_its_years_layer_or_the_latest() {
        let year = |kind, date: &str| Layer::drawing(kind, date.parse().unwrap()).map(|l| l.year);
        assert_eq!(year(Kind::Region, "2015-01-01"), Some(2015));
        assert_eq!(year(Kind::Region, "2018-06-01"), Some(2018));
        assert_eq!(year(Kind::Region, "2031-12-31"), Some(2025));
        assert_eq!(year(Kind::Municipality, "2015-12-31"), Some(2015));
        assert_eq!(year(Kind::Municipality, "2016-01-01"), None);
        assert_eq!(year(Kind::Municipality, "2024-12-31"), None);
        assert_eq!(year(Kind::Municipality, "2025-01-01"), Some(2025));
        assert_eq!(year(Kind::Municipality, "2027-03-01"), Some(2025));
    }

    #[test]
    fn coordinates_are_rounded_and_arc_joins_are_not_repeated() {
        let square = vec![vec![
            vec![5.000_04, 52.0],
            vec![5.1, 52.0],
            vec![5.1, 52.0],
            vec![5.1, 52.123_456],
            vec![5.0, 52.1],
            vec![5.0, 52.0],
        ]];
        let sliver = vec![vec![vec![5.0, 52.0], vec![5.000_01, 52.0], vec![5.0, 52.000_01], vec![5.0, 52.0]]];
        let compacted = compact(&geojson::Value::MultiPolygon(vec![square, sliver])).unwrap();
        let expected =
            vec![vec![vec![vec![5.0, 52.0], vec![5.1, 52.0], vec![5.1, 52.1235], vec![5.0, 52.1], vec![5.0, 52.0]]]];
        assert_eq!(compacted, Area::MultiPolygon(expected));
        let written = serde_json::to_string(&Area::Polygon(vec![vec![vec![5.0, 52.1235]]])).unwrap();
        assert_eq!(written, r#"{"type":"Polygon","coordinates":[[[5.0,52.1235]]]}"#);
    }
}
