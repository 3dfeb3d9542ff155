//! Accepting connections: bounded per client address, with a deadline for
//! request headers (so slow or silent clients cannot hold the service), the
//! peer address on every request (for rate limits), and a graceful shutdown
//! that finishes the requests in flight within a bounded grace period and
//! tells WebSocket clients it is going away.
//!
//! `axum::serve` covers the common case but sets no header deadline and no
//! cap per address, so this is the same loop with those two added.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use futures_util::FutureExt;
use futures_util::future::Either;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::util::Oneshot;
use tower::{Service, ServiceExt};

use crate::http::App;

/// Bounds on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A client must send a request's headers within this time, also the
    /// next request's on a kept-alive connection; otherwise it is closed.
    pub header_read_timeout: Duration,
    /// Open connections one client address may hold; more are closed at once.
    pub per_address: usize,
    /// After the shutdown signal, how long requests in flight may take to
    /// finish; connections still open then are cut, so a client that never
    /// finishes its request cannot keep the process alive.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), per_address: 256, shutdown_grace: Duration::from_secs(10) }
    }
}

/// In every request's extensions: lets a long-lived exchange (a WebSocket)
/// learn of the shutdown, and holds the server open while it winds down.
#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Sender<()>,
    _open: watch::Receiver<()>,
}

impl Shutdown {
    /// Completes when the server has been told to stop.
    pub async fn started(&self) {
        self.signal.closed().await;
    }
}

/// One open connection of an address, given back when the connection ends.
struct Slot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<HashMap<IpAddr, usize>>>, address: IpAddr, limit: usize) -> Option<Slot> {
        let mut counts = open.lock().expect("connection counts");
        let count = counts.entry(address).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot { open: open.clone(), address })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.lock().expect("connection counts");
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Takes the address to listen on, or says why not and what to do. `serve`
/// does this first, so a port in use is said before any database work.
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    use std::io::ErrorKind;
    let change = "choose another with --listen or JEUGDREGIO_LISTEN";
    TcpListener::bind(address).await.map_err(|error| match error.kind() {
        ErrorKind::AddrInUse => anyhow::anyhow!(
            "address {address} is in use: another process listens there (another jeugdregio?); stop it, or {change}"
        ),
        ErrorKind::PermissionDenied => {
            anyhow::anyhow!("not allowed to listen on {address} ({error}): ports below 1024 need privileges; {change}")
        }
        ErrorKind::AddrNotAvailable => {
            anyhow::anyhow!(
                "cannot listen on {address}: no network interface of this machine has that address; {change}"
            )
        }
        _ => anyhow::anyhow!("cannot listen on {address}: {error}; {change}"),
    })
}

/// Raises the open-files limit as far as the system allows: every connection
/// is a file, and the usual 1,024 lets a few hundred clients shut others out.
pub fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < 4096 => {
            tracing::warn!(limit, "could not raise the open-files limit above {limit}: few clients can connect at once")
        }
        Ok(limit) => tracing::debug!(limit, "open-files limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open-files limit"),
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// the connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    let (close_tx, close_rx) = watch::channel(());
    let open = Arc::new(Mutex::new(HashMap::new()));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = signal_tx.closed() => break,
        };
        let Some(slot) = Slot::take(&open, peer.ip(), limits.per_address) else {
            tracing::debug!(%peer, "connection closed: too many from this address");
            continue; // dropping the stream closes it
        };
        let shutdown = Shutdown { signal: signal_tx.clone(), _open: close_rx.clone() };
        let service = ConnectionService { app: Mutex::new(app.clone()), peer, shutdown };
        let (signal_tx, close_rx) = (signal_tx.clone(), close_rx.clone());
        tokio::spawn(async move {
            // Hyper's header deadline starts with the first byte; a client
            // that connects and says nothing gets the same deadline here.
            let mut first = [0u8; 1];
            match tokio::time::timeout(limits.header_read_timeout, stream.peek(&mut first)).await {
                Ok(Ok(read)) if read > 0 => {}
                _ => return,
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
            let mut connection = pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
            let mut signal = pin!(signal_tx.closed().fuse());
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = &mut signal => connection.as_mut().graceful_shutdown(),
                }
            }
            drop((slot, close_rx));
        });
    }
    drop((close_rx, listener));
    if tokio::time::timeout(limits.shutdown_grace, close_tx.closed()).await.is_err() {
        let open: usize = open.lock().expect("connection counts").values().sum();
        tracing::warn!(open, grace = ?limits.shutdown_grace, "connections still open after the grace period are cut");
    }
    Ok(())
}

/// One connection's own copy of the service, with what every request on it
/// carries: the peer address (for rate limits) and the shutdown signal.
///
/// hyper's adapter for tower services (`TowerToHyperService`) copies the
/// whole service, every layer of it, for each request, because a tower
/// service is called through `&mut`. The copy made here for the connection
/// is called in place instead; the lock is only held while a request is
/// handed in, never while it runs.
struct ConnectionService {
    app: Mutex<App>,
    peer: SocketAddr,
    shutdown: Shutdown,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<<App as Service<axum::extract::Request>>::Future, Oneshot<App, axum::extract::Request>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo::<SocketAddr>(self.peer));
        request.extensions_mut().insert(self.shutdown.clone());
        let mut app = self.app.lock().unwrap_or_else(PoisonError::into_inner);
        // The layers are ready whenever the router is, and axum's always is;
        // should that change, a request waits for readiness on a copy. So no
        // layer outside the router may reserve capacity in `poll_ready` (a
        // concurrency limit): this copy would hold it. Those stay on routes.
        match app.poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Either::Left(app.call(request)),
            Poll::Pending => Either::Right(app.clone().oneshot(request)),
        }
    }
}
