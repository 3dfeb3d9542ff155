//! What one request may cost (docs/limits.md): the cost model refuses
//! requests whose work multiplies before they run, a result budget and a
//! deadline stop what runs too long, the in-flight cap answers 503 at once,
//! and subscriptions are capped and cost nothing while idle.

use std::time::{Duration, Instant};

use futures::{SinkExt, future::join_all};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;
use crate::sync::{next_message, subscriber, websocket};

/// The portal query of the README: the whole registry in one request.
const PORTAL: &str = r#"{ regions(first: 100) { totalCount nodes { code name
    municipalities { code name province { code name } }
    cooperations { code name scale instrument memberMunicipalities { code } memberRegions { code } }
    roles { code kind holder { ... on Municipality { code name } ... on Region { code name } }
            cooperation { code } careForm { code name } provider { code name } }
    frameworkContracts { code title scale careForms { code name } contractingAuthority { name } } } } }"#;

/// `regions → municipalities → region → municipalities → …`, `levels` lists and objects deep.
fn chain(levels: usize) -> String {
    let mut selection = "code".to_owned();
    for level in 0..levels {
        selection = if level % 2 == 0 {
            format!("municipalities {{ code {selection} }}")
        } else {
            format!("region {{ code {selection} }}")
        };
    }
    format!("regions {{ nodes {{ code {selection} }} }}")
}

fn aliased(times: usize, selection: &str) -> String {
    format!("{{ {} }}", (0..times).map(|i| format!("a{i}: {selection}")).collect::<Vec<_>>().join(" "))
}

async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} on /metrics"))
        .trim()
        .parse()
        .unwrap()
}

const MB: u64 = 1024 * 1024;

#[tokio::test]
async fn the_portal_query_fits_the_budget_and_tells_its_cost() {
    let app = TestApp::spawn().await;
    let body = app.post(PORTAL, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let cost = &body["extensions"]["cost"];
    let (requested, limit) = (cost["requested"].as_u64().unwrap(), cost["limit"].as_u64().unwrap());
    assert_eq!(limit, jeugdregio::Limits::default().cost as u64);
    assert!(requested * 2 <= limit, "the portal query needs room in the budget: {cost}");
    assert!(cost["resolvedFields"].as_u64().unwrap() > 1000, "{cost}");
}

#[tokio::test]
async fn nested_lists_and_alias_bombs_are_refused_before_they_run() {
    let app = TestApp::spawn_alone().await;
    let statements = app.statements().await;
    let peak_before = metric(&app, "process_resident_memory_max_bytes").await;
    let documents = [aliased(1, &chain(9)), aliased(1, &chain(15)), aliased(180, &chain(5)), aliased(60, &chain(3))];
    for document in &documents {
        let started = Instant::now();
        let body = app.post(document, json!({})).await;
        assert!(started.elapsed() < Duration::from_secs(1), "refused in under a second");
        assert_eq!(body["data"], Value::Null, "{body}");
        let error = &body["errors"][0];
        if error["extensions"]["code"] == "COST_LIMIT_EXCEEDED" {
            assert!(error["extensions"]["cost"].as_u64() > error["extensions"]["limit"].as_u64(), "{error}");
        } else {
            // 15 levels are refused by the depth limit before their cost is weighed.
            assert!(error["message"].as_str().unwrap().contains("nested too deep"), "{error}");
        }
    }
    // Nothing ran (the live listener's once-a-second look at the feed went on).
    let read = app.statements().await - statements;
    assert!(read <= documents.len() as u64 + 2, "{read} statements: a refused request must not run");
    // The peak of the whole test process, which tests that ran before (the
    // fuzzer's large inputs, say) may have raised already: these requests
    // must keep it under 200 MB, or not raise it much.
    let peak = metric(&app, "process_resident_memory_max_bytes").await;
    assert!(
        peak < 200 * MB || peak <= peak_before + 20 * MB,
        "peak resident memory {} MB, {} MB before",
        peak / MB,
        peak_before / MB
    );
}

#[tokio::test]
async fn a_request_over_the_result_budget_is_stopped_without_partial_data() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.limits.result_fields = 1_000;
    let small = app.start_another(settings.clone()).await;
    let body = small.post(PORTAL, json!({})).await;
    assert_eq!(body["data"], Value::Null, "no partial data: {body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "one error says it: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RESULT_LIMIT_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], 1_000);

    // Every relation counts, also those that are lists of plain values.
    settings = app.settings();
    settings.limits.result_fields = 100;
    let smaller = app.start_another(settings).await;
    let body = smaller.post("{ municipalities(first: 200) { nodes { names { name validFrom } } } }", json!({})).await;
    assert_eq!(body["data"], Value::Null, "no partial data: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RESULT_LIMIT_EXCEEDED", "{body}");
}

