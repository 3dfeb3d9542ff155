//! What can be told about a database before and while connecting, in words a
//! person can act on: a SQLite file that cannot be kept where the URL says, a
//! PostgreSQL server that cannot be reached (named by host and port, never
//! with the password), and a database that can be read but not written.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{ConnectOptions, Connection};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, RuntimeErr};

use super::DriverUrl;
use crate::secrets::redact_url;

/// How long the first connection to PostgreSQL may take, name lookup, TLS
/// and login included. It is made once and alone (the pool would retry a
/// refused connection until its own timeout and then say only "pool timed
/// out"), so that the start-up error says what went wrong, well within 5 s.
pub const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the service can use `url`, checked without connecting: its form
/// (see [`DriverUrl`]) and, for SQLite, that the file can be kept where the
/// URL says. The error names no secret.
pub fn check_url(url: &str) -> Result<(), String> {
    let driver = DriverUrl::parse(url)?;
    if driver.url.starts_with("sqlite:") {
        check_sqlite_file(&driver.url)?;
    }
    Ok(())
}

/// A SQLite URL's `mode` parameter, if it has one.
pub(super) fn sqlite_mode(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes()).filter(|(name, _)| name == "mode").map(|(_, v)| v.into_owned()).last()
}

/// The file a SQLite URL names, as an absolute path; `None` in memory.
fn sqlite_file(driver_url: &str) -> Result<Option<PathBuf>, String> {
    let options = SqliteConnectOptions::from_str(driver_url)
        .map_err(|error| format!("the SQLite URL {} cannot be used: {error}", redact_url(driver_url)))?;
    let file = options.get_filename();
    if sqlite_mode(driver_url).as_deref() == Some("memory") || file.to_string_lossy().starts_with("file:sqlx-in-memory")
    {
        return Ok(None);
    }
    Ok(Some(std::path::absolute(file).unwrap_or_else(|_| file.to_owned())))
}

fn directory_of(file: &Path) -> &Path {
    file.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn check_sqlite_file(driver_url: &str) -> Result<(), String> {
    let Some(file) = sqlite_file(driver_url)? else { return Ok(()) };
    let (shown, dir) = (file.display(), directory_of(&file));
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(format!("{} is not a directory, so the SQLite file {shown} cannot be there", dir.display()));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "the directory {} of the SQLite file {shown} does not exist: create it (mkdir -p {0}) or name a file in an existing directory",
                dir.display()
            ));
        }
        Err(error) => return Err(format!("cannot look into the directory of the SQLite file {shown}: {error}")),
    }
    let mode = sqlite_mode(driver_url).unwrap_or_default();
    match std::fs::metadata(&file) {
        Ok(meta) if meta.is_dir() => return Err(format!("{shown} is a directory, not a SQLite file")),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && mode != "rwc" => {
            return Err(format!(
                "the SQLite file {shown} does not exist, and `?mode={mode}` does not create it: fix the path, or use `?mode=rwc` to have it created"
            ));
        }
        Err(_) => {}
    }
    // In WAL mode SQLite keeps two files beside the database (-wal, -shm), so
    // it must be able to create files in the directory, even to open it.
    if mode != "ro" && !may_write(dir) {
        return Err(format!(
            "this user may not create files in {}, where the SQLite file {shown} and its journal files ({}-wal, -shm) are kept: make the directory writable for this user (chmod, chown) or choose another one",
            dir.display(),
            file.file_name().unwrap_or_default().to_string_lossy()
        ));
    }
    Ok(())
}

/// Whether this process may create files in `dir` (access(2): owner, group,
/// ACLs, a read-only file system; root may everywhere but the last).
#[cfg(unix)]
fn may_write(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK).is_ok()
}

#[cfg(not(unix))]
fn may_write(_dir: &Path) -> bool {
    true
}

