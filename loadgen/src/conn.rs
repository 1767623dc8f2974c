//! One connection to the server: where it goes, from which local address, as whom, and
//! the request/reply exchange used while setting a run up (before its session task takes
//! the socket over).

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::ServerFrame;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long set-up steps (connect, one request) may take.
const SETUP_WAIT: Duration = Duration::from_secs(30);

/// The most one socket read takes in. tungstenite's default is 128 KiB, and it zero-fills
/// the free part of its read buffer before every read: with thousands of connections that
/// page-clearing and memset is most of the generator's core, and in a reconnect storm
/// (10,000 fresh buffers at once) the generator, not the server, is what a run measures.
/// The server's frames are a few hundred bytes; a bigger one takes several reads.
const READ_BUFFER: usize = 8 * 1024;

/// The WebSocket settings of every generated client.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

/// Where to connect, and from which local addresses. One address has about 28,000
/// ephemeral ports; connection `i` binds to `sources[i % sources.len()]`, so several
/// loopback addresses (127.0.0.1, 127.0.0.2, …) go past that. With `spread` (further
/// nodes of one cluster), connection `i` goes to the `i mod (1 + spread.len())`-th of
/// `server` and `spread`, so every room's members are spread over the nodes.
#[derive(Debug, Clone)]
pub struct Target {
    pub server: SocketAddr,
    pub sources: Vec<IpAddr>,
    pub spread: Vec<SocketAddr>,
}

/// Loopback addresses the connections come from, in turn, when none are given and every
/// server is on IPv4 loopback (127.0.0.1 to 127.0.0.16).
///
/// A socket bound to a source address before `connect` gets its port from `bind`, which
/// finds a free one at once. Left unbound, the port is chosen inside `connect`, which
/// probes ports in turn for one whose (source, port, server) is not taken yet; with
/// 10,000 connections to one server (20,000 in a reconnect storm, while the old ones
/// close) most probes fail, and in a storm the generator spent more than half its core
/// there (`__inet_hash_connect`, `__inet_check_established`) while the server waited.
/// Several addresses keep each far from its ~28,000 ports, as real clients' many
/// addresses are.
pub const LOOPBACK_SOURCES: u8 = 16;

impl Target {
    /// A target; with no `sources` and every server on IPv4 loopback, the connections
    /// come from [`LOOPBACK_SOURCES`] loopback addresses in turn.
    pub fn new(server: SocketAddr, sources: Vec<IpAddr>, spread: Vec<SocketAddr>) -> Target {
        let on_loopback = |a: &SocketAddr| matches!(a.ip(), IpAddr::V4(ip) if ip.is_loopback());
        let sources =
            if sources.is_empty() && on_loopback(&server) && spread.iter().all(on_loopback) {
                (1..=LOOPBACK_SOURCES)
                    .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
                    .collect()
            } else {
                sources
            };
        Target {
            server,
            sources,
            spread,
        }
    }

    /// The server connection `index` goes to.
    pub fn server_for(&self, index: usize) -> SocketAddr {
        match index % (1 + self.spread.len()) {
            0 => self.server,
            k => self.spread[k - 1],
        }
    }
}

/// Opens connection number `index` with `token` and reads its `welcome`.
pub async fn connect(target: &Target, token: &str, index: usize) -> anyhow::Result<Ws> {
    connect_timed(target, token, index).await.map(|(ws, _)| ws)
}

/// How long each step of opening a connection took.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectSteps {
    /// The TCP handshake.
    pub tcp: std::time::Duration,
    /// The HTTP upgrade until `101` (the server authenticates before answering).
    pub upgrade: std::time::Duration,
    /// From `101` to `welcome`.
    pub welcome: std::time::Duration,
}

