//! Direct delivery (`gateway/direct.rs`) on a real loopback socket: the fan-out writes a
//! parked sender's socket itself (through the gateway's flusher), only the next event of
//! a room, never around a queued item, deliveries from the broker too, and a socket that
//! will not take everything is finished by the sender, every byte once and in order.

use super::*;
use crate::gateway::direct;
use crate::gateway::socket::SocketWriter;
use crate::gateway::transport::SharedSocket;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// A server-side socket and the client's end, both with small buffers when `small`, so
/// that a few tens of KB fill them.
async fn socket_pair(small: bool) -> (SharedWriterParts, TcpStream) {
    let listener = TcpSocket::new_v4().unwrap();
    if small {
        // Accepted sockets take the listener's send buffer.
        listener.set_send_buffer_size(4096).unwrap();
    }
    listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener: TcpListener = listener.listen(8).unwrap();
    let client = TcpSocket::new_v4().unwrap();
    if small {
        client.set_recv_buffer_size(4096).unwrap();
    }
    let (client, accepted) = tokio::join!(
        client.connect(listener.local_addr().unwrap()),
        listener.accept()
    );
    let (server, _) = accepted.unwrap();
    let (_read, write) = server.into_split();
    (
        SharedWriterParts {
            writer: SocketWriter::new(write),
            _read,
        },
        client.unwrap(),
    )
}

/// The server's writing half, and its reading half kept open.
struct SharedWriterParts {
    writer: crate::gateway::socket::UpgradedWriter,
    _read: tokio::net::tcp::OwnedReadHalf,
}

/// A connection whose sender writes to a real socket, delivering `room` after `since`.
async fn connect_socket(
    f: &Fixture,
    parts: SharedWriterParts,
    since: Seq,
) -> (ConnHandle, Ending, tokio::net::tcp::OwnedReadHalf) {
    let (handle, queue) = ConnHandle::new(1, f.author, 64, Arc::default());
    let (done, sender_end) = Ending::pair(&handle);
    let SharedWriterParts { writer, _read } = parts;
    tokio::spawn(run(
        SharedSocket::install(&handle.shared, writer),
        queue,
        handle.shared.clone(),
        f.gateway.clone(),
        sender_end,
    ));
    handle.push(Outbound::resume(f.room, Some(since))).unwrap();
    until_parked(&handle).await;
    (handle, done, _read)
}

/// Waits until the connection's sender is parked on its empty queue (at most 10 s).
async fn until_parked(conn: &ConnHandle) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while conn.queue().when_parked(|| ()).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sender never parked"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Reads server frames from `client` until `count` text frames have come (at most 10 s);
/// returns their payloads.
async fn read_texts(client: &mut TcpStream, count: usize) -> Vec<String> {
    let mut bytes = Vec::new();
    let mut texts = Vec::new();
    let deadline = Duration::from_secs(10);
    while texts.len() < count {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(deadline, client.read(&mut chunk))
            .await
            .expect("frames within 10 s")
            .unwrap();
        assert!(n > 0, "the server closed after {} frames", texts.len());
        bytes.extend_from_slice(&chunk[..n]);
        // Take every complete frame off the front.
        loop {
            if bytes.len() < 2 {
                break;
            }
            assert_eq!(bytes[0], 0x81, "a final text frame");
            let (len, at) = match bytes[1] {
                126 if bytes.len() >= 4 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
                126 => break,
                127 => panic!("no frame here is that large"),
                n => (n as usize, 2),
            };
            if bytes.len() < at + len {
                break;
            }
            texts.push(String::from_utf8(bytes[at..at + len].to_vec()).unwrap());
            bytes.drain(..at + len);
        }
    }
    texts
}

/// A room event of `f`'s room at `seq` with a body of about `pad` bytes (not stored: the
/// direct path writes what it is given).
fn event(f: &Fixture, seq: Seq, pad: usize) -> Arc<RoomEvent> {
    Arc::new(RoomEvent {
        room: f.room,
        seq,
        text: format!("{{\"seq\":{seq},\"pad\":\"{}\"}}", "x".repeat(pad)).into(),
        committed: std::time::Instant::now(),
    })
}

fn seq_of(text: &str) -> Seq {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    value["seq"].as_u64().unwrap()
}

#[tokio::test]
async fn a_cork_writes_a_parked_sender_s_socket_without_waking_it() {
    let f = Fixture::new(1_000).await;
    let (parts, mut client) = socket_pair(false).await;
    let (conn, _done, _read) = connect_socket(&f, parts, 0).await;
    let (one, two) = (event(&f, 1, 10), event(&f, 2, 10));
    direct::corked(&f.gateway.inner.flusher, || {
        conn.offer_event(&one);
        conn.offer_event(&two);
        conn.offer_event(&two); // a duplicate is not the next: queued, and skipped
    });
    let texts = read_texts(&mut client, 2).await;
    assert_eq!(texts.iter().map(|t| seq_of(t)).collect::<Vec<_>>(), [1, 2]);
    until_parked(&conn).await;
    // Outside a cork the queue is used, as before.
    let three = event(&f, 3, 10);
    conn.offer_event(&three);
    assert!(
        conn.queue().when_parked(|| ()).is_none(),
        "queued: the sender is woken"
    );
    let texts = read_texts(&mut client, 1).await;
    assert_eq!(seq_of(&texts[0]), 3);
}

