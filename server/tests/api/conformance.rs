//! RFC 6455 conformance of `/ws`, table-driven, against the real server over real TCP:
//! the categories of the Autobahn test suite (framing, pings and pongs, reserved bits,
//! opcodes, fragmentation, UTF-8, limits, the closing handshake) and the opening
//! handshake. Each row is the bytes a client sends after `welcome` (or an HTTP request)
//! and what the server must answer: frames in order, then a close code; or an HTTP
//! status and header. The outcomes are the ones docs/protocol.md ("What each violation
//! gets") promises.
//!
//! A confab.v1 server answers text with JSON, not an echo: a row that needs a reply
//! sends a `ping` request (padded with JSON whitespace to the length under test) and
//! expects its `pong`; text that is UTF-8 but not a frame gets an `error` (`bad_frame`),
//! which shows the transport took it as text.

mod cases;
mod raw;

use protocol::{ErrorCode, ServerFrame as Reply};

use crate::helpers::spawn_app;
use raw::RawSocket;

/// What the server must send next.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A pong frame carrying these bytes.
    Pong(Vec<u8>),
    /// The JSON `pong` reply to the ping request with this `req`.
    Reply(u64),
    /// A JSON `error` with this code (the text reached the protocol).
    Refused(ErrorCode),
    /// A close frame with this code, then the end of the TCP connection.
    Close(u16),
}

/// One row of the frame table.
pub struct Case {
    pub name: String,
    /// Bytes sent after `welcome`.
    pub send: Vec<u8>,
    /// Bytes per write (0: one write).
    pub chop: usize,
    pub expect: Vec<Expect>,
}

/// One row of the handshake table.
pub struct HandshakeCase {
    pub name: &'static str,
    /// The request head, without the final blank line.
    pub request: String,
    pub status: u16,
    /// Headers the answer must carry.
    pub headers: Vec<(&'static str, &'static str)>,
}

/// Checks one row on a fresh connection; returns what went wrong, if anything.
async fn run(addr: std::net::SocketAddr, token: &str, case: &Case) -> Result<(), String> {
    let mut socket = RawSocket::open(addr, token).await;
    socket.send(&case.send, case.chop).await;
    for expect in &case.expect {
        let frame = socket.frame().await;
        let ok = match expect {
            Expect::Pong(payload) => frame.opcode == 0xA && &frame.payload == payload,
            Expect::Reply(req) => {
                frame.opcode == 0x1 && json(&frame.payload) == Some(Reply::Pong { req: *req })
            }
            Expect::Refused(code) => {
                let refusal = json(&frame.payload);
                frame.opcode == 0x1
                    && matches!(refusal, Some(Reply::Error { code: got, .. }) if got == *code)
            }
            Expect::Close(code) => {
                frame.opcode == 0x8 && frame.payload.get(..2) == Some(&code.to_be_bytes()[..])
            }
        };
        if !ok || !frame.fin {
            return Err(format!(
                "{}: expected {expect:?}, got opcode {} fin {} payload {:?}",
                case.name,
                frame.opcode,
                frame.fin,
                String::from_utf8_lossy(&frame.payload)
            ));
        }
        if let Expect::Close(code) = expect {
            socket.finish_close(*code).await;
        }
    }
    Ok(())
}

fn json(payload: &[u8]) -> Option<Reply> {
    serde_json::from_slice(payload).ok()
}

#[tokio::test]
async fn frames_get_what_rfc_6455_says() {
    let app = spawn_app().await;
    let user = app.user("strict").await;
    let cases = cases::frames();
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run(app.addr, &user.token, case).await {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn handshakes_get_what_rfc_6455_says() {
    let app = spawn_app().await;
    let cases = cases::handshakes(app.addr);
    let mut failures = Vec::new();
    for case in &cases {
        let (_socket, head) =
            RawSocket::request(app.addr, &format!("{}\r\n\r\n", case.request)).await;
        let headers_ok = case
            .headers
            .iter()
            .all(|(name, value)| head.header(name) == Some(value));
        if head.status != case.status || !headers_ok {
            failures.push(format!(
                "{}: expected {} with {:?}, got {head:?}",
                case.name, case.status, case.headers
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
