//! Database connection, migrations and seeding.

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use prometheus_client::metrics::counter::Counter;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr};
use url::Url;

use crate::secrets;

mod check;
mod gate;
pub use check::{FIRST_CONNECT_TIMEOUT, check_url, read_only_reason, why_read_only};
pub use gate::{Db, HeldConnection};

/// Number of SQL statements the service has sent; exported on `/metrics`
/// (`jeugdregio_sql_statements_total`) so operators (and tests) can see what
/// a query costs. Clones count into the same counter.
#[derive(Clone, Default)]
pub struct StatementCounter(Counter);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// The counter itself, for the metrics registry.
    pub fn counter(&self) -> Counter {
        self.0.clone()
    }
}

/// The connections of the database pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    /// Lent to a request or a transaction.
    pub in_use: u32,
    /// Open and waiting in the pool.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
    /// Callers waiting for a connection (counted by [`Db`]).
    pub waiting: u32,
}

/// The connections of the pool behind `db` now, as sqlx knows them (its
/// `size()` counts open connections, idle ones included); the waiting
/// callers are [`Db::pool_use`]'s to add.
fn pool_use(db: &DatabaseConnection) -> PoolUse {
    fn of<D: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<D>) -> PoolUse {
        let (open, idle) = (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX));
        PoolUse { in_use: open.saturating_sub(idle), idle, max: pool.options().get_max_connections(), waiting: 0 }
    }
    match db.get_database_backend() {
        DbBackend::Postgres => of(db.get_postgres_connection_pool()),
        DbBackend::Sqlite => of(db.get_sqlite_connection_pool()),
        _ => PoolUse::default(),
    }
}

/// How long a write on SQLite waits for another connection's (or process's)
/// write lock before it fails with "database is locked". Write transactions
/// begin with `BEGIN IMMEDIATE`, so they do wait (see `registry/write/txn.rs`).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a pooled connection. When the database is
/// down, requests that need it get `SERVICE_UNAVAILABLE` after this, instead
/// of waiting for a long pool timeout (see [`failure`]).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1_500);
/// PostgreSQL stops a statement that runs (or waits for a lock) longer than
/// this, well inside the GraphQL request deadline, so the caller gets a clear
/// `TIMEOUT` instead of a cut connection.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a database error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database cannot be reached or gave no connection in time: retry later.
    Unavailable,
    /// A statement ran past [`STATEMENT_TIMEOUT`] and was stopped.
    StatementTimeout,
    /// Anything else: a fault of ours, not the caller's.
    Internal,
}

/// Classifies `error`. sqlx reports a lost or refused connection as an I/O
/// or protocol error of the statement, and an exhausted pool as a timeout.
pub fn failure(error: &DbErr) -> Failure {
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match (error, driver_error(error)) {
        (DbErr::ConnectionAcquire(_), _) => return Failure::Unavailable,
        (_, Some(sqlx)) => sqlx,
        (DbErr::Conn(_), None) => return Failure::Unavailable,
        _ => return Failure::Internal,
    };
    match sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => Failure::Unavailable,
        Sqlx::Database(database) => match database.code().as_deref() {
            // PostgreSQL's five-character SQLSTATE. query_canceled: statement_timeout.
            Some("57014") => Failure::StatementTimeout,
            // The server is shutting down or restarting (57P), or the connection failed (08);
            // a read replica (25006 read_only_sql_transaction) or a user without the right
            // to write (42501): this instance cannot write now, and /readyz says so.
            Some(state)
                if state.len() == 5
                    && (state.starts_with("57P") || state.starts_with("08") || matches!(state, "25006" | "42501")) =>
            {
                Failure::Unavailable
            }
            // SQLite's result code; its low byte is the primary code: BUSY and LOCKED
            // after the busy timeout, READONLY, IOERR, CANTOPEN.
            Some(code)
                if code.len() < 5 && code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 14)) =>
            {
                Failure::Unavailable
            }
            _ => Failure::Internal,
        },
        _ => Failure::Internal,
    }
}

