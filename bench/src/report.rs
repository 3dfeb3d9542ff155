//! What a workload measured, the targets beside it, and the summary table.

use crate::client::Stats;
use crate::service::Metrics;

/// One line of the summary table.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub database: String,
    pub workload: String,
    pub connections: usize,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub errors: u64,
    pub conflicts: u64,
    pub requests: u64,
    /// Share of the baseline server's requests per second.
    pub of_baseline: Option<f64>,
    pub sql_per_request: Option<f64>,
    pub peak_rss_mb: f64,
    pub rss_mb: f64,
    /// `(target, met)` pairs, printed beside the figures.
    pub targets: Vec<(String, bool)>,
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl Row {
    pub fn new(database: &str, workload: &str, connections: usize, stats: &Stats) -> Self {
        Row {
            database: database.to_owned(),
            workload: workload.to_owned(),
            connections,
            per_second: stats.per_second(),
            p50: stats.ms(0.5),
            p99: stats.ms(0.99),
            max: stats.max_ms(),
            errors: stats.errors,
            conflicts: stats.conflicts,
            requests: stats.requests,
            ..Row::default()
        }
    }

    /// Statements per request and memory from `/metrics` read before and after.
    pub fn with_metrics(mut self, before: Metrics, after: Metrics, requests: u64) -> Self {
        if requests > 0 {
            self.sql_per_request = Some(after.statements.saturating_sub(before.statements) as f64 / requests as f64);
        }
        self.peak_rss_mb = mb(after.peak_rss);
        self.rss_mb = mb(after.rss);
        self
    }

    pub fn target(&mut self, text: impl Into<String>, met: bool) {
        self.targets.push((text.into(), met));
    }

    /// The targets every workload shares: memory, and no errors for reads.
    pub fn common_targets(&mut self) {
        self.target("peak RSS < 100 MB", self.peak_rss_mb < 100.0);
    }

    /// Prints the figures of one workload as soon as it ends.
    pub fn print(&self, stats: &Stats) {
        println!(
            "  {:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  requests {}  errors {}{}",
            self.per_second,
            self.p50,
            self.p99,
            self.max,
            self.requests,
            self.errors,
            if self.conflicts > 0 { format!("  conflicts {}", self.conflicts) } else { String::new() }
        );
        if let Some(error) = &stats.first_error {
            println!("  first error: {error}");
        }
        let mut line = format!("  {} bytes/response", stats.bytes_per_response());
        if let Some(share) = self.of_baseline {
            line.push_str(&format!("  {:.1} % of baseline", share * 100.0));
        }
        if let Some(sql) = self.sql_per_request {
            line.push_str(&format!("  {sql:.2} SQL statements/request"));
        }
        line.push_str(&format!("  RSS {:.1} MB (peak {:.1} MB)", self.rss_mb, self.peak_rss_mb));
        println!("{line}");
        for (target, met) in &self.targets {
            println!("  target {target}: {}", if *met { "met" } else { "NOT MET" });
        }
    }
}

fn opt(value: Option<f64>, decimals: usize, scale: f64, suffix: &str) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.*}{suffix}", decimals, v * scale))
}

pub fn summary(rows: &[Row]) -> String {
    let mut out = String::from(
        "| database | workload | connections | req/s | p50 ms | p99 ms | max ms | errors | % of baseline | SQL/request | peak RSS MB | targets |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let targets = if row.targets.is_empty() {
            "-".to_owned()
        } else {
            row.targets
                .iter()
                .map(|(t, met)| format!("{t}: {}", if *met { "met" } else { "**not met**" }))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let errors = if row.conflicts > 0 {
            format!("{} (+{} conflicts)", row.errors, row.conflicts)
        } else {
            row.errors.to_string()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.1} | {} |\n",
            row.database,
            row.workload,
            row.connections,
            row.per_second,
            row.p50,
            row.p99,
            row.max,
            errors,
            opt(row.of_baseline, 1, 100.0, " %"),
            opt(row.sql_per_request, 2, 1.0, ""),
            row.peak_rss_mb,
            targets
        ));
    }
    out
}
