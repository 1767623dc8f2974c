//! A strict RFC 6455 client over a bare TCP socket, for the conformance suite: it writes
//! any bytes (frames no library would send), reads the server's answer frame by frame, and
//! checks as a client must that server frames are unmasked, final-or-continued and free
//! of reserved bits. Nothing here is shared with the server's transport, so the suite
//! does not check the server against itself.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::WAIT;

/// The mask every frame of this client carries (not zero, so that unmasking is tested).
const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// How a frame's payload length is written.
#[derive(Debug, Clone, Copy)]
pub enum LengthForm {
    /// The shortest form for the length, as RFC 6455 asks.
    Shortest,
    /// The 16-bit form (`126` and two bytes), whatever the length.
    Sixteen,
    /// The 64-bit form (`127` and eight bytes), whatever the length.
    SixtyFour,
}

/// A frame's header bytes: `b0` (FIN, RSV, opcode), the mask bit, the length in `form`.
pub fn header(b0: u8, len: u64, form: LengthForm, masked: bool) -> Vec<u8> {
    let bit = if masked { 0x80 } else { 0 };
    let mut out = vec![b0];
    match form {
        LengthForm::Shortest if len < 126 => out.push(bit | len as u8),
        LengthForm::Shortest if len <= 0xFFFF => {
            return header(b0, len, LengthForm::Sixteen, masked);
        }
        LengthForm::Shortest => return header(b0, len, LengthForm::SixtyFour, masked),
        LengthForm::Sixteen => {
            out.push(bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        LengthForm::SixtyFour => {
            out.push(bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
    }
    out
}

/// A whole frame, masked as a client must send it.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame_in(b0, payload, LengthForm::Shortest)
}

/// A masked frame with its length in `form`.
pub fn frame_in(b0: u8, payload: &[u8], form: LengthForm) -> Vec<u8> {
    let mut out = header(b0, payload.len() as u64, form, true);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// A frame sent without a mask (which a client must never do).
pub fn unmasked(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(b0, payload.len() as u64, LengthForm::Shortest, false);
    out.extend_from_slice(payload);
    out
}

/// The status line and headers of an HTTP answer.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One frame from the server.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerFrame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// A TCP connection speaking WebSocket by hand.
pub struct RawSocket {
    tcp: TcpStream,
    /// Bytes read but not yet taken.
    buf: Vec<u8>,
}

impl RawSocket {
    /// Connects to `addr` and sends `request` (a whole HTTP request head); returns the
    /// socket and the answer's head. Bytes after the head stay buffered.
    pub async fn request(addr: std::net::SocketAddr, request: &str) -> (RawSocket, Head) {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let mut socket = RawSocket {
            tcp,
            buf: Vec::new(),
        };
        socket.send(request.as_bytes(), 0).await;
        let end = loop {
            if let Some(at) = socket.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            assert!(
                socket.fill().await > 0,
                "the server hung up before answering"
            );
        };
        let head = String::from_utf8(socket.buf[..end].to_vec()).expect("an ASCII head");
        socket.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {status_line}"));
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (socket, Head { status, headers })
    }

    /// Opens `/ws` as the holder of `token`, offering `confab.v1`, and reads up to the
    /// `welcome` frame.
    pub async fn open(addr: std::net::SocketAddr, token: &str) -> RawSocket {
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Protocol: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
            protocol::SUBPROTOCOL
        );
        let (mut socket, head) = RawSocket::request(addr, &request).await;
        assert_eq!(head.status, 101, "{head:?}");
        let welcome = socket.frame().await;
        assert_eq!(welcome.opcode, 0x1, "{welcome:?}");
        assert!(
            String::from_utf8_lossy(&welcome.payload).contains(r#""type":"welcome""#),
            "{welcome:?}"
        );
        socket
    }

    /// Writes `bytes`, in writes of `chop` bytes (all at once for 0) with a pause
    /// between them, so that the server's reads see them apart.
    pub async fn send(&mut self, bytes: &[u8], chop: usize) {
        let chop = if chop == 0 { bytes.len().max(1) } else { chop };
        for (i, piece) in bytes.chunks(chop).enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // The server may have closed already (a fault in an earlier frame); what it
            // said is read next.
            if self.tcp.write_all(piece).await.is_err() {
                return;
            }
        }
    }

    /// The next frame from the server; fails the test on a timeout, an end, or a frame
    /// no server may send.
    pub async fn frame(&mut self) -> ServerFrame {
        let head = self.take(2).await;
        let (b0, b1) = (head[0], head[1]);
        assert_eq!(b0 & 0x70, 0, "a server frame with reserved bits");
        assert_eq!(b1 & 0x80, 0, "a masked server frame");
        let len = match b1 & 0x7F {
            126 => u64::from(u16::from_be_bytes(self.take(2).await.try_into().unwrap())),
            127 => u64::from_be_bytes(self.take(8).await.try_into().unwrap()),
            n => u64::from(n),
        };
        let payload = self.take(len as usize).await;
        ServerFrame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0F,
            payload,
        }
    }

    /// Answers the server's close as a client must, then waits for the server to end the
    /// TCP connection; fails the test if anything else arrives.
    pub async fn finish_close(&mut self, code: u16) {
        let echo = frame(0x88, &code.to_be_bytes());
        let _ = self.tcp.write_all(&echo).await;
        assert!(self.buf.is_empty(), "bytes after the close frame");
        let mut rest = [0u8; 64];
        let read = tokio::time::timeout(WAIT, self.tcp.read(&mut rest))
            .await
            .expect("the server did not end the connection after its close");
        match read {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("bytes after the close frame: {:?}", &rest[..n]),
        }
    }

    /// Takes `n` bytes, reading as needed.
    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await > 0, "the connection ended inside a frame");
        }
        self.buf.drain(..n).collect()
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut chunk))
            .await
            .expect("nothing from the server in time")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }
}
