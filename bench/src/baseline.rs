//! The baseline server: answers every request with the same bytes and
//! headers the service gave for a workload, straight from memory. What it
//! reaches is what this machine, this client and HTTP/1.1 allow at best; the
//! service is judged as a share of it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io::BufRead as _;

use crate::client::Answer;

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// File holding the response body.
    #[arg(long)]
    pub body: PathBuf,
    /// A response header as `name: value`; repeat for each.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Port to listen on at 127.0.0.1; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// Runs the baseline server until killed.
pub fn serve(args: BaselineArgs) -> anyhow::Result<()> {
    let body = Bytes::from(std::fs::read(&args.body).with_context(|| format!("reading {}", args.body.display()))?);
    let mut headers = Vec::new();
    for header in &args.headers {
        let (name, value) = header.split_once(':').with_context(|| format!("header {header:?} has no ':'"))?;
        headers.push((HeaderName::try_from(name.trim())?, HeaderValue::try_from(value.trim())?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
        println!("{}", listener.local_addr()?.port());
        let headers = std::sync::Arc::new(headers);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let body = body.clone();
            let headers = headers.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    let headers = headers.clone();
                    async move {
                        // Read the request like the service does, so both do the same I/O.
                        let _ = request.into_body().collect().await;
                        let mut response = Response::new(Full::new(body));
                        for (name, value) in headers.iter() {
                            response.headers_mut().insert(name.clone(), value.clone());
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// A running baseline server process.
pub struct Baseline {
    child: std::process::Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Baseline {
    /// Starts this binary in baseline mode, answering like `answer`.
    pub async fn start(answer: &Answer) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let body_file = dir.path().join("body");
        std::fs::write(&body_file, &answer.body)?;
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg("baseline").arg("--body").arg(&body_file);
        for (name, value) in &answer.headers {
            // Framing headers are hyper's to write; the rest are the service's own.
            if [hyper::header::CONTENT_LENGTH, hyper::header::TRANSFER_ENCODING, hyper::header::DATE].contains(name) {
                continue;
            }
            command.arg("--header").arg(format!("{}: {}", name, value.to_str().unwrap_or_default()));
        }
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().context("baseline stdout")?;
        // It prints its port as soon as it listens: a moment, so blocking is fine.
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let port: u16 = line.trim().parse().with_context(|| format!("baseline server said {line:?}"))?;
        Ok(Baseline { child, addr: SocketAddr::from(([127, 0, 0, 1], port)), _dir: dir })
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
