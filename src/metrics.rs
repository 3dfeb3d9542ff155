//! The service's metrics, in one `prometheus-client` registry that `/metrics`
//! encodes: the Prometheus text format (0.0.4) by default, OpenMetrics when
//! the scraper asks for it.
//!
//! Counting is cheap on the hot path: counters and the latency histogram are
//! atomics; a labelled family takes a shared read lock to find its series.
//! Labels come from short fixed lists (the router's routes, operation types,
//! status classes, the service's error codes, refusal reasons), never from
//! what a client sends. Figures that are a state rather than a count (pool
//! connections, open subscriptions, the registry version, memory) are read
//! when scraped ([`Readings`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::auth::FailureCounts;
use crate::db::{PoolUse, StatementCounter};

/// Every metric of the service; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, LatencyHistogram>,
    cache_hits: Counter,
    cache_misses: Counter,
    rate_limited: Counter,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
    subscriptions_open: Gauge,
    registry_version: Gauge,
    resident_memory: Gauge,
    resident_memory_max: Gauge,
}

/// The labels of `jeugdregio_http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    operation: &'static str,
    status: &'static str,
    code: &'static str,
}

/// The labels of `jeugdregio_http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    route: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// One finished (or abandoned) request, as the metrics count it. Every field
/// is one of a short fixed list of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOutcome {
    /// The route's path template (`/graphql`, `/export/{file}`) or `other`.
    pub route: &'static str,
    /// `query`, `mutation`, `subscription`, or `none` (not GraphQL, or not known).
    pub operation: &'static str,
    /// `2xx` … `5xx`, or `cancelled` when the client left before the answer.
    pub status: &'static str,
    /// The error code of the answer (`RATE_LIMITED`), or `none`.
    pub code: &'static str,
}

/// What `/metrics` reads when it is scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readings {
    pub registry_version: i64,
    pub subscriptions_open: usize,
    pub pool: PoolUse,
}

/// The `Content-Type` of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// The `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A new metric of type `M`, registered under `name` with its `help`; the
/// registry and the returned handle share its value.
fn registered<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: prometheus_client::registry::Metric + Clone + Default,
{
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// The registry with every metric, counting SQL statements with
    /// `statements` and refused tokens with `failures` (both are counted
    /// where they happen, in `db` and `auth`).
    pub fn new(statements: &StatementCounter, failures: &FailureCounts) -> Metrics {
        let mut registry = Registry::default();
        let requests: Family<RequestLabels, Counter> = registered(
            &mut registry,
            "jeugdregio_http_requests",
            "HTTP requests answered, by route, GraphQL operation type, status class and error code",
        );
        let latency: Family<LatencyLabels, LatencyHistogram> = registered(
            &mut registry,
            "jeugdregio_http_request_duration_seconds",
            "Time from receiving a request to its answer being ready, by route and GraphQL operation type",
        );
        registry.register("jeugdregio_sql_statements", "SQL statements sent to the database", statements.counter());
        let cache: Family<CacheLabels, Counter> = registered(
            &mut registry,
            "jeugdregio_response_cache_lookups",
            "Anonymous GraphQL requests looked up among the kept answers: hit (answered from memory) or miss (executed)",
        );
        let rate_limited: Counter = registered(
            &mut registry,
            "jeugdregio_rate_limited_requests",
            "Requests refused with 429 because their client was over its rate limit",
        );
        registry.register(
            "jeugdregio_authentication_failures",
            "Requests whose Authorization header was refused, by reason",
            failures.family(),
        );
        let pool: Family<PoolLabels, Gauge> = registered(
            &mut registry,
            "jeugdregio_db_pool_connections",
            "Open connections of the database pool: in_use (lent to a request) or idle",
        );
        let pool_max: Gauge =
            registered(&mut registry, "jeugdregio_db_pool_max_connections", "Most connections the database pool opens");
        let pool_waiting: Gauge = registered(
            &mut registry,
            "jeugdregio_db_pool_waiting",
            "Database calls waiting now for a connection of the pool (all lent out); they fail with SERVICE_UNAVAILABLE after 1.5 s",
        );
        let subscriptions_open: Gauge =
            registered(&mut registry, "jeugdregio_subscriptions_open", "Live GraphQL subscriptions of this instance");
        let registry_version: Gauge = registered(
            &mut registry,
            "jeugdregio_registry_version",
            "The newest registry version this instance knows (it moves with every committed write)",
        );
        let resident_memory: Gauge =
            registered(&mut registry, "process_resident_memory_bytes", "Resident memory size in bytes");
        let resident_memory_max: Gauge =
            registered(&mut registry, "process_resident_memory_max_bytes", "Peak resident memory size in bytes");
        let cache_hits = cache.get_or_create(&CacheLabels { result: "hit" }).clone();
        let cache_misses = cache.get_or_create(&CacheLabels { result: "miss" }).clone();
        for state in ["in_use", "idle"] {
            let _ = pool.get_or_create(&PoolLabels { state });
        }
        Metrics(Arc::new(Inner {
            registry,
            requests,
            latency,
            cache_hits,
            cache_misses,
            rate_limited,
            pool,
            pool_max,
            pool_waiting,
            subscriptions_open,
            registry_version,
            resident_memory,
            resident_memory_max,
        }))
    }

    /// Counts one request and its time.
    pub fn request(&self, outcome: RequestOutcome, elapsed: Duration) {
        let RequestOutcome { route, operation, status, code } = outcome;
        self.0.requests.get_or_create(&RequestLabels { route, operation, status, code }).inc();
        self.0.latency.get_or_create(&LatencyLabels { route, operation }).observe(elapsed);
    }

    /// Counts a look-up among the kept answers.
    pub fn cache_lookup(&self, hit: bool) {
        if hit { &self.0.cache_hits } else { &self.0.cache_misses }.inc();
    }

    /// The counter of requests refused by the rate limiter.
    pub fn rate_limited(&self) -> Counter {
        self.0.rate_limited.clone()
    }

    /// Every metric, with `readings` and the process's memory as of now, in
    /// OpenMetrics text or else the Prometheus text format; with its `Content-Type`.
    pub fn encode(&self, readings: Readings, openmetrics: bool) -> (&'static str, String) {
        let inner = &self.0;
        inner.registry_version.set(readings.registry_version);
        inner.subscriptions_open.set(readings.subscriptions_open.try_into().unwrap_or(i64::MAX));
        inner.pool.get_or_create(&PoolLabels { state: "in_use" }).set(readings.pool.in_use.into());
        inner.pool.get_or_create(&PoolLabels { state: "idle" }).set(readings.pool.idle.into());
        inner.pool_max.set(readings.pool.max.into());
        inner.pool_waiting.set(readings.pool.waiting.into());
        for (field, gauge) in [("VmRSS", &inner.resident_memory), ("VmHWM", &inner.resident_memory_max)] {
            if let Some(kib) = process_status_kib(field) {
                gauge.set((kib * 1024).try_into().unwrap_or(i64::MAX));
            }
        }
        let mut text = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail, and every metric here encodes.
        if openmetrics {
            let _ = prometheus_client::encoding::text::encode(&mut text, &inner.registry);
            (OPENMETRICS_TEXT, text)
        } else {
            let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &inner.registry);
            (PROMETHEUS_TEXT, text)
        }
    }
}

