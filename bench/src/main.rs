//! `cargo run --release -p bench -- [options]`: the jeugdregio benchmark.
//! See bench/README.md.

mod baseline;
mod client;
mod queries;
mod report;
mod service;
mod subscribers;
mod synthetic;
mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use service::{Db, Service, ServiceConfig};
use workloads::{Run, Workload};

/// Measures the jeugdregio service (release build) on SQLite and PostgreSQL
/// against a baseline server that answers the same bytes from memory, and
/// prints a summary table with the targets.
#[derive(Debug, Parser)]
#[command(name = "bench", version)]
pub struct Options {
    /// Databases to run on, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub databases: Vec<Db>,
    /// Workloads to run, comma-separated, in this order: portal, portal-as-of,
    /// municipality, portal-gzip, municipality-gzip, writes, feed, isolation,
    /// subscribers, portal-100x.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "portal,portal-as-of,municipality,portal-gzip,municipality-gzip,writes,feed,isolation,subscribers,portal-100x"
    )]
    pub workloads: Vec<Workload>,
    /// Concurrent keep-alive connections per read workload (and the heavy load of `isolation`) [default: 32].
    #[arg(long)]
    pub connections: Option<usize>,
    /// Connections of the `writes` workload, one municipality and token each, unless --connections is given.
    #[arg(long, default_value_t = 16)]
    pub write_connections: usize,
    /// Measured time of each run, e.g. 10s or 1500ms.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Time each run sends requests before measuring.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// PostgreSQL server (any database on it); the bench drops and creates `jeugdregio_bench` there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")]
    pub postgres_url: String,
    /// Use the service binary as it is instead of running `cargo build --release --bin jeugdregio`.
    #[arg(long)]
    pub skip_build: bool,
    /// Run this service binary instead of building target/release/jeugdregio (implies --skip-build).
    #[arg(long)]
    pub service_binary: Option<PathBuf>,
    /// The workspace root: where the service is built and its git commit read.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    pub workspace: PathBuf,
    /// Clients polling the change feed in `feed`, one connection each.
    #[arg(long, default_value_t = 300)]
    pub feed_clients: usize,
    /// WebSocket connections of `subscribers`.
    #[arg(long, default_value_t = 100)]
    pub ws_connections: usize,
    /// Subscriptions per WebSocket connection in `subscribers`.
    #[arg(long, default_value_t = 100)]
    pub subscriptions_per_connection: usize,
    /// How many times the seed `portal-100x` holds (copies of the seeded regions are added).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(2..))]
    pub scale: u16,
    /// Connections of `portal-100x`: each answer is about a megabyte, and more
    /// connections only queue behind each other on two cores.
    #[arg(long, default_value_t = 4)]
    pub connections_100x: usize,
    /// The service's --max-in-flight; without it, the service's default.
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// The service's --connections-per-address: every bench connection comes from 127.0.0.1.
    #[arg(long, default_value_t = 1024)]
    pub connections_per_address: usize,
    /// Another flag for `jeugdregio serve`, e.g. --service-arg=--cache-max-age=0s; repeat for more.
    #[arg(long = "service-arg", allow_hyphen_values = true)]
    pub service_args: Vec<String>,
    /// Keep the temporary directory (SQLite files, service logs) after the run.
    #[arg(long)]
    pub keep: bool,
    #[command(subcommand)]
    pub mode: Option<Mode>,
}

