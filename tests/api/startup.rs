//! Start-up failures a person can act on (issue 12, parts 6 and 8), with the
//! real binary: an unreachable database named by host and port within 5 s,
//! a SQLite path that cannot be written named with the fix, a port in use
//! said before any database work, a read-only database served but not ready
//! (and why), an invalid key or secret, every problem of the configuration
//! listed at once, and `jeugdregio token` refusing what the service would.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::cli::{Server, free_port};
use crate::helpers::{TEST_SECRET, TestDatabase, on_postgres};

/// What the issue asks of an unreachable database.
const WITHIN: Duration = Duration::from_secs(5);

/// The binary with `args` in `dir`, configured by `env` alone (nothing of
/// the environment the tests run in).
fn jeugdregio(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jeugdregio"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("RUST_BACKTRACE", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the binary to its end.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let output = jeugdregio(dir, args, env).output().expect("run jeugdregio");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn an_unreachable_database_is_named_by_host_and_port_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |url: &str| run(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[("DATABASE_URL", url)]);

    // Nothing listens on the port.
    let port = free_port();
    let refused = serve(&format!("postgres://registry:hunter2@127.0.0.1:{port}/registry?sslmode=disable"));
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!("cannot reach the database server 127.0.0.1:{port}: connection refused")),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("Is PostgreSQL running there?"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--database-url (DATABASE_URL)"), "{}", refused.stderr);
    assert!(refused.took < WITHIN, "took {:?}", refused.took);

    // Something accepts the connection and never answers (a server that hangs,
    // or a firewall's black hole after the handshake).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let hangs = serve(&format!("postgres://registry:hunter2@127.0.0.1:{port}/registry?sslmode=disable"));
    assert_eq!(hangs.code, Some(1), "{}", hangs.stderr);
    assert!(
        hangs.stderr.contains(&format!("the database server 127.0.0.1:{port} did not answer within 3 s")),
        "{}",
        hangs.stderr
    );
    assert!(hangs.took < WITHIN, "took {:?}", hangs.took);
    drop(silent);

    // An address no one answers for (what happens there depends on the
    // network: a timeout, "unreachable", or a proxy's reply), named all the same.
    let unroutable = serve("postgres://registry:hunter2@10.255.255.1:5432/registry");
    assert_eq!(unroutable.code, Some(1), "{}", unroutable.stderr);
    assert!(unroutable.stderr.contains("10.255.255.1:5432"), "{}", unroutable.stderr);
    assert!(unroutable.took < WITHIN, "took {:?}", unroutable.took);

    for run in [&refused, &hangs, &unroutable] {
        assert!(!run.stderr.contains("hunter2"), "the password is shown: {}", run.stderr);
        assert!(run.stderr.contains("registry:***@"), "the URL is shown redacted: {}", run.stderr);
    }
}

#[test]
fn a_sqlite_path_that_cannot_be_written_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = |url: &str| run(dir.path(), &["migrate"], &[("DATABASE_URL", url)]);

    let missing = dir.path().join("no-such-directory");
    let file = missing.join("registry.sqlite");
    let run = migrate(&format!("sqlite://{}?mode=rwc", file.display()));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "DATABASE_URL (--database-url): the directory {} of the SQLite file {} does not exist: create it (mkdir -p {0})",
            missing.display(),
            file.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!file.exists());

    // `?mode=rw` does not create the file: said, with the parameter that does.
    let absent = dir.path().join("absent.sqlite");
    let run = migrate(&format!("sqlite://{}?mode=rw", absent.display()));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("the SQLite file {} does not exist", absent.display())), "{}", run.stderr);
    assert!(run.stderr.contains("use `?mode=rwc` to have it created"), "{}", run.stderr);

    // A URL without `mode` creates its file, as the default one does (it used
    // to fail with the driver's bare "unable to open database file").
    let new = dir.path().join("new.sqlite");
    let run = migrate(&format!("sqlite://{}", new.display()));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(new.exists());

    // A directory this user may not write in: SQLite keeps its journal beside the file.
    // (root may write anywhere, so this part needs another user.)
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let run = migrate(&format!("sqlite://{}/registry.sqlite", locked.display()));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("this user may not create files in {}", locked.display())),
            "{}",
            run.stderr
        );
    }
}

