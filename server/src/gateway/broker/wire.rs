//! How an [`Envelope`] travels through Redis: one text header line, then the frame as it
//! goes to clients, untouched (so a receiving node neither parses nor re-encodes it).
//!
//! ```text
//! c1 <origin node, hex> <published at, Unix ms> <kind> <fields…>\n<frame>
//! kinds: E room seq          a committed event
//!        A room seq          a committed event that changes an earlier message
//!        T room skip|-       an ephemeral room frame (typing, presence diff)
//!        U user              a personal frame
//!        M room user 0|1     a membership change (no frame)
//!        N room seq author 0|1 0|1 handle,…|-
//!                            an unread notice (no frame): `1` for a thread reply, `1`
//!                            for `@room`, then the handles mentioned
//!        X room|-            envelopes were lost (no frame)
//!        P user              how a person looks to others changed (no frame)
//! ```
//!
//! Anything that does not parse is rejected with a reason (and counted by the caller),
//! never trusted in part.

use protocol::ids::{RoomId, UserId};
use uuid::Uuid;

use super::{Delivery, Envelope};

const VERSION: &str = "c1";

/// An envelope as received: who sent it, and what.
#[derive(Debug, Clone)]
pub struct Received {
    pub origin: u64,
    pub delivery: Delivery,
}

/// Encodes `envelope` as node `origin` publishes it at `published_at_ms`.
pub fn encode(origin: u64, published_at_ms: i64, envelope: &Envelope) -> Vec<u8> {
    let (header, frame): (String, Option<&str>) = match envelope {
        Envelope::Event {
            room,
            seq,
            frame,
            amends,
        } => {
            let kind = if *amends { "A" } else { "E" };
            (format!("{kind} {} {seq}", room.0), Some(frame))
        }
        Envelope::Ephemeral { room, frame, skip } => (
            format!(
                "T {} {}",
                room.0,
                skip.map_or("-".into(), |u| u.0.to_string())
            ),
            Some(frame),
        ),
        Envelope::User { user, frame } => (format!("U {}", user.0), Some(frame)),
        Envelope::Membership { room, user, joined } => (
            format!("M {} {} {}", room.0, user.0, u8::from(*joined)),
            None,
        ),
        Envelope::Unread {
            room,
            seq,
            author,
            thread,
            everyone,
            mentions,
        } => {
            let handles = if mentions.is_empty() {
                "-".to_string()
            } else {
                mentions.join(",")
            };
            (
                format!(
                    "N {} {seq} {} {} {} {handles}",
                    room.0,
                    author.0,
                    u8::from(*thread),
                    u8::from(*everyone)
                ),
                None,
            )
        }
        Envelope::Missed { room } => (
            format!("X {}", room.map_or("-".into(), |r| r.0.to_string())),
            None,
        ),
        Envelope::Person { user } => (format!("P {}", user.0), None),
    };
    let mut out = format!("{VERSION} {origin:x} {published_at_ms} {header}\n").into_bytes();
    if let Some(frame) = frame {
        out.extend_from_slice(frame.as_bytes());
    }
    out
}

