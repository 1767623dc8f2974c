//! WebSocket frame headers (RFC 6455 §5.2): parsing what a client sends, encoding what the
//! server sends, and the errors a client's bytes can have. Pure functions over bytes; the
//! reader and writer own the I/O.
//!
//! No extension is ever negotiated, so the three reserved bits must be clear. Client frames
//! must be masked; server frames never are. Control frames (close, ping, pong) are never
//! fragmented and carry at most 125 bytes. A length in a longer form than it needs (5 in
//! the 16-bit form) is taken: §5.2 asks senders for the shortest form but gives receivers
//! no rule, and nothing is gained by refusing it.
//!
//! A header is refused as soon as its bytes show a fault: reserved bits, opcode and mask
//! bit from the first two bytes; a control frame's fragmentation and length, and a length
//! with its top bit set, once the length is complete.

use crate::close::{CLOSE_INVALID_PAYLOAD, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG};

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Why a client's bytes cannot be read as WebSocket messages. Each maps to the close code
/// the connection ends with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A frame or a reassembled message over the size limit.
    #[error("message over the size limit")]
    TooBig,
    /// A text message (or a close reason) that is not UTF-8.
    #[error("text is not UTF-8")]
    InvalidUtf8,
    /// Anything else RFC 6455 forbids.
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
}

impl FrameError {
    /// The close code (RFC 6455 section 7.4.1) the connection ends with.
    pub fn close_code(&self) -> u16 {
        match self {
            FrameError::TooBig => CLOSE_TOO_BIG,
            FrameError::InvalidUtf8 => CLOSE_INVALID_PAYLOAD,
            FrameError::Protocol(_) => CLOSE_PROTOCOL_ERROR,
        }
    }
}

/// A client frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub opcode: Opcode,
    pub mask: [u8; 4],
    /// Payload bytes after the header.
    pub len: u64,
    /// Bytes of the header itself.
    pub header_len: usize,
}

/// Parses the header of a client frame at the start of `buf`: `Ok(None)` when more bytes
/// are needed to know it.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Protocol("reserved bits set"));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::Protocol("unknown opcode"))?;
    if b1 & 0x80 == 0 {
        return Err(FrameError::Protocol("client frame not masked"));
    }
    let (len, at) = match b1 & 0x7F {
        126 => {
            let Some(bytes) = buf.get(2..4) else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4)
        }
        127 => {
            let Some(bytes) = buf.get(2..10) else {
                return Ok(None);
            };
            let len = u64::from_be_bytes(bytes.try_into().expect("eight bytes"));
            if len >> 63 != 0 {
                return Err(FrameError::Protocol("length with the top bit set"));
            }
            (len, 10)
        }
        short => (u64::from(short), 2),
    };
    if opcode.is_control() {
        if !fin {
            return Err(FrameError::Protocol("fragmented control frame"));
        }
        if len > 125 {
            return Err(FrameError::Protocol("control frame over 125 bytes"));
        }
    }
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    Ok(Some(Header {
        fin,
        opcode,
        mask: mask.try_into().expect("four bytes"),
        len,
        header_len: at + 4,
    }))
}

/// Removes (or applies) a frame's mask; `payload` starts at the payload's first byte.
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = payload.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let masked = u32::from_ne_bytes(chunk.try_into().expect("four bytes")) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

/// The header of a server frame: final, unmasked. Returns the bytes and how many of them
/// are used (2, 4 or 10).
pub fn server_header(opcode: Opcode, len: usize) -> ([u8; 10], u8) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | opcode.bits();
    let used = if len < 126 {
        head[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        head[1] = 126;
        head[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (head, used)
}

/// A masked client frame as a browser would send it (for tests here and in the reader).
#[cfg(test)]
pub(crate) fn client_frame(b0: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![b0];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    let mut body = payload.to_vec();
    unmask(&mut body, mask);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_length_form_and_needs_every_header_byte() {
        for len in [0usize, 5, 125, 126, 300, 65_535, 65_536, 70_000] {
            let bytes = client_frame(0x81, &vec![b'a'; len], [1, 2, 3, 4]);
            let header = parse_header(&bytes).unwrap().unwrap();
            assert_eq!(header.len, len as u64);
            assert!(header.fin);
            assert_eq!(header.opcode, Opcode::Text);
            assert_eq!(header.mask, [1, 2, 3, 4]);
            assert_eq!(bytes.len() - header.header_len, len);
            for cut in 0..header.header_len {
                assert_eq!(
                    parse_header(&bytes[..cut]),
                    Ok(None),
                    "len {len}, cut {cut}"
                );
            }
        }
    }

    #[test]
    fn a_length_in_a_longer_form_than_needed_is_taken() {
        let bytes = [0x81, 0x80 | 126, 0, 5, 1, 2, 3, 4];
        let header = parse_header(&bytes).unwrap().unwrap();
        assert_eq!((header.len, header.header_len), (5, 8));
        let bytes = [0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4];
        let header = parse_header(&bytes).unwrap().unwrap();
        assert_eq!((header.len, header.header_len), (5, 14));
    }

    #[test]
    fn unmask_round_trips_at_every_alignment() {
        let original: Vec<u8> = (0..23u8).collect();
        for start in 0..5 {
            let mut bytes = original[start..].to_vec();
            unmask(&mut bytes, [0xA5, 0x01, 0xFF, 0x3C]);
            assert_ne!(bytes, original[start..]);
            unmask(&mut bytes, [0xA5, 0x01, 0xFF, 0x3C]);
            assert_eq!(bytes, original[start..]);
        }
    }

    #[test]
    fn refuses_what_rfc_6455_forbids() {
        let cases: [(&[u8], &str); 6] = [
            (&[0xC1, 0x80, 0, 0, 0, 0], "reserved bits set"),
            (&[0x83, 0x80, 0, 0, 0, 0], "unknown opcode"),
            (&[0x81, 0x00], "client frame not masked"),
            (&[0x09, 0x80, 0, 0, 0, 0], "fragmented control frame"),
            (
                &[0x89, 0xFE, 0, 126, 0, 0, 0, 0],
                "control frame over 125 bytes",
            ),
            (
                &[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0],
                "length with the top bit set",
            ),
        ];
        for (bytes, why) in cases {
            assert_eq!(parse_header(bytes), Err(FrameError::Protocol(why)));
        }
    }

    #[test]
    fn server_headers_use_the_shortest_length_form() {
        assert_eq!(
            server_header(Opcode::Text, 5),
            ([0x81, 5, 0, 0, 0, 0, 0, 0, 0, 0], 2)
        );
        let (head, used) = server_header(Opcode::Text, 300);
        assert_eq!((&head[..used as usize], used), (&[0x81, 126, 1, 44][..], 4));
        let (head, used) = server_header(Opcode::Close, 70_000);
        assert_eq!(used, 10);
        assert_eq!(head[0], 0x88);
        assert_eq!(head[1], 127);
        assert_eq!(u64::from_be_bytes(head[2..10].try_into().unwrap()), 70_000);
    }

    #[test]
    fn close_codes_follow_the_error() {
        assert_eq!(FrameError::TooBig.close_code(), 1009);
        assert_eq!(FrameError::InvalidUtf8.close_code(), 1007);
        assert_eq!(FrameError::Protocol("x").close_code(), 1002);
    }
}
