use jeugdregio::auth::{TokenFor, issue_token};
use jeugdregio::config::{Command, LogFormat};
use jeugdregio::logs::LogBuffer;
use jeugdregio::{db, graphql};
use tracing_subscriber::EnvFilter;

// jemalloc instead of the system allocator: an executed query allocates and
// frees a box, a map entry and a value per field, and with glibc's malloc that
// was 30 % of the CPU (docs/architecture.md, "Fourth round"). Measured with
// `cargo run --release -p bench`: +28 % requests/s for the distinct-`asOf`
// portal, +15 % for a small kept answer. SQLite keeps using the C allocator.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read before `main`. Two arenas and freed pages
/// returned within a second by jemalloc's own threads: with its defaults
/// (four arenas per core, ten seconds) the bench's 300 feed pollers after its
/// writes peaked at 106 MB, over the 100 MB target; with these at 95 MB, at
/// the same speed. The environment variable `_RJEM_MALLOC_CONF` (jemalloc's
/// `MALLOC_CONF`) overrides them.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_SETTINGS: &[u8; 70] = b"narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Every problem of the configuration at once, before anything is started.
    let cli = jeugdregio::config::parse();
    // Held to the end of `main`: dropping it writes the lines still queued.
    let _logs = init_logging(cli.log_format)?;
    match cli.command {
        Command::Serve(args) => {
            // The port first: one in use is said before any database is opened, created or migrated.
            let listener = jeugdregio::server::bind(args.listen).await?;
            tracing::info!(database = %jeugdregio::secrets::redact_url(&args.database.database_url), "opening the registry");
            let settings = jeugdregio::Settings {
                database_url: args.database.database_url.clone(),
                auth: args.auth.to_config()?,
                cache_max_age: args.cache_max_age,
                limits: args.limits(),
                rate_limits: args.rate_limits(),
                response_cache_bytes: args.response_cache_mib << 20,
                cors_allowed_origins: args.cors_allowed_origins.clone(),
            };
            jeugdregio::server::raise_open_files_limit();
            jeugdregio::memory::start_trimming();
            let app = jeugdregio::app(&settings).await?;
            tracing::info!("jeugdregio listening on http://{}/graphql", listener.local_addr()?);
            jeugdregio::server::serve(listener, app, args.connection_limits(), shutdown_signal()).await?;
        }
        Command::Migrate(args) => {
            let (connection, _) = db::open(&args.database_url).await?;
            db::migrate(&connection).await?;
            tracing::info!("migrations applied");
        }
        Command::Seed(args) => {
            let (connection, _) = db::open(&args.database.database_url).await?;
            db::migrate(&connection).await?;
            if migration::seed::seed_before(&connection, args.classification_before).await? {
                tracing::info!("seeded the national registry");
            } else {
                tracing::info!("the registry already holds data; nothing seeded");
            }
        }
        Command::ImportCbs(args) => jeugdregio::import::run(&args).await?,
        Command::Token(args) => {
            let token_for = match &args.municipality {
                Some(code) => TokenFor::Municipality(code.as_str()),
                None => TokenFor::Operator,
            };
            println!("{}", issue_token(&args.auth.to_config()?, &args.sub, token_for, args.ttl.as_secs())?);
        }
        Command::PrintSchema => print!("{}", graphql::sdl()),
    }
    Ok(())
}

/// Log lines go to stderr, at the levels `RUST_LOG` names (default `info`),
/// through a buffer a thread of its own writes every 100 ms (`logs.rs`).
fn init_logging(format: LogFormat) -> anyhow::Result<LogFlush> {
    let buffer = LogBuffer::start(std::io::stderr())
        .map_err(|error| anyhow::anyhow!("could not start the thread that writes the log: {error}"))?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(buffer.clone());
    match format {
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // One object per line, the event's fields at its top level and the request's in `span`.
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
    Ok(LogFlush(buffer))
}

/// Writes the log lines still waiting when dropped, at the end of `main`.
struct LogFlush(LogBuffer);

impl Drop for LogFlush {
    fn drop(&mut self) {
        self.0.flush();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
