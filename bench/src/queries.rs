//! The GraphQL the workloads send, and the clients that send it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::client::{Answer, Call, Verdict, Worker, judge_read};

/// The selection of the portal query in README.md ("## Example queries").
const PORTAL_SELECTION: &str = "totalCount
    nodes {
      code name
      municipalities { code name province { code name } }
      cooperations { code name scale instrument memberMunicipalities { code } memberRegions { code } }
      roles {
        code kind
        holder { ... on Municipality { code name } ... on Region { code name } }
        cooperation { code } careForm { code name } provider { code name }
      }
      frameworkContracts { code title scale careForms { code name } contractingAuthority { name } }
    }";

/// The README's portal query, with `first` regions.
pub fn portal(first: u32) -> Call {
    Call::graphql(&format!("{{\n  regions(first: {first}) {{\n    {PORTAL_SELECTION}\n  }}\n}}"), Value::Null)
}

fn portal_as_of_query(first: u32) -> String {
    format!("query($asOf: Date) {{\n  regions(first: {first}, asOf: $asOf) {{\n    {PORTAL_SELECTION}\n  }}\n}}")
}

pub const MUNICIPALITY: &str = "query($code: String!) { municipality(code: $code) { code name region { code name } } }";

pub fn municipality() -> Call {
    Call::graphql(MUNICIPALITY, json!({ "code": "GM0772" }))
}

/// The portal query for a different day on every request, so no cache of
/// any kind can answer it: the days 2015-01-01 to 2025-12-31 in turn, shared
/// by all connections.
pub struct PortalAsOf {
    query: Arc<str>,
    counter: Arc<AtomicU64>,
}

impl PortalAsOf {
    pub fn workers(connections: usize, first: u32) -> Vec<Self> {
        let query: Arc<str> = portal_as_of_query(first).into();
        let counter = Arc::new(AtomicU64::new(0));
        (0..connections).map(|_| PortalAsOf { query: query.clone(), counter: counter.clone() }).collect()
    }
}

fn day(n: u64) -> String {
    let first = NaiveDate::from_ymd_opt(2015, 1, 1).expect("a valid date");
    let last = NaiveDate::from_ymd_opt(2025, 12, 31).expect("a valid date");
    let days = (last - first).num_days() as u64 + 1;
    (first + chrono::Days::new(n % days)).to_string()
}

impl Worker for PortalAsOf {
    fn next(&mut self) -> Call {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        Call::graphql(&self.query, json!({ "asOf": day(n) }))
    }

    fn judge(&mut self, answer: &Answer) -> Verdict {
        judge_read(answer)
    }
}

pub const MUNICIPALITIES_WITH_VERSION: &str =
    "query($first: Int) { municipalities(first: $first) { nodes { code version } } }";

const UPDATE: &str = "mutation($input: MunicipalityUpdateInput!) {
  municipalityUpdate(input: $input) { municipality { version } userErrors { field message code } }
}";

const VERSION_OF: &str = "query($code: String!) { municipality(code: $code) { version } }";

/// One municipality system keeping its own entry current: it updates its
/// website with the version of its previous answer, as the README says a
/// client must.
pub struct Writer {
    code: String,
    token: String,
    version: i64,
    sequence: u64,
    /// After a CONFLICT, the next request re-reads the version.
    reread: bool,
}

impl Writer {
    pub fn new(code: String, token: String, version: i64) -> Self {
        Writer { code, token, version, sequence: 0, reread: false }
    }
}

impl Worker for Writer {
    fn next(&mut self) -> Call {
        if self.reread {
            return Call::graphql(VERSION_OF, json!({ "code": self.code })).with_bearer(&self.token);
        }
        self.sequence += 1;
        let input = json!({
            "code": self.code,
            "expectedVersion": self.version,
            "website": format!("https://www.example.nl/bench/{}/{}", self.code, self.sequence),
        });
        Call::graphql(UPDATE, json!({ "input": input })).with_bearer(&self.token)
    }

    fn judge(&mut self, answer: &Answer) -> Verdict {
        let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
        if self.reread {
            let version = parsed.as_ref().and_then(|v| v.pointer("/data/municipality/version")?.as_i64());
            if let Some(version) = version {
                self.version = version;
                self.reread = false;
            }
            return Verdict::Aside;
        }
        if !answer.status.is_success() || has_errors(parsed.as_ref()) {
            return Verdict::Error;
        }
        let Some(payload) = parsed.as_ref().and_then(|v| v.pointer("/data/municipalityUpdate")) else {
            return Verdict::Error;
        };
        let user_errors = payload.get("userErrors").and_then(Value::as_array).cloned().unwrap_or_default();
        if user_errors.iter().any(|e| e.get("code").and_then(Value::as_str) == Some("CONFLICT")) {
            self.reread = true;
            return Verdict::Conflict;
        }
        match payload.pointer("/municipality/version").and_then(Value::as_i64) {
            Some(version) if user_errors.is_empty() => {
                self.version = version;
                Verdict::Ok
            }
            _ => Verdict::Error,
        }
    }
}

fn has_errors(body: Option<&Value>) -> bool {
    body.and_then(|v| v.get("errors")).is_some_and(|e| !e.is_null())
}

const CHANGES: &str = "query($after: String) {
  changes(after: $after, first: 100) {
    resumeCursor pageInfo { hasNextPage }
    nodes { position cursor committedAt objectType code operation version state }
  }
}";

/// A system polling the change feed from its own cursor. It checks that it
/// sees the positions gap-free and in order: a gap is counted as an error.
pub struct FeedPoller {
    after: i64,
}

impl FeedPoller {
    pub fn new(after: i64) -> Self {
        FeedPoller { after }
    }
}

impl Worker for FeedPoller {
    fn next(&mut self) -> Call {
        Call::graphql(CHANGES, json!({ "after": self.after.to_string() }))
    }

    fn judge(&mut self, answer: &Answer) -> Verdict {
        if judge_read(answer) == Verdict::Error {
            return Verdict::Error;
        }
        let Ok(body) = serde_json::from_slice::<Value>(&answer.body) else { return Verdict::Error };
        let Some(page) = body.pointer("/data/changes") else { return Verdict::Error };
        let nodes = page.get("nodes").and_then(Value::as_array).cloned().unwrap_or_default();
        for node in &nodes {
            match node.get("position").and_then(Value::as_i64) {
                Some(position) if position == self.after + 1 => self.after = position,
                _ => return Verdict::Error,
            }
        }
        match page.get("resumeCursor").and_then(Value::as_str).and_then(|c| c.parse::<i64>().ok()) {
            Some(resume) if resume == self.after => Verdict::Ok,
            _ => Verdict::Error,
        }
    }
}
