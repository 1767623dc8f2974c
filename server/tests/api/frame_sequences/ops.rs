//! The generator: what one client may do in a step, and random sequences of such steps
//! spread over the three clients.

use proptest::prelude::*;

use super::{CLIENTS, ROOMS};

#[derive(Debug, Clone)]
pub enum Op {
    Subscribe {
        room: usize,
        resume: bool,
    },
    Unsubscribe {
        room: usize,
    },
    Send {
        room: usize,
        body: String,
    },
    Edit {
        target: usize,
        body: String,
    },
    Delete {
        target: usize,
    },
    Typing {
        room: usize,
    },
    History {
        room: usize,
    },
    MarkRead {
        room: usize,
        seq: u64,
    },
    Leave {
        room: usize,
    },
    Invite {
        room: usize,
        user: usize,
    },
    OpenDm {
        user: usize,
    },
    /// Text that is no frame at all.
    Junk(String),
    /// A known frame type with its fields missing.
    Incomplete(&'static str),
}

fn op() -> impl Strategy<Value = Op> {
    let room = 0..ROOMS;
    let body = "[a-z '\";%_\\\\]{1,24}";
    prop_oneof![
        4 => (room.clone(), any::<bool>()).prop_map(|(room, resume)| Op::Subscribe { room, resume }),
        1 => room.clone().prop_map(|room| Op::Unsubscribe { room }),
        6 => (room.clone(), body).prop_map(|(room, body)| Op::Send { room, body }),
        1 => (0..8usize, body).prop_map(|(target, body)| Op::Edit { target, body }),
        1 => (0..8usize).prop_map(|target| Op::Delete { target }),
        1 => room.clone().prop_map(|room| Op::Typing { room }),
        2 => room.clone().prop_map(|room| Op::History { room }),
        1 => (room.clone(), 0..40u64).prop_map(|(room, seq)| Op::MarkRead { room, seq }),
        1 => room.clone().prop_map(|room| Op::Leave { room }),
        1 => (room, 0..CLIENTS).prop_map(|(room, user)| Op::Invite { room, user }),
        1 => (0..CLIENTS).prop_map(|user| Op::OpenDm { user }),
        1 => "[ -~]{0,40}".prop_map(Op::Junk),
        1 => prop::sample::select(vec!["subscribe", "send", "edit", "history", "invite", "create_room"])
            .prop_map(Op::Incomplete),
    ]
}

/// Up to 31 steps, each by one of the clients.
pub fn sequence() -> impl Strategy<Value = Vec<(usize, Op)>> {
    prop::collection::vec((0..CLIENTS, op()), 1..32)
}
