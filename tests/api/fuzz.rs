//! Fuzzing (issue 12, part 4): property-based tests that send generated
//! requests through the real service over HTTP and check what must hold for
//! every request, however odd:
//!
//! - the service does not panic, answers (no hang, no dropped connection) and
//!   never with a 5xx status;
//! - every GraphQL error carries a known `extensions.code`, and none is
//!   `INTERNAL_SERVER_ERROR` (a request that can make the service fail inside
//!   is a bug, even when the answer is coded);
//! - a POST that is not JSON gets 415, and every answer says its
//!   `API-Version` and `X-Request-Id`;
//! - a refused mutation (top-level errors, `userErrors`, or not even a
//!   GraphQL answer) changes no row of any table, not the registry version,
//!   the audit log or the change feed; an accepted one advances the registry
//!   version by as many positions as it adds audit records and feed entries
//!   (one, except for a merger), and its object's version by one;
//! - mutations sent at once journal exactly what the accepted ones wrote, in
//!   a gap-free feed.
//!
//! The generators are in `fuzz/`: `inputs.rs` (every mutation's input),
//! `documents.rs` (documents, variables and transports) and `arguments.rs`
//! (every root field with generated arguments).
//!
//! One service per property, not per case: the cases run one after another on
//! the registry the earlier ones left, which is part of the point. The number
//! of cases is `JEUGDREGIO_FUZZ_CASES` (default [`DEFAULT_CASES`]) per property;
//! every run draws new cases. A failing case is shrunk and its seed saved in
//! `tests/proptest-regressions/fuzz.txt` (committed), which later runs try
//! first; each bug found also stays as a named test in `fuzz/regressions.rs`.

mod arguments;
mod documents;
mod inputs;
mod regressions;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestCaseResult, TestRunner};
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, JsonValue, Statement};
use serde_json::{Value, json};

use crate::helpers::{Caller, TestApp, bad_authorizations, mutation_document, payload_object};
use documents::{DocumentCase, Transport};
use inputs::{MutationCase, Who};

/// Cases per property when `JEUGDREGIO_FUZZ_CASES` is not set: the three
/// properties together take 20 to 30 s on SQLite and 25 to 40 s on
/// PostgreSQL in a debug build on two cores.
const DEFAULT_CASES: u32 = 250;

/// How long one request may take before the case fails as a hang.
const REQUEST_DEADLINE: Duration = Duration::from_secs(40);

// ---------------------------------------------------------------------------
// The properties

#[test]
fn every_mutation_input_is_answered_with_a_code_and_a_refused_one_writes_nothing() {
    let harness = Harness::start();
    harness.run(inputs::mutation_case(), |case| harness.block_on(mutation_property(&harness, &case)));
}

#[test]
fn every_request_is_answered_without_a_server_error_and_with_coded_errors() {
    let harness = Harness::start();
    harness.run(documents::document_case(), |case| harness.block_on(document_property(&harness, &case)));
}

/// Mutations sent at once, often about the same objects: each answered with
/// a code, and the journal holds exactly what the accepted ones wrote.
#[test]
fn mutations_sent_at_once_journal_exactly_what_they_wrote() {
    let harness = Harness::start();
    let batches = proptest::collection::vec(inputs::mutation_case(), 2..5);
    harness.run(batches, |batch| harness.block_on(concurrent_property(&harness, &batch)));
}

/// The generators know every mutation of the schema and every field of its input.
#[test]
fn the_generators_cover_every_mutation_and_input_field_of_the_schema() {
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema");
    let block = |head: &str| -> Vec<String> {
        let start = schema.find(head).unwrap_or_else(|| panic!("{head} in schema.graphql")) + head.len();
        let body = &schema[start..start + schema[start..].find("\n}").expect("end of block")];
        let mut in_description = false;
        let mut names = Vec::new();
        for line in body.lines().map(str::trim) {
            if line == "\"\"\"" {
                in_description = !in_description;
            } else if !in_description && !line.is_empty() && !line.starts_with('"') {
                names.extend(line.split([':', '(']).next().map(str::to_owned));
            }
        }
        names
    };
    let mutations = block("type MutationRoot {");
    let generated: Vec<&str> = inputs::SPECS.iter().map(|spec| spec.name).collect();
    assert_eq!(mutations, generated, "every mutation of the schema, in its order");
    for spec in inputs::SPECS {
        let line = schema.lines().find(|l| l.trim_start().starts_with(&format!("{}(input: ", spec.name))).unwrap();
        let input_type = line.split("input: ").nth(1).unwrap().split('!').next().unwrap();
        let fields = block(&format!("input {input_type} {{"));
        assert_eq!(fields, spec.field_names(), "the fields of {input_type}");
    }
}

