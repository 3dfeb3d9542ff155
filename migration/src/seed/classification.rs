//! The CBS classification since 2015: landsdelen, provinces, the 42 regions
//! with their names over time, every municipality that existed since
//! 2015-01-01 with its names, its region per period, and where the territory
//! of each municipality that ended went.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::LineageKind;
use entity::*;
use sea_orm_migration::sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait};
use serde::Deserialize;

use super::cbs_files::{ClassificationFiles, ERRATA, MembershipRow, NamePeriod};
use super::{CodeName, codes, id_of, invalid, parse_enum, read_csv};

const LANDSDELEN_CSV: &str = include_str!("../../seed/landsdelen.csv");
const PROVINCES_CSV: &str = include_str!("../../seed/provinces.csv");
const MUNICIPALITIES_2025_CSV: &str = include_str!("../../seed/municipalities.csv");
/// The history files compiled into the binary, in the order of [`cbs_files::FILES`].
const HISTORY: [&str; 4] = [
    include_str!("../../seed/history/regions.csv"),
    include_str!("../../seed/history/municipalities.csv"),
    include_str!("../../seed/history/memberships.csv"),
    include_str!("../../seed/history/lineage.csv"),
];

/// The bundled CBS history, 2015-2025.
pub fn bundled_history() -> Result<ClassificationFiles, DbErr> {
    Ok(ClassificationFiles::parse(HISTORY).map_err(invalid)?.with_errata())
}

/// Source note of every row read from the yearly CBS classifications.
pub const CBS_HISTORY_SOURCE: &str = "CBS regional classification (jeugdregio and gemeente) of 1 January of each year \
     2015-2025 (CBS gebiedsindelingen, via PDOK; read from the cartomap/nl mirror), licence CC BY 4.0, Bron: CBS";

/// The first day of the registry's coverage: the Jeugdwet took effect and the 42 regions began.
pub fn coverage_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 1, 1).expect("valid date")
}

#[derive(Deserialize)]
struct ProvinceRow {
    code: String,
    name: String,
    landsdeel_code: String,
}

#[derive(Deserialize)]
struct Municipality2025 {
    code: String,
    province_code: String,
    region_code: String,
}

/// The ids the source-document facts refer to.
pub struct Classification {
    pub regions: HashMap<String, i32>,
    pub municipalities: HashMap<String, i32>,
    /// Each municipality's existence, `[from, to)`.
    pub lifetimes: HashMap<String, (NaiveDate, Option<NaiveDate>)>,
}

fn lifetime(periods: &[NamePeriod]) -> (NaiveDate, Option<NaiveDate>, String) {
    let (first, last) = (&periods[0], &periods[periods.len() - 1]);
    (first.valid_from, last.valid_to, last.name.clone())
}

/// The start of the coverage is not the start of a municipality that already existed then.
fn start_note(from: NaiveDate) -> &'static str {
    if from == coverage_start() {
        "Existed on 2015-01-01, the start of the registry's coverage; its own start is not recorded"
    } else {
        "Exists from the first classification (1 January) that lists it"
    }
}

