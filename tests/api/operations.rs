//! Running the service (issue 12, part 7): no password or token in its log,
//! a refused token logged (without it) and counted on `/metrics`, and on
//! SQLite no warning per write and writes that wait for another process's
//! write lock instead of failing. The tests that read the log run the real
//! binary: its stderr is the log.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::{Server, free_port, wait_ready};
use crate::helpers::{TEST_SECRET, TestApp, TestDatabase, bad_authorizations, on_postgres, operator_token, post_query};
use crate::observability::Exposition;

/// `jeugdregio serve` on `database_url` with `RUST_LOG=rust_log`, verifying
/// tokens with [`TEST_SECRET`]; its log is a file in `dir`.
fn serve(dir: &tempfile::TempDir, database_url: &str, rust_log: &str) -> (Server, u16, PathBuf) {
    serve_with(dir, database_url, rust_log, &[])
}

/// [`serve`] with more arguments.
pub(crate) fn serve_with(
    dir: &tempfile::TempDir,
    database_url: &str,
    rust_log: &str,
    args: &[&str],
) -> (Server, u16, PathBuf) {
    let port = free_port();
    let log = dir.path().join(format!("serve-{port}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", rust_log)
        .env("JEUGDREGIO_JWT_SECRET", TEST_SECRET)
        .env_remove("JEUGDREGIO_JWT_PUBLIC_KEY")
        .env_remove("JEUGDREGIO_JWT_ISSUER")
        .env_remove("JEUGDREGIO_JWT_AUDIENCE")
        .env_remove("JEUGDREGIO_LISTEN")
        .env_remove("JEUGDREGIO_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start jeugdregio serve");
    (Server(child), port, log)
}

pub(crate) fn read_log(log: &std::path::Path) -> String {
    std::fs::read_to_string(log).unwrap()
}

/// The secrets [`with_secrets`] puts into a database URL.
const SECRETS: [&str; 4] = ["userinfo-S3cret", "query-S3cret", "casevariant-S3cret", "sslpassword-S3cret"];

/// `url` with a password in its user info, in `?password=`, in `?Password=`
/// (which the driver does not know) and in `?sslpassword=`.
fn with_secrets(url: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_password(Some(SECRETS[0])).unwrap();
    url.query_pairs_mut()
        .append_pair("password", SECRETS[1])
        .append_pair("Password", SECRETS[2])
        .append_pair("sslpassword", SECRETS[3]);
    url.into()
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

/// The database the service cannot reach: the password must stay out of
/// `--help`, of every log line (at trace level, where sea-orm's spans show
/// its connect options) and of the error it stops with.
#[test]
fn a_database_password_reaches_neither_help_nor_log_nor_error() {
    let port = free_port(); // free, so nothing listens there
    let url = with_secrets(&format!("postgres://registry@127.0.0.1:{port}/registry?sslmode=disable"));
    let help = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--help"])
        .env("DATABASE_URL", &url)
        .env("JEUGDREGIO_JWT_SECRET", TEST_SECRET)
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert_no_secret("serve --help", &help);
    assert!(!help.contains(TEST_SECRET), "serve --help shows the JWT secret:\n{help}");

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success(), "the service started without its database");
    assert!(started.elapsed() < Duration::from_secs(60));
    let log = String::from_utf8_lossy(&output.stderr);
    assert_no_secret("the log of a failed start", &log);
    // What it does show: the URL with the passwords redacted, and the parameter it ignores.
    assert!(log.contains(&format!("postgres://registry:***@127.0.0.1:{port}/registry?")), "{log}");
    assert!(log.contains("password=***&Password=***&sslpassword=***"), "{log}");
    assert!(log.contains(r#"ignoring the database URL parameter "Password""#), "{log}");
}

/// On PostgreSQL the service runs with such a URL (the password is handed to
/// the driver apart from the URL) and logs none of it.
#[tokio::test]
async fn on_postgresql_a_password_in_the_url_is_used_and_never_logged() {
    if !on_postgres() {
        return;
    }
    let database = TestDatabase::fresh();
    let dir = tempfile::tempdir().unwrap();
    let (server, port, log) = serve(&dir, &with_secrets(&database.url), "debug,sea_orm=trace,sqlx=trace");
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    let body = post_query(&client, port, "{ regions { totalCount } }").await;
    assert_eq!(body["data"]["regions"]["totalCount"], 42, "{body}");
    drop(server);
    let log = read_log(&log);
    assert!(log.contains("postgres://postgres:***@"), "the log names the database, redacted:\n{log}");
    assert_no_secret("the service's log", &log);
}

/// The value of `name{labels}` on `/metrics`, read strictly (see [`Exposition`]).
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    Exposition::parse(metrics).value(name, labels) as u64
}

#[tokio::test]
async fn a_refused_token_is_logged_once_with_its_reason_but_not_the_token_and_counted() {
    let database = TestDatabase::fresh();
    let dir = tempfile::tempdir().unwrap();
    // Trace: whatever logs a header, a span field or a URI would show it here.
    let (server, port, log) = serve(&dir, &database.url, "trace");
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    let metrics =
        || async { client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap().text().await.unwrap() };
    let before = metrics().await;
    let reasons = ["malformed", "expired", "wrong_audience", "wrong_algorithm"];
    let counts_before: Vec<u64> =
        reasons.iter().map(|r| sample(&before, "jeugdregio_authentication_failures_total", &[("reason", r)])).collect();

    // bad_authorizations: garbage, expired, wrong audience, `alg: none`.
    let bad = bad_authorizations();
    for authorization in &bad {
        let response = client
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .header("authorization", authorization)
            .json(&json!({ "query": "{ regions { totalCount } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{authorization}");
    }
    // A token in the URL is not how the service takes one, but the request log shows URIs.
    let in_url = bad[1].strip_prefix("Bearer ").unwrap();
    let response = client
        .get(format!("http://127.0.0.1:{port}/graphql"))
        .query(&[("query", "{ regions { totalCount } }"), ("access_token", in_url)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let after = metrics().await;
    let counts_after: Vec<u64> =
        reasons.iter().map(|r| sample(&after, "jeugdregio_authentication_failures_total", &[("reason", r)])).collect();
    let added: Vec<u64> = counts_after.iter().zip(&counts_before).map(|(a, b)| a - b).collect();
    // Garbage is malformed; `alg: none` is not an algorithm jsonwebtoken reads, so malformed too.
    assert_eq!(added, [2, 1, 1, 0], "{after}");
    sample(&after, "jeugdregio_sql_statements_total", &[]);

    drop(server);
    let log = read_log(&log);
    let refusals: Vec<&str> = log.lines().filter(|line| line.contains("refused the bearer token")).collect();
    assert_eq!(refusals.len(), bad.len(), "one line per refused request:\n{}", refusals.join("\n"));
    assert!(refusals.iter().all(|line| line.contains("WARN")), "{refusals:?}");
    assert_eq!(refusals.iter().filter(|line| line.contains(r#"reason="expired""#)).count(), 1, "{refusals:?}");
    assert!(refusals.iter().all(|line| line.contains("request_id=")), "in the request's span: {refusals:?}");
    for authorization in &bad {
        let token = authorization.strip_prefix("Bearer ").unwrap();
        assert!(!log.contains(token), "the log shows the token {token}");
        for part in token.split('.').filter(|part| part.len() >= 8) {
            assert!(!log.contains(part), "the log shows part of the token {token}: {part}");
        }
    }
    assert!(log.contains("access_token=***"), "the URI is logged, redacted");
}

const UPDATE: &str = "mutation($input: MunicipalityUpdateInput!) { municipalityUpdate(input: $input) { \
                      municipality { version website } userErrors { code message } } }";

#[tokio::test]
async fn on_sqlite_writes_log_no_warning() {
    if on_postgres() {
        return;
    }
    let database = TestDatabase::fresh();
    let dir = tempfile::tempdir().unwrap();
    let (server, port, log) = serve(&dir, &database.url, "info");
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    let warnings = |log: &str| log.lines().filter(|line| line.contains("WARN")).count();
    let at_start = warnings(&read_log(&log));
    let token = operator_token();
    let version = post_query(&client, port, r#"{ municipality(code: "GM0753") { version } }"#).await;
    let mut version = version["data"]["municipality"]["version"].as_i64().expect("a version");
    for n in 0..20 {
        let input =
            json!({ "code": "GM0753", "expectedVersion": version, "website": format!("https://www.best.nl/{n}") });
        let body: Value = client
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": UPDATE, "variables": { "input": input } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let payload = &body["data"]["municipalityUpdate"];
        assert_eq!(payload["userErrors"], json!([]), "{body}");
        version = payload["municipality"]["version"].as_i64().expect("a version");
    }
    drop(server);
    let log = read_log(&log);
    assert!(!log.contains("isolation level"), "{log}");
    assert_eq!(warnings(&log), at_start, "20 writes added warnings:\n{log}");
}

/// Another process holds SQLite's write lock for a second: a mutation waits
/// for it (busy timeout) and succeeds. A deferred transaction would have read
/// first and then failed at once with "database is locked" when upgrading.
#[tokio::test]
async fn on_sqlite_a_write_waits_for_another_process_s_write_lock() {
    use sea_orm::sqlx::{Connection, Executor, SqliteConnection};
    if on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let version = app.version(r#"{ o: municipality(code: "GM0753") { version } }"#).await;
    // A connection of its own, as another process has: it takes the write lock.
    let mut other = SqliteConnection::connect(&app.settings().database_url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    other.execute("UPDATE municipality SET version = version WHERE code = 'GM0753'").await.unwrap();
    let started = Instant::now();
    let input =
        json!({ "code": "GM0753", "expectedVersion": version, "website": "https://www.best.nl/after-the-lock" });
    let ((body, finished), released) = tokio::join!(
        async { (app.as_operator().post(UPDATE, json!({ "input": input })).await, started.elapsed()) },
        async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let released = started.elapsed();
            other.execute("COMMIT").await.unwrap();
            released
        }
    );
    assert!(body.get("errors").is_none(), "the write failed instead of waiting: {body}");
    assert_eq!(body["data"]["municipalityUpdate"]["userErrors"], json!([]), "{body}");
    assert!(finished >= released, "the write finished ({finished:?}) before the lock was let go ({released:?})");
    let website = app.query(r#"{ municipality(code: "GM0753") { website } }"#).await;
    assert_eq!(website["municipality"]["website"], "https://www.best.nl/after-the-lock");
}
