//! Database connection, migrations and seeding.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Number of SQL statements the service has sent; exported on `/metrics` so
/// operators (and tests) can see what a query costs.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Connects to SQLite or PostgreSQL, whichever the URL names.
pub async fn connect(url: &str) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // Writers wait for each other instead of failing with "database is locked";
        // WAL lets readers go on while one writer commits.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let mut db = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let statements = counter.0.clone();
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Seeds the national registry if the database is empty; returns whether it seeded.
pub async fn seed(db: &DatabaseConnection) -> Result<bool, DbErr> {
    migration::seed::seed(db).await
}

/// The URL without its password, for logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
