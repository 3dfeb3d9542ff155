use sea_orm::entity::prelude::*;

/// For one scope (a region or a cooperation) and one care form: at which
/// scale one function (policy, purchasing or supplier management) is
/// organised, and by whom. A source cell that names two scales is two rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "care_arrangement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    /// The scope the arrangement is recorded for: a region or (exclusive) a cooperation.
    pub region_id: Option<i32>,
    pub cooperation_id: Option<i32>,
    pub care_form_id: i32,
    pub function: crate::enums::ArrangementFunction,
    pub scale: crate::enums::ArrangementScale,
    /// Who organises it, where the source names it: a municipality, a cooperation, or
    /// an organisation outside the registry by name (e.g. VNG).
    pub organised_by_municipality_id: Option<i32>,
    pub organised_by_cooperation_id: Option<i32>,
    pub organised_by_name: Option<String>,
    pub contract_id: Option<i32>,
    pub account_holder_municipality_id: Option<i32>,
    /// The source's own qualification, e.g. "in development", "bi-regional alignment".
    /// `IN_PLACE`, or `IN_DEVELOPMENT` where the source says it is not in place yet.
    pub status: crate::enums::ArrangementStatus,
    pub note: Option<String>,
    pub valid_from: Option<Date>,
    /// True when `valid_from` is only the earliest date a source vouches for (\"at least since\").
    pub valid_from_is_lower_bound: bool,
    pub valid_to: Option<Date>,
    /// Where the fact comes from and how the source was read.
    pub source: String,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