#[tokio::test]
async fn only_a_room_s_next_event_is_written_directly_and_a_gap_is_filled_in_order() {
    let mut f = Fixture::new(1_000).await;
    let (parts, mut client) = socket_pair(false).await;
    let (conn, _done, _read) = connect_socket(&f, parts, 0).await;
    // Events 1 and 2 are stored but never reach this connection; 3 is offered.
    f.commit().await;
    f.commit().await;
    let third = f.commit().await;
    direct::corked(&f.gateway.inner.flusher, || conn.offer_event(&third));
    assert!(
        conn.queue().when_parked(|| ()).is_none(),
        "not the next: queued for the sender to fill the gap"
    );
    let texts = read_texts(&mut client, 3).await;
    let seqs: Vec<Seq> = texts
        .iter()
        .map(|t| serde_json::from_str::<ServerFrame>(t).unwrap())
        .map(|frame| match frame {
            ServerFrame::Event { seq, .. } => seq,
            other => panic!("an event, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    // The sender parks again with its cursor at 3: the next is written directly.
    until_parked(&conn).await;
    let fourth = f.commit().await;
    direct::corked(&f.gateway.inner.flusher, || conn.offer_event(&fourth));
    assert!(
        conn.queue().when_parked(|| ()).is_some(),
        "written directly"
    );
    let texts = read_texts(&mut client, 1).await;
    assert!(texts[0].contains("\"seq\":4"));
}

#[tokio::test]
async fn nothing_is_written_around_an_item_already_queued() {
    let f = Fixture::new(1_000).await;
    let (parts, mut client) = socket_pair(false).await;
    let (conn, _done, _read) = connect_socket(&f, parts, 0).await;
    let one = event(&f, 1, 10);
    direct::corked(&f.gateway.inner.flusher, || {
        conn.push(Outbound::frame("{\"seq\":0,\"first\":true}".into()))
            .unwrap();
        conn.offer_event(&one); // behind the frame: queued too
    });
    let texts = read_texts(&mut client, 2).await;
    assert!(
        texts[0].contains("first"),
        "the queued frame first: {texts:?}"
    );
    assert_eq!(seq_of(&texts[1]), 1);
}

#[tokio::test]
async fn a_full_socket_is_finished_by_the_sender_every_byte_once_in_order() {
    let f = Fixture::new(1_000).await;
    let (parts, mut client) = socket_pair(true).await;
    let (conn, _done, _read) = connect_socket(&f, parts, 0).await;
    // About 200 KB in one cork, far more than the two small buffers hold: the cork's write
    // leaves the rest pending and wakes the sender, which writes it as the client reads.
    let events: Vec<Arc<RoomEvent>> = (1..=200).map(|seq| event(&f, seq, 1_000)).collect();
    direct::corked(&f.gateway.inner.flusher, || {
        for e in &events {
            conn.offer_event(e);
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        conn.queue().when_parked(|| ()).is_none(),
        "the sender is busy finishing the write"
    );
    // While it does, the next event waits in the queue behind what is pending.
    let next = event(&f, 201, 1_000);
    direct::corked(&f.gateway.inner.flusher, || conn.offer_event(&next));
    let texts = read_texts(&mut client, 201).await;
    let seqs: Vec<Seq> = texts.iter().map(|t| seq_of(t)).collect();
    assert_eq!(seqs, (1..=201).collect::<Vec<_>>());
    // Done, the sender parks, and the cork writes directly again.
    until_parked(&conn).await;
    let last = event(&f, 202, 10);
    direct::corked(&f.gateway.inner.flusher, || conn.offer_event(&last));
    assert!(conn.queue().when_parked(|| ()).is_some());
    assert_eq!(seq_of(&read_texts(&mut client, 1).await[0]), 202);
}

#[tokio::test]
async fn a_delivery_from_the_broker_is_written_directly_too() {
    let f = Fixture::new(1_000).await;
    let (parts, mut client) = socket_pair(false).await;
    let (conn, _done, _read) = connect_socket(&f, parts, 0).await;
    assert!(f.gateway.hub().subscribe(f.room, &conn));
    // What another node committed reaches this one through the broker's handler, outside
    // any commit's cork: the handler opens its own.
    for seq in 1..=2 {
        f.gateway
            .inner
            .broker
            .publish(crate::gateway::broker::Envelope::Event {
                room: f.room,
                seq,
                frame: format!("{{\"seq\":{seq}}}").into(),
                amends: false,
            });
        assert!(
            conn.queue().when_parked(|| ()).is_some(),
            "written directly: the sender is not woken"
        );
    }
    let texts = read_texts(&mut client, 2).await;
    assert_eq!(texts.iter().map(|t| seq_of(t)).collect::<Vec<_>>(), [1, 2]);
}
