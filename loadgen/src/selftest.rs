//! The generator's own ceiling. `sink` is a trivial WebSocket server that does nothing but
//! write room events, in order, as fast as a connection takes them; `selftest` reads them
//! through the generator's own receive path ([`session::count_event`]: the same scan,
//! seq check and latency record as in every run). Its frames/s and CPU, with the sink on
//! the other core, show how much the generator can receive before it would be what a run
//! measures.

use futures_util::{SinkExt, StreamExt};
use protocol::ids::{MessageId, RoomId, UserId, Uuid};
use protocol::{EventKind, MessageView, ServerFrame, UserView};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::session::{Live, Outcome, count_event, now_nanos};
use crate::sys;

/// Frames written between flushes.
const BATCH: usize = 64;
/// Placeholders in the event template, replaced per frame.
const SEQ_MARK: u64 = 987_654_321_987;
const NANOS_MARK: u64 = 123_456_789_123;

/// An `event` frame as the server encodes one (a message from a bot, `lg <nanos>` body),
/// cut around its seq and its send time so that each frame costs two integer writes.
struct Template {
    head: String,
    middle: String,
    tail: String,
}

impl Template {
    fn new() -> Template {
        let id = Uuid::nil();
        let text = ServerFrame::Event {
            room: RoomId(id),
            seq: SEQ_MARK,
            kind: EventKind::Message,
            message: MessageView {
                id: MessageId(id),
                seq: 1,
                author: UserView {
                    id: UserId(id),
                    handle: "lg0".into(),
                    name: "lg0".into(),
                    avatar: None,
                },
                body: format!("lg {NANOS_MARK}"),
                client_msg_id: "lg-0-1001".into(),
                created_at: 1_764_633_600_000,
                edited_at: None,
                deleted: false,
                reactions: Vec::new(),
                thread_root: None,
                thread: None,
                files: Vec::new(),
                removed_by_admin: false,
                pinned: None,
                notice: None,
            },
        }
        .to_json();
        let (head, rest) = text.split_once(&SEQ_MARK.to_string()).expect("seq mark");
        let (middle, tail) = rest
            .split_once(&NANOS_MARK.to_string())
            .expect("nanos mark");
        Template {
            head: head.to_string(),
            middle: middle.to_string(),
            tail: tail.to_string(),
        }
    }

    fn frame(&self, seq: u64) -> String {
        format!(
            "{}{seq}{}{}{}",
            self.head,
            self.middle,
            now_nanos(),
            self.tail
        )
    }
}

/// Serves the sink on `listen` until killed.
pub async fn sink(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let template = Arc::new(Template::new());
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let template = template.clone();
        tokio::spawn(async move {
            let _ = blast(stream, &template).await;
        });
    }
}

/// Writes events with seq 1, 2, 3, … until the reader goes away.
async fn blast(stream: TcpStream, template: &Template) -> anyhow::Result<()> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    let mut seq = 0;
    loop {
        for _ in 0..BATCH {
            seq += 1;
            ws.feed(Message::text(template.frame(seq))).await?;
        }
        ws.flush().await?;
    }
}

/// What the self-test measured.
#[derive(Debug)]
pub struct SelfTest {
    pub connections: usize,
    pub seconds: f64,
    pub frames: u64,
    pub frames_per_sec: f64,
    pub bytes_per_frame: usize,
    pub cpu_pct: Option<f64>,
    pub lost: u64,
    pub duplicates: u64,
}

impl SelfTest {
    pub fn print(&self) {
        println!("connections   {}", self.connections);
        println!(
            "received      {} frames in {:.1} s: {:.0} frames/s ({} bytes each)",
            self.frames, self.seconds, self.frames_per_sec, self.bytes_per_frame
        );
        if let Some(cpu) = self.cpu_pct {
            println!("generator     {cpu:.0}% of one core");
        }
        println!("lost {}, duplicates {}", self.lost, self.duplicates);
        println!(
            "{}",
            serde_json::json!({
                "workload": "selftest",
                "connections": self.connections,
                "seconds": self.seconds,
                "frames": self.frames,
                "frames_per_sec": self.frames_per_sec.round(),
                "bytes_per_frame": self.bytes_per_frame,
                "generator_cpu_pct": self.cpu_pct.map(f64::round),
                "lost": self.lost,
                "duplicates": self.duplicates,
            })
        );
    }
}

/// Reads from the sink at `sink` over `connections` connections for `seconds`.
pub async fn selftest(
    sink: SocketAddr,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<SelfTest> {
    let live = Arc::new(Live::default());
    let mut sockets = Vec::with_capacity(connections);
    for _ in 0..connections {
        // The same client settings as every run's, read buffer included.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("ws://{sink}/"),
            Some(crate::conn::client_config()),
            false,
        )
        .await?;
        sockets.push(ws);
    }
    let window = Duration::from_secs(seconds);
    let (start, cpu_start) = (Instant::now(), sys::cpu_seconds());
    let deadline = tokio::time::Instant::now() + window;
    let mut tasks = Vec::with_capacity(connections);
    for mut ws in sockets {
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::new(RoomId(Uuid::nil()));
            let mut last = 0;
            // A socket that is always ready never lets the timeout fire: look at the clock
            // every so many frames as well.
            let mut n: u32 = 0;
            while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
                if let Message::Text(text) = msg {
                    count_event(&mut out, &mut last, &live, text.as_str());
                }
                n = n.wrapping_add(1);
                if n.is_multiple_of(256) && tokio::time::Instant::now() >= deadline {
                    break;
                }
            }
            out
        }));
    }
    let mut total = SelfTest {
        connections,
        seconds: 0.0,
        frames: 0,
        frames_per_sec: 0.0,
        bytes_per_frame: Template::new().frame(1).len(),
        cpu_pct: None,
        lost: 0,
        duplicates: 0,
    };
    for task in tasks {
        let out = task.await?;
        total.frames += out.received;
        total.lost += out.lost;
        total.duplicates += out.duplicates;
    }
    total.seconds = start.elapsed().as_secs_f64();
    total.frames_per_sec = total.frames as f64 / total.seconds;
    total.cpu_pct = match (cpu_start, sys::cpu_seconds()) {
        (Some(a), Some(b)) => Some((b - a) / total.seconds * 100.0),
        _ => None,
    };
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::scan_event;

    #[test]
    fn the_template_makes_events_the_generator_reads_like_the_servers() {
        let template = Template::new();
        let text = template.frame(42);
        let parsed: ServerFrame = serde_json::from_str(&text).expect("a valid frame");
        assert!(
            matches!(parsed, ServerFrame::Event { seq: 42, .. }),
            "{text}"
        );
        let scanned = scan_event(&text).expect("an event");
        assert_eq!(scanned.seq, 42);
        assert!(scanned.message && scanned.sent_nanos.is_some());
    }

    #[tokio::test]
    async fn the_self_test_reads_every_frame_of_the_sink_in_order() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        tokio::spawn(sink(addr));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let report = selftest(addr, 2, 1).await.unwrap();
        assert!(report.frames > 100, "{report:?}");
        assert_eq!((report.lost, report.duplicates), (0, 0), "{report:?}");
    }
}
