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

impl TestApp {
    /// A running service on a fresh, migrated and seeded database.
    pub async fn spawn() -> TestApp {
        let (database_url, database) = fresh_database().await;
        let router = jeugdregio::app(&database_url).await.expect("start the service");
        let base_url = serve(router).await;
        TestApp { base_url, database_url, client: reqwest::Client::new(), _database: database }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
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
