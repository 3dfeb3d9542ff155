//! Seeing what the service does (issue 12, parts 9 and 10): `/metrics` is
//! well-formed Prometheus text whose figures move with queries, kept answers,
//! writes, refused tokens, rate limits and subscriptions; and every request
//! leaves exactly one log line (JSON with `--log-format json`) naming its
//! request id, and never a token.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::wait_ready;
use crate::helpers::{TestApp, TestDatabase};
use crate::operations::{read_log, serve_with};

// ---------------------------------------------------------------------------
// A strict reader of the Prometheus text format (0.0.4)

/// The samples of one `/metrics` answer, read strictly: every line is a
/// `# HELP`, a `# TYPE` or a sample; every name and label is well-formed;
/// every sample follows the `# TYPE` of its own family (so families do not
/// interleave), no series appears twice, counters are not negative, and every
/// histogram has cumulative buckets ending in `+Inf`, equal to its `_count`,
/// and a `_sum`.
pub(crate) struct Exposition {
    /// By series: the name and its labels sorted, `name{a="1",b="2"}`.
    samples: BTreeMap<String, f64>,
    /// The type of each family, by the name its `# TYPE` gives.
    types: BTreeMap<String, String>,
    text: String,
}

fn series(name: &str, labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// `name{labels} value [timestamp]`.
fn sample(line: &str) -> (String, BTreeMap<String, String>, f64) {
    let end = line.find(['{', ' ']).unwrap_or_else(|| panic!("a sample without a value: {line}"));
    let name = &line[..end];
    assert!(is_metric_name(name), "not a metric name: {line}");
    let mut labels = BTreeMap::new();
    let mut rest = &line[end..];
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            let (label, after) = inside.split_once("=\"").unwrap_or_else(|| panic!("bad labels: {line}"));
            assert!(is_label_name(label), "not a label name ({label}): {line}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let close = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        _ => panic!("a bad escape in a label value: {line}"),
                    },
                    Some((at, '"')) => break at,
                    Some((_, '\n')) | None => panic!("an unterminated label value: {line}"),
                    Some((_, c)) => value.push(c),
                }
            };
            assert!(labels.insert(label.to_owned(), value).is_none(), "label {label} twice: {line}");
            let after = &after[close + 1..];
            if let Some(after) = after.strip_prefix(',') {
                inside = after;
            } else if let Some(after) = after.strip_prefix('}') {
                rest = after;
                break;
            } else {
                panic!("labels must be separated by commas and closed: {line}");
            }
        }
    }
    let rest = rest.strip_prefix(' ').unwrap_or_else(|| panic!("no space before the value: {line}"));
    let mut parts = rest.split(' ');
    let value = parts.next().and_then(number).unwrap_or_else(|| panic!("not a number: {line}"));
    if let Some(timestamp) = parts.next() {
        assert!(timestamp.parse::<i64>().is_ok(), "not a timestamp: {line}");
    }
    assert!(parts.next().is_none(), "more than a value and a timestamp: {line}");
    (name.to_owned(), labels, value)
}

