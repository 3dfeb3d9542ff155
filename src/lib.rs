//! jeugdregio: the GraphQL API for the national registry of Dutch youth-care
//! regions (jeugdzorgregio's). `main.rs` is the command line; this library
//! builds the application so tests can start the very same router.

pub mod auth;
pub mod codes;
pub mod config;
pub mod db;
pub mod graphql;
pub mod http;
pub mod import;
pub mod logs;
pub mod memory;
pub mod metrics;
pub mod ratelimit;
pub mod registry;
pub mod secrets;
pub mod server;

use crate::graphql::build_schema;
use crate::http::AppState;
use crate::registry::Registry;

/// What the service needs to start. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub auth: auth::AuthConfig,
    /// `max-age` of public (anonymous) query responses.
    pub cache_max_age: std::time::Duration,
    /// What one request may cost (see docs/limits.md).
    pub limits: Limits,
    /// How many requests one client may make.
    pub rate_limits: ratelimit::RateLimits,
    /// Memory for kept answers to public queries; 0 keeps none.
    pub response_cache_bytes: u64,
    /// Web origins that may read answers (`https://portal.example.nl`); empty: any.
    pub cors_allowed_origins: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &secrets::redact_url(&self.database_url))
            .field("auth", &self.auth)
            .field("cache_max_age", &self.cache_max_age)
            .field("limits", &self.limits)
            .field("rate_limits", &self.rate_limits)
            .field("response_cache_bytes", &self.response_cache_bytes)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: config::DEFAULT_DATABASE_URL.to_owned(),
            auth: auth::AuthConfig { issuer: "jeugdregio".into(), audience: "jeugdregio".into(), ..Default::default() },
            cache_max_age: std::time::Duration::from_secs(30),
            limits: Limits::default(),
            rate_limits: ratelimit::RateLimits::default(),
            response_cache_bytes: http::cache::DEFAULT_RESPONSE_CACHE_BYTES,
            cors_allowed_origins: Vec::new(),
        }
    }
}

/// The bounds on one request; every one is documented in docs/limits.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Budget of the computed cost of a query, checked before it runs.
    pub cost: usize,
    /// Fields one request may resolve, counted while it runs.
    pub result_fields: usize,
    /// How long one GraphQL request may run.
    pub execution_timeout: std::time::Duration,
    /// GraphQL requests handled at once; beyond it the service answers 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// Live subscriptions of the whole instance.
    pub max_subscriptions: usize,
    /// Live subscriptions of one WebSocket connection.
    pub subscriptions_per_connection: usize,
    /// How long a WebSocket client may take to send `connection_init` (then close 4408).
    pub connection_init_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cost: graphql::cost::DEFAULT_COST_LIMIT,
            result_fields: graphql::cost::DEFAULT_RESULT_LIMIT,
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            subscriptions_per_connection: DEFAULT_SUBSCRIPTIONS_PER_CONNECTION,
            connection_init_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Default cap of GraphQL requests in flight: room for a thousand pollers
/// with one request each (a cheap request takes milliseconds), far below what
/// exhausts the machine; heavy requests are bounded apart (`HEAVY_COST`).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Default cap of live subscriptions per instance; idle ones cost no statement.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 10_000;
/// Default cap of live subscriptions per WebSocket connection.
pub const DEFAULT_SUBSCRIPTIONS_PER_CONNECTION: usize = 100;

/// The semantic version of the API (schema and HTTP behaviour), sent as the
/// `API-Version` header of every response; `CHANGELOG.md` says what each
/// version changed.
pub const API_VERSION: &str = "1.3.0";

/// Default deadline of one GraphQL request.
pub const DEFAULT_EXECUTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What identifies this build in ETags: the version, the schema, and the
/// bytes of every file served from the binary (the page, GraphiQL, the map
/// layers), so a deploy that changes any of them changes every ETag.
fn build_identity(sdl: &str) -> String {
    use sha2::Digest;
    static FILES: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let files = FILES.get_or_init(|| {
        let mut hash = sha2::Sha256::new();
        for file in http::embedded_files().chain(registry::embedded_layers()) {
            hash.update((file.len() as u64).to_le_bytes());
            hash.update(file);
        }
        hash.finalize().into()
    });
    let mut hash = sha2::Sha256::new();
    hash.update(format!("{}\n{sdl}\n", env!("CARGO_PKG_VERSION")));
    hash.update(files);
    hex::encode(&hash.finalize()[..8])
}