#[tokio::test]
async fn a_request_over_the_deadline_gets_timeout_within_a_second_of_it() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.limits.execution_timeout = Duration::from_millis(100);
    let hurried = app.start_another(settings).await;
    // About 175,000 fields: well within the cost budget, far beyond 100 ms.
    let started = Instant::now();
    let body = hurried.post(&aliased(14, &chain(3)), json!({})).await;
    let took = started.elapsed();
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert!(took < Duration::from_millis(1_100), "answered after {took:?}");
    // The service goes on serving.
    assert_eq!(hurried.query("{ regions { totalCount } }").await["regions"]["totalCount"], 42);
}

/// One root field, run on the lean schema, with `times` aliased copies of a
/// municipalities-region-municipalities chain under every region.
fn one_root_field(times: usize) -> String {
    let chain = "municipalities { code region { code municipalities { code name region { name } } } }";
    let copies = (0..times).map(|i| format!("a{i}: {chain}")).collect::<Vec<_>>().join(" ");
    format!("{{ regions(first: 42) {{ nodes {{ code {copies} }} }} }}")
}

#[tokio::test]
async fn a_query_with_one_root_field_is_stopped_at_the_deadline_too() {
    let app = TestApp::spawn().await;
    let document = one_root_field(8);
    let started = Instant::now();
    let body = app.post(&document, json!({})).await;
    let unhurried = started.elapsed();
    assert_eq!(body["errors"], Value::Null, "{body}");
    // Well within the time the query takes here, whatever this machine's speed.
    let limit = (unhurried / 4).max(Duration::from_millis(10));

    // The test's runtime has one thread: without a clock read between
    // relations, this query would finish before its timer could fire.
    let mut settings = app.settings();
    settings.limits.execution_timeout = limit;
    let hurried = app.start_another(settings).await;
    // The registry snapshot is loaded first (a load cut short by the limit
    // is started again), so that the query below does no I/O.
    let mut warm = Value::Null;
    for _ in 0..10 {
        warm = hurried.post("{ regions(first: 1) { nodes { municipalities { code } } } }", json!({})).await;
        if warm.get("errors").is_none() {
            break;
        }
    }
    assert_eq!(warm["errors"], Value::Null, "{warm}");
    let body = hurried.post(&document, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "one error, no partial data: {body}");
    assert_eq!(body["data"], Value::Null, "{body}");
}

/// Introspection of every type, field, argument and their types: work that
/// reads no database, so the query never waits and never yields.
const INTROSPECTION: &str = "__schema { types { name description fields { name description args { name type { name kind
    ofType { name kind } } } type { name kind ofType { name kind ofType { name kind } } } } } }";

#[tokio::test]
async fn a_query_that_only_computes_is_stopped_at_the_deadline_too() {
    let app = TestApp::spawn().await;
    let document = aliased(40, INTROSPECTION);
    // Unhurried, it runs to the end, many times the limit below.
    let started = Instant::now();
    let body = app.post(&document, json!({})).await;
    let unhurried = started.elapsed();
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert!(
        unhurried > Duration::from_millis(600),
        "the query must outlast the limit by far to prove anything: {unhurried:?}"
    );

    let mut settings = app.settings();
    settings.limits.execution_timeout = Duration::from_millis(50);
    let hurried = app.start_another(settings).await;
    let started = Instant::now();
    let body = hurried.post(&document, json!({})).await;
    let took = started.elapsed();
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "one error, no partial data: {body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    assert!(
        took < (unhurried / 2).min(Duration::from_millis(1_050)),
        "answered after {took:?}, unhurried {unhurried:?}"
    );
}

