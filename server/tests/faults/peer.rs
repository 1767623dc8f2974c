//! A protocol client that survives its server: unlike `helpers::next_frame`, a connection
//! that ends (the process was killed, the store went away and the server closed with
//! 1011) or a refused connect is an outcome the caller handles, not a test failure.

use futures_util::{SinkExt, StreamExt};
use protocol::{ReqId, ServerFrame};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{WAIT, Ws, ws_request};
use crate::wsclient::reply_req;

/// What reading from a [`Peer`] gave.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "read once and matched at once; boxing would only add noise to the tests"
)]
pub enum Incoming {
    Frame(ServerFrame),
    /// The connection ended (close frame, reset, end of stream).
    Ended,
    /// Nothing arrived within the wait.
    Silent,
}

/// The connection ended before the request could be written or answered.
#[derive(Debug)]
pub struct Ended;

/// One authenticated WebSocket connection.
pub struct Peer {
    ws: Ws,
    next_req: ReqId,
    /// Frames read while waiting for a reply, in arrival order.
    pending: VecDeque<ServerFrame>,
}

impl Peer {
    /// Connects with `token` and waits for `welcome`; `Err` says why there was none (the
    /// server is down, or it refused the connection with a close code).
    pub async fn connect(addr: SocketAddr, token: &str) -> Result<Peer, String> {
        let request = ws_request(addr, token);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| "the handshake timed out".to_string())?
            .map_err(|e| format!("handshake failed: {e}"))?;
        let mut peer = Peer {
            ws,
            next_req: 1,
            pending: VecDeque::new(),
        };
        match peer.read(WAIT).await {
            Incoming::Frame(ServerFrame::Welcome { .. }) => Ok(peer),
            other => Err(format!("no welcome: {other:?}")),
        }
    }

    /// [`Peer::connect`], retried every 100 ms until `within` has passed.
    pub async fn connect_retrying(
        addr: SocketAddr,
        token: &str,
        within: Duration,
    ) -> Result<Peer, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match Peer::connect(addr, token).await {
                Ok(peer) => return Ok(peer),
                Err(why) if tokio::time::Instant::now() >= deadline => return Err(why),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Writes `frame` (a JSON object without `req`) with the next request id; returns it.
    pub async fn request(&mut self, mut frame: serde_json::Value) -> Result<ReqId, Ended> {
        let req = self.next_req;
        self.next_req += 1;
        frame["req"] = req.into();
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .map_err(|_| Ended)?;
        Ok(req)
    }

    /// Sends `frame` and waits (up to `wait` per frame) for its reply, keeping every
    /// other frame for [`Peer::next`].
    pub async fn call(
        &mut self,
        frame: serde_json::Value,
        wait: Duration,
    ) -> Result<ServerFrame, Ended> {
        let req = self.request(frame).await?;
        loop {
            match self.read(wait).await {
                Incoming::Frame(f) if reply_req(&f) == Some(req) => return Ok(f),
                Incoming::Frame(f) => self.pending.push_back(f),
                Incoming::Ended => return Err(Ended),
                Incoming::Silent => panic!("no reply to request {req} within {wait:?}"),
            }
        }
    }

    /// The next frame: kept ones first, then from the socket (waiting up to `wait`).
    pub async fn next(&mut self, wait: Duration) -> Incoming {
        match self.pending.pop_front() {
            Some(f) => Incoming::Frame(f),
            None => self.read(wait).await,
        }
    }

    async fn read(&mut self, wait: Duration) -> Incoming {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => return Incoming::Silent,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Incoming::Ended;
                }
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => {
                    return Incoming::Frame(
                        serde_json::from_str(text.as_str())
                            .unwrap_or_else(|e| panic!("undecodable server frame {text}: {e}")),
                    );
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                Message::Binary(_) => panic!("the server sent a binary message"),
                Message::Close(_) => unreachable!("handled above"),
            }
        }
    }

    /// Closes with the WebSocket close handshake, waiting briefly for the server's reply.
    pub async fn close_cleanly(mut self) {
        let _ = self.ws.close(None).await;
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }

    /// Drops the TCP connection without any close handshake, as a lost network does.
    pub fn drop_abruptly(self) {
        drop(self);
    }
}
