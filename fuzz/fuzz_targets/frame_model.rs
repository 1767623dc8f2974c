//! The frame reader's specification as a plain function over the whole input: RFC 6455's
//! rules for a client's frames, written out straight (no buffering, no incremental
//! parsing), with the order in which `confab-websocket` promises to notice each fault. The
//! `frame_reader` fuzz target compares the real reader against it.
//!
//! - After two bytes: reserved bits set, an unknown opcode, or an unmasked frame → 1002.
//! - Once the length is complete: a length with its top bit set, or a control frame that
//!   is fragmented or longer than 125 bytes → 1002.
//! - Once the mask is there: a data frame that would take its message past the limit →
//!   1009 (control frames do not count towards a message).
//! - Once the payload is there: a data frame that starts a message inside another, or a
//!   continuation of nothing → 1002; a close payload of one byte or with a code that may
//!   not be sent → 1002, with a reason that is not UTF-8 → 1007; a whole text message
//!   that is not UTF-8 → 1007.
//! - The input ending inside a frame or a fragmented message is a cut; between messages,
//!   the end.

/// What the reader yields, one step at a time; a fault, a cut or the end is the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Text(Vec<u8>),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close(Option<u16>),
    /// The connection fails with this close code.
    Fails(u16),
    /// The input ended inside a frame or a message.
    Cut,
    /// The input ended between messages.
    End,
}

/// The codes RFC 6455 §7.4.1 and the IANA registry define for a close frame, by name:
/// normal, going away, protocol error, unsupported data, invalid payload, policy
/// violation, message too big, mandatory extension, internal error, service restart, try
/// again later, bad gateway. (1004 is reserved; 1005, 1006 and 1015 are never sent.)
const REGISTERED: [u16; 12] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
];

/// Whether a client may send `code` in a close frame: a registered code, or one of the
/// ranges left to libraries (3000–3999) and applications (4000–4999).
fn sendable(code: u16) -> bool {
    REGISTERED.contains(&code) || (3000..5000).contains(&code)
}

/// Every event the input gives, up to and including the last.
pub fn expected(input: &[u8], max: usize) -> Vec<Event> {
    let mut out = Vec::new();
    let mut rest = input;
    // A fragmented message: whether it is text, and its bytes so far.
    let mut partial: Option<(bool, Vec<u8>)> = None;
    loop {
        if rest.is_empty() {
            out.push(if partial.is_some() {
                Event::Cut
            } else {
                Event::End
            });
            return out;
        }
        match step(rest, &mut partial, max) {
            Step::Event(event, used) => {
                out.push(event);
                rest = &rest[used..];
            }
            Step::Fragment(used) => rest = &rest[used..],
            Step::Last(event) => {
                out.push(event);
                return out;
            }
        }
    }
}

enum Step {
    /// A message, and the bytes of the frame that ended it.
    Event(Event, usize),
    /// A fragment kept in `partial`, and its frame's bytes.
    Fragment(usize),
    /// A fault or a cut: nothing is read after it.
    Last(Event),
}

fn step(bytes: &[u8], partial: &mut Option<(bool, Vec<u8>)>, max: usize) -> Step {
    let protocol_error = Step::Last(Event::Fails(1002));
    let [b0, b1, ..] = *bytes else {
        return Step::Last(Event::Cut);
    };
    let fin = b0 >> 7 == 1;
    let opcode = b0 & 0x0F;
    if (b0 >> 4) & 0b111 != 0 || !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) || b1 >> 7 == 0 {
        return protocol_error;
    }
    let extended = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    if bytes.len() < 2 + extended {
        return Step::Last(Event::Cut);
    }
    let len: u64 = if extended == 0 {
        u64::from(b1 & 0x7F)
    } else {
        bytes[2..2 + extended]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    let control = opcode >= 8;
    if len >= 1 << 63 || (control && (!fin || len > 125)) {
        return protocol_error;
    }
    let header = 2 + extended + 4;
    if bytes.len() < header {
        return Step::Last(Event::Cut);
    }
    let so_far = partial.as_ref().map_or(0, |(_, b)| b.len());
    if !control && len > (max - so_far) as u64 {
        return Step::Last(Event::Fails(1009));
    }
    let len = len as usize;
    if bytes.len() - header < len {
        return Step::Last(Event::Cut);
    }
    let mask = &bytes[header - 4..header];
    let payload: Vec<u8> = bytes[header..header + len]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    let used = header + len;
    let whole = |text: bool, message: Vec<u8>| {
        if !text {
            Step::Event(Event::Binary, used)
        } else if std::str::from_utf8(&message).is_ok() {
            Step::Event(Event::Text(message), used)
        } else {
            Step::Last(Event::Fails(1007))
        }
    };
    match opcode {
        9 => Step::Event(Event::Ping(payload), used),
        10 => Step::Event(Event::Pong, used),
        8 => match payload.len() {
            0 => Step::Event(Event::Close(None), used),
            1 => protocol_error,
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                if !sendable(code) {
                    protocol_error
                } else if std::str::from_utf8(&payload[2..]).is_err() {
                    Step::Last(Event::Fails(1007))
                } else {
                    Step::Event(Event::Close(Some(code)), used)
                }
            }
        },
        1 | 2 if partial.is_some() => protocol_error,
        1 | 2 if fin => whole(opcode == 1, payload),
        1 | 2 => {
            *partial = Some((opcode == 1, payload));
            Step::Fragment(used)
        }
        _ => {
            let Some((text, mut message)) = partial.take() else {
                return protocol_error;
            };
            message.extend_from_slice(&payload);
            if fin {
                whole(text, message)
            } else {
                *partial = Some((text, message));
                Step::Fragment(used)
            }
        }
    }
}
