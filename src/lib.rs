//! jeugdregio: the GraphQL API for the national registry of Dutch youth-care
//! regions (jeugdzorgregio's). `main.rs` is the command line; this library
//! builds the application so tests can start the very same router.

pub mod config;
pub mod db;
pub mod graphql;
pub mod http;
pub mod registry;

use crate::graphql::build_schema;
use crate::http::AppState;
use crate::registry::Registry;

/// Connects to the database, migrates it, seeds an empty registry and returns
/// the router: everything `serve` does before it listens.
pub async fn app(database_url: &str) -> anyhow::Result<axum::Router> {
    let (connection, statements) = db::connect(database_url).await?;
    db::migrate(&connection).await?;
    if db::seed(&connection).await? {
        tracing::info!("seeded the national registry");
    }
    let registry = Registry::new(connection);
    Ok(http::router(AppState { schema: build_schema(registry.clone()), registry, statements }))
}