/// The port is taken before the database is touched: a port in use is said
/// at once, and no database file is created, migrated or seeded.
#[tokio::test]
async fn a_port_in_use_is_said_before_any_database_work() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jeugdregio.sqlite");
    let database = on_postgres().then(TestDatabase::empty);
    let url = match &database {
        Some(database) => database.url.clone(),
        None => format!("sqlite://{}?mode=rwc", file.display()),
    };
    let run = run(dir.path(), &["serve", "--listen", &address], &[("DATABASE_URL", &url)]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("address {address} is in use")),
        "the message names the address: {}",
        run.stderr
    );
    assert!(run.stderr.contains("--listen or JEUGDREGIO_LISTEN"), "and how to change it: {}", run.stderr);
    assert!(!run.stderr.contains("opening the registry"), "the database was opened first: {}", run.stderr);
    assert!(!run.stderr.to_lowercase().contains("migration"), "{}", run.stderr);
    match &database {
        None => assert!(!file.exists(), "the SQLite file was created before the port was checked"),
        Some(database) => {
            let db = Database::connect(database.url.as_str()).await.unwrap();
            let tables = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                ))
                .await
                .unwrap();
            assert!(tables.is_empty(), "the database was migrated before the port was checked");
        }
    }
}

#[test]
fn every_configuration_problem_is_listed_at_once_before_anything_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &["serve", "--listen", "localhost:eighty", "--jwt-public-key", "missing.pem", "--execution-timeout", "0s"],
        &[
            ("JEUGDREGIO_JWT_SECRET", "hunter2-too-short"),
            ("JEUGDREGIO_MAX_IN_FLIGHT", "0"),
            ("JEUGDREGIO_CACHE_MAX_AGE", "half a minute"),
            ("DATABASE_URL", "sqlite://no-such-directory/registry.sqlite"),
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let problems: Vec<&str> = run.stderr.lines().filter(|line| line.starts_with("  - ")).collect();
    assert!(
        run.stderr.starts_with(
            "error: `jeugdregio serve` cannot run: 8 problems in its configuration (command line and environment):\n"
        ),
        "{}",
        run.stderr
    );
    let cwd = dir.path().canonicalize().unwrap();
    for expected in [
        "  - --listen \"localhost:eighty\": invalid socket address syntax",
        "  - DATABASE_URL (--database-url): the directory ",
        "  - JEUGDREGIO_JWT_SECRET (--jwt-secret): the JWT secret must be at least 32 bytes; this one has 17",
        "  - --jwt-public-key \"missing.pem\": cannot read the public key file ",
        "  - JEUGDREGIO_CACHE_MAX_AGE=\"half a minute\" (--cache-max-age): not a duration such as 10s, 5m or 1h",
        "  - --execution-timeout \"0s\": must be longer than 0 s",
        "  - JEUGDREGIO_MAX_IN_FLIGHT=\"0\" (--max-in-flight): must be at least 1",
    ] {
        assert_eq!(problems.iter().filter(|line| line.starts_with(expected)).count(), 1, "{expected}:\n{}", run.stderr);
    }
    assert_eq!(problems.len(), 8, "and that the secret and the key exclude each other:\n{}", run.stderr);
    assert!(run.stderr.contains(
        "--jwt-secret (JEUGDREGIO_JWT_SECRET) and --jwt-public-key (JEUGDREGIO_JWT_PUBLIC_KEY) exclude each other"
    ));
    assert!(
        run.stderr.contains(&format!("of the SQLite file {}", cwd.join("no-such-directory/registry.sqlite").display()))
            || run.stderr.contains(&format!(
                "of the SQLite file {}",
                dir.path().join("no-such-directory/registry.sqlite").display()
            )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "a secret is shown: {}", run.stderr);
    // Nothing was started: no log line, no file.
    assert!(!run.stderr.contains("INFO") && !run.stderr.contains("WARN"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_invalid_key_or_secret_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/registry.sqlite", dir.path().display());
    let serve = |env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(("DATABASE_URL", &url));
        run(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &env)
    };
    let only_problem = |run: &Run, expected: &str| {
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("cannot run: a problem in its configuration"), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
        assert!(!dir.path().join("registry.sqlite").exists(), "the database was opened");
    };
    let short = serve(&[("JEUGDREGIO_JWT_SECRET", "0123456789abcdef0123456789abcde")]);
    only_problem(
        &short,
        "JEUGDREGIO_JWT_SECRET (--jwt-secret): the JWT secret must be at least 32 bytes; this one has 31",
    );
    assert!(!short.stderr.contains("0123456789abcdef"), "{}", short.stderr);

    let unreadable = dir.path().join("missing.pem");
    let run = serve(&[("JEUGDREGIO_JWT_PUBLIC_KEY", unreadable.to_str().unwrap())]);
    only_problem(&run, &format!("cannot read the public key file {}: No such file or directory", unreadable.display()));

    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n").unwrap();
    let run = serve(&[("JEUGDREGIO_JWT_PUBLIC_KEY", not_a_key.to_str().unwrap())]);
    only_problem(
        &run,
        &format!(
            "the file {} cannot be used: it is neither an RSA nor an Ed25519 public key in PEM form",
            not_a_key.display()
        ),
    );
    std::fs::remove_file(&not_a_key).unwrap();
}

/// The first response of `/readyz` of a service that is starting.
async fn readyz(client: &reqwest::Client, port: u16) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            return (status, serde_json::from_str(&body).unwrap_or(Value::String(body)));
        }
        assert!(Instant::now() < deadline, "jeugdregio serve did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `jeugdregio serve` on `url`; its log is `serve.log` in `dir`.
fn serve(dir: &Path, url: &str) -> (Server, u16) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = jeugdregio(dir, &["serve", "--listen", &format!("127.0.0.1:{port}")], &[("DATABASE_URL", url)])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start jeugdregio serve");
    (Server(child), port)
}

async fn regions(client: &reqwest::Client, port: u16) -> Value {
    let body = crate::helpers::post_query(client, port, "{ regions { totalCount } }").await;
    body["data"]["regions"]["totalCount"].clone()
}

/// A database that can be read but not written: the service starts, answers
/// reads, and `/readyz` says 503 with the reason, as does a log line. (It
/// does not refuse to start: a read replica may one day be served on purpose.)
#[tokio::test]
async fn a_read_only_database_is_served_but_not_ready_and_says_why() {
    let database = TestDatabase::fresh();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (url, expected, reader) = if on_postgres() {
        // A user who may read everything and write nothing.
        let role = format!("jeugdregio_reader_{}", std::process::id());
        let db = Database::connect(database.url.as_str()).await.unwrap();
        for statement in [
            format!("CREATE ROLE {role} LOGIN"),
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
        ] {
            db.execute_unprepared(&statement).await.unwrap();
        }
        let mut url = url::Url::parse(&database.url).unwrap();
        url.set_username(&role).unwrap();
        (url.to_string(), "the database user may not write (permission denied for table feed_head)", Some((db, role)))
    } else if is_root() {
        // root may write a file whatever its mode, so the URL asks for reading only.
        (database.url.replace("mode=rwc", "mode=ro"), "SQLite can only read the file", None)
    } else {
        use std::os::unix::fs::PermissionsExt;
        let file = database.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        (database.url.clone(), "SQLite can only read the file", None)
    };
    let (server, port) = serve(dir.path(), &url);
    let (status, body) = readyz(&client, port).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("not ready: the database can be read but not written: "), "{body}");
    assert!(detail.contains(expected), "{body}");
    assert_eq!(regions(&client, port).await, 42, "reads are served");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    let line = log.lines().find(|line| line.contains("the database can be read but not written")).unwrap_or_default();
    assert!(line.contains("WARN") && line.contains(expected), "{log}");

    if let Some((db, role)) = reader {
        // Rights granted: ready at the next look, without a restart.
        db.execute_unprepared(&format!("GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
            .await
            .unwrap();
        let (status, body) = readyz(&client, port).await;
        assert_eq!(status, 200, "{body}");
        drop(server);
        db.execute_unprepared(&format!("DROP OWNED BY {role}")).await.unwrap();
        db.execute_unprepared(&format!("DROP ROLE {role}")).await.unwrap();
    }
}

/// A read replica that has not been migrated or seeded cannot be served:
/// the service refuses to start and says what to do.
#[tokio::test]
async fn a_read_only_database_that_needs_writing_refuses_to_start() {
    let database = TestDatabase::empty();
    let dir = tempfile::tempdir().unwrap();
    let file = Path::new(database.url.trim_start_matches("sqlite://").split('?').next().unwrap()).to_owned();
    let url = if on_postgres() {
        let db = Database::connect(database.url.as_str()).await.unwrap();
        let name = url::Url::parse(&database.url).unwrap().path().trim_start_matches('/').to_owned();
        db.execute_unprepared(&format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"))
            .await
            .unwrap();
        database.url.clone()
    } else {
        std::fs::write(&file, b"").unwrap();
        database.url.replace("mode=rwc", "mode=ro")
    };
    let run = run(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[("DATABASE_URL", &url)]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // On SQLite the file cannot even be opened: a new database is put in WAL mode first.
    let failed = match on_postgres() {
        true => "migrating the database failed: the database can be read but not written (".to_owned(),
        false => format!("cannot open the SQLite file {}: the database can be read but not written (", file.display()),
    };
    assert!(run.stderr.contains(&failed), "{}", run.stderr);
    assert!(run.stderr.contains("with a database URL that may write"), "{}", run.stderr);
    let reason = if on_postgres() { "PostgreSQL allows only reads here" } else { "SQLite can only read the file" };
    assert!(run.stderr.contains(reason), "{}", run.stderr);
}

#[test]
fn the_token_command_refuses_what_the_service_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let token = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["token"];
        all.extend_from_slice(args);
        let run = run(dir.path(), &all, env);
        assert_ne!(run.code, Some(0), "{args:?} printed a token: {}", run.stdout);
        assert_eq!(run.stdout, "", "{args:?}: no token is printed");
        run.stderr
    };
    let secret = [("JEUGDREGIO_JWT_SECRET", TEST_SECRET)];

    let stderr = token(&["--admin"], &[("JEUGDREGIO_JWT_SECRET", "too-short")]);
    assert!(stderr.contains("the JWT secret must be at least 32 bytes; this one has 9"), "{stderr}");
    for code in ["GM77", "gm0772", "GM07720", "JZ39", "0772"] {
        let stderr = token(&["--municipality", code], &secret);
        assert!(
            stderr.contains(&format!(
                "{code:?} is not a CBS municipality code (GM followed by four digits, e.g. GM0772)"
            )),
            "{stderr}"
        );
    }
    for ttl in ["0s", "0"] {
        let stderr = token(&["--admin", "--ttl", ttl], &secret);
        assert!(stderr.contains(&format!("--ttl \"{ttl}\": must be longer than 0 s")), "{stderr}");
    }
    let stderr = token(&["--admin", "--ttl", "500ms"], &secret);
    assert!(stderr.contains("--ttl \"500ms\": must be at least 1 s"), "{stderr}");
    let stderr = token(&["--admin", "--ttl", "-1h"], &secret);
    assert!(stderr.contains("--ttl \"-1h\": a token's lifetime must be positive"), "{stderr}");
    let stderr = token(&["--admin", "--ttl", "soon"], &secret);
    assert!(stderr.contains("--ttl \"soon\": not a duration"), "{stderr}");
    // Scopes: the service knows one, which `--admin` gives; there is no other to ask for.
    let stderr = token(&["--admin", "--scope", "registry:write"], &secret);
    assert!(stderr.contains("unexpected argument '--scope'"), "{stderr}");
    let stderr = token(&["--municipality", "GM0772", "--admin"], &secret);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let stderr = token(&["--admin", "--jwt-public-key", "key.pem"], &secret);
    assert!(stderr.contains("exclude each other"), "{stderr}");
    // All at once.
    let stderr = token(&["--municipality", "GM77", "--ttl", "0s"], &[("JEUGDREGIO_JWT_SECRET", "too-short")]);
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(!stderr.contains("too-short"), "the secret is shown: {stderr}");

    // What it does print, the service accepts (tests/api/cli.rs checks the claims).
    let run = run(dir.path(), &["token", "--municipality", "GM0772", "--ttl", "1m"], &secret);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.trim().split('.').count(), 3, "{}", run.stdout);
}
