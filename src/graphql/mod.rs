//! The GraphQL surface: schema assembly, the query root, object types and the
//! loaders that resolve relations from the registry snapshot. Resolvers stay thin: they
//! translate arguments, call the registry and wrap what it returns.
//!
//! Object types live in `types/` and mutations in `mutation/`, one file per
//! aggregate; inputs and filters convert to the registry's own types with
//! `From` impls beside them, so the registry never sees GraphQL. Resolvers
//! reach the registry, the caller and the `asOf` default only through
//! `context`, and spell error codes only through `errors::ErrorCode`.

mod changes;
mod context;
pub mod cost;
mod errors;
mod filters;
mod lean;
mod loaders;
mod mutation;
mod nul;
mod operation;
mod paging;
mod persisted;
mod provisional;
mod query;
mod scalars;
mod types;

use async_graphql::extensions::apollo_persisted_queries::ApolloPersistedQueries;
use async_graphql::{MergedObject, Schema};

use crate::registry::Registry;
pub use changes::{SubscriptionLimits, SubscriptionRoot};
pub use errors::ErrorCode;
pub(crate) use errors::registry_error;
pub use loaders::RegistryLoader;
pub use mutation::MutationRoot;
pub use operation::{NOT_OVER_GET, RequestMeta};
pub use query::QueryRoot;

// Root fields, like every object's fields (`types/mod.rs`), resolve one
// after another: async-graphql's concurrent form puts each answer in the
// order its field finished, and the GraphQL spec wants the order asked for.
/// The query root: registry lookups and the change feed.
#[derive(MergedObject, Default)]
#[graphql(serial)]
pub struct Query(QueryRoot, changes::ChangesQuery);

pub type RegistrySchema = Schema<Query, MutationRoot, SubscriptionRoot>;

/// Deepest query accepted: the full registry with holders and contract parties fits well within it.
pub const MAX_DEPTH: usize = 16;

/// What the schema is built with besides the registry.
pub struct SchemaSettings {
    pub cost: cost::CostLimits,
    pub subscriptions: SubscriptionLimits,
}

/// The guarded schema: it prepares, checks and prices every request, and
/// runs most of them on a lean copy of itself without extensions (`lean.rs`).
pub fn build_schema(registry: Registry, settings: SchemaSettings) -> RegistrySchema {
    let persisted = persisted::PersistedQueries::new(registry.db().clone());
    // The guarded schema has validated the document with every rule; the
    // lean one checks only what executing needs.
    let lean = schema_with_data(&registry, &settings).validation_mode(async_graphql::ValidationMode::Fast).finish();
    schema_with_data(&registry, &settings)
        .extension(operation::OperationGuard)
        .extension(provisional::ProvisionalAnswers)
        // After the mark of provisional answers, which it passes on to the lean schema.
        .extension(cost::CostGuards { limits: settings.cost, lean })
        .extension(ApolloPersistedQueries::new(persisted))
        .finish()
}

fn schema_with_data(
    registry: &Registry,
    settings: &SchemaSettings,
) -> async_graphql::SchemaBuilder<Query, MutationRoot, SubscriptionRoot> {
    Schema::build(Query::default(), MutationRoot::default(), SubscriptionRoot)
        .data(RegistryLoader::new(registry.clone()))
        .data(registry.clone())
        .data(settings.subscriptions.clone())
        .limit_depth(MAX_DEPTH)
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), MutationRoot::default(), SubscriptionRoot).finish().sdl()
}
