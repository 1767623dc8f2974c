//! Frames to the client. A frame is kept as its header (at most 10 bytes, inline) and the
//! shared bytes of its payload, so an event encoded once for a room is written to every
//! member's socket without being copied into a per-connection buffer. Frames gather until
//! [`SocketWriter::flush`] (or a batch limit) and go out in vectored writes, several
//! frames per system call.
//!
//! A flush can also be tried without waiting ([`SocketWriter::try_flush`]): it writes what
//! the socket takes now and keeps the rest, so another party (the gateway's fan-out,
//! writing to a connection whose task is asleep) can write without a task of its own.
//!
//! Nothing stays allocated between bursts: the list of pending frames is released when a
//! flush empties it. Progress through a partly written batch is kept in the writer, so a
//! write abandoned on a timeout never sends part of a frame twice.

use bytes::Bytes;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::AsyncWrite;

use crate::close::close_payload;
use crate::frame::{Opcode, server_header};

/// Pending frames that start a write before the caller flushes.
const BATCH_FRAMES: usize = 64;
/// Pending payload bytes that start a write before the caller flushes.
const BATCH_BYTES: usize = 64 * 1024;
/// Buffers handed to one vectored write (two per frame).
const SLICES: usize = 2 * BATCH_FRAMES;

/// One frame waiting to be written.
struct Pending {
    head: [u8; 10],
    head_len: u8,
    body: Bytes,
}

impl Pending {
    fn len(&self) -> usize {
        self.head_len as usize + self.body.len()
    }
}

/// The writing half of a connection.
pub struct SocketWriter<W> {
    io: W,
    pending: Vec<Pending>,
    pending_bytes: usize,
    /// Frames of `pending` already written, and bytes written of the next one.
    written: usize,
    offset: usize,
    /// A close frame was sent: nothing may follow it.
    closed: bool,
}

impl<W: AsyncWrite + Unpin> SocketWriter<W> {
    pub fn new(io: W) -> SocketWriter<W> {
        SocketWriter {
            io,
            pending: Vec::new(),
            pending_bytes: 0,
            written: 0,
            offset: 0,
            closed: false,
        }
    }

    /// Queues a text frame. `body` must be UTF-8 (the caller's frames come from
    /// `FrameText`).
    pub async fn text(&mut self, body: Bytes) -> io::Result<()> {
        self.frame(Opcode::Text, body).await
    }

    /// Queues the answer to a ping.
    pub async fn pong(&mut self, body: Bytes) -> io::Result<()> {
        self.frame(Opcode::Pong, body).await
    }

