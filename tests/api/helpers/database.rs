//! Databases: one seeded template per run, a copy per test.
//!
//! The first test that needs a database has the template built; the others
//! wait for it. Each test runs on a tokio runtime of its own, and a connection
//! pool dies with the runtime it was made in, so the template is built on a
//! thread with a runtime of its own.
//!
//! SQLite: the template is one file, closed so that its WAL is checkpointed
//! into it; a test copies the file.
//!
//! PostgreSQL: `CREATE DATABASE … TEMPLATE` copies the template, which no one
//! may be connected to. A copy still costs the server about half a second (it
//! writes and syncs the system catalogs too), so one thread makes the copies,
//! one at a time and one ahead of the tests, and a test's copy is dropped in
//! the background when the test ends.
//!
//! Names carry the process id. When the process exits, its template and copies
//! are removed; what a crashed run left is removed by the next run, once no
//! process with that id runs (this assumes that the PostgreSQL test server
//! serves test runs of this machine only).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Mutex, OnceLock};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// True when the tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// The PostgreSQL server database named by `JEUGDREGIO_TEST_DATABASE_URL`, if any.
fn postgres_server() -> Option<String> {
    std::env::var("JEUGDREGIO_TEST_DATABASE_URL").ok().filter(|url| url.starts_with("postgres"))
}

/// The URL of database `name` on the server of `server_url`, with the same options.
fn postgres_database_url(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("JEUGDREGIO_TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.into()
}

/// A test's own database; dropped (PostgreSQL) or deleted (SQLite) with it.
pub struct TestDatabase {
    pub url: String,
    kind: DatabaseKind,
}

enum DatabaseKind {
    /// On a server the test runs itself; it goes with that server.
    Elsewhere,
    /// Deleted with the directory.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        server_url: String,
        name: String,
    },
}

/// Where fresh databases come from.
enum Source {
    /// The seeded template file.
    Sqlite(PathBuf),
    /// Names of fresh copies of the template, from the copier thread.
    Postgres { server_url: String, copies: Mutex<Receiver<Result<String, String>>> },
}

static SOURCE: OnceLock<Source> = OnceLock::new();

fn source() -> &'static Source {
    SOURCE.get_or_init(|| {
        let source = match postgres_server() {
            Some(server_url) => {
                Source::Postgres { copies: Mutex::new(postgres_copier(server_url.clone())), server_url }
            }
            // On a thread of its own: no runtime can start inside the test's.
            None => Source::Sqlite(std::thread::spawn(sqlite_template).join().expect("the SQLite template")),
        };
        // SAFETY: `remove_at_exit` is an `extern "C" fn()` that does not unwind
        // (it catches panics) and only reads `SOURCE`, a static.
        unsafe { libc::atexit(remove_at_exit) };
        source
    })
}

impl TestDatabase {
    /// A copy of the seeded template.
    pub fn fresh() -> TestDatabase {
        match source() {
            Source::Sqlite(template) => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let copy = dir.path().join("jeugdregio.sqlite");
                std::fs::copy(template, &copy).expect("copy the template database");
                TestDatabase { url: sqlite_url(&copy), kind: DatabaseKind::Sqlite { _dir: dir } }
            }
            Source::Postgres { server_url, copies } => {
                let next = copies.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                let name = match next {
                    Ok(Ok(name)) => name,
                    Ok(Err(error)) => panic!("the PostgreSQL template: {error}"),
                    Err(_) => panic!("no more copies of the PostgreSQL template: see the first failed test"),
                };
                let url = postgres_database_url(server_url, &name);
                TestDatabase { url, kind: DatabaseKind::Postgres { server_url: server_url.clone(), name } }
            }
        }
    }
}

impl TestDatabase {
    /// The database at `url`, on a server the test runs and removes itself.
    pub fn elsewhere(url: String) -> TestDatabase {
        TestDatabase { url, kind: DatabaseKind::Elsewhere }
    }

