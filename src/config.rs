//! Command line and environment configuration.
//!
//! Every value is checked as it is read, before anything is started or
//! connected: the value parsers below apply the rules of the layers that own
//! them (`db::check_url`, `auth::check_secret`, `codes`), and [`parse`] lists
//! every problem at once (see `problems.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::AuthConfig;
use crate::codes::MunicipalityCode;

mod problems;
pub use problems::{Failure, try_parse};

/// The SQLite file created in the working directory when no database is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://jeugdregio.sqlite?mode=rwc";

/// The command line and environment of this process; on a problem, prints
/// every problem at once and exits with status 2.
pub fn parse() -> Cli {
    problems::parse_or_exit(std::env::args_os())
}

#[derive(Debug, Parser)]
#[command(name = "jeugdregio", version, about = "GraphQL API for the national registry of Dutch youth-care regions")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines are written to stderr: `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, global = true, env = "JEUGDREGIO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The form of the log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`
    /// and the event's fields, and `span` with the fields of the request.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate and (on an empty database) seed, then serve the GraphQL API.
    Serve(ServeArgs),
    /// Apply pending schema migrations and exit.
    Migrate(DatabaseArgs),
    /// Seed an empty registry with the national data and exit; does nothing if already seeded.
    Seed(SeedArgs),
    /// Apply a CBS classification (the yearly update) through the audited write path.
    ImportCbs(ImportArgs),
    /// Print a signed development token (HS256, with the configured secret).
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    PrintSchema,
}

#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/database`.
    // The environment's value is not shown in --help: it may hold a password.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, value_parser = database_url)]
    pub database_url: String,
}

impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseArgs").field("database_url", &crate::secrets::redact_url(&self.database_url)).finish()
    }
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Seed the CBS history as it stood before this date (YYYY-MM-DD): a
    /// registry of an earlier year, to try `import-cbs` on.
    #[arg(long, hide = true)]
    pub classification_before: Option<chrono::NaiveDate>,
}

/// `jeugdregio import-cbs DIR`: see README, "The yearly CBS update".
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Directory with regions.csv, municipalities.csv, memberships.csv and
    /// lineage.csv, in the format of the seed's history (migration/seed/history).
    pub dir: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Print what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The source every imported row names.
    #[arg(
        long,
        default_value = "CBS regional classification (Gebieden in Nederland / CBS gebiedsindelingen), licence CC BY 4.0, Bron: CBS"
    )]
    pub source: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "JEUGDREGIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// How long shared caches may keep public query responses, e.g. 30s or 5m.
    #[arg(long, env = "JEUGDREGIO_CACHE_MAX_AGE", default_value = "30s", value_parser = duration)]
    pub cache_max_age: Duration,
    /// Memory for kept answers to public queries, in MiB; 0 keeps none.
    #[arg(long, env = "JEUGDREGIO_RESPONSE_CACHE_MIB", default_value_t = crate::http::cache::DEFAULT_RESPONSE_CACHE_BYTES >> 20)]
    pub response_cache_mib: u64,
    /// Budget of the computed cost of one query (docs/limits.md).
    #[arg(long, env = "JEUGDREGIO_MAX_COST", default_value_t = crate::graphql::cost::DEFAULT_COST_LIMIT, value_parser = at_least_one)]
    pub max_cost: usize,
    /// Fields one request may resolve before it is stopped.
    #[arg(long, env = "JEUGDREGIO_MAX_RESULT_FIELDS", default_value_t = crate::graphql::cost::DEFAULT_RESULT_LIMIT, value_parser = at_least_one)]
    pub max_result_fields: usize,
    /// How long one GraphQL request may run, e.g. 10s.
    #[arg(long, env = "JEUGDREGIO_EXECUTION_TIMEOUT", default_value = "10s", value_parser = longer_than_zero)]
    pub execution_timeout: Duration,
    /// GraphQL requests handled at once; more are answered 503 with Retry-After.
    #[arg(long, env = "JEUGDREGIO_MAX_IN_FLIGHT", default_value_t = crate::DEFAULT_MAX_IN_FLIGHT, value_parser = at_least_one)]
    pub max_in_flight: usize,
    /// Live subscriptions of the whole instance.
    #[arg(long, env = "JEUGDREGIO_MAX_SUBSCRIPTIONS", default_value_t = crate::DEFAULT_MAX_SUBSCRIPTIONS)]
    pub max_subscriptions: usize,
    /// Live subscriptions of one WebSocket connection.
    #[arg(long, env = "JEUGDREGIO_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = crate::DEFAULT_SUBSCRIPTIONS_PER_CONNECTION)]
    pub subscriptions_per_connection: usize,
    /// How long a WebSocket client may take to send connection_init (then close 4408).
    #[arg(long, env = "JEUGDREGIO_CONNECTION_INIT_TIMEOUT", default_value = "10s", value_parser = longer_than_zero)]
    pub connection_init_timeout: Duration,
    /// Sustained requests per second per client (per token, or per address without one); 0 turns it off.
    #[arg(long, env = "JEUGDREGIO_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,
    /// Requests a client may send at once before the sustained rate applies.
    #[arg(long, env = "JEUGDREGIO_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// Reverse proxies whose X-Forwarded-For names the client (IP addresses, comma-separated).
    #[arg(long, env = "JEUGDREGIO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a client may take to send a request's headers, e.g. 10s.
    #[arg(long, env = "JEUGDREGIO_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = longer_than_zero)]
    pub header_read_timeout: Duration,
    /// Open connections one client address may hold.
    #[arg(long, env = "JEUGDREGIO_CONNECTIONS_PER_ADDRESS", default_value_t = 256, value_parser = at_least_one)]
    pub connections_per_address: usize,
    /// Web origins that may read answers from a browser (comma-separated, e.g. https://portal.example.nl); default any.
    #[arg(long, env = "JEUGDREGIO_CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    pub cors_allowed_origins: Vec<String>,
    /// On SIGTERM, how long requests in flight may take to finish before the process exits anyway.
    #[arg(long, env = "JEUGDREGIO_SHUTDOWN_GRACE", default_value = "10s", value_parser = duration)]
    pub shutdown_grace: Duration,
}