/// The driver's error inside `error`, when the driver reported it.
fn driver_error(error: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// Connects to SQLite or PostgreSQL, whichever the URL names.
///
/// The URL's password never reaches sea-orm or sqlx inside the URL (their
/// trace spans show the URL they were given), and an error never shows it:
/// see [`DriverUrl`]. A failure says what to do: for PostgreSQL, one first
/// connection is made alone, so that an unreachable server is named by host
/// and port within [`FIRST_CONNECT_TIMEOUT`] (see `check.rs`).
pub async fn connect(url: &str) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let refused = |why: String| DbErr::Conn(RuntimeErr::Internal(why));
    let DriverUrl { url: driver_url, password, ignored } = DriverUrl::parse(url).map_err(refused)?;
    for parameter in ignored {
        tracing::warn!(
            parameter,
            "ignoring the database URL parameter {parameter:?}: the PostgreSQL driver does not know it (its value is not shown)"
        );
    }
    if !driver_url.starts_with("sqlite:") {
        let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(&driver_url).map_err(|error| {
            refused(format!("the database URL cannot be used: {error}: {}", secrets::redact_url(url)))
        })?;
        check::first_connection(postgres_options(options, password.as_deref()), url).await.map_err(refused)?;
    }
    let mut options = ConnectOptions::new(driver_url.clone());
    options
        .max_connections(max_connections(&driver_url))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        // Writers wait for each other instead of failing with "database is locked";
        // WAL lets readers go on while one writer commits.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
        });
    let pg_password = password.clone();
    options.map_sqlx_postgres_opts(move |opts| postgres_options(opts, pg_password.as_deref()));
    let mut db = Database::connect(options)
        .await
        .map_err(|error| check::explain_connect_error(scrub(error, url, password.as_deref()), &driver_url, url))?;
    let counter = StatementCounter::default();
    let statements = counter.0.clone();
    db.set_metric_callback(move |_| {
        statements.inc();
    });
    Ok((db, counter))
}

/// [`connect`] for the commands: its error is one message that says what to
/// do (a connection error's cause is already in its text).
pub async fn open(url: &str) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    connect(url).await.map_err(|error| anyhow::anyhow!(error.to_string()))
}

/// The pool's size. PostgreSQL: 16, for concurrent reads and writes across
/// the network. SQLite: twice the cores, 4 to 8, because SQLite has one
/// writer and the registry's relations are read from memory, while each
/// connection keeps its own page cache (2 MiB) and thread: with 16, 300
/// polling clients cost 20 MB more and were served at less than half the
/// rate (the bench's `feed` workload).
fn max_connections(driver_url: &str) -> u32 {
    if driver_url.starts_with("sqlite:") {
        let cores = std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
        cores.saturating_mul(2).clamp(4, 8)
    } else {
        16
    }
}

/// What every PostgreSQL connection is given: the statement timeout, READ
/// COMMITTED as its default isolation whatever the server's default (the
/// feed's head row lock relies on it, see `registry/feed.rs`; set once per
/// connection instead of a `SET TRANSACTION` round trip per write), and the
/// password apart from the URL.
fn postgres_options(
    opts: sea_orm::sqlx::postgres::PgConnectOptions,
    password: Option<&str>,
) -> sea_orm::sqlx::postgres::PgConnectOptions {
    let opts = opts.options([
        ("statement_timeout", format!("{}ms", STATEMENT_TIMEOUT.as_millis())),
        ("default_transaction_isolation", "read committed".to_owned()),
    ]);
    match password {
        Some(password) => opts.password(password),
        None => opts,
    }
}

/// A database URL as the driver gets it: without its password, which is
/// handed over apart (sqlx reads it from the user info or from `?password=`,
/// the latter winning), and without secret parameters the driver does not
/// know (sqlx would log their values when it ignores them). A SQLite URL
/// without `mode` gets `mode=rwc`, so that a new file is created as the
/// default URL's is (sqlx would only open an existing one).
struct DriverUrl {
    url: String,
    password: Option<String>,
    /// Secret parameters left out, by name.
    ignored: Vec<String>,
}

impl DriverUrl {
    /// The error names no secret.
    fn parse(url: &str) -> Result<DriverUrl, String> {
        let refuse = |why: &str| format!("{why}: {}", secrets::redact_url(url));
        let mut parsed =
            Url::parse(url).map_err(|error| refuse(&format!("the database URL is not a URL ({error})")))?;
        let secret_parameters: Vec<String> = parsed
            .query()
            .unwrap_or_default()
            .split('&')
            .map(|pair| secrets::parameter_name(pair).into_owned())
            .filter(|name| secrets::is_secret_parameter(name))
            .collect();
        match parsed.scheme() {
            "postgres" | "postgresql" => {}
            "sqlite" if parsed.password().is_none() && secret_parameters.is_empty() => {
                let url = match check::sqlite_mode(url) {
                    Some(_) => url.to_owned(),
                    None if url.contains('?') => format!("{url}&mode=rwc"),
                    None if url.ends_with(":memory:") => url.to_owned(),
                    None => format!("{url}?mode=rwc"),
                };
                return Ok(DriverUrl { url, password: None, ignored: vec![] });
            }
            "sqlite" => return Err(refuse("a SQLite database URL takes no password; remove it")),
            _ => return Err(refuse("the database URL names neither SQLite (sqlite://) nor PostgreSQL (postgres://)")),
        }
        let mut password = parsed
            .password()
            .map(|encoded| percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned());
        if let Some((_, value)) = parsed.query_pairs().filter(|(name, _)| name == "password").last() {
            password = Some(value.into_owned());
        }
        let _ = parsed.set_password(None);
        if let Some(query) = parsed.query() {
            let kept: Vec<&str> =
                query.split('&').filter(|pair| !secrets::is_secret_parameter(&secrets::parameter_name(pair))).collect();
            let kept = kept.join("&");
            parsed.set_query((!kept.is_empty()).then_some(kept.as_str()));
        }
        let ignored = secret_parameters.into_iter().filter(|name| name != "password").collect();
        Ok(DriverUrl { url: parsed.into(), password, ignored })
    }
}

