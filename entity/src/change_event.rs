use sea_orm::entity::prelude::*;

/// One committed change, at its position in the registry's change feed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "change_event")]
pub struct Model {
    /// Gap-free, strictly increasing position in the feed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    pub committed_at: DateTimeUtc,
    pub object_type: String,
    pub object_code: String,
    /// CREATED, UPDATED, ENDED or DELETED.
    pub operation: String,
    pub version: Option<i32>,
    /// JSON of the row after the change (null when deleted).
    pub state: String,
    /// The regions the object concerns, as `;JZ39;JZ33;` for filtering.
    pub region_codes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