impl ServeArgs {
    pub fn connection_limits(&self) -> crate::server::ConnectionLimits {
        crate::server::ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            per_address: self.connections_per_address,
            shutdown_grace: self.shutdown_grace,
        }
    }

    pub fn rate_limits(&self) -> crate::ratelimit::RateLimits {
        crate::ratelimit::RateLimits {
            per_second: self.rate_limit,
            burst: self.rate_limit_burst,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    pub fn limits(&self) -> crate::Limits {
        crate::Limits {
            cost: self.max_cost,
            result_fields: self.max_result_fields,
            execution_timeout: self.execution_timeout,
            max_in_flight: self.max_in_flight,
            max_subscriptions: self.max_subscriptions,
            subscriptions_per_connection: self.subscriptions_per_connection,
            connection_init_timeout: self.connection_init_timeout,
        }
    }
}

/// How bearer tokens are verified. With no key, every token is refused.
#[derive(Clone, Args)]
pub struct AuthArgs {
    /// HS256 shared secret (development), at least 32 bytes.
    #[arg(long, env = "JEUGDREGIO_JWT_SECRET", hide_env_values = true, value_parser = jwt_secret, conflicts_with = "jwt_public_key")]
    pub jwt_secret: Option<String>,
    /// PEM file with an RS256 or EdDSA public key (production).
    #[arg(long, env = "JEUGDREGIO_JWT_PUBLIC_KEY", value_parser = jwt_public_key)]
    pub jwt_public_key: Option<PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "JEUGDREGIO_JWT_ISSUER", default_value = "jeugdregio")]
    pub jwt_issuer: String,
    /// Required `aud` claim.
    #[arg(long, env = "JEUGDREGIO_JWT_AUDIENCE", default_value = "jeugdregio")]
    pub jwt_audience: String,
}

impl std::fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthArgs")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| crate::secrets::REDACTED))
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish()
    }
}

