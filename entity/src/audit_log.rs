use sea_orm::entity::prelude::*;

/// One accepted write: who changed which object, from which version to which, and how.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub recorded_at: DateTimeUtc,
    /// The acting organisation: a municipality code, or `OPERATOR`.
    pub actor: String,
    /// The token's `sub`: the person or system that acted.
    pub subject: String,
    pub mutation: String,
    pub object_type: String,
    pub object_code: String,
    pub version_before: Option<i32>,
    pub version_after: Option<i32>,
    /// JSON object: field -> {"old": …, "new": …}.
    pub changes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
