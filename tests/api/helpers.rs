//! The harness: a running service on a fresh copy of the seeded registry,
//! and callers that speak to it over HTTP the way the README does.
//!
//! ```ignore
//! let app = TestApp::spawn().await;
//! app.query(r#"{ region(code: "JZ39") { name } }"#).await;
//! app.as_municipality("GM0772").mutate("municipalityUpdate", json!({ "code": "GM0772", ... })).await;
//! ```
//!
//! The database is SQLite in a temporary directory, or, when
//! `JEUGDREGIO_TEST_DATABASE_URL` names a PostgreSQL server (for example
//! `postgres://postgres@127.0.0.1:5432/test`), a database of its own on that
//! server, dropped when the test ends. Either way it is a copy of a template
//! that is migrated and seeded once per test run (see `helpers/database.rs`), so
//! a test starts on a copied file or an already made copy of the database
//! instead of migrating and seeding its own.

mod database;

use std::sync::Arc;

use serde_json::{Value, json};

pub use database::{TestDatabase, on_postgres};

// ---------------------------------------------------------------------------
// The service

/// A running service on a fresh, migrated and seeded database.
pub struct TestApp {
    base_url: String,
    pub client: reqwest::Client,
    settings: jeugdregio::Settings,
    /// Shared with every other instance started on the same database.
    database: Arc<TestDatabase>,
    /// Whether other tests' services run beside this one (`None` for [`TestApp::start_another`]).
    _turn: Option<Turn>,
}

/// Anonymously POSTs `query` to a service on 127.0.0.1:`port` (say, the
/// binary in a child process); returns the whole JSON answer.
pub async fn post_query(client: &reqwest::Client, port: u16, query: &str) -> Value {
    let url = format!("http://127.0.0.1:{port}/graphql");
    client.post(url).json(&json!({ "query": query })).send().await.unwrap().json().await.unwrap()
}

/// How the tests run the service on `database`.
fn test_settings(database: &TestDatabase) -> jeugdregio::Settings {
    jeugdregio::Settings {
        database_url: database.url.clone(),
        auth: auth_config(),
        cache_max_age: CACHE_MAX_AGE,
        // Tests send hundreds of requests a second from one address; the
        // rate limit has a test of its own.
        rate_limits: jeugdregio::ratelimit::RateLimits { per_second: 0, ..Default::default() },
        ..Default::default()
    }
}

/// Tests' services run side by side, except for one that measures the service
/// (what a query costs in SQL statements): it runs alone, so that other tests'
/// load cannot change how its DataLoaders batch.
static SIDE_BY_SIDE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

enum Turn {
    Shared { _guard: tokio::sync::RwLockReadGuard<'static, ()> },
    Alone { _guard: tokio::sync::RwLockWriteGuard<'static, ()> },
}

/// `max-age` the test service gives public responses.
pub const CACHE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The HS256 secret the test service verifies tokens with.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

impl TestApp {
    /// A running service on a fresh copy of the seeded registry.
    pub async fn spawn() -> TestApp {
        Self::spawn_in(Turn::Shared { _guard: SIDE_BY_SIDE.read().await }).await
    }

    /// [`TestApp::spawn`] for a test that measures the service: no other
    /// test's service runs while this one does.
    pub async fn spawn_alone() -> TestApp {
        Self::spawn_in(Turn::Alone { _guard: SIDE_BY_SIDE.write().await }).await
    }

    /// A running service on `database`, which `jeugdregio::app` migrates and seeds if empty.
    pub async fn spawn_on(database: TestDatabase) -> TestApp {
        Self::spawn_on_in(database, Turn::Shared { _guard: SIDE_BY_SIDE.read().await }).await
    }

    async fn spawn_in(turn: Turn) -> TestApp {
        Self::spawn_on_in(TestDatabase::fresh(), turn).await
    }

    async fn spawn_on_in(database: TestDatabase, turn: Turn) -> TestApp {
        Self::start(test_settings(&database), Arc::new(database), Some(turn)).await
    }

    /// Another instance of the service on this app's database, started with
    /// `settings` (for example without a key, or on a second start).
    pub async fn start_another(&self, settings: jeugdregio::Settings) -> TestApp {
        Self::start(settings, self.database.clone(), None).await
    }

    async fn start(settings: jeugdregio::Settings, database: Arc<TestDatabase>, turn: Option<Turn>) -> TestApp {
        // With a seeded copy, `app` only checks that migrations and seed are in place.
        let router = jeugdregio::app(&settings).await.expect("start the service");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            jeugdregio::server::serve(listener, router, Default::default(), std::future::pending()).await.unwrap()
        });
        TestApp { base_url, client: reqwest::Client::new(), settings, database, _turn: turn }
    }

