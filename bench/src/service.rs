//! The service under test: its build, its database, its process and its
//! `/metrics`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, Database};

use crate::client::{Call, once};

/// The name of the database the bench drops and creates on the PostgreSQL server.
pub const POSTGRES_DATABASE: &str = "jeugdregio_bench";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    pub fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }
}

pub fn build(workspace: &Path) -> anyhow::Result<()> {
    let mut command = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // `cargo run` gives this process the bench package's CARGO_PKG_*,
    // CARGO_MANIFEST_DIR and the like. Build scripts (ring's) rerun when
    // those change, so passing them on would rebuild half the dependencies
    // here, and again at the next plain `cargo build`.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"]
                .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    let status = command
        .args(["build", "--release", "--bin", "jeugdregio"])
        .current_dir(workspace)
        .status()
        .context("running cargo build")?;
    anyhow::ensure!(status.success(), "cargo build --release --bin jeugdregio failed");
    Ok(())
}

/// A fresh, empty database; returns the URL the service is given.
pub async fn prepare(db: Db, postgres_url: &str, dir: &Path) -> anyhow::Result<String> {
    match db {
        Db::Sqlite => Ok(format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display())),
        Db::Postgres => {
            let admin =
                Database::connect(postgres_url).await.with_context(|| format!("connecting to {postgres_url}"))?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {POSTGRES_DATABASE}")).await?;
            admin.close().await?;
            let mut url = url::Url::parse(postgres_url)?;
            url.set_path(&format!("/{POSTGRES_DATABASE}"));
            Ok(url.to_string())
        }
    }
}

/// How the service is started.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub binary: PathBuf,
    pub database_url: String,
    pub jwt_secret: String,
    /// Flags passed as they are (limits), after the bench's own.
    pub extra_args: Vec<String>,
    pub log: PathBuf,
}

pub struct Service {
    child: std::process::Child,
    pub addr: SocketAddr,
    /// How long migrating, seeding and starting took.
    pub started_in: Duration,
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Service {
    pub async fn start(config: &ServiceConfig) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&config.log)?;
        let started = Instant::now();
        let mut child = std::process::Command::new(&config.binary)
            .arg("serve")
            .args(["--listen", &addr.to_string()])
            .args(["--database-url", &config.database_url])
            .args(["--jwt-secret", &config.jwt_secret])
            .args(["--rate-limit", "0"])
            .args(&config.extra_args)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", config.binary.display()))?;
        let deadline = started + Duration::from_secs(180);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("the service exited with {status} while starting; its log: {}", config.log.display());
            }
            if let Ok(answer) = once(addr, &Call::get("/readyz")).await
                && answer.status.is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the service was not ready within 180 s; its log: {}", config.log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Service { child, addr, started_in: started.elapsed() })
    }

    /// SIGTERM, so the service shuts down as in production; SIGKILL if it hangs.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_none() {
            // SAFETY: kill(2) on our own child, which has not been reaped, so the pid is still its.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                self.child.wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    pub async fn metrics(&self) -> anyhow::Result<Metrics> {
        let answer = once(self.addr, &Call::get("/metrics")).await?;
        let text = String::from_utf8_lossy(&answer.body);
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        Ok(Metrics {
            statements: value("jeugdregio_sql_statements_total").context("no jeugdregio_sql_statements_total")? as u64,
            rss: value("process_resident_memory_bytes").unwrap_or(0.0) as u64,
            peak_rss: value("process_resident_memory_max_bytes").unwrap_or(0.0) as u64,
        })
    }

    /// A development token for a municipality, from the service's own `token` command.
    pub fn token(config: &ServiceConfig, municipality: &str) -> anyhow::Result<String> {
        let output = std::process::Command::new(&config.binary)
            .args(["token", "--municipality", municipality, "--sub", "bench", "--ttl", "2h"])
            .args(["--jwt-secret", &config.jwt_secret])
            .output()?;
        anyhow::ensure!(output.status.success(), "token: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }
}

/// A bench that stops early must not leave a service behind.
impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Metrics {
    pub statements: u64,
    pub rss: u64,
    pub peak_rss: u64,
}