#[tokio::test]
async fn beyond_the_in_flight_cap_requests_get_503_with_retry_after_at_once() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.limits.max_in_flight = 1;
    let narrow = app.start_another(settings).await;
    let responses = join_all((0..8).map(|_| narrow.anonymous().post_request(&json!({ "query": PORTAL })).send())).await;
    let mut refused = 0;
    for response in responses {
        let response = response.expect("an answer");
        match response.status().as_u16() {
            200 => {}
            503 => {
                refused += 1;
                assert_eq!(response.headers()["retry-after"], "1");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
                assert_eq!(body["status"], 503, "problem details: {body}");
            }
            other => panic!("unexpected HTTP {other}"),
        }
    }
    assert!(refused > 0, "eight at once with room for one: some are refused");
    assert_eq!(narrow.client.get(narrow.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn subscription_documents_meet_the_cost_budget_and_have_one_root_field() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.limits.cost = 5;
    let tight = app.start_another(settings).await;
    let mut socket = subscriber(&tight).await;
    let mut refusal = async |id: &str, query: &str| {
        let subscribe = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
        socket.send(Message::text(subscribe.to_string())).await.unwrap();
        let answer = next_message(&mut socket).await;
        assert_eq!(answer["id"], id, "{answer}");
        let end = next_message(&mut socket).await;
        assert_eq!((&end["id"], &end["type"]), (&json!(id), &json!("complete")), "{end}");
        answer
    };
    // 1 + 6 fields: over a budget of 5, refused before it subscribes.
    let answer =
        refusal("wide", "subscription { registryChanged { position cursor code operation version state } }").await;
    assert_eq!(answer["payload"]["errors"][0]["extensions"]["code"], "COST_LIMIT_EXCEEDED", "{answer}");
    assert_eq!(answer["payload"]["errors"][0]["extensions"]["cost"], 7, "{answer}");
    // Aliased roots would be several streams on one subscription's budget.
    let twice = "subscription { a: registryChanged { code } ...more } fragment more on SubscriptionRoot { b: registryChanged { code } }";
    let answer = refusal("twice", twice).await;
    assert_eq!(answer["payload"]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{answer}");
    // A fragment cycle is answered, not followed for ever.
    let cycle = "subscription { ...again } fragment again on SubscriptionRoot { registryChanged { code } ...again }";
    let answer = refusal("cycle", cycle).await;
    assert!(answer["payload"]["errors"][0]["message"].is_string(), "{answer}");
}

#[tokio::test]
async fn subscriptions_are_capped_per_connection_and_cost_nothing_while_idle() {
    let app = TestApp::spawn_alone().await;
    let mut settings = app.settings();
    settings.limits.subscriptions_per_connection = 20;
    let service = app.start_another(settings).await;
    let mut socket = subscriber(&service).await;
    let subscribe = |id: usize| {
        let payload = json!({ "query": "subscription { registryChanged { position code } }" });
        Message::text(json!({ "id": id.to_string(), "type": "subscribe", "payload": payload }).to_string())
    };
    for id in 0..21 {
        socket.send(subscribe(id)).await.unwrap();
    }
    // One of the 21 (whichever the server started last) is refused.
    let refused = next_message(&mut socket).await;
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT_EXCEEDED", "{refused}");
    let refused_id = refused["id"].clone();

    // Twenty idle subscribers: the instance's one listener polls once a second, whatever their number.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = service.statements().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = service.statements().await - before;
    assert!(idle <= 3, "{idle} statements in 2 s with 20 idle subscribers");

    // A change reaches every subscriber, once.
    service.as_operator().mutate_ok("providerCreate", json!({ "code": "LIVE-TEST", "name": "Live test" })).await;
    let mut ids = std::collections::BTreeSet::new();
    while ids.len() < 20 {
        let message = next_message(&mut socket).await;
        if message["type"] == "complete" && message["id"] == refused_id {
            continue;
        }
        assert_eq!(message["payload"]["data"]["registryChanged"]["code"], "LIVE-TEST", "{message}");
        assert!(ids.insert(message["id"].as_str().unwrap().to_owned()), "once per subscriber");
    }
}

#[tokio::test]
async fn writes_keep_the_bounds_the_cost_model_counts_on() {
    let app = TestApp::spawn().await;
    let data = app.query("{ municipalities(first: 500) { nodes { code } } }").await;
    let codes: Vec<Value> =
        data["municipalities"]["nodes"].as_array().unwrap()[..101].iter().map(|n| n["code"].clone()).collect();
    let reply = app
        .as_operator()
        .mutate(
            "cooperationCreate",
            json!({ "code": "TOO-BIG", "name": "Te groot", "scale": "NATIONAL", "municipalityCodes": codes }),
        )
        .await;
    let errors = &reply.payload["userErrors"];
    assert_eq!(errors[0]["code"], "INVALID", "{reply}");
    assert_eq!(errors[0]["field"], json!(["municipalityCodes"]), "{reply}");
    assert_eq!(app.query(r#"{ cooperation(code: "TOO-BIG") { code } }"#).await["cooperation"], Value::Null);
}

/// Sends `input(i)` for i = 0, 1, … until the registry refuses one, and
/// returns how many it accepted and the refusal's user error.
async fn write_until_refused(app: &TestApp, mutation: &str, input: impl Fn(usize) -> Value) -> (usize, Value) {
    for i in 0..120 {
        let reply = app.as_operator().mutate(mutation, input(i)).await;
        let errors = &reply.payload["userErrors"];
        if errors.as_array().is_some_and(|e| !e.is_empty()) {
            return (i, errors[0].clone());
        }
        assert_eq!(reply.body["errors"], Value::Null, "{reply}");
    }
    panic!("{mutation}: 120 writes were all accepted");
}

async fn list_lengths(app: &TestApp, document: &str, list: &str) -> Vec<usize> {
    let data = app.query(document).await;
    let mut lengths = Vec::new();
    let mut pending = vec![&data];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == list {
                        lengths.push(child.as_array().map_or(0, Vec::len));
                    }
                    pending.push(child);
                }
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    lengths
}

#[tokio::test]
async fn writes_keep_the_derived_relations_within_their_bounds() {
    let app = TestApp::spawn().await;
    let region = r#"{ region(code: "JZ39") { cooperations { code } roles { code } frameworkContracts { code }
                      municipalities { cooperations { code } } } }"#;

    // A region's cooperations include its municipalities' (COOPERATIONS_PER_MEMBER = 30).
    let (accepted, refusal) = write_until_refused(
        &app,
        "cooperationCreate",
        |i| json!({ "code": format!("BOUND-C-{i}"), "name": "Grens", "scale": "REGIONAL", "regionCodes": ["JZ39"] }),
    )
    .await;
    assert!(accepted > 0, "{refusal}");
    assert_eq!(refusal["code"], "INVALID", "{refusal}");
    assert_eq!(refusal["field"], json!(["regionCodes"]), "{refusal}");
    assert!(refusal["message"].as_str().unwrap().contains("at most 30 cooperations"), "{refusal}");
    let cooperations = list_lengths(&app, region, "cooperations").await;
    assert_eq!(cooperations.iter().max(), Some(&30), "{cooperations:?}");
    let refused = format!(r#"{{ cooperation(code: "BOUND-C-{accepted}") {{ code }} }}"#);
    assert_eq!(app.query(&refused).await["cooperation"], Value::Null);

    // A region's roles include its cooperations' roles (ROLES_PER_OBJECT = 100).
    for i in 0..100 {
        app.as_operator()
            .mutate_ok("providerCreate", json!({ "code": format!("BOUND-P-{i}"), "name": "Aanbieder" }))
            .await;
    }
    let (_, refusal) = write_until_refused(&app, "roleAssign", |i| {
        json!({ "kind": "ACCOUNT_HOLDER", "holderCode": "JZ39", "regionCode": "JZ39",
                "providerCode": format!("BOUND-P-{i}"), "validFrom": "2026-01-01" })
    })
    .await;
    assert!(refusal["message"].as_str().unwrap().contains("at most 100 roles concern one region"), "{refusal}");
    assert_eq!(list_lengths(&app, region, "roles").await, vec![100]);
    // Full: a role for one of its cooperations is refused too.
    let reply = app
        .as_operator()
        .mutate(
            "roleAssign",
            json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "BOUND-C-0",
                    "validFrom": "2026-01-01" }),
        )
        .await;
    assert_eq!(reply.payload["userErrors"][0]["code"], "INVALID", "{reply}");

    // Framework contracts per party region (CONTRACTS_PER_OBJECT = 50).
    let (_, refusal) = write_until_refused(&app, "frameworkContractCreate", |i| {
        json!({ "code": format!("BOUND-K-{i}"), "title": "Contract", "scale": "REGIONAL",
                "contractingAuthorityName": "Regio", "partyRegionCodes": ["JZ39"], "validFrom": "2026-01-01" })
    })
    .await;
    assert_eq!(refusal["field"], json!(["partyRegionCodes"]), "{refusal}");
    assert!(refusal["message"].as_str().unwrap().contains("at most 50 framework contracts"), "{refusal}");
    assert_eq!(list_lengths(&app, region, "frameworkContracts").await, vec![50]);
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_per_token_or_address() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.rate_limits = jeugdregio::ratelimit::RateLimits { per_second: 1, burst: 2, trusted_proxies: vec![] };
    let limited = app.start_another(settings).await;
    let anonymous = three_requests(limited.anonymous()).await;
    assert_eq!(anonymous.iter().map(|s| s.0).collect::<Vec<_>>(), [200, 200, 429], "burst of two, then refused");
    // Problem details (RFC 9457), with the code a GraphQL error would carry.
    assert_eq!(anonymous[2].1["code"], "RATE_LIMITED", "{}", anonymous[2].1);
    assert_eq!(anonymous[2].1["status"], 429, "{}", anonymous[2].1);
    // Inventing tokens buys nothing: a bad token counts against the address, which is spent.
    let bad = limited.caller(Some("Bearer invented")).send("{ registryVersion }", json!({})).await;
    assert_eq!(bad.0, 429, "{}", bad.1);
    // A valid token has a budget of its own.
    let operator = three_requests(limited.as_operator()).await;
    assert_eq!(operator.iter().map(|s| s.0).collect::<Vec<_>>(), [200, 200, 429]);
    let response = limited.anonymous().post_request(&json!({ "query": "{ registryVersion }" })).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Health checks are never rate limited.
    assert_eq!(limited.client.get(limited.url("/healthz")).send().await.unwrap().status(), 200);
}

