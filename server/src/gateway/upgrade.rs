//! The `/ws` handler: negotiates the subprotocol, sizes the socket, and starts the
//! connection task under the gateway's task tracker.

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use tracing::Instrument;

use super::{Gateway, client};

/// Upgrades an HTTP request to a gateway connection.
///
/// A client that does not offer `confab.v1` is still upgraded, then closed with 1008 and a
/// reason saying so: a WebSocket client sees a close code, not an opaque HTTP failure.
pub async fn upgrade(ws: WebSocketUpgrade, State(gateway): State<Gateway>) -> Response {
    let settings = gateway.settings();
    let max = settings.max_frame_bytes as usize;
    let ws = ws
        .protocols([protocol::SUBPROTOCOL])
        // Small write buffers keep idle connections cheap; frames are flushed one by one.
        .write_buffer_size(0)
        .max_write_buffer_size(max * 4)
        // An oversized message fails the read with a capacity error, which the connection
        // task answers with close 1009.
        .max_message_size(max)
        .max_frame_size(max);
    let negotiated = ws.selected_protocol().is_some();
    let token = gateway.inner.tasks.token();
    let conn_id = uuid::Uuid::now_v7().simple().to_string();
    let span = tracing::info_span!("conn", id = %conn_id);
    ws.on_upgrade(move |socket| {
        async move {
            client::run(socket, gateway, conn_id, negotiated).await;
            drop(token);
        }
        .instrument(span)
    })
}
