//! The downloads: `/export/{municipalities,regions,roles,contracts}.csv?asOf=`,
//! the registry on one date as spreadsheets, for people who do not write
//! GraphQL, and `/export/{regions,municipalities}.geojson?asOf=`, the same
//! regions and municipalities as maps. The rows and areas come from the
//! registry (`registry/read/export.rs`, `registry/read/geometry/`); this
//! file only reads the request and writes CSV (RFC 4180: a header row, CRLF,
//! quotes where needed) or GeoJSON (RFC 7946), with one path for the caching
//! headers and the problem details of every file.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{AppState, cache, problem, set_header};
use crate::graphql::ErrorCode;
use crate::registry::{MapLayer, RegistryError, coverage};

/// The files there are to download.
#[derive(Debug, Clone, Copy)]
enum File {
    MunicipalitiesCsv,
    RegionsCsv,
    RolesCsv,
    ContractsCsv,
    RegionsGeoJson,
    MunicipalitiesGeoJson,
}

impl File {
    const ALL: [File; 6] = [
        File::MunicipalitiesCsv,
        File::RegionsCsv,
        File::RolesCsv,
        File::ContractsCsv,
        File::RegionsGeoJson,
        File::MunicipalitiesGeoJson,
    ];

    fn named(file: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.name() == file)
    }

    /// The name in the URL: `<stem>.<extension>`.
    fn name(self) -> &'static str {
        match self {
            File::MunicipalitiesCsv => "municipalities.csv",
            File::RegionsCsv => "regions.csv",
            File::RolesCsv => "roles.csv",
            File::ContractsCsv => "contracts.csv",
            File::RegionsGeoJson => "regions.geojson",
            File::MunicipalitiesGeoJson => "municipalities.geojson",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            File::RegionsGeoJson | File::MunicipalitiesGeoJson => "application/geo+json",
            _ => "text/csv; charset=utf-8; header=present",
        }
    }

    /// `attachment; filename="jeugdregio-<stem>-<date>.<extension>"`.
    fn disposition(self, date: NaiveDate) -> String {
        let (stem, extension) = self.name().split_once('.').unwrap_or((self.name(), ""));
        format!("attachment; filename=\"jeugdregio-{stem}-{date}.{extension}\"")
    }
}

#[derive(serde::Deserialize)]
struct Parameters {
    #[serde(rename = "asOf")]
    as_of: Option<String>,
}

/// The date asked for (today in the Netherlands when none is given).
fn as_of(query_string: Option<&str>) -> Result<NaiveDate, RegistryError> {
    let parameters: Parameters = serde_urlencoded::from_str(query_string.unwrap_or_default())
        .map_err(|e| RegistryError::invalid("asOf", format!("invalid URL parameters: {e}")))?;
    let Some(text) = parameters.as_of else { return Ok(crate::registry::today()) };
    let date = crate::registry::parse_iso_date(&text).ok_or_else(|| {
        let (earliest, latest) = crate::registry::DATE_RANGE;
        RegistryError::invalid(
            "asOf",
            format!("asOf must be a date YYYY-MM-DD from {earliest} to {latest}, not {text:?}"),
        )
    })?;
    coverage::check_as_of("asOf", date)
}

/// Problem details for a refused download. The only argument is the URL's
/// `asOf`, so an invalid one is a malformed request (`BAD_REQUEST`), as for
/// a GraphQL GET with bad URL parameters.
fn registry_error(error: &RegistryError) -> Response {
    let (code, argument, message, earliest) = match error {
        RegistryError::OutOfCoverage { argument, earliest, message } => {
            (ErrorCode::AsOfOutOfRange, argument, message, Some(earliest.to_string()))
        }
        RegistryError::InvalidArgument { argument, message } | RegistryError::InvalidCursor { argument, message } => {
            (ErrorCode::BadRequest, argument, message, None)
        }
        RegistryError::Database(db) => {
            tracing::error!(error = %db, "database error");
            return internal_error();
        }
    };
    let mut members = serde_json::Map::new();
    members.insert("argument".into(), (*argument).into());
    if let Some(earliest) = earliest {
        members.insert("earliest".into(), earliest.into());
    }
    problem::problem_with(StatusCode::BAD_REQUEST, code, message.clone(), members)
}

fn internal_error() -> Response {
    problem::problem(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalServerError, "internal error")
}