    /// Writes everything pending, then the close frame; nothing can be written after it.
    pub async fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        self.queue_close(code, reason)?;
        self.flush().await
    }

    /// Adds the close frame to what the next flush writes, without waiting; nothing can be
    /// queued after it.
    pub fn queue_close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        let payload = Bytes::from(close_payload(code, reason));
        self.queue(Opcode::Close, payload)?;
        self.closed = true;
        Ok(())
    }

    /// Adds the answer to a ping to what the next flush writes, without waiting: `Ok(true)`
    /// when enough is pending that it should be written now.
    pub fn queue_pong(&mut self, body: Bytes) -> io::Result<bool> {
        self.queue(Opcode::Pong, body)
    }

    /// Whether frames are queued that no flush has written yet.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Writes every pending frame and releases the list that held them.
    pub async fn flush(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// [`flush`](Self::flush) as a poll: the progress of a flush lives in the writer, so
    /// whoever waits for it holds no state of its own (a connection's task holds its wait
    /// for the connection's whole life).
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_pending(cx))?;
        self.pending = Vec::new();
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Writes what the socket takes now, without waiting and without registering anyone
    /// to be woken: `Ok(true)` when nothing is left pending, `Ok(false)` when the socket
    /// is full and the rest waits for a [`flush`](Self::flush). Progress is kept as for
    /// any flush, so whoever flushes next goes on from the same byte.
    pub fn try_flush(&mut self) -> io::Result<bool> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_flush(&mut cx) {
            Poll::Ready(Ok(())) => Ok(true),
            Poll::Ready(Err(err)) => Err(err),
            Poll::Pending => Ok(false),
        }
    }

    /// Adds a text frame to what the next [`flush`](Self::flush) writes, without waiting:
    /// `Ok(true)` when enough is pending that it should be written now. `body` must be
    /// UTF-8.
    pub fn queue_text(&mut self, body: Bytes) -> io::Result<bool> {
        self.queue(Opcode::Text, body)
    }

    async fn frame(&mut self, opcode: Opcode, body: Bytes) -> io::Result<()> {
        if self.queue(opcode, body)? {
            std::future::poll_fn(|cx| self.poll_write_pending(cx)).await?;
        }
        Ok(())
    }

    fn queue(&mut self, opcode: Opcode, body: Bytes) -> io::Result<bool> {
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "close frame sent",
            ));
        }
        let (head, head_len) = server_header(opcode, body.len());
        self.pending_bytes += body.len();
        self.pending.push(Pending {
            head,
            head_len,
            body,
        });
        Ok(self.pending.len() >= BATCH_FRAMES || self.pending_bytes >= BATCH_BYTES)
    }

    /// Writes the pending frames, as many per system call as the socket takes.
    fn poll_write_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let mut slices = [IoSlice::new(&[]); SLICES];
            let used = gather(&self.pending[self.written..], self.offset, &mut slices);
            let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..used]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.advance(n);
        }
        self.pending.clear();
        self.pending_bytes = 0;
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Moves past `n` written bytes.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let left = self.pending[self.written].len() - self.offset;
            if n >= left {
                n -= left;
                self.written += 1;
                self.offset = 0;
            } else {
                self.offset += n;
                n = 0;
            }
        }
    }
}