    /// A database with nothing in it yet (for tests of seeding).
    pub fn empty() -> TestDatabase {
        static EMPTY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        match postgres_server() {
            None => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = sqlite_url(&dir.path().join("jeugdregio.sqlite"));
                TestDatabase { url, kind: DatabaseKind::Sqlite { _dir: dir } }
            }
            Some(server_url) => {
                let n = EMPTY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let name = format!("jeugdregio_empty_{}_{n}", std::process::id());
                let create = (server_url.clone(), name.clone());
                std::thread::spawn(move || {
                    block_on(async move {
                        let admin = Database::connect(create.0.as_str()).await.expect("the PostgreSQL test server");
                        admin.execute_unprepared(&format!("CREATE DATABASE \"{}\"", create.1)).await
                    })
                })
                .join()
                .expect("create an empty database")
                .expect("create an empty database");
                let url = postgres_database_url(&server_url, &name);
                TestDatabase { url, kind: DatabaseKind::Postgres { server_url, name } }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let DatabaseKind::Postgres { server_url, name } = &self.kind {
            let (server_url, names) = (server_url.clone(), vec![name.clone()]);
            // In the background: dropping takes a while; what is still there at exit is dropped then.
            std::thread::spawn(move || {
                block_on(async move {
                    if let Ok(admin) = Database::connect(server_url.as_str()).await {
                        drop_databases(&admin, &names).await;
                    }
                })
            });
        }
    }
}

/// Runs `future` to completion on the current thread with a runtime of its own.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// Migrates and seeds the new database at `url` through the library.
async fn migrate_and_seed(url: &str) -> Result<DatabaseConnection, DbErr> {
    let (connection, _) = jeugdregio::db::connect(url).await?;
    jeugdregio::db::migrate(&connection).await?;
    match jeugdregio::db::seed(&connection).await? {
        true => Ok(connection),
        false => Err(DbErr::Custom(format!("{url} was seeded before"))),
    }
}

/// Builds the SQLite template under the target directory; returns its file.
fn sqlite_template() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).expect("the target's tmp directory");
    let pid = std::process::id();
    for entry in std::fs::read_dir(dir).expect("the target's tmp directory").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("jeugdregio-template-") && owner(&name).is_some_and(|owner| owner == pid || ended(owner)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let file = dir.join(format!("jeugdregio-template-{pid}.sqlite"));
    block_on(async {
        let connection = migrate_and_seed(&sqlite_url(&file)).await.expect("migrate and seed the template");
        connection.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.expect("checkpoint the WAL");
        connection.close().await.expect("close the template");
    });
    let wal = std::fs::metadata(file.with_extension("sqlite-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal, 0, "the template's WAL is checkpointed, so the file alone holds the registry");
    file
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

/// Starts the thread that builds the PostgreSQL template and then copies it,
/// keeping one copy ready; receives the copies' names.
fn postgres_copier(server_url: String) -> Receiver<Result<String, String>> {
    let (ready, copies) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        block_on(async {
            if let Err(error) = make_copies(&server_url, &ready).await {
                let _ = ready.send(Err(error.to_string()));
            }
        })
    });
    copies
}

async fn make_copies(server_url: &str, ready: &SyncSender<Result<String, String>>) -> Result<(), DbErr> {
    let admin = Database::connect(server_url).await?;
    let pid = std::process::id();
    // This run's empty databases may exist already: a test made one before the first copy.
    let leftovers: Vec<String> = test_databases(&admin, |owner| owner == pid || ended(owner))
        .await?
        .into_iter()
        .filter(|name| !(name.starts_with("jeugdregio_empty_") && owner(name) == Some(pid)))
        .collect();
    drop_databases(&admin, &leftovers).await;
    let template = format!("jeugdregio_tmpl_{pid}");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{template}\"")).await?;
    migrate_and_seed(&postgres_database_url(server_url, &template)).await?.close().await?;
    // From now on no one can connect to the template: a connection would make copying fail.
    admin.execute_unprepared(&format!("ALTER DATABASE \"{template}\" WITH ALLOW_CONNECTIONS false")).await?;
    for n in 0.. {
        let copy = format!("jeugdregio_test_{pid}_{n}");
        {
            let stopped = COPYING.lock().await;
            if *stopped {
                break;
            }
            admin.execute_unprepared(&format!("CREATE DATABASE \"{copy}\" TEMPLATE \"{template}\"")).await?;
        }
        if ready.send(Ok(copy)).is_err() {
            break;
        }
    }
    Ok(())
}

/// Held while a copy is made; true once the process exits, so that no copy
/// is made after the exit has listed what to drop.
static COPYING: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);

/// The templates and copies on the server whose process id passes `whose`.
async fn test_databases(admin: &DatabaseConnection, whose: impl Fn(u32) -> bool) -> Result<Vec<String>, DbErr> {
    let sql = r"SELECT datname FROM pg_database WHERE datname LIKE 'jeugdregio\_tmpl\_%' OR datname LIKE 'jeugdregio\_test\_%' OR datname LIKE 'jeugdregio\_empty\_%'";
    let rows = admin.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    let names = rows.iter().filter_map(|row| row.try_get::<String>("", "datname").ok());
    Ok(names.filter(|name| owner(name).is_some_and(&whose)).collect())
}

async fn drop_databases(admin: &DatabaseConnection, names: &[String]) {
    let drops = names.iter().map(|name| async move {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    });
    futures::future::join_all(drops).await;
}

/// The process id in a name: `jeugdregio_test_<pid>_3`, `jeugdregio_empty_<pid>_0`, `jeugdregio-template-<pid>.sqlite`.
fn owner(name: &str) -> Option<u32> {
    name.split(['_', '-', '.']).find_map(|part| part.parse().ok())
}

/// Whether process `pid` has ended; only where `/proc` tells, elsewhere no process is taken for ended.
fn ended(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes this process's template (and, on PostgreSQL, the copies still there)
/// when the test binary exits: statics are never dropped.
extern "C" fn remove_at_exit() {
    let _ = std::panic::catch_unwind(|| match SOURCE.get() {
        Some(Source::Sqlite(file)) => {
            let _ = std::fs::remove_file(file);
        }
        Some(Source::Postgres { server_url, .. }) => {
            *COPYING.blocking_lock() = true;
            let server_url = server_url.clone();
            let pid = std::process::id();
            let _ = std::thread::spawn(move || {
                block_on(async {
                    if let Ok(admin) = Database::connect(server_url.as_str()).await
                        && let Ok(ours) = test_databases(&admin, |owner| owner == pid).await
                    {
                        drop_databases(&admin, &ours).await;
                    }
                })
            })
            .join();
        }
        None => {}
    });
}
