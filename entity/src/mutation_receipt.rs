use sea_orm::entity::prelude::*;

/// The first result of a mutation sent with a `clientMutationId`, so a retry
/// is answered from it instead of writing again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "mutation_receipt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub actor: String,
    pub client_mutation_id: String,
    pub mutation: String,
    /// SHA-256 of the canonical input, to tell a retry from a reused id.
    pub input_hash: String,
    pub object_type: String,
    pub object_code: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
