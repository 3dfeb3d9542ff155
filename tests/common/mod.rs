//! Test harness: starts the real router on a free port against a fresh
//! database and talks HTTP to it.
//!
//! The database is SQLite in a temporary directory, or, when
//! `JEUGDREGIO_TEST_DATABASE_URL` names a PostgreSQL server (for example
//! `postgres://postgres@127.0.0.1:5432/test`), a new database on that server
//! created for this one test and dropped afterwards.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub struct TestApp {
    pub base_url: String,
    pub database_url: String,
    pub client: reqwest::Client,
    _database: TestDatabase,
}

enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { server_url, name } = self {
            let (server_url, name) = (server_url.clone(), name.clone());
            // Drop runs outside any async context the test may still own, so
            // use a short-lived runtime of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(server_url.as_str()).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    }
                });
            })
            .join();
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Which backend the suite runs against, for messages.
pub fn backend() -> &'static str {
    match std::env::var("JEUGDREGIO_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

async fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("JEUGDREGIO_TEST_DATABASE_URL") {
        Ok(server_url) if server_url.starts_with("postgres") => {
            let name = format!(
                "jeugdregio_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()
            );
            let admin = Database::connect(server_url.as_str()).await.expect("connect to the PostgreSQL test server");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            admin.close().await.ok();
            let base = server_url.rsplit_once('/').map(|(base, _)| base).expect("database URL with a path");
            (format!("{base}/{name}"), TestDatabase::Postgres { server_url, name })
        }
        _ => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("jeugdregio.sqlite").display());
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

/// Serves `router` on a free local port and returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

/// `max-age` the test service gives public responses.
pub const CACHE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The HS256 secret the test service verifies tokens with.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

pub fn auth_config() -> jeugdregio::auth::AuthConfig {
    jeugdregio::auth::AuthConfig {
        secret: Some(TEST_SECRET.into()),
        public_key_pem: None,
        issuer: "jeugdregio".into(),
        audience: "jeugdregio".into(),
    }
}

/// A valid token for a municipality (`GM0772`) or, with `None`, the operator.
pub fn token(municipality: Option<&str>) -> String {
    use jeugdregio::auth::{TokenFor, issue_token};
    let token_for = match municipality {
        Some(code) => TokenFor::Municipality(code),
        None => TokenFor::Operator,
    };
    issue_token(&auth_config(), "tester@example.org", token_for, 3600).unwrap()
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

impl TestApp {
    pub fn settings(&self) -> jeugdregio::Settings {
        jeugdregio::Settings {
            database_url: self.database_url.clone(),
            auth: auth_config(),
            cache_max_age: CACHE_MAX_AGE,
            ..Default::default()
        }
    }

    /// A running service on a fresh, migrated and seeded database.
    pub async fn spawn() -> TestApp {
        let (database_url, database) = fresh_database().await;
        let settings = jeugdregio::Settings {
            database_url: database_url.clone(),
            auth: auth_config(),
            cache_max_age: CACHE_MAX_AGE,
            ..Default::default()
        };
        let router = jeugdregio::app(&settings).await.expect("start the service");
        let base_url = serve(router).await;
        TestApp { base_url, database_url, client: reqwest::Client::new(), _database: database }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// POSTs a GraphQL request with an optional `Authorization` header value;
    /// returns the HTTP status and the JSON body.
    pub async fn send(&self, authorization: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// POSTs with a bearer token and returns the JSON body of a 200 response.
    pub async fn post_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.send(Some(&format!("Bearer {token}")), query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Number of audit records (read as the operator).
    pub async fn audit_count(&self) -> u64 {
        let body = self.post_as(&token(None), "{ auditLog { totalCount } }", json!({})).await;
        body["data"]["auditLog"]["totalCount"].as_u64().expect("audit count")
    }

    /// POSTs a GraphQL request and returns the whole JSON response.
    pub async fn post(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("JSON body")
    }

    /// POSTs a query that must succeed and returns its `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let body = self.post(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
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

/// The `code` of every node of a connection or list.
pub fn codes(nodes: &Value) -> Vec<String> {
    nodes.as_array().expect("array").iter().map(|n| n["code"].as_str().expect("code").to_owned()).collect()
}
