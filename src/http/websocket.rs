//! GraphQL subscriptions over WebSocket.

use std::time::Duration;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use super::AppState;

/// Subscriptions over WebSocket (graphql-transport-ws, and the older
/// graphql-ws protocol). Subscriptions are public reads, like queries.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_subscriptions(socket, state, protocol))
}

/// How often the server pings a WebSocket client, so dead connections are found.
const WEBSOCKET_PING_INTERVAL: Duration = Duration::from_secs(30);

/// One WebSocket connection. The protocol handler writes through a queue so
/// that this function keeps the socket: a client that has not sent
/// `connection_init` in time gets the protocol's close code 4408, and the
/// client is pinged while the connection lives.
async fn serve_subscriptions(socket: WebSocket, state: AppState, protocol: GraphQLProtocol) {
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
    let timed_out = tokio::select! {
        _ = &mut handler => false,
        waited = tokio::time::timeout(init_deadline, initialized_rx) => match waited {
            Ok(_) => { (&mut handler).await; false }
            Err(_) => true,
        },
    };
    drop(handler); // closes the queue, so the writer ends and gives the socket back
    if let Ok(mut sink) = writer.await
        && timed_out
    {
        let close = axum::extract::ws::CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() };
        let _ = sink.send(Message::Close(Some(close))).await;
    }
}