// ---------------------------------------------------------------------------
// One service per property

/// A service, a connection to its database, and the runtime both run on.
struct Harness {
    inner: Option<(TestApp, Database)>,
    runtime: tokio::runtime::Runtime,
}

/// Threads of the runtime the service runs on, so that a panic in the
/// service is told apart from other tests' failing assertions.
const SERVICE_THREADS: &str = "fuzzed-service";

/// Panics on the service's threads since the last look.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl Harness {
    fn start() -> Harness {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if std::thread::current().name().is_some_and(|name| name.starts_with(SERVICE_THREADS)) {
                    PANICS.lock().unwrap_or_else(|p| p.into_inner()).push(info.to_string());
                }
                previous(info)
            }));
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(SERVICE_THREADS)
            .enable_all()
            .build()
            .expect("runtime");
        let app = runtime.block_on(TestApp::spawn());
        let database = runtime.block_on(Database::connect(&app.settings().database_url));
        Harness { inner: Some((app, database)), runtime }
    }

    fn app(&self) -> &TestApp {
        &self.inner.as_ref().expect("running").0
    }

    fn database(&self) -> &Database {
        &self.inner.as_ref().expect("running").1
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Runs `test` on generated cases; fails the test with the smallest failing case.
    fn run<S: proptest::strategy::Strategy>(&self, strategy: S, test: impl Fn(S::Value) -> TestCaseResult) {
        let mut runner = TestRunner::new(config());
        let result = runner.run(&strategy, |case| {
            let result = test(case);
            let panics = std::mem::take(&mut *PANICS.lock().unwrap_or_else(|p| p.into_inner()));
            if !panics.is_empty() {
                return Err(TestCaseError::fail(format!("the service panicked: {panics:?}")));
            }
            result
        });
        if let Err(error) = result {
            panic!("{error}");
        }
    }
}

impl Drop for Harness {
    /// The service and the connection pools go first, inside the runtime they run on.
    fn drop(&mut self) {
        let _entered = self.runtime.enter();
        drop(self.inner.take());
    }
}

