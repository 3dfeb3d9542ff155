use sea_orm::entity::prelude::*;

/// Territory of a municipality that ended, and where it went: one row per
/// (ended municipality, municipality that holds part of its former territory).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lineage")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The first day the predecessor no longer exists.
    pub effective_date: Date,
    pub predecessor_id: i32,
    pub successor_id: i32,
    /// Share of the predecessor's area that went to the successor (0–1); null when not measured.
    pub area_share: Option<f64>,
    pub area_km2: Option<f64>,
    /// `MAIN`, `PART` or `MINOR` (see `enums::LineageKind`).
    pub kind: crate::enums::LineageKind,
    /// Where the fact comes from.
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
