//! The rows of the conformance tables, by Autobahn category. The server runs with its
//! default limit (`--max-frame-bytes` 65,536).

use protocol::ErrorCode::BadFrame;

use super::raw::{LengthForm, frame, frame_in, header, unmasked};
use super::{Case, Expect, HandshakeCase};
use Expect::{Close, Pong, Refused, Reply};

/// The server's default `--max-frame-bytes`.
const LIMIT: usize = 65_536;

/// The JSON of a `ping` request for `req`.
fn ping_json(req: u64) -> Vec<u8> {
    format!(r#"{{"type":"ping","req":{req}}}"#).into_bytes()
}

/// A `ping` request for `req`, padded with JSON whitespace to `len` bytes.
fn ping_request(req: u64, len: usize) -> Vec<u8> {
    let mut text = ping_json(req);
    assert!(text.len() <= len, "{len} bytes cannot hold a request");
    text.resize(len, b' ');
    text
}

/// A `ping` request as one text frame.
fn request(req: u64) -> Vec<u8> {
    frame(0x81, &ping_json(req))
}

fn row(name: impl Into<String>, send: Vec<u8>, expect: Vec<Expect>) -> Case {
    chopped(name, send, 0, expect)
}

fn chopped(name: impl Into<String>, send: Vec<u8>, chop: usize, expect: Vec<Expect>) -> Case {
    Case {
        name: name.into(),
        send,
        chop,
        expect,
    }
}

/// Frames written back to back.
fn cat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

/// A close frame with `code` and `reason` bytes.
fn close(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(0x88, &payload)
}

pub fn frames() -> Vec<Case> {
    let mut cases = vec![
        // --- framing (Autobahn 1, 2): every length form, masking ----------------------
        row("text of 0 bytes", frame(0x81, b""), vec![Refused(BadFrame)]),
        row(
            "text of 125 bytes (7-bit length)",
            frame(0x81, &ping_request(1, 125)),
            vec![Reply(1)],
        ),
        row(
            "text of 126 bytes (16-bit length)",
            frame(0x81, &ping_request(2, 126)),
            vec![Reply(2)],
        ),
        row(
            "text of 65,535 bytes (16-bit length)",
            frame(0x81, &ping_request(3, 65_535)),
            vec![Reply(3)],
        ),
        row(
            "text of 65,536 bytes (64-bit length)",
            frame(0x81, &ping_request(4, 65_536)),
            vec![Reply(4)],
        ),
        row(
            "a length in the 16-bit form when 7 bits would do (taken)",
            frame_in(0x81, &ping_request(5, 30), LengthForm::Sixteen),
            vec![Reply(5)],
        ),
        row(
            "a length in the 64-bit form when 7 bits would do (taken)",
            frame_in(0x81, &ping_request(6, 30), LengthForm::SixtyFour),
            vec![Reply(6)],
        ),
        chopped(
            "a request in writes of one byte",
            request(7),
            1,
            vec![Reply(7)],
        ),
        row(
            "two requests in one write",
            cat(&[request(8), request(9)]),
            vec![Reply(8), Reply(9)],
        ),
        row(
            "an unmasked client frame",
            unmasked(0x81, &ping_json(1)),
            vec![Close(1002)],
        ),
        row(
            "a binary message (not part of confab.v1)",
            frame(0x82, b"\x00\x01"),
            vec![Close(1008)],
        ),
        // --- pings and pongs (Autobahn 2) ----------------------------------------------
        row(
            "a ping without payload",
            frame(0x89, b""),
            vec![Pong(vec![])],
        ),
        row(
            "a ping of 125 bytes",
            frame(0x89, &[b'p'; 125]),
            vec![Pong(vec![b'p'; 125])],
        ),
        row(
            "a ping with binary payload",
            frame(0x89, &[0x00, 0xFF, 0xFE, 0x80]),
            vec![Pong(vec![0x00, 0xFF, 0xFE, 0x80])],
        ),
        row(
            "a ping of 126 bytes",
            frame_in(0x89, &[b'p'; 126], LengthForm::Sixteen),
            vec![Close(1002)],
        ),
        chopped(
            "a ping in writes of one byte",
            frame(0x89, b"slowly"),
            1,
            vec![Pong(b"slowly".to_vec())],
        ),
        row(
            "an unsolicited pong is ignored",
            cat(&[frame(0x8A, b"unasked"), request(1)]),
            vec![Reply(1)],
        ),
        row(
            "ten pings get ten pongs, in order",
            (0..10u8).flat_map(|i| frame(0x89, &[i])).collect(),
            (0..10u8).map(|i| Pong(vec![i])).collect(),
        ),
        row(
            "a fragmented ping",
            cat(&[frame(0x09, b"a"), frame(0x80, b"b")]),
            vec![Close(1002)],
        ),
        row(
            "a fragmented pong",
            cat(&[frame(0x0A, b"a"), frame(0x80, b"b")]),
            vec![Close(1002)],
        ),
        // --- reserved bits (Autobahn 3) -------------------------------------------------
        row(
            "RSV1 on text",
            frame(0xC1, &ping_json(1)),
            vec![Close(1002)],
        ),
        row(
            "RSV2 after a good request",
            cat(&[request(1), frame(0xA1, b"{}")]),
            vec![Reply(1), Close(1002)],
        ),
        row("RSV3 on a ping", frame(0x99, b"p"), vec![Close(1002)]),
        row("RSV1-3 on binary", frame(0xF2, b"\x00"), vec![Close(1002)]),
        row(
            "RSV1 on a close",
            frame(0xC8, &1000u16.to_be_bytes()),
            vec![Close(1002)],
        ),
        // --- fragmentation (Autobahn 5) -------------------------------------------------
        row(
            "text in two fragments",
            cat(&[
                frame(0x01, br#"{"type":"pi"#),
                frame(0x80, br#"ng","req":1}"#),
            ]),
            vec![Reply(1)],
        ),
        row(
            "text in fragments with empty ones among them",
            cat(&[
                frame(0x01, b""),
                frame(0x00, &ping_json(2)),
                frame(0x00, b""),
                frame(0x80, b""),
            ]),
            vec![Reply(2)],
        ),
        row(
            "a ping between fragments",
            cat(&[
                frame(0x01, br#"{"type":"#),
                frame(0x89, b"mid"),
                frame(0x80, br#""ping","req":3}"#),
            ]),
            vec![Pong(b"mid".to_vec()), Reply(3)],
        ),
        chopped(
            "a ping between fragments, in writes of one byte",
            cat(&[
                frame(0x01, br#"{"type":"#),
                frame(0x89, b"mid"),
                frame(0x80, br#""ping","req":4}"#),
            ]),
            1,
            vec![Pong(b"mid".to_vec()), Reply(4)],
        ),
        row(
            "a pong between fragments",
            cat(&[
                frame(0x01, br#"{"type":"#),
                frame(0x8A, b"x"),
                frame(0x80, br#""ping","req":5}"#),
            ]),
            vec![Reply(5)],
        ),
        row(
            "a final continuation with nothing to continue",
            frame(0x80, b"orphan"),
            vec![Close(1002)],
        ),
        row(
            "a continuation with nothing to continue",
            frame(0x00, b"orphan"),
            vec![Close(1002)],
        ),
        row(
            "a new text message inside a fragmented one",
            cat(&[frame(0x01, b"{"), frame(0x81, b"}")]),
            vec![Close(1002)],
        ),
        row(
            "a close inside a fragmented message is answered",
            cat(&[frame(0x01, b"{"), close(1000, b"")]),
            vec![Close(1000)],
        ),
        // --- UTF-8 (Autobahn 6) ---------------------------------------------------------
        row(
            "valid UTF-8 in one frame",
            frame(0x81, "κόσμε".as_bytes()),
            vec![Refused(BadFrame)],
        ),
        row(
            "valid UTF-8 split inside a character across fragments",
            cat(&[
                frame(0x01, &"κόσμε".as_bytes()[..3]),
                frame(0x00, &"κόσμε".as_bytes()[3..6]),
                frame(0x80, &"κόσμε".as_bytes()[6..]),
            ]),
            vec![Refused(BadFrame)],
        ),
        row(
            "a lone continuation byte",
            frame(0x81, b"\x80"),
            vec![Close(1007)],
        ),
        row(
            "an overlong encoding",
            frame(0x81, b"\xc0\xaf"),
            vec![Close(1007)],
        ),
        row(
            "a surrogate",
            frame(0x81, b"\xce\xba\xed\xa0\x80"),
            vec![Close(1007)],
        ),
        row(
            "past U+10FFFF",
            frame(0x81, b"\xf4\x90\x80\x80"),
            vec![Close(1007)],
        ),
        row(
            "a character cut at the end",
            frame(0x81, b"ok\xe2\x82"),
            vec![Close(1007)],
        ),
        row(
            "invalid UTF-8 split across fragments",
            cat(&[
                frame(0x01, b"\xce\xba\xe1"),
                frame(0x80, b"\xbd\xed\xa0\x80"),
            ]),
            vec![Close(1007)],
        ),
        row(
            "a good request, then invalid UTF-8",
            cat(&[request(1), frame(0x81, b"{\xff}")]),
            vec![Reply(1), Close(1007)],
        ),
        // --- limits (Autobahn 9, and the server's own) ----------------------------------
        row(
            "a frame header over --max-frame-bytes, payload never sent",
            header(0x81, LIMIT as u64 + 1, LengthForm::Shortest, true),
            vec![Close(1009)],
        ),
        row(
            "a header claiming 2^62 bytes",
            header(0x81, 1 << 62, LengthForm::SixtyFour, true),
            vec![Close(1009)],
        ),
        row(
            "fragments adding up past the limit, the last payload never sent",
            cat(&[
                frame(0x01, &vec![b' '; 40_000]),
                header(0x80, 30_000, LengthForm::Shortest, true),
            ]),
            vec![Close(1009)],
        ),
        row(
            "a length with its top bit set",
            header(0x81, 1 << 63, LengthForm::SixtyFour, true),
            vec![Close(1002)],
        ),
        // --- closing handshake (Autobahn 7) ---------------------------------------------
        row(
            "a close without payload",
            frame(0x88, b""),
            vec![Close(1000)],
        ),
        row(
            "a close of one byte",
            frame(0x88, b"\x03"),
            vec![Close(1002)],
        ),
        row(
            "a close with a reason of 123 bytes",
            close(1000, &[b'r'; 123]),
            vec![Close(1000)],
        ),
        row(
            "a close of 126 bytes",
            frame_in(0x88, &[0x03; 126], LengthForm::Sixteen),
            vec![Close(1002)],
        ),
        row(
            "a close whose reason is not UTF-8",
            close(1000, b"\xce\xba\xe1\xbd"),
            vec![Close(1007)],
        ),
        row(
            "text after a close is not answered",
            cat(&[close(1000, b"bye"), request(1)]),
            vec![Close(1000)],
        ),
        row(
            "a request, then a close",
            cat(&[request(1), close(1001, b"")]),
            vec![Reply(1), Close(1000)],
        ),
    ];
    // Every code a client may send is answered with 1000; every other one is a protocol
    // error (RFC 6455 §7.4).
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
        4999,
    ] {
        cases.push(row(
            format!("a close with {code}, which may be sent"),
            close(code, b"ok"),
            vec![Close(1000)],
        ));
    }
    for code in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65_535,
    ] {
        cases.push(row(
            format!("a close with {code}, which may not be sent"),
            close(code, b""),
            vec![Close(1002)],
        ));
    }
    // --- opcodes (Autobahn 4) ---------------------------------------------------------------
    for opcode in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        cases.push(row(
            format!("reserved opcode {opcode:#x} after a good request"),
            cat(&[request(1), frame(0x80 | opcode, b"")]),
            vec![Reply(1), Close(1002)],
        ));
    }
    cases
}

pub fn handshakes(addr: std::net::SocketAddr) -> Vec<HandshakeCase> {
    let with = |lines: &[&str]| {
        let mut head = format!("GET /ws HTTP/1.1\r\nHost: {addr}");
        for line in lines {
            head.push_str("\r\n");
            head.push_str(line);
        }
        head
    };
    const CONNECTION: &str = "Connection: keep-alive, Upgrade";
    const UPGRADE: &str = "Upgrade: websocket";
    const VERSION: &str = "Sec-WebSocket-Version: 13";
    const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
    let case = |name, request, status, headers| HandshakeCase {
        name,
        request,
        status,
        headers,
    };
    vec![
        case(
            "a good handshake (RFC 6455's own example key)",
            with(&[CONNECTION, UPGRADE, VERSION, KEY]),
            101,
            vec![
                ("upgrade", "websocket"),
                ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ],
        ),
        case(
            "a key of 5 bytes",
            with(&[CONNECTION, UPGRADE, VERSION, "Sec-WebSocket-Key: c2hvcnQ="]),
            400,
            vec![],
        ),
        case(
            "a key that is not base64",
            with(&[
                CONNECTION,
                UPGRADE,
                VERSION,
                "Sec-WebSocket-Key: !!!not base64 at all!!!",
            ]),
            400,
            vec![],
        ),
        case("no key", with(&[CONNECTION, UPGRADE, VERSION]), 400, vec![]),
        case(
            "version 8",
            with(&[CONNECTION, UPGRADE, "Sec-WebSocket-Version: 8", KEY]),
            400,
            vec![("sec-websocket-version", "13")],
        ),
        case(
            "no version",
            with(&[CONNECTION, UPGRADE, KEY]),
            400,
            vec![("sec-websocket-version", "13")],
        ),
        case(
            "no Upgrade header",
            with(&[CONNECTION, VERSION, KEY]),
            400,
            vec![],
        ),
        case(
            "Connection without upgrade",
            with(&["Connection: keep-alive", UPGRADE, VERSION, KEY]),
            400,
            vec![],
        ),
        case(
            "a POST",
            with(&["Content-Length: 0", CONNECTION, UPGRADE, VERSION, KEY])
                .replacen("GET", "POST", 1),
            405,
            vec![],
        ),
        case(
            "HTTP/1.0",
            with(&[CONNECTION, UPGRADE, VERSION, KEY]).replacen("HTTP/1.1", "HTTP/1.0", 1),
            426,
            vec![("sec-websocket-version", "13")],
        ),
    ]
}
