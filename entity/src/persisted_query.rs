use sea_orm::entity::prelude::*;

/// An automatic persisted query: the parsed document (async-graphql's own
/// serialisation, as JSON) under the SHA-256 of its text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_query")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256_hash: String,
    pub document: String,
    pub registered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
