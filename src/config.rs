//! Command line and environment configuration.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// The SQLite file created in the working directory when no database is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://jeugdregio.sqlite?mode=rwc";

#[derive(Debug, Parser)]
#[command(name = "jeugdregio", version, about = "GraphQL API for the national registry of Dutch youth-care regions")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate and (on an empty database) seed, then serve the GraphQL API.
    Serve(ServeArgs),
    /// Apply pending schema migrations and exit.
    Migrate(DatabaseArgs),
    /// Seed an empty registry with the national data and exit; does nothing if already seeded.
    Seed(DatabaseArgs),
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    PrintSchema,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/database`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "JEUGDREGIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
}