impl AuthArgs {
    pub fn to_config(&self) -> anyhow::Result<AuthConfig> {
        let public_key_pem = self
            .jwt_public_key
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the JWT public key {}: {e}", path.display()))
            })
            .transpose()?;
        Ok(AuthConfig {
            secret: self.jwt_secret.clone(),
            public_key_pem,
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
        })
    }
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("for").required(true).args(["municipality", "admin"])))]
pub struct TokenArgs {
    /// Act for this municipality (CBS code, e.g. GM0772).
    #[arg(long, value_parser = municipality_code)]
    pub municipality: Option<MunicipalityCode>,
    /// Act as the registry operator (scope registry:admin).
    #[arg(long)]
    pub admin: bool,
    /// The `sub` claim: who is acting.
    #[arg(long, default_value = "developer")]
    pub sub: String,
    /// How long the token is valid, e.g. 1h, 30m, 7d.
    #[arg(long, default_value = "1h", value_parser = token_lifetime, allow_hyphen_values = true)]
    pub ttl: Duration,
    #[command(flatten)]
    pub auth: AuthArgs,
}

// The value parsers: each says what is wrong without repeating a secret.

fn database_url(url: &str) -> Result<String, String> {
    crate::db::check_url(url)?;
    Ok(url.to_owned())
}

fn jwt_secret(secret: &str) -> Result<String, String> {
    crate::auth::check_secret(secret)?;
    Ok(secret.to_owned())
}

fn jwt_public_key(path: &str) -> Result<PathBuf, String> {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.into());
    let pem = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the public key file {}: {error}", shown.display()))?;
    crate::auth::check_public_key(&pem).map_err(|why| format!("the file {} cannot be used: {why}", shown.display()))?;
    Ok(path.into())
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>().map_err(|error| format!("not a whole number: {error}"))? {
        0 => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

fn cors_origin(text: &str) -> Result<String, String> {
    crate::http::security::parse_origins(&[text.to_owned()])?;
    Ok(text.trim_end_matches('/').to_owned())
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("not a duration such as 10s, 5m or 1h ({error})"))
}

fn longer_than_zero(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        duration if duration.is_zero() => Err("must be longer than 0 s".to_owned()),
        duration => Ok(duration),
    }
}

fn token_lifetime(text: &str) -> Result<Duration, String> {
    if text.trim_start().starts_with('-') {
        return Err("a token's lifetime must be positive, e.g. 30m, 1h or 7d".to_owned());
    }
    // A token's expiry is counted in whole seconds.
    match longer_than_zero(text)? {
        ttl if ttl < Duration::from_secs(1) => Err("must be at least 1 s".to_owned()),
        ttl => Ok(ttl),
    }
}

fn municipality_code(code: &str) -> Result<MunicipalityCode, String> {
    MunicipalityCode::parse(code).ok_or_else(|| {
        format!(
            "{code:?} is not a CBS municipality code (GM followed by four digits, e.g. {})",
            <MunicipalityCode as crate::codes::CodeFormat>::EXAMPLE
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line states each default again (clap needs it as text);
    /// this keeps those texts equal to the defaults the library uses.
    #[test]
    fn command_line_defaults_are_the_library_defaults() {
        let Command::Serve(args) = Cli::parse_from(["jeugdregio", "serve"]).command else { unreachable!() };
        assert_eq!(args.limits(), crate::Limits::default());
        assert_eq!(args.rate_limits(), crate::ratelimit::RateLimits::default());
        assert_eq!(args.connection_limits(), crate::server::ConnectionLimits::default());
        assert_eq!(args.cache_max_age, crate::Settings::default().cache_max_age);
        assert_eq!(args.response_cache_mib << 20, crate::Settings::default().response_cache_bytes);
    }

    #[test]
    fn the_log_format_is_text_unless_json_is_asked_for() {
        assert_eq!(Cli::parse_from(["jeugdregio", "migrate"]).log_format, LogFormat::Text);
        let cli = Cli::parse_from(["jeugdregio", "serve", "--log-format", "json"]);
        assert_eq!(cli.log_format, LogFormat::Json);
        assert!(Cli::try_parse_from(["jeugdregio", "serve", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let Command::Serve(args) = Cli::parse_from([
            "jeugdregio",
            "serve",
            "--database-url",
            "postgres://registry:hunter2@db/registry?password=hunter3",
            "--jwt-secret",
            "a-secret-that-is-long-enough-for-hs256",
        ])
        .command
        else {
            unreachable!()
        };
        let debug = format!("{args:?}");
        for secret in ["hunter2", "hunter3", "a-secret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let settings = crate::Settings { database_url: args.database.database_url.clone(), ..Default::default() };
        assert!(!format!("{settings:?}").contains("hunter"), "{settings:?}");
    }
}