/// `error` as it may be shown: should the driver ever quote the URL or the
/// password, they are replaced by the redacted URL and `***`.
fn scrub(error: DbErr, url: &str, password: Option<&str>) -> DbErr {
    let text = error.to_string();
    let shows_password = password.is_some_and(|password| !password.is_empty() && text.contains(password));
    if !text.contains(url) && !shows_password {
        return error;
    }
    let scrubbed = |text: String| {
        let mut text = text.replace(url, &secrets::redact_url(url));
        if let Some(password) = password.filter(|password| !password.is_empty()) {
            text = text.replace(password, secrets::REDACTED);
        }
        text
    };
    match error {
        DbErr::Conn(inner) => DbErr::Conn(RuntimeErr::Internal(scrubbed(inner.to_string()))),
        other => DbErr::Custom(scrubbed(other.to_string())),
    }
}

/// Applies pending migrations. With none pending it writes nothing (so a
/// read-only database that is up to date passes).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if Migrator::get_pending_migrations_read_only(db).await?.is_empty() {
        return Ok(());
    }
    Migrator::up(db, None).await
}

/// Seeds the national registry if the database is empty; returns whether it seeded.
pub async fn seed(db: &DatabaseConnection) -> Result<bool, DbErr> {
    migration::seed::seed(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_gets_the_password_apart_from_the_url() {
        let parsed = DriverUrl::parse("postgres://registry:hunter%402@db:5432/registry?sslmode=disable").unwrap();
        assert_eq!(parsed.url, "postgres://registry@db:5432/registry?sslmode=disable");
        assert_eq!(parsed.password.as_deref(), Some("hunter@2"));
        // `?password=` wins over the user info, as in sqlx; secret parameters sqlx does not know are left out.
        let parsed = DriverUrl::parse(
            "postgresql://registry:a1@db/registry?password=b%262&Password=c3&sslmode=require&sslpassword=d4",
        )
        .unwrap();
        assert_eq!(parsed.url, "postgresql://registry@db/registry?sslmode=require");
        assert_eq!(parsed.password.as_deref(), Some("b&2"));
        assert_eq!(parsed.ignored, ["Password", "sslpassword"]);
        let parsed = DriverUrl::parse("postgres://db/registry?password=b2").unwrap();
        assert_eq!((parsed.url.as_str(), parsed.password.as_deref()), ("postgres://db/registry", Some("b2")));
        let parsed = DriverUrl::parse("postgres://registry@db/registry").unwrap();
        assert_eq!((parsed.url.as_str(), parsed.password), ("postgres://registry@db/registry", None));
        let parsed = DriverUrl::parse(crate::config::DEFAULT_DATABASE_URL).unwrap();
        assert_eq!((parsed.url.as_str(), parsed.password), (crate::config::DEFAULT_DATABASE_URL, None));
    }

    #[test]
    fn a_sqlite_url_without_a_mode_creates_its_file() {
        for (url, driver) in [
            ("sqlite://registry.sqlite", "sqlite://registry.sqlite?mode=rwc"),
            ("sqlite:///data/registry.sqlite?cache=private", "sqlite:///data/registry.sqlite?cache=private&mode=rwc"),
            ("sqlite://registry.sqlite?mode=ro", "sqlite://registry.sqlite?mode=ro"),
            ("sqlite://registry.sqlite?mode=rw", "sqlite://registry.sqlite?mode=rw"),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(DriverUrl::parse(url).unwrap().url, driver, "{url}");
        }
    }

    #[test]
    fn urls_the_service_cannot_use_are_refused_without_their_password() {
        for url in [
            "sqlite://registry.sqlite?mode=rwc&password=hunter2",
            "sqlite://user:hunter2@registry.sqlite",
            "mysql://user:hunter2@db/registry",
            "user:hunter2@db/registry",
        ] {
            let error = DriverUrl::parse(url).err().unwrap_or_else(|| panic!("{url} is accepted"));
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.contains("***"), "{error}");
        }
    }

    #[test]
    fn a_driver_error_that_quotes_the_url_or_password_is_scrubbed() {
        let url = "postgres://u:hunter2@db/r";
        let quoting = DbErr::Conn(RuntimeErr::Internal(format!("cannot use {url} (password hunter2)")));
        let error = scrub(quoting, url, Some("hunter2"));
        assert_eq!(error.to_string(), "Connection Error: cannot use postgres://u:***@db/r (password ***)");
        let error = scrub(DbErr::Custom("pool timed out".into()), url, Some("hunter2"));
        assert!(matches!(error, DbErr::Custom(_)), "other errors are left as they are");
    }
}