impl Exposition {
    pub(crate) fn parse(text: &str) -> Exposition {
        assert!(text.ends_with('\n'), "the text must end with a line break");
        let mut exposition = Exposition { samples: BTreeMap::new(), types: BTreeMap::new(), text: text.to_owned() };
        let mut helped = HashSet::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(is_metric_name(name), "{line}");
                assert!(helped.insert(name.to_owned()), "a second HELP for {name}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("a TYPE without a type: {line}"));
                assert!(is_metric_name(name), "{line}");
                assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
                let earlier = exposition.types.insert(name.to_owned(), kind.to_owned());
                assert!(earlier.is_none(), "a second TYPE for {name}");
                assert!(!exposition.samples.keys().any(|s| s.starts_with(name)), "TYPE after samples of {name}");
                current = Some((name.to_owned(), kind.to_owned()));
            } else {
                assert!(!line.is_empty() && !line.starts_with('#'), "neither HELP, TYPE nor a sample: {line:?}");
                let (name, labels, value) = sample(line);
                let (family, kind) = current.as_ref().unwrap_or_else(|| panic!("a sample before any TYPE: {line}"));
                let suffix = name.strip_prefix(family.as_str());
                let belongs = match kind.as_str() {
                    "histogram" => matches!(suffix, Some("_bucket" | "_sum" | "_count")),
                    _ => suffix == Some(""),
                };
                assert!(belongs, "{line} does not belong to {family}, the family typed before it");
                if kind == "counter" || kind == "histogram" {
                    assert!(value >= 0.0, "a negative count: {line}");
                }
                assert_eq!(suffix == Some("_bucket"), labels.contains_key("le"), "le on buckets only: {line}");
                let key = series(&name, &labels);
                assert!(exposition.samples.insert(key, value).is_none(), "a series twice: {line}");
            }
        }
        exposition.check_histograms();
        exposition
    }

    fn check_histograms(&self) {
        for (family, _) in self.types.iter().filter(|(_, kind)| *kind == "histogram") {
            let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            let prefix = format!("{family}_bucket{{");
            for (key, value) in self.samples.iter().filter(|(key, _)| key.starts_with(&prefix)) {
                let (_, mut labels, _) = sample(&format!("{key} {value}"));
                let le = number(&labels.remove("le").unwrap()).expect("le is a number");
                buckets.entry(series(family, &labels)).or_default().push((le, *value));
            }
            assert!(!buckets.is_empty(), "{family} has no buckets");
            for (histogram, mut bounds) in buckets {
                bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
                assert!(bounds.windows(2).all(|w| w[0].1 <= w[1].1), "{histogram}: buckets not cumulative");
                let (last_bound, last_count) = *bounds.last().unwrap();
                assert_eq!(last_bound, f64::INFINITY, "{histogram}: no +Inf bucket");
                let labels = histogram.strip_prefix(family.as_str()).unwrap();
                assert_eq!(self.samples.get(&format!("{family}_count{labels}")), Some(&last_count), "{histogram}");
                assert!(self.samples.contains_key(&format!("{family}_sum{labels}")), "{histogram}: no _sum");
            }
        }
    }

    fn key(name: &str, labels: &[(&str, &str)]) -> String {
        series(name, &labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    /// The value of a series that must be there.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let key = Self::key(name, labels);
        *self.samples.get(&key).unwrap_or_else(|| panic!("{key} is not on /metrics:\n{}", self.text))
    }

    /// The value of a series, 0 while it has never been counted.
    pub(crate) fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples.get(&Self::key(name, labels)).copied().unwrap_or(0.0)
    }

    fn kind(&self, family: &str) -> &str {
        self.types.get(family).unwrap_or_else(|| panic!("no # TYPE {family}:\n{}", self.text))
    }
}

async fn scrape(app: &TestApp) -> Exposition {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    Exposition::parse(&response.text().await.unwrap())
}

#[test]
fn the_reader_refuses_what_is_not_prometheus_text() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\"} 2\n";
    assert_eq!(Exposition::parse(good).value("a_total", &[("y", "q\""), ("x", "1")]), 2.0);
    let histogram = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
    Exposition::parse(histogram);
    for bad in [
        "a_total 1\n",                                                                             // no TYPE
        "# TYPE a_total counter\na_total one\n",                                                   // not a number
        "# TYPE a_total counter\na_total{x=1} 1\n",                                                // unquoted label
        "# TYPE a_total counter\na_total 1\na_total 2\n",                                          // a series twice
        "# TYPE a gauge\n# TYPE b gauge\na 1\n",                                                   // interleaved
        "# TYPE a gauge\na 1", // no final line break
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 3\nh_count 1\n", // not cumulative
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n", // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 1\n", // +Inf is not the count
    ] {
        assert!(std::panic::catch_unwind(|| Exposition::parse(bad)).is_err(), "accepted: {bad:?}");
    }
}

// ---------------------------------------------------------------------------
// Metrics

const PORTAL: &str = "query Portal { regions(first: 100) { nodes { code name municipalities { code } } } }";

