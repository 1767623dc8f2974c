//! The writes to a room's log ([`WriteCommand`]), what each produced ([`WriteOutcome`]),
//! and the new values of a room's settings ([`RoomUpdate`]).

use protocol::ids::{FileId, MessageId, UserId};
use protocol::names::{Body, ClientMsgId, Emoji, RoomName};

use super::{Event, Message};

/// One write to a room's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCommand {
    /// A new message. Idempotent on `(author, client_msg_id)` within the room.
    Send {
        author: UserId,
        client_msg_id: ClientMsgId,
        body: Body,
        /// The author's uploads to the room to attach (usually none).
        files: Vec<FileId>,
    },
    /// A reply in the thread of `root`, a message of the same room that is not itself a
    /// reply and not deleted. Idempotent on `(author, client_msg_id)` like a send.
    Reply {
        author: UserId,
        client_msg_id: ClientMsgId,
        body: Body,
        root: MessageId,
        /// As for [`WriteCommand::Send`].
        files: Vec<FileId>,
    },
    /// Replace the body of the author's own message.
    Edit {
        author: UserId,
        message: MessageId,
        body: Body,
    },
    /// Delete a message, leaving a tombstone that keeps its seq (and dropping its
    /// reactions, files and pin): `author`'s own, or, if `author` moderates the room,
    /// anyone's (the tombstone then says `removed_by_admin`).
    Delete { author: UserId, message: MessageId },
    /// A moderator pins (`pin`) or unpins a live message of the room.
    Pin {
        moderator: UserId,
        message: MessageId,
        pin: bool,
    },
    /// A moderator changes the room's settings (not a direct message's); a notice
    /// message records the change. An archived room takes no other command until this
    /// one opens it again.
    UpdateRoom {
        moderator: UserId,
        changes: RoomUpdate,
    },
    /// A moderator removes `member` from the room (and bans them with `ban`); a notice
    /// message records it in the room's order.
    RemoveMember {
        moderator: UserId,
        member: UserId,
        ban: bool,
    },
    /// A moderator makes `member` an admin, or an admin a member again (never the owner:
    /// any moderator makes admins, only the owner or a site admin demotes one); a notice
    /// message records it in the room's order.
    SetRole {
        moderator: UserId,
        member: UserId,
        role: super::Role,
    },
    /// `user` reacts to any live message of the room with `emoji`.
    AddReaction {
        user: UserId,
        message: MessageId,
        emoji: Emoji,
    },
    /// `user` takes their reaction `emoji` off a live message of the room.
    RemoveReaction {
        user: UserId,
        message: MessageId,
        emoji: Emoji,
    },
}

impl WriteCommand {
    /// `user` adds (`add`) or takes off their reaction `emoji` on `message`.
    pub fn reaction(user: UserId, message: MessageId, emoji: Emoji, add: bool) -> WriteCommand {
        if add {
            WriteCommand::AddReaction {
                user,
                message,
                emoji,
            }
        } else {
            WriteCommand::RemoveReaction {
                user,
                message,
                emoji,
            }
        }
    }
}

/// What a successful write command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The command was applied as this new event.
    Applied(Event),
    /// A retried send: the original event, not applied again.
    Duplicate(Event),
    /// Nothing to do (a reaction added that was there already, or removed that was not):
    /// no event, no seq. The message as it is.
    Unchanged(Message),
    /// Nothing to do, and no message concerned (a role that was so already): no event,
    /// no seq.
    AlreadySo,
}

impl WriteOutcome {
    /// The event, applied now or earlier; `None` when nothing changed.
    pub fn event(&self) -> Option<&Event> {
        match self {
            WriteOutcome::Applied(e) | WriteOutcome::Duplicate(e) => Some(e),
            WriteOutcome::Unchanged(_) | WriteOutcome::AlreadySo => None,
        }
    }
}

/// New values for a room's settings (`None`: unchanged), already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomUpdate {
    pub name: Option<RoomName>,
    /// Empty clears it.
    pub topic: Option<String>,
    /// Empty clears it.
    pub description: Option<String>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
}

impl RoomUpdate {
    /// How the notice of this change records it.
    pub fn changes(&self) -> protocol::RoomChanges {
        protocol::RoomChanges {
            name: self.name.as_ref().map(|n| n.to_string()),
            topic: self.topic.clone(),
            description: self.description.clone(),
            private: self.private,
            archived: self.archived,
        }
    }
}