/// [`connect`], timing each step.
pub async fn connect_timed(
    target: &Target,
    token: &str,
    index: usize,
) -> anyhow::Result<(Ws, ConnectSteps)> {
    let began = std::time::Instant::now();
    let mut steps = ConnectSteps::default();
    let server = target.server_for(index);
    let socket = match server {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if !target.sources.is_empty() {
        let source = target.sources[index % target.sources.len()];
        socket
            .bind(SocketAddr::new(source, 0))
            .with_context(|| format!("binding to {source}"))?;
    }
    let stream = tokio::time::timeout(SETUP_WAIT, socket.connect(server))
        .await
        .context("connect timed out")??;
    steps.tcp = began.elapsed();
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{server}{}", protocol::WS_PATH).into_client_request()?;
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(protocol::SUBPROTOCOL),
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let (mut ws, _) = tokio::time::timeout(
        SETUP_WAIT,
        tokio_tungstenite::client_async_with_config(
            request,
            MaybeTlsStream::Plain(stream),
            Some(client_config()),
        ),
    )
    .await
    .context("WebSocket handshake timed out")??;
    steps.upgrade = began.elapsed() - steps.tcp;
    match next_frame(&mut ws).await? {
        ServerFrame::Welcome { .. } => {
            steps.welcome = began.elapsed() - steps.tcp - steps.upgrade;
            Ok((ws, steps))
        }
        other => bail!("expected welcome, got {other:?}"),
    }
}

/// The next server frame (pings and other control messages skipped).
pub async fn next_frame(ws: &mut Ws) -> anyhow::Result<ServerFrame> {
    loop {
        let msg = tokio::time::timeout(SETUP_WAIT, ws.next())
            .await
            .context("no frame within the set-up wait")?
            .context("the server closed the connection")??;
        match msg {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Close(frame) => bail!("closed by the server: {frame:?}"),
            _ => continue,
        }
    }
}

/// [`request`], sent again while the server refuses it for a temporary reason
/// (`unavailable`, `rate_limited`: a set-up burst of thousands of clients can meet them),
/// after a growing wait, for at most the set-up wait; as a real client would.
pub async fn request_until_taken(
    ws: &mut Ws,
    req: u64,
    frame: serde_json::Value,
) -> anyhow::Result<ServerFrame> {
    let give_up = tokio::time::Instant::now() + SETUP_WAIT;
    let mut wait = Duration::from_millis(100);
    loop {
        match exchange(ws, req, frame.clone()).await? {
            ServerFrame::Error { code, .. }
                if code.is_temporary() && tokio::time::Instant::now() + wait < give_up =>
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            ServerFrame::Error { .. } => bail!("request {frame} refused"),
            reply => return Ok(reply),
        }
    }
}

/// Sends `frame` (a JSON object) with request id `req` and returns the reply to it; other
/// frames arriving meanwhile (a snapshot, presence) are skipped.
pub async fn request(
    ws: &mut Ws,
    req: u64,
    frame: serde_json::Value,
) -> anyhow::Result<ServerFrame> {
    match exchange(ws, req, frame.clone()).await? {
        f @ ServerFrame::Error { .. } => bail!("request {frame} refused: {f:?}"),
        f => Ok(f),
    }
}

/// Sends `frame` with request id `req` and returns the ack or the error that answers it.
async fn exchange(
    ws: &mut Ws,
    req: u64,
    mut frame: serde_json::Value,
) -> anyhow::Result<ServerFrame> {
    frame["req"] = req.into();
    ws.send(Message::text(frame.to_string())).await?;
    loop {
        let f = next_frame(ws).await?;
        match &f {
            ServerFrame::Ack { req: r, .. } if *r == req => return Ok(f),
            ServerFrame::Error { req: Some(r), .. } if *r == req => return Ok(f),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_spread_over_the_nodes_in_turn() {
        let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let one = Target {
            server: addr(1),
            sources: Vec::new(),
            spread: Vec::new(),
        };
        assert!((0..5).all(|i| one.server_for(i) == addr(1)));
        let three = Target {
            spread: vec![addr(2), addr(3)],
            ..one
        };
        let got: Vec<SocketAddr> = (0..6).map(|i| three.server_for(i)).collect();
        assert_eq!(got, [1, 2, 3, 1, 2, 3].map(addr));
    }

    #[test]
    fn connections_to_loopback_come_from_several_loopback_addresses_unless_told() {
        let local = SocketAddr::from(([127, 0, 0, 1], 3000));
        let spread = Target::new(local, Vec::new(), Vec::new());
        assert_eq!(spread.sources.len(), LOOPBACK_SOURCES as usize);
        assert_eq!(spread.sources[0], IpAddr::from([127, 0, 0, 1]));
        assert_eq!(spread.sources[15], IpAddr::from([127, 0, 0, 16]));

        let told = vec![IpAddr::from([127, 0, 0, 9])];
        assert_eq!(Target::new(local, told.clone(), Vec::new()).sources, told);

        let remote = SocketAddr::from(([10, 0, 0, 5], 3000));
        assert!(
            Target::new(remote, Vec::new(), Vec::new())
                .sources
                .is_empty()
        );
        assert!(
            Target::new(local, Vec::new(), vec![remote])
                .sources
                .is_empty()
        );
    }
}