/// The error of a start-up step that writes; on a database that can only be
/// read, why, and what to do.
fn step_failed(step: &str, command: &str, error: impl std::fmt::Display, read_only: Option<String>) -> anyhow::Error {
    match read_only {
        Some(why) => anyhow::anyhow!(
            "{step} failed: the database can be read but not written ({why}). Run `jeugdregio serve` (or `jeugdregio {command}`) once with a database URL that may write: the primary, or a user with write rights"
        ),
        None => anyhow::anyhow!("{step} failed: {error}"),
    }
}

/// Connects to the database, migrates it, seeds an empty registry and returns
/// the service: everything `serve` does before it listens.
pub async fn app(settings: &Settings) -> anyhow::Result<http::App> {
    let authenticator = auth::Authenticator::new(&settings.auth)?;
    let cors_allowed_origins =
        http::security::parse_origins(&settings.cors_allowed_origins).map_err(anyhow::Error::msg)?;
    if !authenticator.has_key() {
        tracing::warn!(
            "no JWT key configured (JEUGDREGIO_JWT_SECRET or JEUGDREGIO_JWT_PUBLIC_KEY): every token is rejected, so no one can write"
        );
    }
    // Each error is one message that says what to do (its causes are in it).
    let (connection, statements) = db::open(&settings.database_url).await?;
    if let Err(error) = db::migrate(&connection).await {
        let read_only = db::read_only_reason(&error);
        return Err(step_failed("migrating the database", "migrate", error, read_only));
    }
    // Read-only: serve reads, not ready (see README, "Start-up failures").
    let read_only = db::why_read_only(&connection).await?;
    match db::seed(&connection).await {
        Ok(true) => tracing::info!("seeded the national registry"),
        Ok(false) => {}
        Err(error) => return Err(step_failed("seeding the national registry", "seed", error, read_only)),
    }
    let registry = Registry::new(connection);
    match registry.backfill_history().await {
        Ok(true) => tracing::info!("loaded the CBS history 2015-2025 into a registry seeded before it was kept"),
        Ok(false) => {}
        Err(error) => {
            let error = format!("{error:?}");
            return Err(step_failed("loading the CBS history into the registry", "migrate", error, read_only));
        }
    }
    if let Some(why) = read_only {
        tracing::warn!(
            reason = %why,
            "the database can be read but not written: serving reads, but /readyz answers 503 (not ready) until it can be written"
        );
        registry.set_read_only(Some(why));
    }
    let limits = graphql::cost::CostLimits {
        cost: settings.limits.cost,
        result: settings.limits.result_fields,
        deadline: settings.limits.execution_timeout,
        heavy_lanes: graphql::cost::heavy_lanes(),
    };
    let subscriptions = graphql::SubscriptionLimits::new(
        settings.limits.max_subscriptions,
        settings.limits.subscriptions_per_connection,
    );
    let schema =
        build_schema(registry.clone(), graphql::SchemaSettings { cost: limits, subscriptions: subscriptions.clone() });
    registry.start_live_listener();
    let build = build_identity(&schema.sdl());
    let metrics = metrics::Metrics::new(&statements, authenticator.failures());
    Ok(http::router(AppState::new(http::AppParts {
        schema,
        build,
        registry,
        metrics,
        authenticator,
        cache_max_age: settings.cache_max_age,
        execution_timeout: settings.limits.execution_timeout,
        max_in_flight: settings.limits.max_in_flight,
        subscriptions,
        connection_init_timeout: settings.limits.connection_init_timeout,
        rate_limits: settings.rate_limits.clone(),
        answers: http::cache::ResponseCache::new(settings.response_cache_bytes),
        cors_allowed_origins,
    })))
}
