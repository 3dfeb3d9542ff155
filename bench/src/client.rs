//! The load generator: keep-alive HTTP/1.1 connections, each sending its next
//! request as soon as the previous answer is read (a closed loop), so the
//! figures measure the server and not a queue in front of it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// A request as the workloads describe it; [`Connection`] adds the framing.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Bytes,
    pub bearer: Option<String>,
    /// Sends `Accept-Encoding: gzip`, as browsers and most HTTP libraries do.
    pub gzip: bool,
}

impl Call {
    pub fn get(path: &str) -> Self {
        Call { method: Method::GET, path: path.to_owned(), body: Bytes::new(), bearer: None, gzip: false }
    }

    pub fn graphql(query: &str, variables: serde_json::Value) -> Self {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        Call { method: Method::POST, path: "/graphql".to_owned(), body: body.into(), bearer: None, gzip: false }
    }

    pub fn with_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    pub fn with_gzip(mut self) -> Self {
        self.gzip = true;
        self
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        // Small requests must not wait for Nagle's timer.
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Connection { addr, sender })
    }

    pub async fn send(&mut self, call: &Call) -> anyhow::Result<Answer> {
        let mut request = Request::builder()
            .method(call.method.clone())
            .uri(&call.path)
            .header(hyper::header::HOST, self.addr.to_string())
            .body(Full::new(call.body.clone()))?;
        if call.method == Method::POST {
            request.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(token) = &call.bearer {
            request.headers_mut().insert(hyper::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
        }
        if call.gzip {
            request.headers_mut().insert(hyper::header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer { status: parts.status, headers: parts.headers, body })
    }
}

/// One request on a fresh connection, for set-up and metrics.
pub async fn once(addr: SocketAddr, call: &Call) -> anyhow::Result<Answer> {
    Connection::open(addr).await?.send(call).await
}

/// How a worker judges an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Error,
    /// An expected optimistic-concurrency refusal (writes only).
    Conflict,
    /// A request the worker needed for itself (re-reading a version): not counted.
    Aside,
}

/// The state of one connection's client: what to send next, and what the
/// answer means.
pub trait Worker: Send + 'static {
    fn next(&mut self) -> Call;
    fn judge(&mut self, answer: &Answer) -> Verdict;
}

/// True when a 200 GraphQL body carries a top-level `errors` entry. The
/// marker cannot occur inside `data`: JSON strings escape their quotes.
pub fn has_graphql_errors(body: &[u8]) -> bool {
    body.windows(9).any(|w| w == b"\"errors\":")
}

/// A plain read: fine when 2xx without GraphQL errors.
pub fn judge_read(answer: &Answer) -> Verdict {
    if answer.status.is_success() && !has_graphql_errors(&answer.body) { Verdict::Ok } else { Verdict::Error }
}

#[derive(Clone)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub conflicts: u64,
    pub elapsed: Duration,
    /// Latency in microseconds.
    pub latency: Histogram<u64>,
    pub bytes: u64,
    /// First error seen, to show what went wrong.
    pub first_error: Option<String>,
}

impl Stats {
    pub fn empty() -> Self {
        Stats {
            requests: 0,
            errors: 0,
            conflicts: 0,
            elapsed: Duration::ZERO,
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
            bytes: 0,
            first_error: None,
        }
    }

    fn merge(&mut self, other: Stats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        self.bytes += other.bytes;
        self.latency.add(&other.latency).expect("same histogram bounds");
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn ms(&self, quantile: f64) -> f64 {
        if self.latency.is_empty() { 0.0 } else { self.latency.value_at_quantile(quantile) as f64 / 1000.0 }
    }

    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }

    pub fn bytes_per_response(&self) -> u64 {
        self.bytes.checked_div(self.requests).unwrap_or(0)
    }
}

/// Runs every worker on its own connection for `warmup + duration`; only
/// answers to requests sent after the warm-up are counted.
pub async fn drive<W: Worker>(
    addr: SocketAddr,
    workers: Vec<W>,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(workers.len());
    for worker in workers {
        tasks.push(tokio::spawn(run_worker(addr, worker, measure_from, end)));
    }
    let mut total = Stats::empty();
    for task in tasks {
        total.merge(task.await??);
    }
    total.elapsed = duration;
    Ok(total)
}

async fn run_worker<W: Worker>(
    addr: SocketAddr,
    mut worker: W,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<Stats> {
    let mut stats = Stats::empty();
    let mut connection = Some(Connection::open(addr).await?);
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let counted = sent >= measure_from;
        let call = worker.next();
        let result = match connection.as_mut() {
            Some(c) => c.send(&call).await,
            None => match Connection::open(addr).await {
                Ok(c) => connection.insert(c).send(&call).await,
                Err(e) => Err(e),
            },
        };
        let took = sent.elapsed();
        let verdict = match &result {
            Ok(answer) => worker.judge(answer),
            Err(_) => {
                // The connection is gone; the next request opens another.
                connection = None;
                Verdict::Error
            }
        };
        if !counted || verdict == Verdict::Aside || Instant::now() > end {
            continue;
        }
        stats.requests += 1;
        stats.latency.saturating_record((took.as_micros() as u64).max(1));
        match verdict {
            Verdict::Error => {
                stats.errors += 1;
                if stats.first_error.is_none() {
                    stats.first_error = Some(match &result {
                        Ok(a) => {
                            format!("HTTP {}: {}", a.status, String::from_utf8_lossy(&a.body[..a.body.len().min(300)]))
                        }
                        Err(e) => format!("transport: {e:#}"),
                    });
                }
            }
            Verdict::Conflict => stats.conflicts += 1,
            Verdict::Ok | Verdict::Aside => {}
        }
        if let Ok(answer) = &result {
            stats.bytes += answer.body.len() as u64;
        }
    }
    Ok(stats)
}

/// A worker that sends the same request every time.
pub struct Fixed(pub Call);

/// Sends the same call and expects the bytes of a checked sample every
/// time: a compressed answer cannot be looked into as [`judge_read`] does.
pub struct Repeat {
    pub call: Call,
    pub expected: Bytes,
}

impl Worker for Repeat {
    fn next(&mut self) -> Call {
        self.call.clone()
    }

    fn judge(&mut self, answer: &Answer) -> Verdict {
        if answer.status.is_success() && answer.body == self.expected { Verdict::Ok } else { Verdict::Error }
    }
}

impl Worker for Fixed {
    fn next(&mut self) -> Call {
        self.0.clone()
    }

    fn judge(&mut self, answer: &Answer) -> Verdict {
        judge_read(answer)
    }
}
