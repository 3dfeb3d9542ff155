use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "cooperation_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub cooperation_id: i32,
    pub municipality_id: Option<i32>,
    pub region_id: Option<i32>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// True when `valid_from` is only the earliest date a source vouches for (\"at least since\").
    pub valid_from_is_lower_bound: bool,
    /// `FULL`, or `PARTIAL` when the municipality takes part in only some tasks (`participation_note` says which).
    pub participation: crate::enums::Participation,
    pub participation_note: Option<String>,
    /// Where the fact comes from (document and, where derived, how).
    pub source: String,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