async fn three_requests(caller: crate::helpers::Caller<'_>) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(caller.send("{ registryVersion }", json!({})).await);
    }
    answers
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client_and_elsewhere_it_is_ignored() {
    let app = TestApp::spawn().await;
    let send = |service: &TestApp, forwarded_for: &'static str| {
        let request = service.anonymous().post_request(&json!({ "query": "{ registryVersion }" }));
        request.header("x-forwarded-for", forwarded_for).send()
    };
    let mut settings = app.settings();
    let localhost: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    settings.rate_limits =
        jeugdregio::ratelimit::RateLimits { per_second: 1, burst: 1, trusted_proxies: vec![localhost] };
    let proxied = app.start_another(settings.clone()).await;
    assert_eq!(send(&proxied, "203.0.113.5").await.unwrap().status(), 200);
    assert_eq!(send(&proxied, "203.0.113.5").await.unwrap().status(), 429, "the same client");
    assert_eq!(send(&proxied, "203.0.113.6, 127.0.0.1").await.unwrap().status(), 200, "another client");

    settings.rate_limits.trusted_proxies.clear();
    let direct = app.start_another(settings).await;
    assert_eq!(send(&direct, "203.0.113.7").await.unwrap().status(), 200);
    assert_eq!(send(&direct, "203.0.113.8").await.unwrap().status(), 429, "a header anyone can send is ignored");
}