/// Why a payload was not an envelope.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a broker envelope: {0}")]
pub struct Malformed(&'static str);

/// Decodes a payload published by [`encode`].
pub fn decode(payload: &[u8]) -> Result<Received, Malformed> {
    let text = std::str::from_utf8(payload).map_err(|_| Malformed("not UTF-8"))?;
    let (header, frame) = text.split_once('\n').ok_or(Malformed("no header line"))?;
    let mut f = header.split(' ');
    let mut next = |what: &'static str| f.next().ok_or(Malformed(what));
    if next("version")? != VERSION {
        return Err(Malformed("unknown version"));
    }
    let origin = u64::from_str_radix(next("origin")?, 16).map_err(|_| Malformed("origin"))?;
    let published_at_ms: i64 = next("time")?.parse().map_err(|_| Malformed("time"))?;
    let kind = next("kind")?;
    let uuid = |s: &str, what: &'static str| Uuid::parse_str(s).map_err(|_| Malformed(what));
    let envelope = match kind {
        "E" | "A" => Envelope::Event {
            room: RoomId(uuid(next("room")?, "room")?),
            seq: next("seq")?.parse().map_err(|_| Malformed("seq"))?,
            frame: frame.into(),
            amends: kind == "A",
        },
        "T" => Envelope::Ephemeral {
            room: RoomId(uuid(next("room")?, "room")?),
            skip: match next("skip")? {
                "-" => None,
                s => Some(UserId(uuid(s, "skip")?)),
            },
            frame: frame.into(),
        },
        "U" => Envelope::User {
            user: UserId(uuid(next("user")?, "user")?),
            frame: frame.into(),
        },
        "M" => Envelope::Membership {
            room: RoomId(uuid(next("room")?, "room")?),
            user: UserId(uuid(next("user")?, "user")?),
            joined: match next("joined")? {
                "1" => true,
                "0" => false,
                _ => return Err(Malformed("joined")),
            },
        },
        "N" => Envelope::Unread {
            room: RoomId(uuid(next("room")?, "room")?),
            seq: next("seq")?.parse().map_err(|_| Malformed("seq"))?,
            author: UserId(uuid(next("author")?, "author")?),
            thread: match next("thread")? {
                "1" => true,
                "0" => false,
                _ => return Err(Malformed("thread")),
            },
            everyone: match next("everyone")? {
                "1" => true,
                "0" => false,
                _ => return Err(Malformed("everyone")),
            },
            mentions: match next("mentions")? {
                "-" => Vec::new(),
                list => list
                    .split(',')
                    .map(|h| {
                        protocol::names::Handle::parse(h)
                            .map(|h| h.as_str().to_string())
                            .map_err(|_| Malformed("mentions"))
                    })
                    .collect::<Result<_, _>>()?,
            },
        },
        "X" => Envelope::Missed {
            room: match next("room")? {
                "-" => None,
                s => Some(RoomId(uuid(s, "room")?)),
            },
        },
        "P" => Envelope::Person {
            user: UserId(uuid(next("user")?, "user")?),
        },
        _ => return Err(Malformed("unknown kind")),
    };
    if f.next().is_some() {
        return Err(Malformed("extra fields"));
    }
    Ok(Received {
        origin,
        delivery: Delivery {
            envelope,
            published_at_ms,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> RoomId {
        RoomId(Uuid::from_u128(0x1234))
    }
    fn user() -> UserId {
        UserId(Uuid::from_u128(0x5678))
    }

    #[test]
    fn every_kind_round_trips_with_its_frame_untouched() {
        let frame = "{\"type\":\"event\",\"body\":\"a\\nb with spaces\\n\"}\n";
        let all = [
            Envelope::Event {
                room: room(),
                seq: 42,
                frame: frame.into(),
                amends: false,
            },
            Envelope::Event {
                room: room(),
                seq: 43,
                frame: frame.into(),
                amends: true,
            },
            Envelope::Ephemeral {
                room: room(),
                frame: frame.into(),
                skip: Some(user()),
            },
            Envelope::Ephemeral {
                room: room(),
                frame: frame.into(),
                skip: None,
            },
            Envelope::User {
                user: user(),
                frame: frame.into(),
            },
            Envelope::Membership {
                room: room(),
                user: user(),
                joined: true,
            },
            Envelope::Membership {
                room: room(),
                user: user(),
                joined: false,
            },
            Envelope::Unread {
                room: room(),
                seq: 7,
                author: user(),
                thread: false,
                everyone: false,
                mentions: Vec::new(),
            },
            Envelope::Unread {
                room: room(),
                seq: 8,
                author: user(),
                thread: true,
                everyone: true,
                mentions: vec!["ann".into(), "b.c-d".into()],
            },
            Envelope::Missed { room: Some(room()) },
            Envelope::Missed { room: None },
            Envelope::Person { user: user() },
        ];
        for envelope in all {
            let got = decode(&encode(0xabc, 1_700_000_000_123, &envelope)).unwrap();
            assert_eq!(got.origin, 0xabc);
            assert_eq!(got.delivery.published_at_ms, 1_700_000_000_123);
            assert_eq!(got.delivery.envelope, envelope);
        }
    }

    #[test]
    fn garbage_is_refused_not_trusted() {
        for bad in [
            &b""[..],
            b"\xff\xfe",
            b"c1 1 2 E",
            b"c2 1 2 X -\n",
            b"c1 zz 2 X -\n",
            b"c1 1 2 Q -\n",
            b"c1 1 2 E not-a-uuid 3\n{}",
            b"c1 1 2 E 00000000-0000-0000-0000-000000001234 -1\n{}",
            b"c1 1 2 M 00000000-0000-0000-0000-000000001234 00000000-0000-0000-0000-000000005678 2\n",
            b"c1 1 2 X - extra\n",
            b"c1 1 2 P not-a-uuid\n",
            b"c1 1 2 P\n",
            b"c1 1 2 N 00000000-0000-0000-0000-000000001234 3 00000000-0000-0000-0000-000000005678 0 0 a b\n",
            b"c1 1 2 N 00000000-0000-0000-0000-000000001234 3 00000000-0000-0000-0000-000000005678 0 2 -\n",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