pub async fn seed(
    txn: &DatabaseTransaction,
    history: &ClassificationFiles,
    cut_short: bool,
) -> Result<Classification, DbErr> {
    let landsdelen: Vec<CodeName> = read_csv(LANDSDELEN_CSV)?;
    landsdeel::Entity::insert_many(landsdelen.into_iter().map(|l| landsdeel::ActiveModel {
        code: Set(l.code),
        name: Set(l.name),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    let landsdeel_ids = codes::<landsdeel::Entity, _>(txn, landsdeel::Column::Code).await?;

    let provinces: Vec<ProvinceRow> = read_csv(PROVINCES_CSV)?;
    let province_models = provinces
        .into_iter()
        .map(|p| {
            Ok(province::ActiveModel {
                landsdeel_id: Set(id_of(&landsdeel_ids, &p.landsdeel_code)?),
                code: Set(p.code),
                name: Set(p.name),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    province::Entity::insert_many(province_models).exec(txn).await?;
    let province_ids = codes::<province::Entity, _>(txn, province::Column::Code).await?;

    let regions = ClassificationFiles::by_code(&history.regions).map_err(invalid)?;
    region::Entity::insert_many(regions.values().map(|periods| {
        let (from, to, name) = lifetime(periods);
        region::ActiveModel {
            code: Set(periods[0].code.clone()),
            name: Set(name),
            name_2015: Set(Some(periods[0].name.clone())),
            valid_from: Set(Some(from)),
            valid_to: Set(to),
            valid_from_is_lower_bound: Set(from == coverage_start()),
            source: Set(format!(
                "{CBS_HISTORY_SOURCE}. Recorded from 2015-01-01, when the Jeugdwet took effect and the first classification of youth-care regions holds; the regions were prepared before that"
            )),
            version: Set(1),
            ..Default::default()
        }
    }))
    .exec(txn)
    .await?;
    let region_ids = codes::<region::Entity, _>(txn, region::Column::Code).await?;
    let mut region_names = Vec::new();
    for period in regions.values().flatten() {
        region_names.push(region_name::ActiveModel {
            region_id: Set(id_of(&region_ids, &period.code)?),
            name: Set(period.name.clone()),
            valid_from: Set(Some(period.valid_from)),
            valid_to: Set(period.valid_to),
            source: Set(CBS_HISTORY_SOURCE.to_owned()),
            ..Default::default()
        });
    }
    region_name::Entity::insert_many(region_names).exec(txn).await?;

    // Provinces are known for the municipalities of the 2025 classification only.
    let current: Vec<Municipality2025> = read_csv(MUNICIPALITIES_2025_CSV)?;
    let province_of: HashMap<&str, &str> =
        current.iter().map(|m| (m.code.as_str(), m.province_code.as_str())).collect();
    let municipalities = ClassificationFiles::by_code(&history.municipalities).map_err(invalid)?;
    let mut lifetimes = HashMap::new();
    let mut municipality_models = Vec::new();
    for (code, periods) in &municipalities {
        let (from, to, name) = lifetime(periods);
        lifetimes.insert(code.clone(), (from, to));
        let province_id = province_of.get(code.as_str()).map(|p| id_of(&province_ids, p)).transpose()?;
        let province_note = if province_id.is_some() {
            ""
        } else {
            ". Province not recorded: the registry has provinces from the 2025 classification only"
        };
        municipality_models.push(municipality::ActiveModel {
            code: Set(code.clone()),
            name: Set(name),
            province_id: Set(province_id),
            valid_from: Set(Some(from)),
            valid_to: Set(to),
            valid_from_is_lower_bound: Set(from == coverage_start()),
            source: Set(format!("{CBS_HISTORY_SOURCE}. {}{province_note}", start_note(from))),
            version: Set(1),
            ..Default::default()
        });
    }
    municipality::Entity::insert_many(municipality_models).exec(txn).await?;
    let municipality_ids = codes::<municipality::Entity, _>(txn, municipality::Column::Code).await?;
    let mut names = Vec::new();
    for period in municipalities.values().flatten() {
        let erratum = ERRATA.iter().find(|(code, _, meant, _)| *code == period.code && *meant == period.name);
        names.push(municipality_name::ActiveModel {
            municipality_id: Set(id_of(&municipality_ids, &period.code)?),
            name: Set(period.name.clone()),
            valid_from: Set(Some(period.valid_from)),
            valid_to: Set(period.valid_to),
            source: Set(match erratum {
                Some((.., why)) => format!("{CBS_HISTORY_SOURCE}. {why}"),
                None => CBS_HISTORY_SOURCE.to_owned(),
            }),
            ..Default::default()
        });
    }
    municipality_name::Entity::insert_many(names).exec(txn).await?;

    let membership_rows = history.memberships.clone();
    check_2025(&current, &membership_rows, cut_short)?;
    let mut memberships = Vec::new();
    for row in ClassificationFiles::region_periods(membership_rows) {
        memberships.push(membership::ActiveModel {
            municipality_id: Set(id_of(&municipality_ids, &row.municipality_code)?),
            region_id: Set(id_of(&region_ids, &row.region_code)?),
            valid_from: Set(Some(row.valid_from)),
            valid_to: Set(row.valid_to),
            valid_from_is_lower_bound: Set(row.valid_from == coverage_start()),
            source: Set(format!(
                "{CBS_HISTORY_SOURCE}. Region per classification year, read by spatial overlay (see the data set's README)"
            )),
            version: Set(1),
            ..Default::default()
        });
    }
    membership::Entity::insert_many(memberships).exec(txn).await?;

    let mut links = Vec::new();
    for row in &history.lineage {
        let kind = parse_enum::<LineageKind>(&row.kind.to_uppercase())?;
        let note = match kind {
            LineageKind::Main => "the successor: the largest share of the territory",
            LineageKind::Part => "a further part of at least 3 km²",
            LineageKind::Minor => {
                "a further part under 3 km², at the size of the differences between generalised boundary files: unverified"
            }
        };
        links.push(lineage::ActiveModel {
            effective_date: Set(row.effective_date),
            predecessor_id: Set(id_of(&municipality_ids, &row.old_code)?),
            successor_id: Set(id_of(&municipality_ids, &row.new_code)?),
            area_share: Set(row.area_share),
            area_km2: Set(row.area_km2),
            kind: Set(kind),
            source: Set(format!(
                "{CBS_HISTORY_SOURCE}. Territory by overlay of the generalised boundaries of the year before and of the year itself; shares approximate; {note}"
            )),
            ..Default::default()
        });
    }
    lineage::Entity::insert_many(links).exec(txn).await?;

    Ok(Classification { regions: region_ids, municipalities: municipality_ids, lifetimes })
}

/// The history's last year must be the 2025 classification the provinces come from.
fn check_2025(current: &[Municipality2025], memberships: &[MembershipRow], cut_short: bool) -> Result<(), DbErr> {
    if cut_short {
        // A history cut short (for a test of the yearly update) ends before 2025.
        return Ok(());
    }
    let open: HashMap<&str, &str> = memberships
        .iter()
        .filter(|m| m.valid_to.is_none())
        .map(|m| (m.municipality_code.as_str(), m.region_code.as_str()))
        .collect();
    let agree = current.len() == open.len()
        && current.iter().all(|m| open.get(m.code.as_str()) == Some(&m.region_code.as_str()));
    if agree { Ok(()) } else { Err(invalid("the 2025 classification and the last year of the history disagree")) }
}
