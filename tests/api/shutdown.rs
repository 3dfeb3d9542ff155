//! Stopping the service, gently and not (issue 12, parts 2 and 3).
//!
//! SIGTERM: the service stops accepting connections, finishes the requests
//! in flight within its grace period (also when a client never finishes its
//! request), closes subscriptions with 1001 and exits 0; every write that got
//! a success response is in the database and none that got an error is.
//! SIGKILL: after a restart every acknowledged write is there, and rows,
//! audit log and change feed agree, with the feed's positions gap-free.
//! Both run the real binary, on SQLite and on PostgreSQL.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TEST_SECRET, TestApp, TestDatabase, mutation_document, operator_token};
use crate::operations::read_log;
use crate::sync::subscriber;

/// The grace period the tests give the service.
const GRACE: Duration = Duration::from_secs(3);
/// Parallel writers, each on a municipality of its own.
const WRITERS: usize = 8;
/// Acknowledged writes before the signal is sent.
const WRITES_BEFORE_SIGNAL: usize = 60;

struct Service {
    child: Child,
    app: TestApp,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `jeugdregio` binary serving `database` on a free port, once ready.
async fn start_binary(database: TestDatabase, log: &std::path::Path) -> Service {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &database.url])
        .args(["--jwt-secret", TEST_SECRET, "--rate-limit", "0", "--shutdown-grace", "3s"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start jeugdregio serve");
    let app = TestApp::running_at(format!("http://127.0.0.1:{port}"), database).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !app.client.get(app.url("/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the service did not become ready: {}", read_log(log));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Service { child, app }
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: `kill` has no memory effects; the pid is our own child's.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal the service");
}

/// Waits for the child to exit; how it exited and after how long.
async fn exited(child: &mut Child, within: Duration) -> (ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        assert!(started.elapsed() < within, "the service did not exit within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What one writer saw.
#[derive(Default)]
struct Tally {
    code: String,
    first_version: i64,
    /// The websites of the writes answered with success, in order.
    acknowledged: Vec<String>,
    /// The write that got no answer (the connection failed), if any.
    unanswered: Option<String>,
    /// Writes answered with an error.
    refused: usize,
}

/// Updates `code`'s website again and again until the service stops answering.
async fn write_until_stopped(base: String, token: String, code: String, version: i64, done: Arc<AtomicUsize>) -> Tally {
    let client = reqwest::Client::new();
    let mut tally = Tally { code: code.clone(), first_version: version, ..Default::default() };
    let mut version = version;
    for n in 0..2000 {
        let website = format!("https://www.example.nl/{}/{n}", code.to_lowercase());
        let input = json!({ "code": code, "expectedVersion": version, "website": website });
        let body = json!({ "query": mutation_document("municipalityUpdate"), "variables": { "input": input } });
        let sent = client.post(format!("{base}/graphql")).bearer_auth(&token).json(&body).send().await;
        let answer = match sent {
            Ok(response) => response.json::<Value>().await.ok(),
            Err(_) => None,
        };
        let Some(answer) = answer else {
            tally.unanswered = Some(website);
            break;
        };
        let payload = &answer["data"]["municipalityUpdate"];
        if answer.get("errors").is_none() && payload["userErrors"] == json!([]) {
            version = payload["municipality"]["version"].as_i64().unwrap();
            tally.acknowledged.push(website);
            done.fetch_add(1, Ordering::Relaxed);
        } else {
            tally.refused += 1;
            break;
        }
    }
    tally
}

/// Starts [`WRITERS`] writers against `service`; sends `signal_number` once
/// [`WRITES_BEFORE_SIGNAL`] writes were acknowledged; returns what they saw.
async fn writes_interrupted_by(service: &Service, signal_number: libc::c_int) -> Vec<Tally> {
    let app = &service.app;
    let current = app.query("{ municipalities(first: 8) { nodes { code version } } }").await;
    let token = operator_token();
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = current["municipalities"]["nodes"].as_array().unwrap()[..WRITERS]
        .iter()
        .map(|m| {
            let (code, version) = (m["code"].as_str().unwrap().to_owned(), m["version"].as_i64().unwrap());
            tokio::spawn(write_until_stopped(app.url(""), token.clone(), code, version, done.clone()))
        })
        .collect();
    while done.load(Ordering::Relaxed) < WRITES_BEFORE_SIGNAL {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    signal(&service.child, signal_number);
    futures::future::join_all(writers).await.into_iter().map(Result::unwrap).collect()
}

/// Every feed position from 1 to `registryVersion` once, and as many audit records.
async fn assert_feed_and_audit_agree(app: &TestApp) -> i64 {
    let version = app.query("{ registryVersion }").await["registryVersion"].as_i64().unwrap();
    let mut positions = Vec::new();
    let mut after = json!("0");
    loop {
        let page = app
            .query_with(
                r#"query($after: String) { changes(after: $after, first: 500) { resumeCursor pageInfo { hasNextPage } nodes { position } } }"#,
                json!({ "after": after }),
            )
            .await["changes"]
            .clone();
        positions.extend(page["nodes"].as_array().unwrap().iter().map(|n| n["position"].as_i64().unwrap()));
        after = page["resumeCursor"].clone();
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
    }
    assert_eq!(positions, (1..=version).collect::<Vec<_>>(), "the feed is gap-free up to the registry version");
    assert_eq!(app.audit_count().await, u64::try_from(version).unwrap(), "one audit record per feed entry");
    version
}

/// A municipality's version and website as the restarted registry has them.
async fn stored(app: &TestApp, code: &str) -> (i64, Option<String>) {
    let query = r#"query($c: String!) { municipality(code: $c) { version website } }"#;
    let municipality = app.query_with(query, json!({ "c": code })).await["municipality"].clone();
    (municipality["version"].as_i64().unwrap(), municipality["website"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn sigterm_during_writes_keeps_every_acknowledged_write_and_no_refused_one_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let mut service = start_binary(TestDatabase::fresh(), &log).await;
    let tallies = writes_interrupted_by(&service, libc::SIGTERM).await;
    let (status, took) = exited(&mut service.child, GRACE + Duration::from_secs(5)).await;
    assert!(status.success(), "exit {status:?} after SIGTERM: {}", read_log(&log));
    assert!(took < GRACE + Duration::from_secs(2), "exited {took:?} after the writes stopped");

    let restarted = service.app.start_another(service.app.settings()).await;
    let mut acknowledged = 0;
    for tally in &tallies {
        let (version, website) = stored(&restarted, &tally.code).await;
        // In-flight requests were finished and answered: the count is exact.
        assert_eq!(
            version,
            tally.first_version + tally.acknowledged.len() as i64,
            "{}: {} refused",
            tally.code,
            tally.refused
        );
        if let Some(last) = tally.acknowledged.last() {
            assert_eq!(website.as_ref(), Some(last), "{}: the last acknowledged write is stored", tally.code);
        }
        acknowledged += tally.acknowledged.len() as i64;
    }
    assert!(acknowledged >= WRITES_BEFORE_SIGNAL as i64);
    assert_eq!(assert_feed_and_audit_agree(&restarted).await, acknowledged, "nothing else was written");
}

#[tokio::test]
async fn sigkill_during_writes_loses_no_acknowledged_write_and_the_feed_stays_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = start_binary(TestDatabase::fresh(), &log).await;
    let tallies = writes_interrupted_by(&service, libc::SIGKILL).await;

    let restarted = service.app.start_another(service.app.settings()).await;
    let mut written = 0;
    for tally in &tallies {
        let (version, website) = stored(&restarted, &tally.code).await;
        let acknowledged = tally.first_version + tally.acknowledged.len() as i64;
        // The one write in flight when the process died may or may not have committed; nothing else is open.
        match version - acknowledged {
            0 => {
                if let Some(last) = tally.acknowledged.last() {
                    assert_eq!(website.as_ref(), Some(last), "{}: the last acknowledged write is stored", tally.code);
                }
            }
            1 => assert_eq!(website, tally.unanswered.clone(), "{}: the unanswered write committed whole", tally.code),
            _ => panic!("{}: version {version}, {acknowledged} acknowledged", tally.code),
        }
        written += version - tally.first_version;
    }
    assert_eq!(assert_feed_and_audit_agree(&restarted).await, written, "rows, audit log and feed agree");
}

#[tokio::test]
async fn on_shutdown_subscribers_get_1001_and_a_half_sent_request_cannot_hold_the_process() {
    let app = TestApp::spawn().await;
    let router = jeugdregio::app(&app.settings()).await.expect("start the service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let limits = jeugdregio::server::ConnectionLimits { shutdown_grace: GRACE, ..Default::default() };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(jeugdregio::server::serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    let service = app.served_at(format!("http://{address}"));

    let mut socket = subscriber(&service).await;
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { registryChanged { code } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    let mut half_sent = tokio::net::TcpStream::connect(address).await.unwrap();
    half_sent.write_all(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Le").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    stop.send(()).unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a close frame within 5 s") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(_)) => continue,
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1001, "going away: {close:?}");
    tokio::time::timeout(GRACE + Duration::from_secs(2), server).await.expect("serve returns").unwrap().unwrap();
    assert!(started.elapsed() < GRACE + Duration::from_secs(1), "the shutdown took {:?}", started.elapsed());
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "no new connections after the shutdown");
}
