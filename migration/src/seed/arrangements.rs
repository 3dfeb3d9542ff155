//! The care-form arrangements of annex B (Bijlage B) of the Samen voor Jeugd
//! regiovisie: every cell of its table, read as `care-arrangements.toml`
//! says, one row per arrangement a cell states.
//!
//! The table is checked before anything is written: each row maps to care
//! forms, each row has exactly one cell per column, each arrangement has
//! exactly one scope. A table with a cell missing would answer "no data" for
//! that care form and function, which is a different fact from the source's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::care_arrangement;
use entity::enums::{ArrangementFunction, ArrangementScale, ArrangementStatus};
use sea_orm_migration::sea_orm::{ActiveEnum, ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, Iterable};
use serde::Deserialize;

use super::{FactDates, Sources, id_of, invalid, lookup, parse_enum};

const CARE_ARRANGEMENTS_TOML: &str = include_str!("../../seed/care-arrangements.toml");

// No `deny_unknown_fields` here: serde does not support it with `flatten`.
#[derive(Deserialize)]
struct AnnexTable {
    document: String,
    code_prefix: String,
    #[serde(flatten)]
    dates: FactDates,
    dates_reading: String,
    scale_readings: HashMap<String, String>,
    /// Row of the table -> the care forms it is about.
    rows: BTreeMap<String, Vec<String>>,
    cells: Vec<Cell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cell {
    row: String,
    function: String,
    /// The cell's words.
    cell: String,
    arrangements: Vec<Arrangement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arrangement {
    scale: String,
    region: Option<String>,
    cooperation: Option<String>,
    organised_by_municipality: Option<String>,
    organised_by_cooperation: Option<String>,
    organised_by_name: Option<String>,
    contract: Option<String>,
    account_holder: Option<String>,
    /// `IN_DEVELOPMENT` where the cell says so; in place otherwise.
    status: Option<String>,
    note: Option<String>,
    reading: Option<String>,
}

/// The ids of what the arrangements refer to, by code.
pub(super) struct Ids<'a> {
    pub regions: &'a HashMap<String, i32>,
    pub municipalities: &'a HashMap<String, i32>,
    pub cooperations: &'a HashMap<String, i32>,
    pub care_forms: &'a HashMap<String, i32>,
    pub contracts: &'a HashMap<String, i32>,
}

/// The column header of the source table, as the stored reading quotes it.
fn column_name(function: ArrangementFunction) -> &'static str {
    match function {
        ArrangementFunction::Policy => "policy",
        ArrangementFunction::Purchasing => "purchasing",
        ArrangementFunction::SupplierManagement => "supplier management",
    }
}

/// Every row has one cell per column, and every cell's row is a row of the table.
fn check_complete(table: &AnnexTable) -> Result<(), DbErr> {
    let mut seen = BTreeSet::new();
    for cell in &table.cells {
        if !table.rows.contains_key(&cell.row) {
            return Err(invalid(format!("care arrangements: cell of unknown row {:?}", cell.row)));
        }
        if !seen.insert((cell.row.as_str(), cell.function.as_str())) {
            return Err(invalid(format!("care arrangements: two cells for {:?}, {}", cell.row, cell.function)));
        }
        if cell.arrangements.is_empty() {
            return Err(invalid(format!("care arrangements: cell {:?}, {} states nothing", cell.row, cell.function)));
        }
    }
    for row in table.rows.keys() {
        for function in ArrangementFunction::iter() {
            if !seen.contains(&(row.as_str(), function.to_value().as_str())) {
                return Err(invalid(format!("care arrangements: row {row:?} has no {} cell", function.to_value())));
            }
        }
    }
    Ok(())
}

pub(super) async fn seed(txn: &DatabaseTransaction, sources: &Sources, ids: &Ids<'_>) -> Result<(), DbErr> {
    let table: AnnexTable = toml::from_str(CARE_ARRANGEMENTS_TOML).map_err(invalid)?;
    check_complete(&table)?;
    let mut rows = Vec::new();
    for cell in &table.cells {
        let function = parse_enum::<ArrangementFunction>(&cell.function)?;
        let two_or_more = cell.arrangements.len() > 1;
        for arrangement in &cell.arrangements {
            let scale = parse_enum::<ArrangementScale>(&arrangement.scale)?;
            if arrangement.region.is_some() == arrangement.cooperation.is_some() {
                return Err(invalid(format!(
                    "care arrangements: {:?}, {}: name a region or a cooperation",
                    cell.row, cell.function
                )));
            }
            let scale_reading = table
                .scale_readings
                .get(&arrangement.scale)
                .ok_or_else(|| invalid(format!("care arrangements: no reading of scale {}", arrangement.scale)))?;
            let quoted = format!("Row '{}', column '{}': '{}'", cell.row, column_name(function), cell.cell);
            let source = sources.cite(
                &table.document,
                &[
                    &Some(quoted),
                    &Some(scale_reading.clone()),
                    &arrangement.reading,
                    &Some(table.dates_reading.clone()),
                ],
            )?;
            for care_form in &table.rows[&cell.row] {
                let mut code = format!("{}-{care_form}-{}", table.code_prefix, cell.function.replace('_', "-"));
                if two_or_more {
                    code = format!("{code}-{}", arrangement.scale);
                }
                rows.push(care_arrangement::ActiveModel {
                    code: Set(code),
                    region_id: Set(lookup(ids.regions, &arrangement.region)?),
                    cooperation_id: Set(lookup(ids.cooperations, &arrangement.cooperation)?),
                    care_form_id: Set(id_of(ids.care_forms, care_form)?),
                    function: Set(function),
                    scale: Set(scale),
                    organised_by_municipality_id: Set(lookup(
                        ids.municipalities,
                        &arrangement.organised_by_municipality,
                    )?),
                    organised_by_cooperation_id: Set(lookup(ids.cooperations, &arrangement.organised_by_cooperation)?),
                    organised_by_name: Set(arrangement.organised_by_name.clone()),
                    contract_id: Set(lookup(ids.contracts, &arrangement.contract)?),
                    account_holder_municipality_id: Set(lookup(ids.municipalities, &arrangement.account_holder)?),
                    status: Set(match arrangement.status.as_deref() {
                        Some(status) => parse_enum::<ArrangementStatus>(status)?,
                        None => ArrangementStatus::InPlace,
                    }),
                    note: Set(arrangement.note.clone()),
                    valid_from: Set(Some(table.dates.valid_from)),
                    valid_from_is_lower_bound: Set(table.dates.valid_from_is_lower_bound),
                    valid_to: Set(table.dates.valid_to),
                    source: Set(source.clone()),
                    version: Set(1),
                    ..Default::default()
                });
            }
        }
    }
    care_arrangement::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}
