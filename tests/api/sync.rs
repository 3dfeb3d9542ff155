//! Keeping a copy in sync, over real HTTP and WebSocket: the change feed,
//! live subscriptions, HTTP caching, persisted queries and idempotent sync.

use std::collections::HashSet;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{CACHE_MAX_AGE, Caller, TestApp, TestDatabase, on_postgres};

const CHANGES: &str = r#"query($after: String, $first: Int, $filter: ChangeFilter) {
    changes(after: $after, first: $first, filter: $filter) { totalCount resumeCursor pageInfo { hasNextPage endCursor }
      nodes { position cursor committedAt objectType code operation version state } } }"#;

/// Sets a municipality's website as the operator, with the version it has now.
async fn set_website(app: &TestApp, code: &str, website: &str) {
    let version = app
        .query_with(r#"query($c: String!) { municipality(code: $c) { version } }"#, json!({ "c": code }))
        .await["municipality"]["version"]
        .clone();
    let input = json!({ "code": code, "expectedVersion": version, "website": website });
    app.as_operator().mutate_ok("municipalityUpdate", input).await;
}

#[tokio::test]
async fn the_feed_lists_every_change_in_order_and_resumes_from_a_cursor() {
    let app = TestApp::spawn().await;
    assert_eq!(app.query("{ registryVersion }").await["registryVersion"], 0);
    set_website(&app, "GM0772", "https://www.eindhoven.nl").await;
    set_website(&app, "GM0014", "https://gemeente.groningen.nl").await;
    let role_end = json!({ "code": "RL00002", "expectedVersion": 1, "validTo": "2030-01-01" });
    app.as_operator().mutate_ok("roleEnd", role_end).await;
    assert_eq!(app.query("{ registryVersion }").await["registryVersion"], 3);

    let all = app.query(CHANGES).await["changes"].clone();
    let nodes = all["nodes"].as_array().unwrap();
    let seen: Vec<(i64, &str, &str, &str)> = nodes
        .iter()
        .map(|n| {
            (
                n["position"].as_i64().unwrap(),
                n["objectType"].as_str().unwrap(),
                n["code"].as_str().unwrap(),
                n["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "MUNICIPALITY", "GM0772", "UPDATED"),
            (2, "MUNICIPALITY", "GM0014", "UPDATED"),
            (3, "ROLE", "RL00002", "ENDED")
        ]
    );
    assert_eq!(nodes[0]["version"], 2);
    assert_eq!(nodes[0]["state"]["website"], "https://www.eindhoven.nl");
    assert_eq!(nodes[2]["state"]["validTo"], "2030-01-01");

    // Resume after the first change: the other two, and nothing else.
    let rest = app.query_with(CHANGES, json!({ "after": nodes[0]["cursor"] })).await["changes"]["nodes"].clone();
    assert_eq!(
        rest.as_array().unwrap().iter().map(|n| n["position"].as_i64().unwrap()).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let none = app.query_with(CHANGES, json!({ "after": nodes[2]["cursor"] })).await["changes"].clone();
    assert_eq!(none["nodes"], json!([]));
    assert_eq!(none["pageInfo"]["hasNextPage"], false);
    assert_eq!(none["resumeCursor"], nodes[2]["cursor"], "an empty page resumes where you were");
    // A registry version is a valid starting point too.
    let from_version = app.query_with(CHANGES, json!({ "after": "2" })).await["changes"]["nodes"].clone();
    assert_eq!(from_version[0]["position"], 3);
    // A cursor that is malformed, or beyond the newest change (never handed
    // out), is refused: reading on from it would skip later changes unseen.
    for cursor in ["not-a-cursor", "-1", "4", "99"] {
        let bad = app.post(CHANGES, json!({ "after": cursor })).await;
        assert_eq!(bad["errors"][0]["extensions"]["code"], "INVALID_CURSOR", "{cursor}: {bad}");
        assert!(
            bad["errors"][0]["message"].as_str().unwrap().contains("registryVersion"),
            "says where to start: {bad}"
        );
    }

    // Filters.
    let filtered = |filter: Value| {
        let app = &app;
        async move {
            let nodes = app.query_with(CHANGES, json!({ "filter": filter })).await["changes"]["nodes"].clone();
            nodes.as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(filtered(json!({ "objectTypes": ["ROLE"] })).await, vec!["RL00002"]);
    assert_eq!(filtered(json!({ "codes": ["GM0014"] })).await, vec!["GM0014"]);
    assert_eq!(filtered(json!({ "regionCode": "JZ39" })).await, vec!["GM0772", "RL00002"]);
    assert_eq!(filtered(json!({ "regionCode": "JZ01" })).await, vec!["GM0014"]);

    // A contract concerns its party regions.
    let contract = json!({ "code": "ZOB-TWENTE", "title": "Samen", "scale": "SUPRAREGIONAL",
                           "partyRegionCodes": ["JZ39", "JZ33"] });
    app.as_operator().mutate_ok("frameworkContractCreate", contract).await;
    assert_eq!(filtered(json!({ "regionCode": "JZ33" })).await, vec!["ZOB-TWENTE"]);
    assert_eq!(filtered(json!({ "regionCode": "JZ39" })).await, vec!["GM0772", "RL00002", "ZOB-TWENTE"]);
    assert_eq!(filtered(json!({ "regionCode": "JZ01" })).await, vec!["GM0014"]);
}

#[tokio::test]
async fn a_poller_resuming_from_its_cursor_sees_every_concurrent_change_exactly_once_in_order() {
    every_concurrent_change_is_polled_once_in_order(&TestApp::spawn().await).await;
}

/// The feed's head row lock needs READ COMMITTED (a writer blocked on the
/// head must then see the committed head); under SERIALIZABLE the second of
/// two concurrent writers would fail. The service gives every connection
/// READ COMMITTED itself, so a server whose default is stricter changes
/// nothing. (On SQLite, which has one isolation, the same check runs as is.)
#[tokio::test]
async fn concurrent_writes_hold_when_the_server_default_isolation_is_serializable() {
    let database = TestDatabase::fresh();
    if on_postgres() {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(database.url.as_str()).await.expect("the test database");
        admin
            .execute_unprepared(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = serializable', \
                 current_database()); END $$",
            )
            .await
            .expect("set the database's default isolation");
        admin.close().await.unwrap();
        // Every new session of this database now starts SERIALIZABLE, unless it says otherwise.
        let session = sea_orm::Database::connect(database.url.as_str()).await.expect("the test database");
        let default = session
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT current_setting('default_transaction_isolation')",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(default.try_get_by_index::<String>(0).unwrap(), "serializable");
        session.close().await.unwrap();
    }
    every_concurrent_change_is_polled_once_in_order(&TestApp::spawn_on(database).await).await;
}

/// Four writers change four municipalities ten times each while a client
/// polls the feed from the registryVersion it read: it sees every change
/// once, in order, without gaps.
async fn every_concurrent_change_is_polled_once_in_order(app: &TestApp) {
    const WRITERS: usize = 4;
    const WRITES_EACH: usize = 10;
    let municipalities = ["GM0772", "GM0014", "GM0363", "GM0599"];
    // The README's recipe: start at the registryVersion the registry was read at...
    let start = app.query("{ registryVersion }").await["registryVersion"].as_i64().unwrap();
    let writers = (0..WRITERS).map(|w| async move {
        for n in 0..WRITES_EACH {
            set_website(app, municipalities[w], &format!("https://www.example.nl/{w}/{n}")).await;
        }
    });
    let poller = async {
        let (mut cursor, mut seen) = (json!(start.to_string()), Vec::<(i64, String, i64)>::new());
        while seen.len() < WRITERS * WRITES_EACH {
            // ...page with `first`, process in order, keep `resumeCursor`, and ask
            // again at once while `hasNextPage` (else a moment later).
            let page = app.query_with(CHANGES, json!({ "after": cursor, "first": 7 })).await["changes"].clone();
            for node in page["nodes"].as_array().unwrap() {
                seen.push((
                    node["position"].as_i64().unwrap(),
                    node["code"].as_str().unwrap().to_owned(),
                    node["version"].as_i64().unwrap(),
                ));
            }
            cursor = page["resumeCursor"].clone();
            assert!(cursor.is_string(), "resumeCursor is set on every page: {page}");
            if page["pageInfo"]["hasNextPage"] != true {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        seen
    };
    let poller = tokio::time::timeout(std::time::Duration::from_secs(60), poller);
    let (_, seen) = tokio::join!(futures::future::join_all(writers), poller);
    let seen = seen.expect("the poller saw all changes within 60 s (a skipped position would stall it)");
    let positions: Vec<i64> = seen.iter().map(|s| s.0).collect();
    assert_eq!(
        positions,
        (start + 1..=start + (WRITERS * WRITES_EACH) as i64).collect::<Vec<_>>(),
        "every position once, in order, no gaps"
    );
    let distinct: HashSet<(String, i64)> = seen.iter().map(|s| (s.1.clone(), s.2)).collect();
    assert_eq!(distinct.len(), WRITERS * WRITES_EACH, "every change exactly once");
    for code in municipalities {
        let versions: Vec<i64> = seen.iter().filter(|s| s.1 == code).map(|s| s.2).collect();
        assert_eq!(versions, (2..=(WRITES_EACH as i64 + 1)).collect::<Vec<_>>(), "{code}: versions in order");
    }
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to the app's `/graphql/ws` speaking `graphql-transport-ws`, not yet initialised.
pub(crate) async fn websocket(app: &TestApp) -> Socket {
    let mut request = app.url("/graphql/ws").replace("http://", "ws://").into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    socket
}

/// [`websocket`], after `connection_init` was acknowledged.
pub(crate) async fn subscriber(app: &TestApp) -> Socket {
    let mut socket = websocket(app).await;
    socket.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    socket
}

pub(crate) async fn next_message(
    socket: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "ping" {
                continue;
            }
            crate::helpers::assert_every_error_is_coded(&value["payload"]);
            return value;
        }
    }
}

#[tokio::test]
async fn a_websocket_subscriber_receives_committed_changes_in_order_and_catches_up_after_reconnecting() {
    let app = TestApp::spawn().await;
    let connect = || subscriber(&app);
    let subscription =
        "subscription($after: String) { registryChanged(after: $after) { position cursor code operation version } }";

    let mut socket = connect().await;
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": subscription } }).to_string(),
        ))
        .await
        .unwrap();
    // Give the subscription a moment to start before committing.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for (code, website) in [("GM0772", "https://a.nl"), ("GM0014", "https://b.nl"), ("GM0772", "https://c.nl")] {
        set_website(&app, code, website).await;
    }
    let mut received = Vec::new();
    for _ in 0..3 {
        let message = next_message(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], "1");
        received.push(message["payload"]["data"]["registryChanged"].clone());
    }
    let summary: Vec<(i64, &str, i64)> = received
        .iter()
        .map(|c| (c["position"].as_i64().unwrap(), c["code"].as_str().unwrap(), c["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(summary, vec![(1, "GM0772", 2), (2, "GM0014", 2), (3, "GM0772", 3)]);
    socket.close(None).await.ok();

    // Reconnect from the first change's cursor: first what was missed, then live changes.
    let mut socket = connect().await;
    let resume = json!({ "id": "2", "type": "subscribe", "payload": { "query": subscription, "variables": { "after": received[0]["cursor"] } } });
    socket.send(Message::text(resume.to_string())).await.unwrap();
    let caught_up: Vec<i64> = [next_message(&mut socket).await, next_message(&mut socket).await]
        .iter()
        .map(|m| m["payload"]["data"]["registryChanged"]["position"].as_i64().unwrap())
        .collect();
    assert_eq!(caught_up, vec![2, 3]);
    set_website(&app, "GM0363", "https://d.nl").await;
    let live = next_message(&mut socket).await;
    assert_eq!(live["payload"]["data"]["registryChanged"]["position"], 4);
    assert_eq!(live["payload"]["data"]["registryChanged"]["code"], "GM0363");
}

#[tokio::test]
async fn get_queries_carry_an_etag_and_a_matching_if_none_match_gets_304() {
    let app = TestApp::spawn().await;
    let get = |caller: Caller<'_>, if_none_match: Option<&str>| {
        let mut request = caller.get().query(&[("query", r#"{ municipality(code: "GM0772") { website version } }"#)]);
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        async move { request.send().await.unwrap() }
    };
    let first = get(app.anonymous(), None).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.headers()["cache-control"], format!("public, max-age={}", CACHE_MAX_AGE.as_secs()));
    assert_eq!(first.headers()["vary"], "Authorization, Accept-Encoding", "shared caches key on the token");
    let star = get(app.anonymous(), Some("*")).await;
    assert_eq!(star.status(), 200, "If-None-Match: * is not honoured");

    let statements = app.statements().await;
    let again = get(app.anonymous(), Some(&etag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    // The registry version is known in memory; at most the live listener's
    // once-a-second look at the feed may fall in between.
    assert!(app.statements().await - statements <= 1, "the query did not run");

    set_website(&app, "GM0772", "https://www.eindhoven.nl").await;
    let changed = get(app.anonymous(), Some(&etag)).await;
    assert_eq!(changed.status(), 200, "the registry changed, so the ETag no longer matches");
    assert_ne!(changed.headers()["etag"], etag.as_str());
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["data"]["municipality"]["website"], "https://www.eindhoven.nl");

    let with_token = get(app.as_municipality("GM0772"), None).await;
    assert_eq!(with_token.status(), 200);
    assert_eq!(with_token.headers()["cache-control"], "private, no-store", "never shared-cacheable with a token");

    let role_end = json!({ "code": "RL00002", "expectedVersion": 1, "validTo": "2030-01-01" });
    let reply = app.as_operator().mutate("roleEnd", role_end).await;
    assert!(reply.body["data"].is_object(), "the mutation answered 200: {reply}");
    let response = app.anonymous().post_request(&json!({ "query": "{ registryVersion }" })).send().await.unwrap();
    assert!(response.headers().contains_key("etag"), "POSTed queries carry an ETag too");
}

#[tokio::test]
async fn public_answers_are_kept_per_registry_version_and_never_stale() {
    let app = TestApp::spawn().await;
    let query = r#"{ municipality(code: "GM0772") { website region { code } } }"#;
    let post = |caller: Caller<'_>, accept_encoding: Option<&'static str>| {
        let mut request = caller.post_request(&json!({ "query": query }));
        if let Some(encoding) = accept_encoding {
            request = request.header("accept-encoding", encoding);
        }
        async move {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            (headers, response.bytes().await.unwrap().to_vec())
        }
    };
    let (first_headers, first) = post(app.anonymous(), None).await;
    let statements = app.statements().await;
    for _ in 0..20 {
        let (headers, again) = post(app.anonymous(), None).await;
        assert_eq!(again, first, "the same bytes");
        assert_eq!(headers["etag"], first_headers["etag"]);
    }
    // At most the live listener's once-a-second look at the feed fell in between.
    let read = app.statements().await - statements;
    assert!(read <= 2, "20 kept answers cost {read} statements");

    // A small answer goes as it is, also to clients that take gzip: not
    // worth compressing, and not compressed anew for every request either.
    assert!(first.len() < 1024, "{} bytes", first.len());
    let (headers, small) = post(app.anonymous(), Some("gzip, br")).await;
    assert_eq!(headers.get("content-encoding"), None);
    assert_eq!(headers["content-length"], first.len().to_string().as_str());
    assert_eq!(small, first);
    // A large one is compressed for clients that take gzip (a kept answer once).
    let large = json!({ "query": "{ municipalities(first: 100) { nodes { code name region { code name } } } }" });
    let plain = app.anonymous().post_request(&large).send().await.unwrap().bytes().await.unwrap();
    assert!(plain.len() > 1024, "{} bytes", plain.len());
    let packed = app.anonymous().post_request(&large).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    let packed = packed.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain);

    // An answer to a token is its own and is not kept.
    let statements = app.statements().await;
    post(app.as_municipality("GM0772"), None).await;
    post(app.as_municipality("GM0772"), None).await;
    assert!(app.statements().await - statements >= 2, "each ran: at least its lookup by code");

    // A write moves the registry version: the next answer is fresh.
    set_website(&app, "GM0772", "https://www.eindhoven.nl/jeugd").await;
    let (headers, fresh) = post(app.anonymous(), None).await;
    assert_ne!(headers["etag"], first_headers["etag"]);
    let fresh: Value = serde_json::from_slice(&fresh).unwrap();
    assert_eq!(fresh["data"]["municipality"]["website"], "https://www.eindhoven.nl/jeugd");
}

#[tokio::test]
async fn a_write_through_one_instance_is_seen_through_another_within_a_second() {
    use sha2::{Digest, Sha256};
    let first = TestApp::spawn().await;
    let second = first.start_another(first.settings()).await;
    // On PostgreSQL instances tell each other of commits (LISTEN/NOTIFY); on
    // SQLite they look once a second.
    let within = Duration::from_millis(if crate::helpers::on_postgres() { 1_000 } else { 2_000 });

    // A query registered through one instance runs by its hash through the other.
    let query = r#"{ municipality(code: "GM0772") { website } }"#;
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let (_, registered) = first.anonymous().send_body(&json!({ "query": query, "extensions": persisted })).await;
    assert!(registered["data"]["municipality"].is_object(), "{registered}");
    let by_hash = || async {
        let request = second.anonymous().get().query(&[("extensions", persisted.to_string())]);
        let response = request.send().await.unwrap();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (etag, response.json::<Value>().await.unwrap())
    };
    let (stale_etag, before) = by_hash().await;
    assert!(before["data"]["municipality"].is_object(), "{before}");

    let mut socket = subscriber(&second).await;
    let subscribe = json!({ "id": "1", "type": "subscribe",
                            "payload": { "query": "subscription { registryChanged { code } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    // The subscription is live once an earlier commit is delivered; give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;

    set_website(&first, "GM0772", "https://www.eindhoven.nl/elders").await;
    let written = std::time::Instant::now();
    let event = tokio::time::timeout(within, next_message(&mut socket)).await.expect("an event within the bound");
    assert_eq!(event["payload"]["data"]["registryChanged"]["code"], "GM0772", "{event}");
    loop {
        let (etag, body) = by_hash().await;
        if body["data"]["municipality"]["website"] == "https://www.eindhoven.nl/elders" {
            assert_ne!(etag, stale_etag, "a fresh ETag with the fresh answer");
            break;
        }
        assert_eq!(etag, stale_etag, "the old answer comes with its own ETag");
        assert!(written.elapsed() < within, "the other instance still answers the old data after {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn automatic_persisted_queries_run_by_hash_over_get_but_never_a_mutation() {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn().await;
    let query = r#"{ region(code: "JZ39") { name } }"#;
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let by_hash = || app.anonymous().get().query(&[("extensions", extensions.as_str())]).send();

    let unknown: Value = by_hash().await.unwrap().json().await.unwrap();
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound", "{unknown}");
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{unknown}");

    let register = json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let (_, registered) = app.anonymous().send_body(&register).await;
    assert_eq!(registered["data"]["region"]["name"], "Zuidoost-Brabant");
    let response = by_hash().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("etag"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["region"]["name"], "Zuidoost-Brabant");

    // A mutation stored through POST cannot then be run by its hash over GET.
    let mutation =
        r#"mutation { careFormCreate(input: {code: "APQ-TEST", name: "x", nameEn: "x"}) { userErrors { code } } }"#;
    let mutation_hash = hex::encode(Sha256::digest(mutation.as_bytes()));
    let mutation_extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": mutation_hash } });
    let store = json!({ "query": mutation, "variables": { "code": "APQ-STORED" }, "extensions": mutation_extensions });
    let (_, stored) = app.as_operator().send_body(&store).await;
    assert_eq!(stored["data"]["careFormCreate"]["userErrors"], json!([]), "{stored}");
    let audit = app.audit_count().await;
    let over_get = app
        .as_operator()
        .get()
        .query(&[("extensions", mutation_extensions.to_string().as_str()), ("variables", r#"{"code":"APQ-OVER-GET"}"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(over_get.status(), 405);
    assert_eq!(app.audit_count().await, audit, "nothing was written");
    assert!(app.query(r#"{ careForm(code: "APQ-OVER-GET") { code } }"#).await["careForm"].is_null());
}

#[tokio::test]
async fn syncing_the_same_entry_twice_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let entry = json!({ "code": "GM0772", "website": "https://www.eindhoven.nl",
                        "accessPoint": { "name": "Toegang Jeugd", "email": "jeugd@eindhoven.nl", "phone": "14 040" } });
    let first = eindhoven.mutate("municipalitySync", entry.clone()).await.payload;
    assert_eq!(first["changed"], true, "{first}");
    assert_eq!(first["municipality"]["version"], 2);
    let (audit, version) = (app.audit_count().await, app.query("{ registryVersion }").await["registryVersion"].clone());

    let second = eindhoven.mutate("municipalitySync", entry.clone()).await.payload;
    assert_eq!(second["changed"], false, "{second}");
    assert_eq!(second["municipality"]["version"], 2, "no new version");
    assert_eq!(second["userErrors"], json!([]));
    assert_eq!(app.audit_count().await, audit, "no audit record");
    assert_eq!(app.query("{ registryVersion }").await["registryVersion"], version, "no feed entry");

    // A whole entry: what is left out is cleared, and that is a change.
    let third = eindhoven
        .mutate("municipalitySync", json!({ "code": "GM0772", "website": "https://www.eindhoven.nl" }))
        .await
        .payload;
    assert_eq!(third["changed"], true);
    assert!(third["municipality"]["accessPoint"].is_null());

    let other = app.as_municipality("GM0014").mutate("municipalitySync", entry).await;
    assert_eq!(other.error_code(), "FORBIDDEN");
    let invalid = eindhoven.mutate("municipalitySync", json!({ "code": "GM0772", "website": "nope" })).await;
    assert_eq!(invalid.payload["userErrors"][0]["field"], json!(["website"]));
}

/// Every key of a JSON value, nested ones included.
fn keys(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                into.push(key.clone());
                keys(inner, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, into)),
        _ => {}
    }
}

#[tokio::test]
async fn the_feed_and_the_audit_log_speak_the_schema_never_columns_or_ids() {
    let app = TestApp::spawn().await;
    let role = app
        .as_operator()
        .mutate_ok(
            "roleAssign",
            json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD",
                    "careFormCode": "CRISIS", "validFrom": "2027-01-01" }),
        )
        .await;
    let code = role["role"]["code"].as_str().unwrap().to_owned();
    app.as_operator()
        .mutate_ok(
            "membershipChange",
            json!({ "municipalityCode": "GM0753", "expectedVersion": 1,
                                               "regionCode": "JZ18", "validFrom": "2027-01-01" }),
        )
        .await;
    let data = app.query("{ changes { nodes { objectType code state } } }").await;
    let nodes = data["changes"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{data}");
    let state = &nodes[0]["state"];
    assert_eq!(state["code"], code.as_str());
    assert_eq!(state["holder"], "GM0753", "related objects by code: {state}");
    assert_eq!(state["cooperation"], "SAMEN-VOOR-JEUGD");
    assert_eq!(state["careForm"], "CRISIS");
    assert_eq!(state["validFrom"], "2027-01-01");
    let municipality = &nodes[1]["state"];
    assert_eq!(municipality["province"], "PV30", "{municipality}");
    let regions = municipality["regions"].as_array().unwrap();
    assert_eq!(regions.last().unwrap()["region"], "JZ18", "{municipality}");
    assert_eq!(regions.last().unwrap()["validFrom"], "2027-01-01", "{municipality}");
    let mut all = Vec::new();
    for node in nodes {
        keys(&node["state"], &mut all);
    }
    let audit = app.query(r#"{ auditLog { nodes { changes { field } } } }"#).await;
    for change in audit["auditLog"]["nodes"].as_array().unwrap().iter().flat_map(|n| n["changes"].as_array().unwrap()) {
        all.extend(change["field"].as_str().unwrap().split('.').map(str::to_owned));
    }
    for key in &all {
        assert!(key != "id" && !key.ends_with("_id") && !key.contains('_'), "{key:?} is not a schema field name");
    }
}
