//! The workloads, run one after another against one service and database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Options;
use crate::baseline::Baseline;
use crate::client::{Answer, Call, Fixed, Repeat, Stats, Worker, drive, judge_read, once};
use crate::queries::{self, FeedPoller, PortalAsOf, Writer};
use crate::report::Row;
use crate::service::{Db, Service, ServiceConfig};
use crate::subscribers::Subscribers;

/// "A few milliseconds", as the requirements say, made a number.
pub const FEW_MS: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Workload {
    Portal,
    PortalAsOf,
    Municipality,
    #[value(name = "portal-gzip")]
    PortalGzip,
    #[value(name = "municipality-gzip")]
    MunicipalityGzip,
    Writes,
    Feed,
    Isolation,
    Subscribers,
    #[value(name = "portal-100x")]
    Portal100x,
}

pub struct Run<'a> {
    pub opts: &'a Options,
    pub db: Db,
    pub config: ServiceConfig,
    pub service: Option<Service>,
    pub rows: Vec<Row>,
    /// Baseline requests per second by response body: one measurement serves
    /// every workload answered with the same bytes.
    baselines: HashMap<Bytes, f64>,
}

impl<'a> Run<'a> {
    pub fn new(opts: &'a Options, db: Db, config: ServiceConfig, service: Service) -> Self {
        Run { opts, db, config, service: Some(service), rows: Vec::new(), baselines: HashMap::new() }
    }

    fn service(&self) -> &Service {
        self.service.as_ref().expect("the service runs between workloads")
    }

    pub async fn run(&mut self, workload: Workload) -> anyhow::Result<()> {
        match workload {
            Workload::Portal => self.portal().await,
            Workload::PortalAsOf => self.portal_as_of().await,
            Workload::Municipality => self.municipality().await,
            Workload::PortalGzip => self.gzip("portal-gzip", queries::portal(100)).await,
            Workload::MunicipalityGzip => self.gzip("municipality-gzip", queries::municipality()).await,
            Workload::Writes => self.writes().await,
            Workload::Feed => self.feed().await,
            Workload::Isolation => self.isolation().await,
            Workload::Subscribers => self.subscribers().await,
            Workload::Portal100x => self.portal_100x().await,
        }
    }

    /// Sends `call` once and insists on a clean answer: the bytes the baseline repeats.
    async fn sample(&self, call: &Call) -> anyhow::Result<Answer> {
        let answer = once(self.service().addr, call).await?;
        if judge_read(&answer) != crate::client::Verdict::Ok {
            bail!("the service answered {}: {}", answer.status, String::from_utf8_lossy(&answer.body));
        }
        Ok(answer)
    }

    async fn baseline(&mut self, answer: &Answer, call: &Call) -> anyhow::Result<f64> {
        if let Some(rate) = self.baselines.get(&answer.body) {
            return Ok(*rate);
        }
        let baseline = Baseline::start(answer).await?;
        let workers = (0..self.opts.connections()).map(|_| Fixed(call.clone())).collect();
        let stats = drive(baseline.addr, workers, self.opts.warmup, self.opts.duration).await;
        drop(baseline);
        let stats = stats?;
        println!(
            "  baseline (same {} bytes from memory): {:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
            answer.body.len(),
            stats.per_second(),
            stats.ms(0.5),
            stats.ms(0.99),
            stats.errors
        );
        self.baselines.insert(answer.body.clone(), stats.per_second());
        Ok(stats.per_second())
    }

    /// Drives the service and reads `/metrics` around it.
    async fn measure<W: Worker>(&self, workload: &str, workers: Vec<W>) -> anyhow::Result<(Stats, Row)> {
        let connections = workers.len();
        let service = self.service();
        let before = service.metrics().await?;
        let stats = drive(service.addr, workers, self.opts.warmup, self.opts.duration).await?;
        let after = service.metrics().await?;
        let row = Row::new(self.db.name(), workload, connections, &stats).with_metrics(before, after, stats.requests);
        Ok((stats, row))
    }

    /// [`Self::measure`], with the rate as a share of `baseline` and the
    /// target that it be at least `percent` %.
    async fn measure_against<W: Worker>(
        &self,
        workload: &str,
        workers: Vec<W>,
        baseline: f64,
        percent: u32,
    ) -> anyhow::Result<(Stats, Row)> {
        let (stats, mut row) = self.measure(workload, workers).await?;
        row.of_baseline = Some(stats.per_second() / baseline);
        row.target(format!(">= {percent} % of baseline"), row.of_baseline >= Some(f64::from(percent) / 100.0));
        Ok((stats, row))
    }

    fn finish(&mut self, mut row: Row, stats: &Stats) {
        row.common_targets();
        row.print(stats);
        self.rows.push(row);
    }

