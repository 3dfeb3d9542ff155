use sea_orm::entity::prelude::*;

/// A name the municipality had during a period (CBS statnaam per classification year).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "municipality_name")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub municipality_id: i32,
    pub name: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// Where the fact comes from.
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