#[tokio::test]
async fn silent_slow_and_surplus_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let app = TestApp::spawn().await;
    let router = jeugdregio::app(&app.settings()).await.expect("start the service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let limits = jeugdregio::server::ConnectionLimits {
        header_read_timeout: Duration::from_millis(300),
        per_address: 2,
        ..Default::default()
    };
    tokio::spawn(jeugdregio::server::serve(listener, router, limits, std::future::pending()));
    /// Reads until the server closes the connection; how long that took.
    async fn closed_after(stream: &mut TcpStream) -> Duration {
        let started = Instant::now();
        let mut buffer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buffer)).await.expect("closed").ok();
        started.elapsed()
    }

    let mut silent = TcpStream::connect(address).await.unwrap();
    assert!(closed_after(&mut silent).await < Duration::from_millis(1_300), "a silent client is let go");
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    assert!(closed_after(&mut slow).await < Duration::from_millis(1_300), "a half-sent header is let go");

    let _first = TcpStream::connect(address).await.unwrap();
    let mut second = TcpStream::connect(address).await.unwrap();
    let mut surplus = TcpStream::connect(address).await.unwrap();
    assert!(
        closed_after(&mut surplus).await < Duration::from_millis(200),
        "the third of one address is closed at once"
    );
    second.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    second.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_websocket_client_that_never_initialises_is_closed_with_4408() {
    use futures::StreamExt;
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.limits.connection_init_timeout = Duration::from_millis(300);
    let service = app.start_another(settings).await;
    let mut socket = websocket(&service).await;
    let started = Instant::now();
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert!(started.elapsed() < Duration::from_millis(1_300));
    assert_eq!(u16::from(closed.expect("a close frame").code), 4408);
}
