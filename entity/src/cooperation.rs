use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "cooperation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub scale: crate::enums::Scale,
    pub instrument: Option<crate::enums::Instrument>,
    pub description: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// True when `valid_from` is only the earliest date a source vouches for (\"at least since\").
    pub valid_from_is_lower_bound: bool,
    /// The cooperation this one is a part of (a sub-region of a purchasing region).
    pub parent_cooperation_id: Option<i32>,
    /// Where the fact comes from (document and, where derived, how).
    pub source: String,
    /// Optimistic-concurrency version, incremented on every change.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
