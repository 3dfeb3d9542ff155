//! GraphQL subscriptions over WebSocket.

use std::time::Duration;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use super::AppState;
use crate::server::Shutdown;

/// Subscriptions over WebSocket (graphql-transport-ws, and the older
/// graphql-ws protocol). Subscriptions are public reads, like queries.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    shutdown: Option<Extension<Shutdown>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let shutdown = shutdown.map(|Extension(shutdown)| shutdown);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_subscriptions(socket, state, protocol, shutdown))
}

/// Why a WebSocket connection ends.
enum Ending {
    /// The client closed it, or the protocol handler ended it.
    Finished,
    /// No `connection_init` in time: the protocol's close code 4408.
    InitTimeout,
    /// The service is shutting down: close code 1001 (going away), so clients reconnect elsewhere.
    GoingAway,
}

/// How often the server pings a WebSocket client, so dead connections are found.
const WEBSOCKET_PING_INTERVAL: Duration = Duration::from_secs(30);

/// One WebSocket connection. The protocol handler writes through a queue so
/// that this function keeps the socket: a client that has not sent
/// `connection_init` in time gets the protocol's close code 4408, one still
/// connected when the service shuts down gets 1001, and the client is pinged
/// while the connection lives.
async fn serve_subscriptions(
    socket: WebSocket,
    state: AppState,
    protocol: GraphQLProtocol,
    shutdown: Option<Shutdown>,
) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, stream) = socket.split();
    let (queue, mut queued) = tokio::sync::mpsc::channel::<Message>(64);
    let outgoing = futures_util::sink::unfold(queue, |queue, message: Message| async move {
        queue.send(message).await.map(|()| queue).map_err(|_| axum::Error::new("the connection is closing"))
    });
    let (initialized, initialized_rx) = tokio::sync::oneshot::channel::<()>();
    let mut budget = async_graphql::Data::default();
    budget.insert(state.subscriptions.connection());
    let mut handler = Box::pin(
        GraphQLWebSocket::new_with_pair(outgoing, stream, state.schema.clone(), protocol)
            .with_data(budget)
            .on_connection_init(move |_| async move {
                let _ = initialized.send(());
                Ok(async_graphql::Data::default())
            })
            .serve(),
    );
    let writer = tokio::spawn(async move {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + WEBSOCKET_PING_INTERVAL, WEBSOCKET_PING_INTERVAL);
        loop {
            let message = tokio::select! {
                message = queued.recv() => match message { Some(message) => message, None => break },
                _ = ping.tick() => Message::Ping(Default::default()),
            };
            if sink.send(message).await.is_err() {
                break;
            }
        }
        sink
    });
    let init_deadline = state.connection_init_timeout;
    let mut going_away = std::pin::pin!(async {
        match &shutdown {
            Some(shutdown) => shutdown.started().await,
            None => std::future::pending().await,
        }
    });
    let ending = tokio::select! {
        _ = &mut handler => Ending::Finished,
        _ = &mut going_away => Ending::GoingAway,
        waited = tokio::time::timeout(init_deadline, initialized_rx) => match waited {
            Ok(_) => tokio::select! {
                _ = &mut handler => Ending::Finished,
                _ = &mut going_away => Ending::GoingAway,
            },
            Err(_) => Ending::InitTimeout,
        },
    };
    drop(handler); // closes the queue, so the writer ends and gives the socket back
    let close = match ending {
        Ending::Finished => return,
        Ending::InitTimeout => {
            axum::extract::ws::CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() }
        }
        Ending::GoingAway => {
            axum::extract::ws::CloseFrame { code: 1001, reason: "The service is shutting down".into() }
        }
    };
    if let Ok(mut sink) = writer.await {
        let _ = sink.send(Message::Close(Some(close))).await;
    }
}
