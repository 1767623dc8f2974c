//! Messages from the client: reads frames off the socket, unmasks them, reassembles
//! fragmented messages, and enforces the size limit before a large payload is read.
//!
//! What comes out depends only on the bytes, never on how the socket splits them into
//! reads (the fuzzer checks this): a fault is reported as soon as the bytes buffered show
//! it, and the messages before it come out first. The size limit bounds a data frame and
//! the message it belongs to, counted from the frame's header; a control frame (at most
//! 125 bytes) does not count towards the message it interrupts. Text is checked for UTF-8
//! once its message is whole, so a character may be split between fragments.
//!
//! An idle connection holds no read buffer. While nothing is buffered, a read lands in a
//! buffer on the stack of the poll that finds data (never in the future, which lives as
//! long as the connection), and only the bytes that arrived are copied to the heap; the
//! buffer is released as soon as every byte in it has been taken. A message that spans
//! reads grows a buffer to what its header announces, for as long as it takes. Pings are handed up (the connection answers them through its sender, the only
//! writer of the socket); nothing here ever writes.

use bytes::{Buf, Bytes, BytesMut};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::Poll;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::close::parse_close;
use crate::frame::{FrameError, Opcode, parse_header, unmask};
use crate::text::FrameText;

/// Bytes asked of the socket at a time when no frame says how many are coming. A request
/// is a few hundred bytes (a `send` with a short body is about 150).
const READ_CHUNK: usize = 512;

/// One message from the client.
#[derive(Debug)]
pub enum Incoming {
    Text(FrameText),
    Binary,
    Ping(Bytes),
    Pong,
    /// The client closes the connection (its code, if it gave one).
    Close(Option<u16>),
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The client broke the protocol; the connection is closed with the error's code.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The socket failed, or ended inside a frame.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// The close code (a number, as RFC 6455 defines them) owed to the client after this
    /// error, if the socket can still take one: a protocol error can be answered; a failed
    /// socket cannot.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ReadError::Frame(err) => Some(err.close_code()),
            ReadError::Io(_) => None,
        }
    }
}

/// Reads a client's messages from `io`.
pub struct SocketReader<R> {
    io: R,
    buf: BytesMut,
    /// A fragmented message being put together: its opcode and the bytes so far.
    partial: Option<(Opcode, BytesMut)>,
    max_message: usize,
}

impl<R: AsyncRead + Unpin> SocketReader<R> {
    /// `max_message` bounds a frame and a reassembled message alike.
    pub fn new(io: R, max_message: usize) -> SocketReader<R> {
        SocketReader::with_buffered(io, max_message, &[])
    }

    /// A reader that takes `buffered` first: bytes the client sent that were read off
    /// `io` before it was handed over (behind the opening handshake).
    pub fn with_buffered(io: R, max_message: usize, buffered: &[u8]) -> SocketReader<R> {
        SocketReader {
            io,
            buf: BytesMut::from(buffered),
            partial: None,
            max_message,
        }
    }

    /// The next message; `None` once the client has closed the TCP stream between
    /// messages. Cancel-safe: bytes read stay in the buffer.
    pub async fn next(&mut self) -> Option<Result<Incoming, ReadError>> {
        loop {
            match self.take_message() {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(err) => return Some(Err(err.into())),
            }
            match self.fill().await {
                Ok(0) if self.buf.is_empty() && self.partial.is_none() => return None,
                Ok(0) => {
                    let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                    return Some(Err(eof.into()));
                }
                Ok(_) => {}
                Err(err) => return Some(Err(err.into())),
            }
        }
    }

    /// Reads more bytes: as many as the frame at the front still needs, at least
    /// [`READ_CHUNK`].
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            return self.fill_empty().await;
        }
        let needed = match parse_header(&self.buf) {
            Ok(Some(header)) => header.header_len + header.len as usize - self.buf.len(),
            _ => READ_CHUNK,
        };
        let want = needed.max(READ_CHUNK);
        if self.buf.capacity() - self.buf.len() < want {
            self.buf.reserve(want);
        }
        self.io.read_buf(&mut self.buf).await
    }

    /// Reads into an empty buffer: what arrives is read on the stack and copied, so that
    /// no buffer is held while the client is quiet.
    async fn fill_empty(&mut self) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| {
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut read = ReadBuf::uninit(&mut chunk);
            match Pin::new(&mut self.io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    self.buf.extend_from_slice(read.filled());
                    Poll::Ready(Ok(read.filled().len()))
                }
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Takes one whole message out of the buffer if it holds one, answering control frames
    /// as messages of their own (they may arrive between a message's fragments).
    fn take_message(&mut self) -> Result<Option<Incoming>, FrameError> {
        loop {
            let Some(header) = parse_header(&self.buf)? else {
                return Ok(None);
            };
            if !header.opcode.is_control() {
                let so_far = self.partial.as_ref().map_or(0, |(_, bytes)| bytes.len());
                if header.len > (self.max_message - so_far) as u64 {
                    return Err(FrameError::TooBig);
                }
            }
            let len = header.len as usize;
            if self.buf.len() < header.header_len + len {
                return Ok(None);
            }
            self.buf.advance(header.header_len);
            let mut payload = self.buf.split_to(len);
            unmask(&mut payload, header.mask);
            if self.buf.is_empty() {
                // The payload keeps what it needs; the buffer's share of the allocation
                // goes, so a quiet connection holds none.
                self.buf = BytesMut::new();
            }
            let message = match header.opcode {
                Opcode::Ping => Incoming::Ping(payload.freeze()),
                Opcode::Pong => Incoming::Pong,
                Opcode::Close => Incoming::Close(parse_close(&payload)?),
                Opcode::Text | Opcode::Binary => {
                    if self.partial.is_some() {
                        return Err(FrameError::Protocol(
                            "a new message inside a fragmented one",
                        ));
                    }
                    if !header.fin {
                        self.partial = Some((header.opcode, payload));
                        continue;
                    }
                    data_message(header.opcode, payload)?
                }
                Opcode::Continuation => {
                    let Some((opcode, mut bytes)) = self.partial.take() else {
                        return Err(FrameError::Protocol("continuation with no message"));
                    };
                    bytes.extend_from_slice(&payload);
                    if !header.fin {
                        self.partial = Some((opcode, bytes));
                        continue;
                    }
                    data_message(opcode, bytes)?
                }
            };
            return Ok(Some(message));
        }
    }
}