    /// A service that runs elsewhere (say, the `jeugdregio` binary in a child
    /// process) at `base_url` on `database`, to talk to as to any other.
    pub async fn running_at(base_url: String, database: TestDatabase) -> TestApp {
        let turn = Turn::Shared { _guard: SIDE_BY_SIDE.read().await };
        let settings = test_settings(&database);
        TestApp { base_url, client: reqwest::Client::new(), settings, database: Arc::new(database), _turn: Some(turn) }
    }

    /// This app's database served by another server at `base_url` (one the test runs itself).
    pub fn served_at(&self, base_url: String) -> TestApp {
        let (client, settings, database) = (reqwest::Client::new(), self.settings.clone(), self.database.clone());
        TestApp { base_url, client, settings, database, _turn: None }
    }

    /// The settings the service was started with.
    pub fn settings(&self) -> jeugdregio::Settings {
        self.settings.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A caller sending no `Authorization` header.
    pub fn anonymous(&self) -> Caller<'_> {
        self.caller(None)
    }

    /// A caller with a valid token of the registry operator.
    pub fn as_operator(&self) -> Caller<'_> {
        self.caller(Some(&format!("Bearer {}", operator_token())))
    }

    /// A caller with a valid token of the municipality `code` (`GM0772`).
    pub fn as_municipality(&self, code: &str) -> Caller<'_> {
        self.caller(Some(&format!("Bearer {}", municipality_token(code))))
    }

    /// A caller sending this `Authorization` header value (or none).
    pub fn caller(&self, authorization: Option<&str>) -> Caller<'_> {
        Caller { app: self, authorization: authorization.map(str::to_owned) }
    }

    /// Runs a query anonymously; it must succeed. Returns its `data`.
    pub async fn query(&self, document: &str) -> Value {
        self.anonymous().query_with(document, json!({})).await
    }

    /// [`TestApp::query`] with variables.
    pub async fn query_with(&self, document: &str, variables: Value) -> Value {
        self.anonymous().query_with(document, variables).await
    }

    /// POSTs anonymously and returns the whole JSON response, errors and all.
    pub async fn post(&self, document: &str, variables: Value) -> Value {
        self.anonymous().post(document, variables).await
    }

    /// Number of audit records (read as the operator).
    pub async fn audit_count(&self) -> u64 {
        let data = self.as_operator().query_with("{ auditLog { totalCount } }", json!({})).await;
        data["auditLog"]["totalCount"].as_u64().expect("audit count")
    }

    /// The current `version` of an object, read with `query` returning it
    /// under `o` (`{ o: role(code: "RL00002") { version } }`); 0 when absent.
    pub async fn version(&self, query: &str) -> i64 {
        self.query(query).await["o"]["version"].as_i64().unwrap_or(0)
    }

    /// The service's SQL statement counter, read from `/metrics`.
    pub async fn statements(&self) -> u64 {
        let text = self.client.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix("jeugdregio_sql_statements_total "))
            .expect("statement counter on /metrics")
            .trim()
            .parse()
            .unwrap()
    }
}

// ---------------------------------------------------------------------------
// Callers

/// Someone talking to the service: anonymous, a municipality, the operator,
/// or any `Authorization` header at all.
pub struct Caller<'a> {
    app: &'a TestApp,
    authorization: Option<String>,
}

