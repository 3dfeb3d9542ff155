use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "role")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub kind: crate::enums::RoleKind,
    pub holder_municipality_id: Option<i32>,
    pub holder_region_id: Option<i32>,
    pub region_id: Option<i32>,
    pub cooperation_id: Option<i32>,
    pub care_form_id: Option<i32>,
    pub provider_id: Option<i32>,
    pub note: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// True when `valid_from` is only the earliest date a source vouches for (\"at least since\").
    pub valid_from_is_lower_bound: bool,
    /// A cooperation that holds the role (e.g. one that commissions a service for its members).
    pub holder_cooperation_id: Option<i32>,
    /// Where the fact comes from (document and, where derived, how).
    pub source: String,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