fn data_message(opcode: Opcode, bytes: BytesMut) -> Result<Incoming, FrameError> {
    if opcode == Opcode::Binary {
        return Ok(Incoming::Binary);
    }
    FrameText::from_utf8(bytes.freeze())
        .map(Incoming::Text)
        .map_err(|_| FrameError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        crate::frame::client_frame(b0, payload, [9, 8, 7, 6])
    }

    /// Reads every message from `bytes`, delivered `step` bytes at a time.
    async fn read_all(bytes: Vec<u8>, step: usize, max: usize) -> Vec<Result<Incoming, String>> {
        let (mut client, server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for chunk in bytes.chunks(step) {
                client.write_all(chunk).await.unwrap();
            }
        });
        let mut reader = SocketReader::new(server, max);
        let mut out = Vec::new();
        while let Some(next) = reader.next().await {
            let stop = next.is_err();
            out.push(next.map_err(|e| e.to_string()));
            if stop {
                break;
            }
        }
        writer.await.unwrap();
        out
    }

    fn text(message: &Result<Incoming, String>) -> &str {
        match message {
            Ok(Incoming::Text(text)) => text.as_str(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn reads_messages_whatever_the_byte_boundaries() {
        let mut bytes = frame(0x81, b"hello");
        bytes.extend(frame(0x81, &[b'x'; 300]));
        bytes.extend(frame(0x89, b"are you there"));
        bytes.extend(frame(0x88, &[0x03, 0xE8, b'b', b'y', b'e']));
        for step in [1, 2, 3, 7, 64, 1000] {
            let got = read_all(bytes.clone(), step, 1000).await;
            assert_eq!(got.len(), 4, "step {step}");
            assert_eq!(text(&got[0]), "hello");
            assert_eq!(text(&got[1]).len(), 300);
            assert!(matches!(&got[2], Ok(Incoming::Ping(p)) if &p[..] == b"are you there"));
            assert!(matches!(got[3], Ok(Incoming::Close(Some(1000)))));
        }
    }

    #[tokio::test]
    async fn bytes_read_before_the_handover_come_first_wherever_they_split() {
        let mut bytes = frame(0x81, b"first");
        bytes.extend(frame(0x81, b"second"));
        for split in [0, 1, 4, 7, bytes.len()] {
            let (mut client, server) = tokio::io::duplex(64);
            let rest = bytes[split..].to_vec();
            let writer = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                client.write_all(&rest).await.unwrap();
            });
            let mut reader = SocketReader::with_buffered(server, 1000, &bytes[..split]);
            let first = reader.next().await.unwrap().map_err(|e| e.to_string());
            let second = reader.next().await.unwrap().map_err(|e| e.to_string());
            assert_eq!(text(&first), "first", "split at {split}");
            assert_eq!(text(&second), "second", "split at {split}");
            writer.await.unwrap();
            assert!(reader.next().await.is_none(), "split at {split}");
        }
    }

    #[tokio::test]
    async fn reassembles_fragments_with_a_ping_between_them() {
        let mut bytes = frame(0x01, b"{\"type\":");
        bytes.extend(frame(0x89, b"p"));
        bytes.extend(frame(0x00, b"\"ping\","));
        bytes.extend(frame(0x80, b"\"req\":1}"));
        let got = read_all(bytes, 5, 1000).await;
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[0], Ok(Incoming::Ping(p)) if &p[..] == b"p"));
        assert_eq!(text(&got[1]), "{\"type\":\"ping\",\"req\":1}");
    }

    #[tokio::test]
    async fn a_character_split_between_fragments_is_text() {
        let e_acute = "é".as_bytes();
        let mut bytes = frame(0x01, &e_acute[..1]);
        bytes.extend(frame(0x80, &e_acute[1..]));
        let got = read_all(bytes, 100, 1000).await;
        assert_eq!(text(&got[0]), "é");
    }

    #[tokio::test]
    async fn refuses_oversized_frames_and_messages_before_reading_them() {
        let got = read_all(frame(0x81, &[b'x'; 101]), 1000, 100).await;
        assert!(got[0].as_ref().unwrap_err().contains("size limit"));
        // Fragments that add up to more than the limit.
        let mut bytes = frame(0x01, &[b'x'; 60]);
        bytes.extend(frame(0x80, &[b'x'; 60]));
        let got = read_all(bytes, 1000, 100).await;
        assert!(got[0].as_ref().unwrap_err().contains("size limit"));
    }

    #[tokio::test]
    async fn refuses_broken_text_and_broken_sequences() {
        let got = read_all(frame(0x81, &[0xFF, 0xFE]), 1000, 100).await;
        assert!(got[0].as_ref().unwrap_err().contains("UTF-8"));
        let got = read_all(frame(0x80, b"orphan"), 1000, 100).await;
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .contains("continuation with no message")
        );
        let mut bytes = frame(0x01, b"a");
        bytes.extend(frame(0x81, b"b"));
        let got = read_all(bytes, 1000, 100).await;
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .contains("inside a fragmented one")
        );
        let got = read_all(frame(0x88, &[3]), 1000, 100).await;
        assert!(got[0].as_ref().unwrap_err().contains("one byte"));
    }

    #[tokio::test]
    async fn a_ping_between_fragments_does_not_count_towards_the_message() {
        // 90 of 100 bytes used by the first fragment; the 20-byte ping is not part of it.
        let mut bytes = frame(0x01, &[b'x'; 90]);
        bytes.extend(frame(0x89, &[b'p'; 20]));
        bytes.extend(frame(0x80, &[b'x'; 10]));
        let got = read_all(bytes, 1000, 100).await;
        assert!(matches!(&got[0], Ok(Incoming::Ping(p)) if p.len() == 20));
        assert_eq!(text(&got[1]).len(), 100);
    }

    #[tokio::test]
    async fn a_close_with_a_code_that_may_not_be_sent_is_a_protocol_error() {
        for code in [0u16, 999, 1005, 1006, 1015, 2000, 5000] {
            let got = read_all(frame(0x88, &code.to_be_bytes()), 1000, 100).await;
            let err = got[0].as_ref().unwrap_err();
            assert!(err.contains("may not be sent"), "{code}: {err}");
        }
        let mut bad_reason = 4000u16.to_be_bytes().to_vec();
        bad_reason.extend_from_slice(&[0xC0, 0xAF]);
        let got = read_all(frame(0x88, &bad_reason), 1000, 100).await;
        assert!(got[0].as_ref().unwrap_err().contains("UTF-8"));
        let got = read_all(frame(0x88, &[]), 1000, 100).await;
        assert!(matches!(got[0], Ok(Incoming::Close(None))));
    }

    #[tokio::test]
    async fn binary_is_reported_and_a_stream_cut_inside_a_frame_is_an_error() {
        let got = read_all(frame(0x82, b"\x00\x01"), 1000, 100).await;
        assert!(matches!(got[0], Ok(Incoming::Binary)));
        let mut cut = frame(0x81, b"hello");
        cut.truncate(8);
        let got = read_all(cut, 1000, 100).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
        // A clean end between messages is just the end.
        assert!(read_all(Vec::new(), 1, 100).await.is_empty());
    }

    #[tokio::test]
    async fn a_large_message_does_not_keep_its_buffer() {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut reader = SocketReader::new(server, 100_000);
        use tokio::io::AsyncWriteExt;
        client
            .write_all(&frame(0x81, &[b'y'; 50_000]))
            .await
            .unwrap();
        let message = reader.next().await.unwrap().unwrap();
        assert!(matches!(message, Incoming::Text(t) if t.len() == 50_000));
        assert_eq!(reader.buf.capacity(), 0);
    }

    #[tokio::test]
    async fn a_quiet_connection_holds_no_buffer() {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut reader = SocketReader::new(server, 100_000);
        use tokio::io::AsyncWriteExt;
        // Two messages in one write, then a third split across writes.
        let mut bytes = frame(0x81, b"one");
        bytes.extend(frame(0x81, b"two"));
        client.write_all(&bytes).await.unwrap();
        for want in ["one", "two"] {
            let got = reader.next().await.unwrap().unwrap();
            assert!(matches!(got, Incoming::Text(t) if t.as_str() == want));
        }
        assert_eq!(reader.buf.capacity(), 0, "nothing held between messages");
        let third = frame(0x81, &[b'z'; 2_000]);
        let (head, tail) = third.split_at(700);
        client.write_all(head).await.unwrap();
        let reading = tokio::spawn(async move {
            let got = reader.next().await.unwrap().unwrap();
            (got, reader)
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        client.write_all(tail).await.unwrap();
        let (got, reader) = reading.await.unwrap();
        assert!(matches!(got, Incoming::Text(t) if t.len() == 2_000));
        assert_eq!(reader.buf.capacity(), 0);
    }
}