/// A `kB` figure of `/proc/self/status` (Linux only).
fn process_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))?;
    line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Upper bounds of the latency buckets, in seconds: from an answer served from
/// memory (well under a millisecond) to the execution deadline (10 s) and the
/// 30 s backstop of every route.
pub const LATENCY_BUCKETS: [f64; 15] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A latency histogram of atomics. `prometheus-client`'s own histogram locks a
/// mutex for every observation; this one is on every request's path.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Observations per bucket (not cumulative); the last is above every bound.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        // The count is the buckets' total, so that it always equals the `+Inf` bucket.
        let mut count = 0;
        let buckets: Vec<(f64, u64)> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(index, observations)| {
                let observations = observations.load(Ordering::Relaxed);
                count += observations;
                (LATENCY_BUCKETS.get(index).copied().unwrap_or(f64::INFINITY), observations)
            })
            .collect();
        let sum = Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthFailure;

    #[test]
    fn the_text_names_every_metric_with_its_type() {
        let (statements, failures) = (StatementCounter::default(), FailureCounts::default());
        let metrics = Metrics::new(&statements, &failures);
        failures.record(AuthFailure::Expired);
        metrics.cache_lookup(true);
        metrics.rate_limited().inc();
        let outcome = RequestOutcome { route: "/graphql", operation: "query", status: "2xx", code: "none" };
        metrics.request(outcome, Duration::from_micros(700));
        metrics.request(outcome, Duration::from_secs(60));
        let readings = Readings {
            registry_version: 7,
            subscriptions_open: 3,
            pool: PoolUse { in_use: 1, idle: 2, max: 16, waiting: 4 },
        };
        let (content_type, text) = metrics.encode(readings, false);
        assert!(content_type.starts_with("text/plain; version=0.0.4"));
        for line in [
            "# TYPE jeugdregio_sql_statements_total counter",
            "jeugdregio_sql_statements_total 0",
            r#"jeugdregio_authentication_failures_total{reason="expired"} 1"#,
            r#"jeugdregio_authentication_failures_total{reason="no_key"} 0"#,
            r#"jeugdregio_response_cache_lookups_total{result="hit"} 1"#,
            r#"jeugdregio_response_cache_lookups_total{result="miss"} 0"#,
            "jeugdregio_rate_limited_requests_total 1",
            r#"jeugdregio_http_requests_total{route="/graphql",operation="query",status="2xx",code="none"} 2"#,
            "# TYPE jeugdregio_http_request_duration_seconds histogram",
            r#"jeugdregio_http_request_duration_seconds_bucket{route="/graphql",operation="query",le="0.0005"} 0"#,
            r#"jeugdregio_http_request_duration_seconds_bucket{route="/graphql",operation="query",le="0.001"} 1"#,
            r#"jeugdregio_http_request_duration_seconds_bucket{route="/graphql",operation="query",le="30"} 1"#,
            r#"jeugdregio_http_request_duration_seconds_bucket{route="/graphql",operation="query",le="+Inf"} 2"#,
            r#"jeugdregio_http_request_duration_seconds_sum{route="/graphql",operation="query"} 60.0007"#,
            r#"jeugdregio_http_request_duration_seconds_count{route="/graphql",operation="query"} 2"#,
            r#"jeugdregio_db_pool_connections{state="in_use"} 1"#,
            r#"jeugdregio_db_pool_connections{state="idle"} 2"#,
            "jeugdregio_db_pool_max_connections 16",
            "jeugdregio_db_pool_waiting 4",
            "jeugdregio_subscriptions_open 3",
            "jeugdregio_registry_version 7",
            "# TYPE process_resident_memory_bytes gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} is missing from:\n{text}");
        }
        let (content_type, text) = metrics.encode(readings, true);
        assert!(content_type.starts_with("application/openmetrics-text"));
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# TYPE jeugdregio_sql_statements counter\n"), "{text}");
    }
}