impl Options {
    pub fn connections(&self) -> usize {
        self.connections.unwrap_or(32)
    }
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Internal: the baseline server the bench starts by itself.
    #[command(hide = true)]
    Baseline(baseline::BaselineArgs),
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.find(|c: char| c.is_ascii_alphabetic()).map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("unknown unit in {text:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

fn main() -> anyhow::Result<()> {
    let mut opts = Options::parse();
    if let Some(Mode::Baseline(args)) = opts.mode.take() {
        return baseline::serve(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(opts))
}

fn header(opts: &Options) -> anyhow::Result<()> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")).map(|l| l.trim().to_owned());
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&opts.workspace)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = if git(&["status", "--porcelain", "--", "src", "entity", "migration", "Cargo.toml"]).is_empty() {
        ""
    } else {
        " (with uncommitted changes)"
    };
    println!("# jeugdregio benchmark");
    println!(
        "machine: {}, {} cores, {}",
        model.unwrap_or("unknown CPU"),
        std::thread::available_parallelism()?,
        memory.unwrap_or_default()
    );
    println!(
        "service: commit {}{dirty} ({})",
        git(&["rev-parse", "--short=12", "HEAD"]),
        git(&["log", "-1", "--format=%cs %s"])
    );
    println!(
        "options: databases {:?}, workloads {:?}, connections {} (writes {}), duration {:?}, warm-up {:?}, feed clients {}, subscribers {}x{}, scale {}x with {} connections, service flags: --rate-limit 0 --connections-per-address {}{}{}",
        opts.databases.iter().map(|d| d.name()).collect::<Vec<_>>(),
        opts.workloads,
        opts.connections(),
        opts.connections.unwrap_or(opts.write_connections),
        opts.duration,
        opts.warmup,
        opts.feed_clients,
        opts.ws_connections,
        opts.subscriptions_per_connection,
        opts.scale,
        opts.connections_100x,
        opts.connections_per_address,
        opts.max_in_flight.map(|n| format!(" --max-in-flight {n}")).unwrap_or_default(),
        opts.service_args.iter().map(|a| format!(" {a}")).collect::<String>(),
    );
    Ok(())
}

async fn bench(opts: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    header(&opts)?;
    let workspace = opts.workspace.canonicalize()?;
    if !opts.skip_build && opts.service_binary.is_none() {
        println!("building the service: cargo build --release --bin jeugdregio");
        service::build(&workspace)?;
    }
    let dir = tempfile::Builder::new().prefix("jeugdregio-bench-").tempdir()?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for &db in &opts.databases {
        println!("\n## {}", db.name());
        let database_url = service::prepare(db, &opts.postgres_url, dir.path()).await?;
        let mut extra_args = vec![
            "--connections-per-address".to_owned(),
            opts.connections_per_address.to_string(),
            "--max-subscriptions".to_owned(),
            (opts.ws_connections * opts.subscriptions_per_connection).max(10_000).to_string(),
            "--subscriptions-per-connection".to_owned(),
            opts.subscriptions_per_connection.max(100).to_string(),
        ];
        if let Some(n) = opts.max_in_flight {
            extra_args.extend(["--max-in-flight".to_owned(), n.to_string()]);
        }
        extra_args.extend(opts.service_args.iter().cloned());
        let config = ServiceConfig {
            binary: opts.service_binary.clone().unwrap_or_else(|| workspace.join("target/release/jeugdregio")),
            database_url,
            // Only for this run's throw-away service; 32+ bytes as HS256 requires.
            jwt_secret: format!("bench-secret-{}-{:0>32}", std::process::id(), started.elapsed().as_nanos()),
            extra_args,
            log: dir.path().join(format!("service-{}.log", db.name())),
        };
        let service = Service::start(&config).await?;
        println!(
            "service ready in {:.1} s (migrated and seeded), log {}",
            service.started_in.as_secs_f64(),
            config.log.display()
        );
        let mut run = Run::new(&opts, db, config, service);
        for &workload in &opts.workloads {
            println!("\n### {} / {workload:?}", db.name());
            let began = Instant::now();
            let outcome = run.run(workload).await;
            println!("  ({:.0} s)", began.elapsed().as_secs_f64());
            if let Err(error) = outcome {
                println!("  FAILED: {error:#}");
                problems.push(format!("{} / {workload:?}: {error:#}", db.name()));
                if run.service.is_none() {
                    break;
                }
            }
        }
        if let Some(service) = run.service.take() {
            service.stop().await?;
        }
        rows.append(&mut run.rows);
    }
    println!("\n## Summary\n");
    println!("{}", report::summary(&rows));
    println!(
        "Targets: a few ms = {} ms. portal-{}x runs on SYNTHETIC data (copies of the seed).",
        workloads::FEW_MS,
        opts.scale
    );
    for problem in &problems {
        println!("problem: {problem}");
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
    if opts.keep {
        println!("kept {}", dir.keep().display());
    }
    Ok(())
}
