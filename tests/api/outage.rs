//! A database outage (issue 12, part 1): the test runs a PostgreSQL cluster
//! of its own (initdb in a temporary directory, a free port, as the
//! `postgres` user when the test runs as root), stops it under read and write
//! load and starts it again. No request may hang past the deadline, failures
//! are 503 with `Retry-After` and `SERVICE_UNAVAILABLE`, readiness follows
//! the database, no acknowledged write is lost and none is half applied, and
//! the service recovers by itself.
//!
//! It needs PostgreSQL's server programs, so it runs in the suite's
//! PostgreSQL pass (`JEUGDREGIO_TEST_DATABASE_URL`), where they are installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, mutation_document, on_postgres, operator_token};

/// A request during the outage must be answered within this.
const DEADLINE: Duration = Duration::from_secs(2);
/// `/readyz` must say 503 within this of losing the database.
const READINESS: Duration = Duration::from_secs(5);

/// A PostgreSQL cluster of the test's own, stopped and removed with it.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs in /usr/lib/postgresql")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { dir, bin, port };
        if as_root() {
            // PostgreSQL refuses to run as root.
            run(Command::new("chown").args(["-R", "postgres"]).arg(cluster.dir.path()));
        }
        run(&mut cluster.command("initdb", &["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "-D"]));
        cluster.start();
        cluster
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    /// `program` of this PostgreSQL with `arguments` and the data directory, as the right user.
    fn command(&self, program: &str, arguments: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut command = if as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(arguments).arg(self.data());
        command
    }

    fn start(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.data().display());
        let log = self.data().join("server.log");
        run(&mut self.command("pg_ctl", &["-w", "-l", log.to_str().unwrap(), "-o", &options, "start", "-D"]));
    }

    /// A fast shutdown: the server ends every session (rolling back open
    /// transactions) and stops, as in a restart or failover.
    fn stop(&self) {
        run(&mut self.command("pg_ctl", &["-w", "-m", "fast", "stop", "-D"]));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl", &["-w", "-m", "immediate", "stop", "-D"]).output();
    }
}

fn as_root() -> bool {
    // SAFETY: `geteuid` only reads the process's user id.
    unsafe { libc::geteuid() == 0 }
}

fn run(command: &mut Command) {
    let output = command.output().expect("run a PostgreSQL program");
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// One request's answer: how long it took, its status and its body.
struct Answer {
    took: Duration,
    status: u16,
    retry_after: bool,
    body: Value,
}

async fn send(client: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> Answer {
    let started = Instant::now();
    let mut request = client.post(url).json(body).timeout(Duration::from_secs(30));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the service answers (it is up; only its database is not)");
    let (status, retry_after) = (response.status().as_u16(), response.headers().contains_key("retry-after"));
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { took: started.elapsed(), status, retry_after, body }
}

/// What a load loop saw while the database was away.
#[derive(Default)]
struct Seen {
    answers: usize,
    unavailable: usize,
    slowest: Duration,
    /// Failures that were not a 503 with `Retry-After` and `SERVICE_UNAVAILABLE`.
    wrong: Vec<String>,
}

impl Seen {
    fn record(&mut self, answer: &Answer, failed: bool) {
        self.answers += 1;
        self.slowest = self.slowest.max(answer.took);
        if failed {
            let code = &answer.body["errors"][0]["extensions"]["code"];
            if answer.status == 503 && answer.retry_after && code == "SERVICE_UNAVAILABLE" {
                self.unavailable += 1;
            } else {
                self.wrong.push(format!("HTTP {}: {}", answer.status, answer.body));
            }
        }
    }
}

/// Reads that need SQL (the audit log and the change feed are not in the snapshot).
async fn read_until(app: &TestApp, stop: Arc<AtomicBool>) -> Seen {
    let (client, url, token) = (reqwest::Client::new(), app.url("/graphql"), operator_token());
    let mut seen = Seen::default();
    let queries = ["{ auditLog(first: 1) { totalCount } }", "{ changes(first: 5) { totalCount } }"];
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let answer = send(&client, &url, Some(&token), &json!({ "query": queries[n % 2] })).await;
        seen.record(&answer, answer.body.get("errors").is_some());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

/// What one writer wrote.
#[derive(Default)]
struct Writes {
    code: String,
    first_version: i64,
    acknowledged: i64,
    seen: Seen,
}

/// Updates `code`'s website until stopped; after a refusal, reads its version again.
async fn write_until(app: &TestApp, code: &str, stop: Arc<AtomicBool>) -> Writes {
    let (client, url, token) = (reqwest::Client::new(), app.url("/graphql"), operator_token());
    let version_of = || async {
        let query = r#"query($c: String!) { municipality(code: $c) { version } }"#;
        app.query_with(query, json!({ "c": code })).await["municipality"]["version"].as_i64().unwrap()
    };
    let mut version = version_of().await;
    let mut writes = Writes { code: code.to_owned(), first_version: version, ..Default::default() };
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let input =
            json!({ "code": code, "expectedVersion": version, "website": format!("https://www.example.nl/{n}") });
        let body = json!({ "query": mutation_document("municipalityUpdate"), "variables": { "input": input } });
        let answer = send(&client, &url, Some(&token), &body).await;
        let payload = &answer.body["data"]["municipalityUpdate"];
        let conflict = payload["userErrors"][0]["code"] == "CONFLICT";
        let ok = answer.body.get("errors").is_none() && payload["userErrors"] == json!([]);
        writes.seen.record(&answer, !ok && !conflict);
        if ok {
            version = payload["municipality"]["version"].as_i64().unwrap();
            writes.acknowledged += 1;
        } else if conflict {
            // A write answered 503 may have committed after all: read the version again.
            version = version_of().await;
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    writes
}

async fn ready(app: &TestApp) -> bool {
    let response = app.client.get(app.url("/readyz")).timeout(Duration::from_secs(10)).send().await;
    response.is_ok_and(|r| r.status() == 200)
}

#[tokio::test]
async fn a_database_outage_is_answered_at_once_with_503_and_the_service_recovers_by_itself() {
    if !on_postgres() {
        return; // see the module comment
    }
    let cluster = Cluster::create();
    // The service migrates and seeds the new database itself.
    let app = TestApp::spawn_on(TestDatabase::elsewhere(cluster.url())).await;
    assert!(ready(&app).await);

    let stop = Arc::new(AtomicBool::new(false));
    let readers = (0..2).map(|_| read_until(&app, stop.clone()));
    let writers = ["GM0772", "GM0014", "GM0363"].map(|code| write_until(&app, code, stop.clone()));
    let outage = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.stop();
        let lost = Instant::now();
        while ready(&app).await {
            assert!(
                lost.elapsed() < READINESS,
                "/readyz still says ready {:?} after the database went",
                lost.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let noticed = lost.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await; // load meets the outage
        cluster.start();
        let back = Instant::now();
        while !ready(&app).await {
            assert!(back.elapsed() < Duration::from_secs(10), "/readyz not ready 10 s after the database returned");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await; // load after the recovery
        stop.store(true, Ordering::Relaxed);
        (noticed, back.elapsed())
    };
    let (reads, writes, (noticed, recovered)) =
        tokio::join!(futures::future::join_all(readers), futures::future::join_all(writers), outage);
    println!("readiness followed the outage in {noticed:?} and the recovery in {recovered:?}");

    for seen in reads.iter().chain(writes.iter().map(|w| &w.seen)) {
        println!("{} answers, {} unavailable, slowest {:?}", seen.answers, seen.unavailable, seen.slowest);
        assert!(seen.unavailable > 0, "every loop met the outage ({} answers)", seen.answers);
        assert!(seen.wrong.is_empty(), "failures other than 503 SERVICE_UNAVAILABLE: {:?}", seen.wrong);
        assert!(seen.slowest < DEADLINE, "a request took {:?}", seen.slowest);
    }
    for writer in &writes {
        let query = r#"query($c: String!) { municipality(code: $c) { version } }"#;
        let version =
            app.query_with(query, json!({ "c": writer.code })).await["municipality"]["version"].as_i64().unwrap();
        let written = version - writer.first_version;
        // A write answered 503 may have committed just before the server went; none acknowledged is lost.
        assert!(
            written >= writer.acknowledged,
            "{}: {} acknowledged, {written} stored",
            writer.code,
            writer.acknowledged
        );
        assert!(
            written <= writer.acknowledged + writer.seen.unavailable as i64,
            "{}: {written} stored, only {} acknowledged and {} unanswered",
            writer.code,
            writer.acknowledged,
            writer.seen.unavailable
        );
    }
    // Nothing half applied: every stored write has its audit record and feed entry, positions without gaps.
    let version = app.query("{ registryVersion }").await["registryVersion"].as_i64().unwrap();
    let total: i64 = {
        let mut sum = 0;
        for writer in &writes {
            let query = r#"query($c: String!) { municipality(code: $c) { version } }"#;
            sum +=
                app.query_with(query, json!({ "c": writer.code })).await["municipality"]["version"].as_i64().unwrap()
                    - writer.first_version;
        }
        sum
    };
    assert_eq!(version, total, "the feed counts exactly the stored writes");
    assert_eq!(app.audit_count().await, u64::try_from(version).unwrap(), "one audit record per write");
    let feed = app.query(r#"{ changes(first: 500) { nodes { position } } }"#).await;
    let positions: Vec<i64> =
        feed["changes"]["nodes"].as_array().unwrap().iter().map(|n| n["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=version.min(500)).collect::<Vec<_>>(), "feed positions without gaps");
}

#[tokio::test]
async fn a_statement_blocked_past_the_statement_timeout_is_stopped_with_a_clear_error_and_writes_nothing() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    if !on_postgres() {
        return; // statement_timeout is PostgreSQL's; see the module comment
    }
    let app = TestApp::spawn().await;
    let before = app.audit_count().await;
    // Another session holds the municipality table for longer than the statement timeout.
    let other = Database::connect(app.settings().database_url.as_str()).await.unwrap();
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE municipality IN ACCESS EXCLUSIVE MODE").await.unwrap();

    let started = Instant::now();
    let input = json!({ "code": "GM0772", "expectedVersion": 1, "website": "https://www.eindhoven.nl/blocked" });
    let reply = app.as_operator().mutate("municipalityUpdate", input).await;
    let took = started.elapsed();
    lock.rollback().await.unwrap();

    let error = &reply.body["errors"][0];
    assert_eq!(error["extensions"]["code"], "TIMEOUT", "{reply}");
    assert!(error["message"].as_str().unwrap().contains("longer than 5 s"), "{reply}");
    let limit = jeugdregio::db::STATEMENT_TIMEOUT;
    assert!(took >= limit && took < limit + Duration::from_secs(3), "stopped after {took:?}");
    assert_eq!(app.audit_count().await, before, "nothing was written");
    let input = json!({ "code": "GM0772", "expectedVersion": 1, "website": "https://www.eindhoven.nl/free" });
    app.as_operator().mutate_ok("municipalityUpdate", input).await;
}