    /// A sample with the statements it took when nothing else ran.
    async fn sample_alone(&self, call: &Call) -> anyhow::Result<Answer> {
        let before = self.service().metrics().await?.statements;
        let answer = self.sample(call).await?;
        let statements = self.service().metrics().await?.statements - before;
        println!("  one request alone: {statements} SQL statements, {} bytes", answer.body.len());
        Ok(answer)
    }

    async fn portal(&mut self) -> anyhow::Result<()> {
        let call = queries::portal(100);
        let answer = self.sample_alone(&call).await?;
        let baseline = self.baseline(&answer, &call).await?;
        let workers = (0..self.opts.connections()).map(|_| Fixed(call.clone())).collect();
        let (stats, mut row) = self.measure_against("portal", workers, baseline, 50).await?;
        row.target("p99 < 20 ms", row.p99 < 20.0);
        row.target("SQL/request <= 10", row.sql_per_request.is_some_and(|s| s <= 10.0));
        row.target("no errors", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    async fn portal_as_of(&mut self) -> anyhow::Result<()> {
        let call = queries::portal(100);
        let answer = self.sample(&call).await?;
        let baseline = self.baseline(&answer, &call).await?;
        let workers = PortalAsOf::workers(self.opts.connections(), 100);
        let (stats, mut row) = self.measure_against("portal-as-of", workers, baseline, 4).await?;
        row.target("SQL/request <= 10", row.sql_per_request.is_some_and(|s| s <= 10.0));
        row.target("no errors", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    async fn municipality(&mut self) -> anyhow::Result<()> {
        let call = queries::municipality();
        let answer = self.sample(&call).await?;
        let baseline = self.baseline(&answer, &call).await?;
        let workers = (0..self.opts.connections()).map(|_| Fixed(call.clone())).collect();
        let (stats, mut row) = self.measure_against("municipality", workers, baseline, 50).await?;
        row.target("no errors", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    /// `call` from clients that take gzip, as browsers and most HTTP
    /// libraries do: a large answer comes compressed (once, kept), a small
    /// one as it is. Each answer must be the bytes of the checked sample.
    async fn gzip(&mut self, workload: &str, call: Call) -> anyhow::Result<()> {
        let plain = self.sample(&call).await?;
        let call = call.with_gzip();
        let answer = once(self.service().addr, &call).await?;
        let encoding = answer.headers.get(hyper::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
        let unpacked = match encoding {
            Some("gzip") => {
                let mut unpacked = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&answer.body[..]), &mut unpacked)
                    .context("the gzip answer does not decompress")?;
                unpacked
            }
            _ => answer.body.to_vec(),
        };
        if !answer.status.is_success() || unpacked != plain.body {
            bail!("the answer to a client that takes gzip is not the plain answer ({})", answer.status);
        }
        println!("  {} bytes, Content-Encoding: {}", answer.body.len(), encoding.unwrap_or("none"));
        let baseline = self.baseline(&answer, &call).await?;
        let expected = answer.body;
        let workers = (0..self.opts.connections()).map(|_| Repeat { call: call.clone(), expected: expected.clone() });
        let (stats, mut row) = self.measure_against(workload, workers.collect(), baseline, 50).await?;
        row.target("no errors", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    /// One writer per municipality, each with its own token and version.
    async fn writers(&self, count: usize) -> anyhow::Result<Vec<Writer>> {
        let call = Call::graphql(queries::MUNICIPALITIES_WITH_VERSION, json!({ "first": count.min(500) }));
        let answer = self.sample(&call).await?;
        let body: Value = serde_json::from_slice(&answer.body)?;
        let nodes =
            body.pointer("/data/municipalities/nodes").and_then(Value::as_array).context("no municipalities")?;
        let mut writers = Vec::new();
        for node in nodes.iter().take(count) {
            let code = node.get("code").and_then(Value::as_str).context("a municipality without code")?;
            let version = node.get("version").and_then(Value::as_i64).context("a municipality without version")?;
            writers.push(Writer::new(code.to_owned(), Service::token(&self.config, code)?, version));
        }
        Ok(writers)
    }

    async fn writes(&mut self) -> anyhow::Result<()> {
        let connections = self.opts.connections.unwrap_or(self.opts.write_connections);
        let writers = self.writers(connections).await?;
        if writers.len() < connections {
            println!("  only {} municipalities to write to; {} connections", writers.len(), writers.len());
        }
        let (stats, mut row) = self.measure("writes", writers).await?;
        row.target(">= 300 writes/s", row.per_second >= 300.0);
        row.target("p99 < 50 ms", row.p99 < 50.0);
        row.target("no errors besides conflicts", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    async fn registry_version(&self) -> anyhow::Result<i64> {
        let answer = self.sample(&Call::graphql("{ registryVersion }", Value::Null)).await?;
        let body: Value = serde_json::from_slice(&answer.body)?;
        body.pointer("/data/registryVersion").and_then(Value::as_i64).context("no registryVersion")
    }

    async fn feed(&mut self) -> anyhow::Result<()> {
        // The seed writes no feed entries: the feed is what writes made.
        let mut version = self.registry_version().await?;
        if version < 1000 {
            let writers = self.writers(16).await?;
            drive(self.service().addr, writers, Duration::ZERO, Duration::from_secs(4)).await?;
            version = self.registry_version().await?;
            println!("  wrote changes first: the feed now has {version}");
        }
        let clients = self.opts.feed_clients;
        // Clients spread over the feed, each starting where it last stopped.
        let workers = (0..clients).map(|i| FeedPoller::new(version * i as i64 / clients as i64)).collect();
        println!("  {clients} clients, starting cursors spread over positions 0..{version}, pages of 100");
        let (stats, mut row) = self.measure("feed", workers).await?;
        row.target("no errors, no gaps", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }

    /// The cheap read from one connection, alone.
    async fn probe(&self, label: &str) -> anyhow::Result<(Stats, Row)> {
        self.measure(label, vec![Fixed(queries::municipality())]).await
    }

    async fn isolation(&mut self) -> anyhow::Result<()> {
        let (alone, row) = self.probe("isolation: cheap read alone").await?;
        row.print(&alone);
        let heavy_connections = self.opts.connections();
        let service = self.service();
        let before = service.metrics().await?;
        let heavy = drive(service.addr, PortalAsOf::workers(heavy_connections, 100), Duration::ZERO, {
            self.opts.warmup * 2 + self.opts.duration
        });
        let probe = async {
            // Starts after the heavy load is under way and ends before it does.
            tokio::time::sleep(self.opts.warmup).await;
            drive(service.addr, vec![Fixed(queries::municipality())], self.opts.warmup, self.opts.duration).await
        };
        let (heavy, loaded) = tokio::join!(heavy, probe);
        let (heavy, loaded) = (heavy?, loaded?);
        let after = service.metrics().await?;
        println!(
            "  meanwhile {heavy_connections} connections sent the portal query with a distinct asOf: {:.0} req/s, p99 {:.2} ms, errors {}",
            heavy.per_second(),
            heavy.ms(0.99),
            heavy.errors
        );
        let mut loaded_row = Row::new(self.db.name(), "isolation: cheap read under heavy reads", 1, &loaded)
            .with_metrics(before, after, loaded.requests + heavy.requests);
        loaded_row.sql_per_request = None;
        let (d50, d99) = (loaded.ms(0.5) - alone.ms(0.5), loaded.ms(0.99) - alone.ms(0.99));
        println!("  difference: p50 {d50:+.2} ms, p99 {d99:+.2} ms");
        loaded_row.target(format!("p99 delay <= {FEW_MS} ms (was {d99:+.2})"), d99 <= FEW_MS);
        loaded_row.target("no errors", loaded.errors == 0);
        self.rows.push(row);
        self.finish(loaded_row, &loaded);
        Ok(())
    }

    async fn subscribers(&mut self) -> anyhow::Result<()> {
        let (alone, row) = self.probe("subscribers: cheap read, none open").await?;
        row.print(&alone);
        self.rows.push(row);
        let (connections, per_connection) = (self.opts.ws_connections, self.opts.subscriptions_per_connection);
        let total = connections * per_connection;
        let addr = self.service().addr;
        let opened = Instant::now();
        let subscribers = Subscribers::open(addr, connections, per_connection).await?;
        // Subscribing costs statements; once they nearly stop, every
        // subscription is live. Not "stop": the service polls the feed head
        // about once a second for changes made by other instances.
        let mut last = self.service().metrics().await?.statements;
        let mut quiet = 0;
        while quiet < 2 && opened.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.service().metrics().await?.statements;
            quiet = if now - last <= 2 { quiet + 1 } else { 0 };
            last = now;
        }
        println!(
            "  {total} subscriptions on {connections} WebSocket connections, live after {:.1} s",
            opened.elapsed().as_secs_f64()
        );
        let failures = subscribers.failures.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(failure) = subscribers.first_failure.lock().expect("not poisoned").clone() {
            println!("  {failures} subscriptions failed; first: {failure}");
        }
        let idle_from = self.service().metrics().await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle_to = self.service().metrics().await?;
        let idle_rate = (idle_to.statements - idle_from.statements) as f64 / 3.0;
        println!("  idle: {idle_rate:.1} SQL statements/s, RSS {:.1} MB", crate::report::mb(idle_to.rss));

        let (loaded, mut row) = self.probe(&format!("subscribers: cheap read, {total} idle open")).await?;
        let d99 = loaded.ms(0.99) - alone.ms(0.99);
        println!("  difference: p50 {:+.2} ms, p99 {d99:+.2} ms", loaded.ms(0.5) - alone.ms(0.5));
        row.target(format!("p99 delay <= {FEW_MS} ms (was {d99:+.2})"), d99 <= FEW_MS);
        self.finish(row, &loaded);

        // One write; then the time from its answer to each subscriber's event.
        let before = subscribers.received().len();
        let mut writer = self.writers(1).await?.pop().context("no municipality to write to")?;
        let call = writer.next();
        let metrics_before = self.service().metrics().await?;
        let answer = once(addr, &call).await?;
        let answered = Instant::now();
        anyhow::ensure!(writer.judge(&answer) == crate::client::Verdict::Ok, "the write failed: {:?}", answer.body);
        while subscribers.received().len() < before + total && answered.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let metrics_after = self.service().metrics().await?;
        let arrivals = subscribers.received()[before..].to_vec();
        let mut delivery = Stats::empty();
        for arrived in &arrivals {
            let took = arrived.saturating_duration_since(answered);
            delivery.latency.saturating_record((took.as_micros() as u64).max(1));
        }
        let late = arrivals.iter().filter(|a| a.saturating_duration_since(answered) > Duration::from_secs(1)).count();
        let missing = total.saturating_sub(arrivals.len());
        delivery.requests = arrivals.len() as u64;
        delivery.errors = (late + missing) as u64 + failures;
        delivery.elapsed = Duration::from_secs(1);
        println!(
            "  one write: {} of {total} subscribers got the event; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms after the write's answer; {late} later than 1 s, {missing} not within 5 s",
            arrivals.len(),
            delivery.ms(0.5),
            delivery.ms(0.99),
            delivery.max_ms()
        );
        let mut row = Row::new(self.db.name(), "subscribers: event delivery after one write", connections, &delivery)
            .with_metrics(metrics_before, metrics_after, 1);
        row.per_second = 0.0;
        row.target("every subscriber within 1 s", late == 0 && missing == 0 && failures == 0);
        row.common_targets();
        self.rows.push(row);
        subscribers.close();
        Ok(())
    }

    async fn portal_100x(&mut self) -> anyhow::Result<()> {
        let scale = usize::from(self.opts.scale);
        let one = self.sample(&queries::portal(100)).await?.body.len();
        self.service.take().expect("the service runs").stop().await?;
        let started = Instant::now();
        let written = crate::synthetic::multiply(&self.config.database_url, scale - 1).await?;
        println!(
            "  SYNTHETIC DATA: wrote {} regions, {} municipalities, {} rows in all ({}x the seed) in {:.1} s",
            written.regions,
            written.municipalities,
            written.rows,
            scale,
            started.elapsed().as_secs_f64()
        );
        self.service = Some(Service::start(&self.config).await?);
        let call = queries::portal(500);
        let refused = cost_refused(&once(self.service().addr, &call).await?);
        if let Some(cost) = refused {
            println!(
                "  PROBLEM: the service refuses regions(first: 500) with its default --max-cost (the query costs {cost}); \
                 restarting it with --max-cost {cost} to measure the query anyway"
            );
            self.service.take().expect("the service runs").stop().await?;
            self.config.extra_args.extend(["--max-cost".to_owned(), cost.to_string()]);
            self.service = Some(Service::start(&self.config).await?);
        }
        let answer = self.sample_alone(&call).await?;
        println!("  regions(first: 500): {} bytes (the 1x portal with first: 100: {one} bytes)", answer.body.len());
        let workers = (0..self.opts.connections_100x).map(|_| Fixed(call.clone())).collect();
        let (stats, mut row) = self.measure(&format!("portal-{scale}x (SYNTHETIC data, first: 500)"), workers).await?;
        row.target("SQL/request <= 10", row.sql_per_request.is_some_and(|s| s <= 10.0));
        row.target("within the default --max-cost", refused.is_none());
        row.target("no errors", row.errors == 0);
        self.finish(row, &stats);
        Ok(())
    }
}

/// The cost named by a COST_LIMIT_EXCEEDED refusal.
fn cost_refused(answer: &Answer) -> Option<u64> {
    let body: Value = serde_json::from_slice(&answer.body).ok()?;
    let extensions = body.pointer("/errors/0/extensions")?;
    (extensions.get("code")?.as_str()? == "COST_LIMIT_EXCEEDED").then(|| extensions.get("cost")?.as_u64()).flatten()
}