/// `lines` as CSV with a header row. The csv crate writes the header with the
/// first row, so a date without rows gets it from an empty line.
fn to_csv<T: Serialize + Default>(lines: &[T]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for line in lines {
        writer.serialize(line)?;
    }
    if lines.is_empty() {
        writer.serialize(T::default())?;
        let bytes = writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
        let header_end = bytes.windows(2).position(|w| w == b"\r\n").map_or(bytes.len(), |i| i + 2);
        return Ok(bytes[..header_end].to_vec());
    }
    writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The FeatureCollection of a map (RFC 7946), with its date, attribution and
/// sources as foreign members.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeatureCollection<'a, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    as_of: NaiveDate,
    attribution: &'a str,
    geometry_source: Option<&'a str>,
    note: Option<&'a str>,
    features: Vec<Feature<'a, P>>,
}

#[derive(Serialize)]
struct Feature<'a, P> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    geometry: Option<&'a RawValue>,
    properties: &'a P,
}

fn to_geojson<P: Serialize>(map: &MapLayer<P>) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&FeatureCollection {
        kind: "FeatureCollection",
        as_of: map.as_of,
        attribution: map.attribution,
        geometry_source: map.geometry_source.as_deref(),
        note: map.note.as_deref(),
        features: map
            .features
            .iter()
            .map(|f| Feature { kind: "Feature", id: &f.code, geometry: f.geometry, properties: &f.properties })
            .collect(),
    })
}

async fn body(state: &AppState, file: File, date: NaiveDate) -> Result<anyhow::Result<Vec<u8>>, RegistryError> {
    let registry = &state.registry;
    Ok(match file {
        File::MunicipalitiesCsv => to_csv(&registry.export_municipalities(date).await?).map_err(Into::into),
        File::RegionsCsv => to_csv(&registry.export_regions(date).await?).map_err(Into::into),
        File::RolesCsv => to_csv(&registry.export_roles(date).await?).map_err(Into::into),
        File::ContractsCsv => to_csv(&registry.export_contracts(date).await?).map_err(Into::into),
        File::RegionsGeoJson => to_geojson(&registry.export_region_areas(date).await?).map_err(Into::into),
        File::MunicipalitiesGeoJson => to_geojson(&registry.export_municipality_areas(date).await?).map_err(Into::into),
    })
}

/// `GET /export/{file}?asOf=YYYY-MM-DD`.
pub async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query_string): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(file) = File::named(&file) else { return StatusCode::NOT_FOUND.into_response() };
    let date = match as_of(query_string.as_deref()) {
        Ok(date) => date,
        Err(error) => return registry_error(&error),
    };
    // The build too, as for queries: a deploy may change the columns or the maps.
    // Read before the rows, so the ETag may name an older version than the body, never a newer one.
    let etag = cache::weak_etag([
        state.build.clone(),
        state.registry.known_version().to_string(),
        format!("/export/{}", file.name()),
        date.to_string(),
    ]);
    let mut response = if cache::matches_etag(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let bytes = match body(&state, file, date).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(error)) => {
                tracing::error!(%error, file = file.name(), "writing a download");
                return internal_error();
            }
            Err(error) => return registry_error(&error),
        };
        let mut response = bytes.into_response();
        set_header(&mut response, header::CONTENT_TYPE, file.content_type());
        set_header(&mut response, header::CONTENT_DISPOSITION, &file.disposition(date));
        response
    };
    set_header(&mut response, header::ETAG, &etag);
    set_header(&mut response, header::CACHE_CONTROL, &cache::public_cache_control(state.cache_max_age));
    // The same for every caller, but it may be compressed.
    set_header(&mut response, header::VARY, "Accept-Encoding");
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RoleLine;

    #[test]
    fn a_table_without_rows_still_has_its_header() {
        let csv = String::from_utf8(to_csv::<RoleLine>(&[]).unwrap()).unwrap();
        assert_eq!(
            csv,
            "code,kind,holder_code,holder_name,cooperation_code,care_form_code,provider_code,valid_from,\
             valid_from_is_lower_bound,valid_to,source\r\n"
        );
    }

    #[test]
    fn fields_are_quoted_only_where_rfc_4180_needs_it() {
        let line = RoleLine {
            code: "RL00001".into(),
            holder_name: "Nuenen, Gerwen en Nederwetten".into(),
            source: "'s-Gravenhage \"Den Haag\"".into(),
            ..Default::default()
        };
        let csv = String::from_utf8(to_csv(&[line]).unwrap()).unwrap();
        let row = csv.lines().nth(1).unwrap();
        assert_eq!(row, "RL00001,,,\"Nuenen, Gerwen en Nederwetten\",,,,,false,,\"'s-Gravenhage \"\"Den Haag\"\"\"");
    }
}