impl Caller<'_> {
    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn send(&self, document: &str, variables: Value) -> (u16, Value) {
        self.send_body(&json!({ "query": document, "variables": variables })).await
    }

    /// POSTs a request body of its own (say, with `extensions`); returns the HTTP status and the JSON body.
    pub async fn send_body(&self, body: &Value) -> (u16, Value) {
        let response = self.post_request(body).send().await.expect("request");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_every_error_is_coded(&body);
        (status, body)
    }

    /// POSTs a GraphQL request that must answer 200; returns the JSON body.
    pub async fn post(&self, document: &str, variables: Value) -> Value {
        let (status, body) = self.send(document, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Runs a query that must succeed; returns its `data`.
    pub async fn query_with(&self, document: &str, variables: Value) -> Value {
        let body = self.post(document, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs `mutation` (`"roleAssign"`) with `input`, asking for the payload
    /// [`mutation_document`] names; the answer must be HTTP 200.
    pub async fn mutate(&self, mutation: &str, input: Value) -> Reply {
        let body = self.post(&mutation_document(mutation), json!({ "input": input })).await;
        Reply { payload: body["data"][mutation].clone(), body }
    }

    /// [`Caller::mutate`] that must succeed without errors or user errors; returns the payload.
    pub async fn mutate_ok(&self, mutation: &str, input: Value) -> Value {
        let reply = self.mutate(mutation, input).await;
        assert!(reply.body.get("errors").is_none(), "{mutation}: {reply}");
        assert_eq!(reply.payload["userErrors"], json!([]), "{mutation}: {reply}");
        reply.payload
    }

    /// A GET of `/graphql` with this caller's `Authorization`, to add parameters and headers to.
    pub fn get(&self) -> reqwest::RequestBuilder {
        self.request(self.app.client.get(self.app.url("/graphql")))
    }

    /// A POST of `body` to `/graphql` with this caller's `Authorization`, to send yourself.
    pub fn post_request(&self, body: &Value) -> reqwest::RequestBuilder {
        self.request(self.app.client.post(self.app.url("/graphql"))).json(body)
    }

    /// `request` with this caller's `Authorization`, if it has one.
    pub fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(value) => request.header("authorization", value),
            None => request,
        }
    }
}

/// The answer to a mutation: the whole body and the payload (`data.<mutation>`).
pub struct Reply {
    pub body: Value,
    pub payload: Value,
}

impl Reply {
    /// `extensions.code` of the first GraphQL error (null when there is none).
    pub fn error_code(&self) -> &Value {
        &self.body["errors"][0]["extensions"]["code"]
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.body.fmt(f)
    }
}

/// Every GraphQL error of every answer the suite reads through [`Caller`]
/// carries an `extensions.code` from the service's one list of codes, so a
/// client can branch on it without reading the English message.
pub fn assert_every_error_is_coded(body: &Value) {
    let known: Vec<&str> = jeugdregio::graphql::ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    for error in body["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("(none)");
        assert!(known.contains(&code), "an error without a known code ({code}): {error}");
    }
}

// ---------------------------------------------------------------------------
// Mutation documents

/// `mutation($input: RoleAssignInput!) { roleAssign(input: $input) { role { … } userErrors { … } … } }`
pub fn mutation_document(mutation: &str) -> String {
    let object = payload_object(mutation);
    // `municipalitySync` says whether it changed anything; the others whether they replayed.
    let outcome = if mutation == "municipalitySync" { "changed" } else { "replayed" };
    format!(
        "mutation($input: {input}!) {{ {mutation}(input: $input) {{ {object} {{ {fields} }} \
         userErrors {{ field message code }} clientMutationId {outcome} }} }}",
        input = input_type(mutation),
        fields = object_fields(object),
    )
}

/// The input type of a mutation: `roleAssign` takes `RoleAssignInput`, the
/// `…End` mutations share `EndInput`.
fn input_type(mutation: &str) -> String {
    if mutation.ends_with("End") {
        return "EndInput".to_owned();
    }
    let mut name = mutation[..1].to_uppercase();
    name.push_str(&mutation[1..]);
    name.push_str("Input");
    name
}

/// The object a mutation's payload carries, by the mutation's name.
pub fn payload_object(mutation: &str) -> &'static str {
    if mutation == "membershipChange" {
        return "municipality";
    }
    ["municipality", "role", "cooperation", "frameworkContract", "provider", "careForm"]
        .into_iter()
        .find(|object| mutation.starts_with(object))
        .unwrap_or_else(|| panic!("no payload object known for {mutation}"))
}

/// What a payload's object is asked for.
fn object_fields(object: &str) -> &'static str {
    match object {
        "municipality" => "code version website accessPoint { name phone email website address }",
        "role" => "code version validTo",
        _ => "code version",
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// A valid token of the registry operator.
pub fn operator_token() -> String {
    issue(jeugdregio::auth::TokenFor::Operator)
}

/// A valid token of a municipality (`GM0772`).
fn municipality_token(code: &str) -> String {
    issue(jeugdregio::auth::TokenFor::Municipality(code))
}

/// A valid token for `token_for`, signed with [`TEST_SECRET`].
pub fn issue(token_for: jeugdregio::auth::TokenFor) -> String {
    jeugdregio::auth::issue_token(&auth_config(), "tester@example.org", token_for, 3600).unwrap()
}

/// The test service verifies HS256 tokens signed with [`TEST_SECRET`].
fn auth_config() -> jeugdregio::auth::AuthConfig {
    jeugdregio::auth::AuthConfig {
        secret: Some(TEST_SECRET.into()),
        public_key_pem: None,
        issuer: "jeugdregio".into(),
        audience: "jeugdregio".into(),
    }
}

/// Authorization headers that must be refused: garbage, expired, wrong audience, `alg: none`.
pub fn bad_authorizations() -> Vec<String> {
    use base64::Engine;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, aud: &str| json!({ "iss": "jeugdregio", "aud": aud, "sub": "x", "exp": exp, "scope": "registry:admin" });
    let sign = |claims: Value| {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(TEST_SECRET.as_bytes())).unwrap()
    };
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    vec![
        "Bearer not-a-token".to_owned(),
        format!("Bearer {}", sign(claims(now - 3600, "jeugdregio"))),
        format!("Bearer {}", sign(claims(now + 3600, "elsewhere"))),
        format!(
            "Bearer {}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&claims(now + 3600, "jeugdregio").to_string())
        ),
    ]
}

/// The `code` of every node of a connection or list.
pub fn codes(nodes: &Value) -> Vec<String> {
    nodes.as_array().expect("array").iter().map(|n| n["code"].as_str().expect("code").to_owned()).collect()
}