fn config() -> Config {
    let cases = std::env::var("JEUGDREGIO_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        max_shrink_iters: 2_000,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// `text`, or its start and length when it is long (for failure reports).
fn cut(text: &str) -> String {
    match text.char_indices().nth(2_000) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
        None => text.to_owned(),
    }
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(cut(&message.into()))
}

// ---------------------------------------------------------------------------
// Mutations

async fn mutation_property(harness: &Harness, case: &MutationCase) -> TestCaseResult {
    let (app, database) = (harness.app(), harness.database());
    let (row_before, input) = prepare(database, case).await;
    let journal_before = journal(app).await?;
    let rows_before = database.rows().await;

    let (status, body) = send_mutation(app, case, &input).await?;
    check_answer(status, &body)?;
    let wrote = wrote(case, &body)?;
    let payload = &body["data"][case.mutation];
    let object = &payload[payload_object(case.mutation)];
    let journal_after = journal(app).await?;
    if !wrote {
        if journal_after != journal_before {
            return Err(fail(format!("refused, yet {journal_before:?} became {journal_after:?}: {body}")));
        }
        let rows_after = database.rows().await;
        if rows_after != rows_before {
            return Err(fail(format!("refused, yet rows changed: {}; {body}", differences(&rows_before, &rows_after))));
        }
        return Ok(());
    }

    // Accepted: every change journalled once, in the feed in order, the object one version on.
    if database.rows().await == rows_before {
        return Err(fail(format!("accepted, yet no row changed: {body}")));
    }
    let written = journal_after.registry_version - journal_before.registry_version;
    let expected = if case.mutation == "municipalityMerge" { written.max(1) } else { 1 };
    if written != expected
        || journal_after.audit - journal_before.audit != written
        || journal_after.feed - journal_before.feed != written
    {
        return Err(fail(format!("accepted: {journal_before:?} became {journal_after:?}: {body}")));
    }
    let feed = feed_after(app, journal_before.registry_version).await?;
    let positions: Vec<i64> = feed.iter().filter_map(|change| change["position"].as_i64()).collect();
    let wanted: Vec<i64> = (journal_before.registry_version + 1..=journal_after.registry_version).collect();
    if positions != wanted {
        return Err(fail(format!("feed positions {positions:?}, expected {wanted:?}")));
    }
    if case.mutation != "municipalityMerge" {
        let version = object["version"].as_i64();
        let expected_version = match input.get("expectedVersion").and_then(Value::as_i64) {
            Some(expected) => Some(expected + 1),
            None => Some(row_before.as_ref().and_then(|row| row["version"].as_i64()).unwrap_or(0) + 1),
        };
        if version != expected_version {
            return Err(fail(format!("version {version:?}, expected {expected_version:?}: {body}")));
        }
        let change = &feed[0];
        if change["code"] != object["code"] || change["version"].as_i64() != version {
            return Err(fail(format!("the feed has {change}, the payload {object}")));
        }
    }
    Ok(())
}

async fn concurrent_property(harness: &Harness, batch: &[MutationCase]) -> TestCaseResult {
    let (app, database) = (harness.app(), harness.database());
    let mut inputs = Vec::new();
    for case in batch {
        inputs.push(prepare(database, case).await.1);
    }
    let before = journal(app).await?;
    let sends = batch.iter().zip(&inputs).map(|(case, input)| send_mutation(app, case, input));
    let mut written = 0;
    let mut merged = false;
    for (case, answer) in batch.iter().zip(futures::future::join_all(sends).await) {
        let (status, body) = answer?;
        check_answer(status, &body)?;
        if wrote(case, &body)? {
            written += 1;
            merged |= case.mutation == "municipalityMerge";
        }
    }
    let after = journal(app).await?;
    let positions = after.registry_version - before.registry_version;
    // A merger journals every municipality, cooperation and role it changes; the others one object each.
    let expected = positions == written || (merged && positions > written);
    if !expected || after.audit - before.audit != positions || after.feed - before.feed != positions {
        return Err(fail(format!("{written} wrote, yet {before:?} became {after:?}")));
    }
    let feed = feed_after(app, before.registry_version).await?;
    let gap_free = feed
        .iter()
        .map(|change| change["position"].as_i64())
        .eq((1..=positions).map(|n| Some(before.registry_version + n)));
    if !gap_free {
        return Err(fail(format!("the feed after {} is {feed:?}", before.registry_version)));
    }
    Ok(())
}

/// The row `case` names as it is now, and its input with `expectedVersion` made from that row's version.
async fn prepare(database: &Database, case: &MutationCase) -> (Option<Value>, Value) {
    let spec = inputs::spec(case.mutation);
    let target = spec.target.and_then(|t| Some((t.table, case.input.get(t.code_field)?.as_str()?.to_owned())));
    let row = match &target {
        Some((table, code)) => database.row(table, code).await,
        None => None,
    };
    let input = inputs::resolve_versions(&case.input, row.as_ref().and_then(|row| row["version"].as_i64()));
    (row, input)
}

/// Whether the answer to `case` says it wrote: accepted (an object and no
/// user errors), not replayed from an earlier attempt, not "nothing to change".
fn wrote(case: &MutationCase, body: &Value) -> Result<bool, TestCaseError> {
    let payload = &body["data"][case.mutation];
    let object = &payload[payload_object(case.mutation)];
    let accepted = object.is_object() && payload["userErrors"] == json!([]);
    if !accepted && object.is_object() {
        return Err(fail(format!("a payload with userErrors and an object: {body}")));
    }
    Ok(accepted && payload["replayed"] != true && payload["changed"] != false)
}

/// Sends `input` as `case` says: as a variable or a literal, by its caller.
async fn send_mutation(app: &TestApp, case: &MutationCase, input: &Value) -> Result<(u16, Value), TestCaseError> {
    let document = mutation_document(case.mutation);
    let body = if case.inline {
        // `mutation($input: T!) { m(input: $input) { … } }` → `mutation { m(input: {…}) { … } }`
        let selection = &document[document.find(") {").expect("variable list") + 2..];
        json!({ "query": format!("mutation {}", selection.replacen("$input", &inputs::literal(input, ""), 1)) })
    } else {
        json!({ "query": document, "variables": { "input": input } })
    };
    let response = caller(app, case.caller)
        .post_request(&body)
        .timeout(REQUEST_DEADLINE)
        .send()
        .await
        .map_err(|e| fail(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| fail(format!("no body: {e}")))?;
    let body = serde_json::from_str(&text).map_err(|e| fail(format!("HTTP {status}, not JSON ({e}): {text:.300}")))?;
    Ok((status, body))
}

fn caller(app: &TestApp, who: Who) -> Caller<'_> {
    match who {
        Who::Anonymous => app.anonymous(),
        Who::BadToken(n) => app.caller(Some(&bad_authorizations()[n])),
        Who::Operator => app.as_operator(),
        Who::Municipality(code) => app.as_municipality(code),
    }
}

/// No 5xx; every GraphQL error with a known code, and none an internal error.
fn check_answer(status: u16, body: &Value) -> TestCaseResult {
    if status >= 500 {
        return Err(fail(format!("HTTP {status}: {body}")));
    }
    let known: Vec<&str> = jeugdregio::graphql::ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    for error in body["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("(none)");
        if !known.contains(&code) || code == "INTERNAL_SERVER_ERROR" {
            return Err(fail(format!("HTTP {status}, an error coded {code}: {error}")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Documents

async fn document_property(harness: &Harness, case: &DocumentCase) -> TestCaseResult {
    let app = harness.app();
    let before = journal(app).await?;
    let caller = caller(app, case.caller);
    let request = match &case.transport {
        Transport::Post { content_type, body } => {
            let request = app.client.post(app.url("/graphql")).body(body.clone());
            match content_type {
                Some(content_type) => request.header("content-type", *content_type),
                None => request,
            }
        }
        Transport::Get { query_string } => app.client.get(app.url(&format!("/graphql?{query_string}"))),
    };
    let mut request = caller.request(request).timeout(REQUEST_DEADLINE);
    if let Some(accept) = case.accept {
        request = request.header("accept", accept);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.map_err(|e| fail(format!("no answer: {e:?}")))?;
    check_response(case, response).await?;
    let after = journal(app).await?;
    let anonymous = matches!(case.caller, Who::Anonymous | Who::BadToken(_));
    let written = after.registry_version - before.registry_version;
    if (anonymous && after != before) || after.audit - before.audit != written || after.feed - before.feed != written {
        return Err(fail(format!("{before:?} became {after:?}")));
    }
    Ok(())
}

/// What every answer of `/graphql` must be, whatever was asked.
async fn check_response(case: &DocumentCase, response: reqwest::Response) -> TestCaseResult {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.bytes().await.map_err(|e| fail(format!("HTTP {status}, no body: {e}")))?;
    let bytes = if header("content-encoding") == "gzip" {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .map_err(|e| fail(format!("HTTP {status}, gzip that does not decompress: {e}")))?;
        text
    } else {
        bytes.to_vec()
    };
    let text = String::from_utf8_lossy(&bytes);
    if status >= 500 {
        return Err(fail(format!("HTTP {status}: {text:.500}")));
    }
    for name in ["api-version", "x-request-id"] {
        if !headers.contains_key(name) {
            return Err(fail(format!("HTTP {status} without {name}")));
        }
    }
    if let Transport::Post { content_type: sent, .. } = &case.transport {
        let json = sent
            .is_some_and(|t| t.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"));
        // Over the body limit is 413 before anything else.
        if !json && status != 415 && status != 413 {
            return Err(fail(format!("HTTP {status} to a POST of {sent:?}, not 415: {text:.300}")));
        }
    }
    let content_type = header("content-type");
    if content_type.contains("json") {
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| fail(format!("HTTP {status}, {content_type} that is not JSON ({e}): {text:.300}")))?;
        if content_type.starts_with("application/problem+json") {
            if body["status"] != status || !body["title"].is_string() {
                return Err(fail(format!("HTTP {status}, a problem without its status or title: {body}")));
            }
        } else if body.get("data").is_none() && body.get("errors").is_none() {
            return Err(fail(format!("HTTP {status}, neither data nor errors: {body}")));
        }
        return check_answer(status, &body);
    }
    let graphiql =
        matches!(case.transport, Transport::Get { .. }) && case.accept.is_some_and(|a| a.contains("text/html"));
    match status {
        200 if graphiql && content_type.starts_with("text/html") => Ok(()),
        304 => Ok(()),
        _ => Err(fail(format!("HTTP {status} with {content_type:?}: {text:.300}"))),
    }
}

// ---------------------------------------------------------------------------
// What the registry has written

/// The registry version, the number of audit records and of feed entries.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Journal {
    registry_version: i64,
    audit: i64,
    feed: i64,
}

async fn journal(app: &TestApp) -> Result<Journal, TestCaseError> {
    let body = app
        .as_operator()
        .post_request(&json!({ "query": "{ registryVersion auditLog { totalCount } changes { totalCount } }" }))
        .timeout(REQUEST_DEADLINE)
        .send()
        .await
        .map_err(|e| fail(format!("the service no longer answers: {e:?}")))?
        .json::<Value>()
        .await
        .map_err(|e| fail(format!("the service no longer answers JSON: {e}")))?;
    let number = |value: &Value| value.as_i64().ok_or_else(|| fail(format!("no journal: {body}")));
    Ok(Journal {
        registry_version: number(&body["data"]["registryVersion"])?,
        audit: number(&body["data"]["auditLog"]["totalCount"])?,
        feed: number(&body["data"]["changes"]["totalCount"])?,
    })
}

/// The feed's entries after `position`.
async fn feed_after(app: &TestApp, position: i64) -> Result<Vec<Value>, TestCaseError> {
    let query = "query($after: String) { changes(after: $after, first: 500) { nodes { position code version } } }";
    let body = app.as_operator().post(query, json!({ "after": position.to_string() })).await;
    Ok(body["data"]["changes"]["nodes"].as_array().cloned().unwrap_or_default())
}

/// A connection of the test's own to the service's database, to see every row.
struct Database {
    connection: DatabaseConnection,
    /// Per table, a statement that returns all its rows as one text, in order.
    dumps: Vec<(String, String)>,
}

impl Database {
    async fn connect(url: &str) -> Database {
        let connection = sea_orm::Database::connect(url).await.expect("the service's database");
        let postgres = connection.get_database_backend() == DbBackend::Postgres;
        let sql = match postgres {
            false => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            true => "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
        };
        let mut dumps = Vec::new();
        for table in Self::select(&connection, sql, vec![]).await {
            let table = table["name"].as_str().expect("table name").to_owned();
            // Rows become text in the database: much faster than reading them one by one.
            let dump = if postgres {
                format!("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) AS dump FROM \"{table}\" t")
            } else {
                let sql = format!("SELECT name FROM pragma_table_info('{table}')");
                let columns: Vec<String> = Self::select(&connection, &sql, vec![])
                    .await
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c["name"].as_str().expect("column name")))
                    .collect();
                let row = columns.join(" || '|' || ");
                format!("SELECT group_concat(r, char(10)) AS dump FROM (SELECT {row} AS r FROM \"{table}\" ORDER BY r)")
            };
            dumps.push((table, dump));
        }
        Database { connection, dumps }
    }

    async fn select(connection: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> Vec<JsonValue> {
        let statement = Statement::from_sql_and_values(connection.get_database_backend(), sql, values);
        JsonValue::find_by_statement(statement).all(connection).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row of every table, as lines of text per table.
    async fn rows(&self) -> BTreeMap<String, String> {
        let mut tables = BTreeMap::new();
        for (table, dump) in &self.dumps {
            let rows = Self::select(&self.connection, dump, vec![]).await;
            tables.insert(table.clone(), rows[0]["dump"].as_str().unwrap_or_default().to_owned());
        }
        tables
    }

    /// The row of `table` with `code`.
    async fn row(&self, table: &str, code: &str) -> Option<Value> {
        // PostgreSQL takes no NUL in text, and no row has one.
        if code.contains('\0') {
            return None;
        }
        let placeholder = match self.connection.get_database_backend() {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!("SELECT * FROM {table} WHERE code = {placeholder}");
        Self::select(&self.connection, &sql, vec![code.into()]).await.into_iter().next()
    }
}

/// Which tables differ, with a few rows each way.
fn differences(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> String {
    let mut out = Vec::new();
    for (table, rows) in after {
        let old: Vec<&str> = before.get(table).map(|rows| rows.lines().collect()).unwrap_or_default();
        let new: Vec<&str> = rows.lines().collect();
        let gone: Vec<&&str> = old.iter().filter(|row| !new.contains(row)).take(3).collect();
        let added: Vec<&&str> = new.iter().filter(|row| !old.contains(row)).take(3).collect();
        if !gone.is_empty() || !added.is_empty() {
            out.push(format!("{table}: before {gone:?}, after {added:?}"));
        }
    }
    out.join("; ")
}