fn graphql(operation: &str, status: &str, code: &str) -> [(&'static str, String); 4] {
    [
        ("route", "/graphql".to_owned()),
        ("operation", operation.to_owned()),
        ("status", status.to_owned()),
        ("code", code.to_owned()),
    ]
}

fn requests(exposition: &Exposition, labels: &[(&'static str, String); 4]) -> f64 {
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    exposition.count("jeugdregio_http_requests_total", &labels)
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move_with_queries_kept_answers_writes_and_refused_tokens() {
    let app = TestApp::spawn().await;
    let before = scrape(&app).await;

    // Executed (a miss), then answered from memory (a hit).
    let first = app.post(PORTAL, json!({})).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(app.post(PORTAL, json!({})).await, first);
    // A write, as the operator (its version read first: another miss).
    let version = app.query(r#"{ municipality(code: "GM0772") { version } }"#).await["municipality"]["version"].clone();
    let input = json!({ "code": "GM0772", "expectedVersion": version, "website": "https://www.eindhoven.nl/m" });
    app.as_operator().mutate_ok("municipalityUpdate", input).await;
    // A refused token.
    let (status, _) = app.caller(Some("Bearer not-a-token")).send(PORTAL, json!({})).await;
    assert_eq!(status, 401);

    let after = scrape(&app).await;
    let moved = |labels| requests(&after, &labels) - requests(&before, &labels);
    assert_eq!(moved(graphql("query", "2xx", "none")), 3.0);
    assert_eq!(moved(graphql("mutation", "2xx", "none")), 1.0);
    assert_eq!(moved(graphql("none", "4xx", "UNAUTHENTICATED")), 1.0);
    let metrics_route = [("route", "/metrics"), ("operation", "none"), ("status", "2xx"), ("code", "none")];
    assert_eq!(after.value("jeugdregio_http_requests_total", &metrics_route), 1.0, "the first scrape");

    let cache = |e: &Exposition, result| e.value("jeugdregio_response_cache_lookups_total", &[("result", result)]);
    assert_eq!(cache(&after, "hit") - cache(&before, "hit"), 1.0);
    assert_eq!(cache(&after, "miss") - cache(&before, "miss"), 2.0);
    let statements = |e: &Exposition| e.value("jeugdregio_sql_statements_total", &[]);
    assert!(statements(&after) > statements(&before), "a write sends statements");
    let version = |e: &Exposition| e.value("jeugdregio_registry_version", &[]);
    assert_eq!(version(&after), version(&before) + 1.0);
    let refused = |e: &Exposition| e.value("jeugdregio_authentication_failures_total", &[("reason", "malformed")]);
    assert_eq!(refused(&after) - refused(&before), 1.0);
    assert_eq!(before.value("jeugdregio_authentication_failures_total", &[("reason", "expired")]), 0.0);
    assert_eq!(after.value("jeugdregio_rate_limited_requests_total", &[]), 0.0);

    // The latency histogram has its buckets and counted the three queries.
    assert_eq!(after.kind("jeugdregio_http_request_duration_seconds"), "histogram");
    let latency = [("route", "/graphql"), ("operation", "query")];
    let count = |e: &Exposition| e.count("jeugdregio_http_request_duration_seconds_count", &latency);
    assert_eq!(count(&after) - count(&before), 3.0);
    for le in ["0.0005", "0.001", "0.01", "0.1", "1", "10", "+Inf"] {
        let labels = [latency[0], latency[1], ("le", le)];
        after.value("jeugdregio_http_request_duration_seconds_bucket", &labels);
    }

    // The pool, the subscriptions, the process.
    let pool = |state| after.value("jeugdregio_db_pool_connections", &[("state", state)]);
    let max = after.value("jeugdregio_db_pool_max_connections", &[]);
    if crate::helpers::on_postgres() {
        assert_eq!(max, 16.0);
    } else {
        assert!((4.0..=8.0).contains(&max), "SQLite's pool: twice the cores, 4 to 8: {max}");
    }
    // Background work (the live listener reading the write, the snapshot
    // reload) may hold every open connection at the moment of the scrape, so
    // the split between in use and idle is not fixed; that some are open is.
    let open = pool("in_use") + pool("idle");
    assert!(open >= 1.0 && open <= max, "{}", after.text);
    assert_eq!(after.value("jeugdregio_subscriptions_open", &[]), 0.0);
    assert!(after.value("process_resident_memory_bytes", &[]) > 1e6);
    assert!(after.value("process_resident_memory_max_bytes", &[]) >= after.value("process_resident_memory_bytes", &[]));
    for (family, kind) in [
        ("jeugdregio_http_requests_total", "counter"),
        ("jeugdregio_sql_statements_total", "counter"),
        ("jeugdregio_response_cache_lookups_total", "counter"),
        ("jeugdregio_rate_limited_requests_total", "counter"),
        ("jeugdregio_authentication_failures_total", "counter"),
        ("jeugdregio_db_pool_connections", "gauge"),
        ("jeugdregio_subscriptions_open", "gauge"),
        ("jeugdregio_registry_version", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
    ] {
        assert_eq!(after.kind(family), kind, "{family}");
    }

    // OpenMetrics for a scraper that asks for it.
    let response = app
        .client
        .get(app.url("/metrics"))
        .header("accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n") && text.contains("\n# TYPE jeugdregio_sql_statements counter\n"), "{text}");
}

/// Polls `/metrics` until `jeugdregio_subscriptions_open` is `open`.
async fn wait_for_subscriptions(app: &TestApp, open: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if scrape(app).await.value("jeugdregio_subscriptions_open", &[]) == open {
            return;
        }
        assert!(Instant::now() < deadline, "jeugdregio_subscriptions_open did not become {open}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_count_open_subscriptions_and_rate_limited_requests() {
    let app = TestApp::spawn().await;
    let mut socket = crate::sync::subscriber(&app).await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { registryChanged { position } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    wait_for_subscriptions(&app, 1.0).await;
    socket.close(None).await.unwrap();
    wait_for_subscriptions(&app, 0.0).await;

    // One request a second, none saved up: the second at once is refused.
    let settings = jeugdregio::Settings {
        rate_limits: jeugdregio::ratelimit::RateLimits { per_second: 1, burst: 1, trusted_proxies: vec![] },
        ..app.settings()
    };
    let limited = app.start_another(settings).await;
    assert_eq!(limited.anonymous().send("{ registryVersion }", json!({})).await.0, 200);
    let response = limited.anonymous().post_request(&json!({ "query": "{ registryVersion }" })).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let after = scrape(&limited).await;
    assert_eq!(after.value("jeugdregio_rate_limited_requests_total", &[]), 1.0);
    assert_eq!(requests(&after, &graphql("none", "4xx", "RATE_LIMITED")), 1.0);
    assert_eq!(requests(&after, &graphql("query", "2xx", "none")), 1.0);
}

/// Calls that find every pooled connection lent out are counted as waiting,
/// and are no longer once they have one or have given up. (PostgreSQL only:
/// there a table lock held elsewhere keeps reads of the audit log holding
/// their connections.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_waiting_for_a_pooled_connection_are_counted() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let app = TestApp::spawn().await;
    let at_rest = scrape(&app).await;
    assert_eq!(at_rest.kind("jeugdregio_db_pool_waiting"), "gauge");
    assert_eq!(at_rest.value("jeugdregio_db_pool_waiting", &[]), 0.0);
    if !crate::helpers::on_postgres() {
        return;
    }
    let other = Database::connect(app.settings().database_url.as_str()).await.unwrap();
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE").await.unwrap();
    // More calls than the pool has connections, each blocked on the lock while
    // holding one. (With a token, so that none is answered from kept answers.
    // Not writes: those queue in the service before they take a connection.)
    let operator = app.as_operator();
    let reads =
        futures::future::join_all((0..24).map(|_| operator.send("{ auditLog(first: 1) { totalCount } }", json!({}))));
    let watch = async {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let seen = scrape(&app).await;
            let waiting = seen.value("jeugdregio_db_pool_waiting", &[]);
            if waiting > 0.0 {
                let max = seen.value("jeugdregio_db_pool_max_connections", &[]);
                let in_use = seen.value("jeugdregio_db_pool_connections", &[("state", "in_use")]);
                lock.rollback().await.unwrap();
                return (waiting, in_use, max);
            }
            assert!(Instant::now() < deadline, "no call was counted as waiting:\n{}", seen.text);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (answers, (waiting, in_use, max)) = tokio::join!(reads, watch);
    assert!(waiting <= 24.0 - 15.0, "at most the calls beyond the 15 lendable connections wait: {waiting}");
    assert_eq!(in_use, max, "every connection is lent while calls wait");
    for (status, body) in &answers {
        let code = &body["errors"][0]["extensions"]["code"];
        let answered = body["data"]["auditLog"]["totalCount"].is_u64();
        assert!(answered || (*status == 503 && code == "SERVICE_UNAVAILABLE"), "{status} {body}");
    }
    assert_eq!(scrape(&app).await.value("jeugdregio_db_pool_waiting", &[]), 0.0, "nobody waits afterwards");
}

/// A client that gives up before the answer leaves a request counted as
/// `cancelled`. (Two threads: the query computes without yielding, and the
/// connection must be watched meanwhile.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_client_leaves_is_counted_as_cancelled() {
    let app = TestApp::spawn().await;
    // Pure computation for well over a second in a test build (see limits.rs).
    let introspection = "__schema { types { name description fields { name description args { name type { name kind \
                         ofType { name kind } } } type { name kind ofType { name kind ofType { name kind } } } } } }";
    let aliases: Vec<String> = (0..40).map(|i| format!("a{i}: {introspection}")).collect();
    let document = format!("{{ {} }}", aliases.join(" "));
    // A connection of its own, closed while the query runs (an HTTP client would keep it to read the answer).
    let body = json!({ "query": document }).to_string();
    let address = app.url("").trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut connection, request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(connection);
    let cancelled = [("route", "/graphql"), ("operation", "none"), ("status", "cancelled"), ("code", "none")];
    let deadline = Instant::now() + Duration::from_secs(10);
    while scrape(&app).await.count("jeugdregio_http_requests_total", &cancelled) != 1.0 {
        assert!(Instant::now() < deadline, "the request was not counted as cancelled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client's `X-Request-Id` is answered as sent when it can serve as one;
/// an empty, overlong or non-ASCII one is replaced by a new UUID.
#[tokio::test]
async fn an_unusable_request_id_is_replaced_by_a_new_one() {
    let app = TestApp::spawn().await;
    let answered = async |id: &[u8]| {
        let value = reqwest::header::HeaderValue::from_bytes(id).unwrap();
        let response = app.client.get(app.url("/healthz")).header("x-request-id", value).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.headers()["x-request-id"].to_str().unwrap().to_owned()
    };
    let is_uuid = |id: &str| id.len() == 36 && id.matches('-').count() == 4;
    assert_eq!(answered(b"portal-42_a.b:c").await, "portal-42_a.b:c");
    let longest = "x".repeat(128);
    assert_eq!(answered(longest.as_bytes()).await, longest);
    for unusable in [&b""[..], "x".repeat(129).as_bytes(), b"two words", "caf\u{e9}".as_bytes()] {
        let id = answered(unusable).await;
        assert!(is_uuid(&id), "{:?} was answered with {id:?}", String::from_utf8_lossy(unusable));
    }
}

// ---------------------------------------------------------------------------
// Request logs

#[tokio::test]
async fn with_log_format_json_each_request_leaves_one_json_line_with_its_request_id_and_no_token() {
    let database = TestDatabase::fresh();
    let dir = tempfile::tempdir().unwrap();
    let (server, port, log) = serve_with(&dir, &database.url, "info", &["--log-format", "json"]);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    let operator = crate::helpers::issue(jeugdregio::auth::TokenFor::Operator);
    let municipality = crate::helpers::issue(jeugdregio::auth::TokenFor::Municipality("GM0772"));
    let refused = "Bearer eyJhbGciOiJIUzI1NiJ9.not-a-valid-token-at-all.c2lnbmF0dXJl";

    // (request id sent, Authorization, body or GET path) -> the request id answered
    let send = async |request_id: Option<&str>, authorization: Option<&str>, body: Value| {
        let mut request = client.post(format!("http://127.0.0.1:{port}/graphql")).json(&body);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (id, status, body)
    };
    let portal = json!({ "query": PORTAL, "operationName": "Portal" });
    let (mine, status, _) = send(Some("client-chosen-id-42"), None, portal.clone()).await;
    assert_eq!((mine.as_str(), status), ("client-chosen-id-42", 200), "the client's id is answered");
    let (hit, _, _) = send(None, None, portal).await;
    assert_eq!((hit.len(), hit.matches('-').count()), (36, 4), "a new UUID: {hit}");
    let version_query = json!({ "query": r#"{ municipality(code: "GM0772") { version } }"# });
    let bearer = |token: &str| format!("Bearer {token}");
    let (as_municipality, _, body) = send(None, Some(&bearer(&municipality)), version_query).await;
    let input = json!({ "code": "GM0772", "expectedVersion": body["data"]["municipality"]["version"], "website": "https://www.eindhoven.nl/l" });
    let update = json!({
        "query": "mutation Update($input: MunicipalityUpdateInput!) { municipalityUpdate(input: $input) { userErrors { code } } }",
        "variables": { "input": input },
    });
    let (write, status, body) = send(None, Some(&bearer(&operator)), update).await;
    assert_eq!((status, &body["data"]["municipalityUpdate"]["userErrors"]), (200, &json!([])), "{body}");
    let (refusal, status, _) = send(None, Some(refused), json!({ "query": "{ registryVersion }" })).await;
    assert_eq!(status, 401);
    let health = client.get(format!("http://127.0.0.1:{port}/healthz?token=hunter2")).send().await.unwrap();
    let health = health.headers()["x-request-id"].to_str().unwrap().to_owned();
    drop(server);

    let log = read_log(&log);
    let lines: Vec<Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    let request_lines: Vec<&Value> = lines.iter().filter(|line| line["message"] == "request").collect();
    let mut ids = HashSet::new();
    for line in &request_lines {
        assert_eq!(line["level"], "INFO", "{line}");
        for field in ["timestamp", "request_id", "method", "path", "status", "duration_ms", "cache"] {
            assert!(!line[field].is_null(), "{field} is missing: {line}");
        }
        assert!(line["duration_ms"].is_f64() && line["status"].is_u64(), "{line}");
        assert!(ids.insert(line["request_id"].as_str().unwrap()), "two lines for one request: {line}");
    }
    let line = |id: &str| {
        *request_lines
            .iter()
            .find(|line| line["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for {id}:\n{log}"))
    };
    let fields = |id: &str, names: &[&str]| -> Vec<Value> { names.iter().map(|name| line(id)[name].clone()).collect() };
    let graphql = ["method", "path", "status", "operation_type", "operation_name", "caller", "cache"];
    assert_eq!(
        fields(&mine, &graphql),
        json!(["POST", "/graphql", 200, "query", "Portal", "anonymous", "miss"]).as_array().unwrap().clone()
    );
    assert_eq!(
        fields(&hit, &graphql),
        json!(["POST", "/graphql", 200, "query", "Portal", "anonymous", "hit"]).as_array().unwrap().clone()
    );
    assert_eq!(
        fields(&as_municipality, &["operation_type", "caller", "cache"]),
        vec![json!("query"), json!("municipality"), json!("none")]
    );
    assert_eq!(
        fields(&write, &["operation_type", "operation_name", "caller"]),
        vec![json!("mutation"), json!("Update"), json!("operator")]
    );
    assert_eq!(
        fields(&refusal, &["status", "code", "caller"]),
        vec![json!(401), json!("UNAUTHENTICATED"), Value::Null]
    );
    assert_eq!(
        fields(&health, &["method", "path", "status", "cache"]),
        vec![json!("GET"), json!("/healthz?token=***"), json!(200), json!("none")]
    );
    // The refusal's own line is in the request's span, which names the same id.
    let warning =
        lines.iter().find(|line| line["message"] == "refused the bearer token of a request").expect("a refusal line");
    assert_eq!(warning["span"]["request_id"], refusal.as_str(), "{warning}");
    assert_eq!(warning["level"], "WARN");

    for secret in [operator.as_str(), municipality.as_str(), refused.strip_prefix("Bearer ").unwrap(), "hunter2"] {
        assert!(!log.contains(secret), "the log shows {secret}");
        for part in secret.split('.').filter(|part| part.len() >= 8) {
            assert!(!log.contains(part), "the log shows a part of a token: {part}");
        }
    }
}
