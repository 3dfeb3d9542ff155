//! jeugdregio: the GraphQL API for the national registry of Dutch youth-care
//! regions (jeugdzorgregio's). `main.rs` is the command line; this library
//! builds the application so tests can start the very same router.

pub mod auth;
pub mod codes;
pub mod config;
pub mod db;
pub mod graphql;
pub mod http;
pub mod registry;

use crate::graphql::build_schema;
use crate::http::AppState;
use crate::registry::Registry;

/// What the service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub auth: auth::AuthConfig,
    /// `max-age` of public (anonymous) query responses.
    pub cache_max_age: std::time::Duration,
}

/// Connects to the database, migrates it, seeds an empty registry and returns
/// the router: everything `serve` does before it listens.
pub async fn app(settings: &Settings) -> anyhow::Result<axum::Router> {
    let authenticator = auth::Authenticator::new(&settings.auth)?;
    if !authenticator.has_key() {
        tracing::warn!(
            "no JWT key configured (JEUGDREGIO_JWT_SECRET or JEUGDREGIO_JWT_PUBLIC_KEY): every token is rejected, so no one can write"
        );
    }
    let (connection, statements) = db::connect(&settings.database_url).await?;
    db::migrate(&connection).await?;
    if db::seed(&connection).await? {
        tracing::info!("seeded the national registry");
    }
    let registry = Registry::new(connection);
    let schema = build_schema(registry.clone());
    let build = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}\n{}", env!("CARGO_PKG_VERSION"), schema.sdl()));
        hex::encode(&digest[..8])
    };
    Ok(http::router(AppState {
        schema,
        build,
        registry,
        statements,
        authenticator,
        cache_max_age: settings.cache_max_age,
    }))
}