/// Fills `slices` with the unwritten parts of `frames` (the first one `skip` bytes in);
/// returns how many it used.
fn gather<'a>(frames: &'a [Pending], mut skip: usize, slices: &mut [IoSlice<'a>]) -> usize {
    let mut used = 0;
    for frame in frames {
        for part in [&frame.head[..frame.head_len as usize], &frame.body[..]] {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            if used == slices.len() {
                return used;
            }
            slices[used] = IoSlice::new(&part[skip..]);
            used += 1;
            skip = 0;
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `step` bytes per write and records them.
    struct Trickle {
        out: Vec<u8>,
        step: usize,
        calls: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.out.extend_from_slice(&buf[..n]);
            self.calls += 1;
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut room = self.step;
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(room);
                self.out.extend_from_slice(&buf[..take]);
                room -= take;
                n += take;
                if room == 0 {
                    break;
                }
            }
            self.calls += 1;
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn trickle(step: usize) -> SocketWriter<Trickle> {
        SocketWriter::new(Trickle {
            out: Vec::new(),
            step,
            calls: 0,
        })
    }

    /// What a client would read: (opcode, payload) per frame.
    fn parse(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            assert_eq!(bytes[0] & 0xF0, 0x80, "final, no reserved bits");
            assert_eq!(bytes[1] & 0x80, 0, "server frames are not masked");
            let (len, at) = match bytes[1] {
                126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
                127 => (
                    u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (n as usize, 2),
            };
            frames.push((bytes[0] & 0x0F, bytes[at..at + len].to_vec()));
            bytes = &bytes[at + len..];
        }
        frames
    }

    #[tokio::test]
    async fn frames_survive_any_partial_write() {
        let bodies: Vec<Bytes> = [0usize, 1, 125, 126, 500, 70_000]
            .iter()
            .map(|&n| Bytes::from(vec![b'a' + (n % 26) as u8; n]))
            .collect();
        for step in [1, 3, 10, 127, 4096, usize::MAX] {
            let mut writer = trickle(step);
            for body in &bodies {
                writer.text(body.clone()).await.unwrap();
            }
            writer.pong(Bytes::from_static(b"p")).await.unwrap();
            writer.close(4101, "slow consumer").await.unwrap();
            let frames = parse(&writer.io.out);
            assert_eq!(frames.len(), bodies.len() + 2, "step {step}");
            for (frame, body) in frames.iter().zip(&bodies) {
                assert_eq!(frame, &(0x1, body.to_vec()));
            }
            assert_eq!(frames[bodies.len()], (0xA, b"p".to_vec()));
            assert_eq!(
                frames[bodies.len() + 1],
                (0x8, close_payload(4101, "slow consumer"))
            );
        }
    }

    #[tokio::test]
    async fn a_burst_goes_out_in_few_writes_and_leaves_nothing_allocated() {
        let mut writer = trickle(usize::MAX);
        let body = Bytes::from_static(b"{\"type\":\"event\"}");
        for _ in 0..40 {
            writer.text(body.clone()).await.unwrap();
        }
        assert_eq!(writer.io.calls, 0, "nothing is written before the flush");
        writer.flush().await.unwrap();
        assert_eq!(writer.io.calls, 1, "one vectored write for the burst");
        assert_eq!(parse(&writer.io.out).len(), 40);
        assert_eq!(writer.pending.capacity(), 0);
        // More frames than one batch start writing before the flush.
        for _ in 0..(BATCH_FRAMES + 1) {
            writer.text(body.clone()).await.unwrap();
        }
        assert_eq!(writer.io.calls, 2);
        writer.flush().await.unwrap();
        assert_eq!(parse(&writer.io.out).len(), 40 + BATCH_FRAMES + 1);
    }

    #[test]
    fn a_write_in_progress_is_small() {
        // Every connection's sender task holds a flush's state inline for its whole life.
        let mut writer = trickle(1);
        let size = std::mem::size_of_val(&writer.flush());
        assert!(size <= 32, "a flush future takes {size} bytes");
    }

    /// A socket that takes `room` bytes and then would block until given more.
    struct Stall {
        out: Vec<u8>,
        room: usize,
    }

    impl AsyncWrite for Stall {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.room == 0 {
                return Poll::Pending;
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_tried_flush_keeps_what_the_socket_would_not_take() {
        let mut writer = SocketWriter::new(Stall {
            out: Vec::new(),
            room: 7,
        });
        let bodies = [&b"{\"seq\":1}"[..], b"{\"seq\":2}", b"{\"seq\":3}"];
        for body in bodies {
            assert!(!writer.queue_text(Bytes::from_static(body)).unwrap());
        }
        assert!(writer.has_pending());
        assert!(
            !writer.try_flush().unwrap(),
            "the socket took 7 bytes of 36"
        );
        assert_eq!(writer.io.out.len(), 7);
        assert!(writer.has_pending());
        // More queued behind the part-written frame, then the socket drains.
        assert!(!writer.queue_pong(Bytes::from_static(b"p")).unwrap());
        writer.io.room = 10;
        assert!(!writer.try_flush().unwrap());
        writer.io.room = usize::MAX;
        assert!(writer.try_flush().unwrap());
        assert!(!writer.has_pending());
        assert_eq!(
            writer.pending.capacity(),
            0,
            "a completed flush releases the list"
        );
        let frames = parse(&writer.io.out);
        let expected: Vec<(u8, Vec<u8>)> = bodies
            .iter()
            .map(|b| (0x1, b.to_vec()))
            .chain([(0xA, b"p".to_vec())])
            .collect();
        assert_eq!(frames, expected, "every byte once, in order");
        // Nothing pending: a tried flush has nothing to do.
        assert!(writer.try_flush().unwrap());
    }

    #[tokio::test]
    async fn nothing_follows_a_close() {
        let mut writer = trickle(usize::MAX);
        writer.close(1000, "").await.unwrap();
        let err = writer.text(Bytes::from_static(b"late")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(parse(&writer.io.out), vec![(0x8, vec![0x03, 0xE8])]);
    }
}
