//! Idle subscribers of the change feed over WebSocket (`graphql-transport-ws`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SUBSCRIPTION: &str = "subscription { registryChanged { position cursor code operation version } }";

/// Open WebSocket connections with their subscriptions.
pub struct Subscribers {
    tasks: Vec<JoinHandle<()>>,
    /// When each `next` message arrived.
    pub received: Arc<Mutex<Vec<Instant>>>,
    /// `error` messages and connections that ended early.
    pub failures: Arc<AtomicU64>,
    pub first_failure: Arc<Mutex<Option<String>>>,
}

impl Subscribers {
    /// Opens `connections` connections of `per_connection` subscriptions each.
    pub async fn open(addr: SocketAddr, connections: usize, per_connection: usize) -> anyhow::Result<Self> {
        let received = Arc::new(Mutex::new(Vec::with_capacity(connections * per_connection)));
        let failures = Arc::new(AtomicU64::new(0));
        let first_failure = Arc::new(Mutex::new(None));
        let mut tasks = Vec::with_capacity(connections);
        // Opened a few at a time: a burst of handshakes measures the accept
        // queue, which is not what this workload is about.
        for chunk in (0..connections).collect::<Vec<_>>().chunks(10) {
            let mut opening = Vec::new();
            for _ in chunk {
                opening.push(tokio::spawn(connect(addr, per_connection)));
            }
            for socket in opening {
                let socket = socket.await??;
                let (received, failures, first_failure) = (received.clone(), failures.clone(), first_failure.clone());
                tasks.push(tokio::spawn(listen(socket, received, failures, first_failure)));
            }
        }
        Ok(Subscribers { tasks, received, failures, first_failure })
    }

    pub fn received(&self) -> Vec<Instant> {
        self.received.lock().expect("not poisoned").clone()
    }

    pub fn close(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, subscriptions: usize) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("WebSocket handshake")?;
    socket.send(Message::text(r#"{"type":"connection_init"}"#)).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack") => break,
            Ok(Some(Ok(Message::Text(text)))) => bail!("expected connection_ack, got {text}"),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(None) => bail!("the server closed the WebSocket before connection_ack"),
            Err(_) => bail!("no connection_ack within 10 s"),
        }
    }
    for id in 0..subscriptions {
        let message =
            serde_json::json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
        socket.send(Message::text(message.to_string())).await?;
    }
    Ok(socket)
}

async fn listen(
    mut socket: Socket,
    received: Arc<Mutex<Vec<Instant>>>,
    failures: Arc<AtomicU64>,
    first_failure: Arc<Mutex<Option<String>>>,
) {
    let fail = |what: String| {
        failures.fetch_add(1, Ordering::Relaxed);
        first_failure.lock().expect("not poisoned").get_or_insert(what);
    };
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => {
                let now = Instant::now();
                if text.contains(r#""type":"next""#) {
                    received.lock().expect("not poisoned").push(now);
                } else if text.contains(r#""type":"error""#) || text.contains(r#""type":"complete""#) {
                    fail(text.to_string());
                }
            }
            // Pings are answered by tungstenite while it reads.
            Ok(Message::Close(frame)) => {
                fail(format!("the server closed the WebSocket: {frame:?}"));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                fail(format!("WebSocket error: {e}"));
                return;
            }
        }
    }
}