/// Where a PostgreSQL server is, for messages: `host:port` or the socket.
fn server_of(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => format!("the socket {}", socket.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// Makes one connection to PostgreSQL, within [`FIRST_CONNECT_TIMEOUT`], and
/// says what went wrong if it fails.
pub(super) async fn first_connection(options: PgConnectOptions, url: &str) -> Result<(), String> {
    let server = server_of(&options);
    let shown = redact_url(url);
    let fix = "Check the host and port of --database-url (DATABASE_URL)";
    let error = match tokio::time::timeout(FIRST_CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Err(_) => {
            return Err(format!(
                "the database server {server} did not answer within {} s ({shown}). {fix}, that the server runs, and that no firewall drops the connection.",
                FIRST_CONNECT_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(error)) => error,
    };
    use sea_orm::sqlx::Error as Sqlx;
    Err(match &error {
        Sqlx::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot reach the database server {server}: connection refused ({shown}). Is PostgreSQL running there? {fix}."
        ),
        Sqlx::Io(io) => format!("cannot reach the database server {server}: {io} ({shown}). {fix}."),
        Sqlx::Tls(tls) => format!(
            "the TLS connection to the database server {server} failed: {tls} ({shown}). Check `sslmode` (`?sslmode=disable` for a server without TLS)."
        ),
        Sqlx::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => format!(
                "the database server {server} refused the login of user {:?}: {} ({shown}). Check the user and password.",
                options.get_username(),
                db.message()
            ),
            Some("3D000") => format!(
                "the database {:?} does not exist on the server {server} ({shown}). Create it (createdb) or fix the name in the URL.",
                options.get_database().unwrap_or_default()
            ),
            _ => format!("the database server {server} refused the connection: {} ({shown})", db.message()),
        },
        Sqlx::Protocol(_) | Sqlx::Decode(_) => format!(
            "the server at {server} does not answer as PostgreSQL does ({error}; {shown}). Is this the PostgreSQL port? {fix}."
        ),
        _ => format!("cannot connect to the database server {server}: {error} ({shown})"),
    })
}

/// A failed connect of the pool, said for a person: for SQLite, which file
/// could not be opened and what to do; otherwise the error with the URL.
pub(super) fn explain_connect_error(error: DbErr, driver_url: &str, url: &str) -> DbErr {
    let shown = redact_url(url);
    let message = match (sqlite_code(&error), sqlite_file(driver_url)) {
        // SQLITE_READONLY_DIRECTORY: cannot create the journal beside the file.
        (Some(1544), Ok(Some(file))) => format!(
            "SQLite cannot create its journal files beside {} because this user may not write in {}: make the directory writable for this user",
            file.display(),
            directory_of(&file).display()
        ),
        // SQLITE_READONLY: a file that is not yet in WAL mode cannot be put in it.
        (Some(code), Ok(Some(file))) if code & 0xff == 8 => format!(
            "cannot open the SQLite file {}: the database can be read but not written ({}), and it must be written before it is served (its journal mode, migrations): run `jeugdregio migrate` once with a database URL that may write",
            file.display(),
            read_only_reason(&error).unwrap_or_default()
        ),
        // SQLITE_CANTOPEN and its extended codes.
        (Some(code), Ok(Some(file))) if code & 0xff == 14 => format!(
            "cannot open the SQLite file {}: {error}: check that its directory exists and that this user may read and write the file and the directory (`?mode=rwc` creates the file, `?mode=ro` only reads it)",
            file.display()
        ),
        _ => format!("cannot connect to the database {shown}: {error}"),
    };
    DbErr::Conn(RuntimeErr::Internal(message))
}

/// SQLite's extended result code of `error`, if it is one.
fn sqlite_code(error: &DbErr) -> Option<u32> {
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    match e.as_ref() {
        sea_orm::sqlx::Error::Database(db) if db.code().is_some_and(|c| c.len() < 5) => db.code()?.parse().ok(),
        _ => None,
    }
}

/// Why `error` happened because the database may be read but not written,
/// if it did: a PostgreSQL read replica or read-only transaction (25006), a
/// user without the right to write (42501), a SQLite file opened read-only.
pub fn read_only_reason(error: &DbErr) -> Option<String> {
    let sea_orm::sqlx::Error::Database(db) = super::driver_error(error)? else { return None };
    let message = db.message();
    match db.code().as_deref()? {
        "25006" => Some(format!(
            "PostgreSQL allows only reads here ({message}): a read replica, or default_transaction_read_only is on; point the service at the primary"
        )),
        "42501" => Some(format!("the database user may not write ({message}); grant it the right to write")),
        code if code.len() < 5 && code.parse::<u32>().is_ok_and(|code| code & 0xff == 8) => Some(format!(
            "SQLite can only read the file ({message}): the URL says `?mode=ro`, or the file is not writable for this user; make it writable and restart"
        )),
        _ => None,
    }
}

/// Why the database cannot be written, if it cannot; `Err` if the question
/// could not be asked. Every write updates the feed head, so this asks for
/// that, changing nothing: `UPDATE … WHERE 1 = 0` needs the same rights.
pub async fn why_read_only(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    match db.execute_unprepared("UPDATE feed_head SET position = position WHERE 1 = 0").await {
        Ok(_) => Ok(None),
        Err(error) => read_only_reason(&error).map(Some).ok_or(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_file_must_be_kept_where_it_can_be() {
        let dir = tempfile::tempdir().unwrap();
        let url = |path: &Path, query: &str| format!("sqlite://{}{query}", path.display());
        assert_eq!(check_url(&url(&dir.path().join("new.sqlite"), "")), Ok(()), "created with mode=rwc when absent");
        assert_eq!(check_url(&url(&dir.path().join("new.sqlite"), "?mode=rwc")), Ok(()));
        let missing = dir.path().join("missing").join("registry.sqlite");
        let error = check_url(&url(&missing, "?mode=rwc")).unwrap_err();
        assert!(error.contains(&format!("the directory {} of the SQLite file", dir.path().join("missing").display())));
        assert!(error.contains("mkdir -p"), "{error}");
        let error = check_url(&url(&dir.path().join("new.sqlite"), "?mode=rw")).unwrap_err();
        assert!(error.contains("does not exist, and `?mode=rw` does not create it"), "{error}");
        let error = check_url(&url(dir.path(), "")).unwrap_err();
        assert!(error.contains("is a directory, not a SQLite file"), "{error}");
        assert_eq!(check_url("sqlite::memory:"), Ok(()));
        assert!(check_url("sqlite://x.sqlite?mode=rwc&color=blue").unwrap_err().contains("color"));
    }
}
