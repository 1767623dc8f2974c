//! The WebSocket frame reader (`confab-websocket`'s `SocketReader`) fed arbitrary client
//! bytes: headers, masks, fragments, control frames between fragments, close payloads,
//! UTF-8 split across fragments, the size limit.
//!
//! Input: two bytes of size limit (little-endian, taken modulo 2049), one byte that seeds
//! how the stream is split into reads, then the stream. The same stream is read twice —
//! in reads as large as the reader asks for, and in reads of 1 to 7 (or 1 to 300) bytes —
//! and must, whatever the bytes:
//! - not panic, and never wait (the source is always ready);
//! - yield text only as valid UTF-8 within the limit;
//! - yield the same messages and end the same way for both splits;
//! - agree with `frame_model` (RFC 6455 written out straight): the same messages, and a
//!   failure with the close code the fault calls for (1002, 1007 or 1009), or a cut when
//!   the stream ends inside a frame.
#![no_main]

mod frame_model;

use confab_websocket::{Incoming, ReadError, SocketReader};
use frame_model::{Event, expected};
use libfuzzer_sys::fuzz_target;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, ReadBuf};

/// A socket that always has bytes ready (or is at its end), handing them over in reads
/// whose sizes come from `next_size`.
struct Chunked<'a, F> {
    rest: &'a [u8],
    next_size: F,
}

impl<F: FnMut() -> usize + Unpin> AsyncRead for Chunked<'_, F> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let size = (self.next_size)();
        let n = size.min(buf.remaining()).min(self.rest.len());
        let (now, later) = self.rest.split_at(n);
        buf.put_slice(now);
        self.rest = later;
        Poll::Ready(Ok(()))
    }
}

/// Runs a future that must finish on its first poll.
fn now<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the reader waited on a socket that is always ready"),
    }
}

/// Every event the reader yields for `stream`, read in pieces of `next_size` bytes.
fn read(stream: &[u8], max: usize, next_size: impl FnMut() -> usize + Unpin) -> Vec<Event> {
    let mut reader = SocketReader::new(
        Chunked {
            rest: stream,
            next_size,
        },
        max,
    );
    let mut events = Vec::new();
    loop {
        let event = match now(reader.next()) {
            None => Event::End,
            Some(Ok(Incoming::Text(text))) => {
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
                assert!(text.len() <= max, "{} bytes over {max}", text.len());
                Event::Text(text.as_bytes().to_vec())
            }
            Some(Ok(Incoming::Binary)) => Event::Binary,
            Some(Ok(Incoming::Ping(payload))) => {
                assert!(payload.len() <= 125);
                Event::Ping(payload.to_vec())
            }
            Some(Ok(Incoming::Pong)) => Event::Pong,
            Some(Ok(Incoming::Close(code))) => Event::Close(code),
            Some(Err(err @ ReadError::Frame(_))) => {
                let code = err.close_code().expect("a protocol fault can be answered");
                Event::Fails(code)
            }
            Some(Err(err @ ReadError::Io(_))) => {
                assert_eq!(err.close_code(), None, "a failed socket gets no close");
                let ReadError::Io(io) = err else {
                    unreachable!()
                };
                assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof, "{io}");
                Event::Cut
            }
        };
        let last = matches!(event, Event::End | Event::Cut | Event::Fails(_));
        events.push(event);
        if last {
            return events;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [lo, hi, seed, ref stream @ ..] = *data else {
        return;
    };
    let max = usize::from(u16::from_le_bytes([lo, hi])) % 2049;

    let whole = read(stream, max, || usize::MAX);
    let span = if seed & 1 == 0 { 7 } else { 300 };
    let mut state = u32::from(seed) | 0x100;
    let pieces = read(stream, max, move || {
        // xorshift32: a fixed, cheap sequence of read sizes.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        1 + state as usize % span
    });
    assert_eq!(whole, pieces, "the split into reads changed the outcome");
    assert_eq!(
        whole,
        expected(stream, max),
        "the reader and RFC 6455 disagree"
    );
});
