//! Validated values that users type: handles, display names, room names, message bodies,
//! reaction emoji, passwords, client message ids, and a profile's bio and time zone
//! (`profile.rs`). Each is a newtype with a private field, built only
//! by `parse`, so that once a value exists it is known to be valid ("parse, don't
//! validate"). Shared by the server and the browser, so both check the same rules.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused; the message is fit to show next to the form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// Which field: `handle`, `display_name`, `password`, `room_name`, `topic`, `body`,
    /// `client_msg_id`, `bio`, `time_zone`.
    pub field: &'static str,
    /// A sentence for the user.
    pub message: String,
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidValue {}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidValue {
    InvalidValue {
        field,
        message: message.into(),
    }
}

pub use crate::handles::HANDLE_CHARS;
/// Largest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
/// Smallest and largest password, in characters.
pub const PASSWORD_CHARS: (usize, usize) = (8, 128);
/// Smallest and largest room name, in characters.
pub const ROOM_NAME_CHARS: (usize, usize) = (2, 48);
/// Largest message body, in characters.
pub const BODY_MAX_CHARS: usize = 4000;
/// Largest client message id, in bytes (ASCII only).
pub const CLIENT_MSG_ID_MAX: usize = 64;
/// Largest status text, in characters.
pub const STATUS_TEXT_MAX_CHARS: usize = 100;
/// Longest room topic, in characters.
pub const ROOM_TOPIC_MAX_CHARS: usize = 250;
/// Largest reaction emoji, in bytes of UTF-8 (room for a family of four with joiners).
pub const EMOJI_MAX_BYTES: usize = 32;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(raw: String) -> Result<Self, InvalidValue> {
                $name::parse(&raw)
            }
        }

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A user's unique handle: 2–32 of `a-z 0-9 _ . -`, starting with a letter or digit.
    /// Stored and compared in lower case (`Ana` and `ana` are the same handle).
    Handle
);
string_newtype!(
    /// The name shown for a user: 1–64 characters, no control characters, trimmed.
    DisplayName
);
string_newtype!(
    /// A public or private room's name: 2–48 of `a-z 0-9 - _`, lower case, unique.
    RoomName
);
string_newtype!(
    /// A message body: 1–4000 characters, not only white space; control characters other
    /// than newline and tab are refused. Kept as typed (not trimmed inside).
    Body
);
string_newtype!(
    /// A user's status line ("in a meeting"): 1–100 characters, no control characters,
    /// trimmed.
    StatusText
);
string_newtype!(
    /// A room's topic, shown under its name and in Browse: 1–250 characters on one line,
    /// no control characters, trimmed.
    RoomTopic
);
string_newtype!(
    /// A reaction's emoji: 1–32 bytes of symbols, at least one of them not ASCII (so an
    /// emoji, possibly with joiners, variation selectors and skin tones). No letters of
    /// any script, no white space, no control or direction-changing characters; ASCII
    /// only as the digits, `#` and `*` of keycaps (`1️⃣`). The server cannot tell a real
    /// emoji from any other symbol without Unicode's tables: these rules keep a reaction
    /// short, wordless and harmless, not necessarily pretty.
    Emoji
);
string_newtype!(
    /// The client's id for a send, unique per author and room, so that a retried send is
    /// recognised: 1–64 printable ASCII characters.
    ClientMsgId
);

fn is_handle_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')
}

impl Handle {
    /// Parses a handle typed by a user (case-insensitive; surrounding space ignored).
    pub fn parse(raw: &str) -> Result<Handle, InvalidValue> {
        let h = raw.trim().to_ascii_lowercase();
        let n = h.chars().count();
        let (min, max) = HANDLE_CHARS;
        if n < min || n > max {
            return Err(invalid(
                "handle",
                format!("A handle has {min} to {max} characters."),
            ));
        }
        if !h.chars().all(is_handle_char) {
            return Err(invalid(
                "handle",
                "A handle may use only letters a–z, digits, and _ . -",
            ));
        }
        if !h.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid(
                "handle",
                "A handle starts with a letter or a digit.",
            ));
        }
        if h == crate::handles::EVERYONE {
            return Err(invalid(
                "handle",
                "That handle is reserved: @room mentions everyone in a room.",
            ));
        }
        Ok(Handle(h))
    }
}

impl DisplayName {
    /// Parses a display name (surrounding space trimmed).
    pub fn parse(raw: &str) -> Result<DisplayName, InvalidValue> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(invalid("display_name", "Please give a name to show."));
        }
        if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(invalid(
                "display_name",
                format!("A display name has at most {DISPLAY_NAME_MAX_CHARS} characters."),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid(
                "display_name",
                "A display name cannot contain control characters.",
            ));
        }
        Ok(DisplayName(name.to_string()))
    }
}

impl RoomName {
    /// Parses a room name (surrounding space trimmed, lower-cased, inner spaces become `-`).
    pub fn parse(raw: &str) -> Result<RoomName, InvalidValue> {
        let name: String = raw
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = name.chars().count();
        let (min, max) = ROOM_NAME_CHARS;
        if n < min || n > max {
            return Err(invalid(
                "room_name",
                format!("A room name has {min} to {max} characters."),
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        {
            return Err(invalid(
                "room_name",
                "A room name may use only letters a–z, digits, - and _",
            ));
        }
        Ok(RoomName(name))
    }
}

impl Body {
    /// Parses a message body.
    pub fn parse(raw: &str) -> Result<Body, InvalidValue> {
        if raw.trim().is_empty() {
            return Err(invalid("body", "A message cannot be empty."));
        }
        if raw.chars().count() > BODY_MAX_CHARS {
            return Err(invalid(
                "body",
                format!("A message has at most {BODY_MAX_CHARS} characters."),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(invalid(
                "body",
                "A message cannot contain control characters.",
            ));
        }
        Ok(Body(raw.to_string()))
    }
}

impl Emoji {
    /// Parses a reaction emoji (taken exactly as given: nothing is trimmed).
    pub fn parse(raw: &str) -> Result<Emoji, InvalidValue> {
        if raw.is_empty() || raw.len() > EMOJI_MAX_BYTES {
            return Err(invalid(
                "emoji",
                format!("A reaction is one emoji, of at most {EMOJI_MAX_BYTES} bytes."),
            ));
        }
        let allowed = |c: char| {
            if c.is_ascii() {
                return c.is_ascii_digit() || c == '#' || c == '*';
            }
            let direction = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            !(c.is_alphabetic()
                || c.is_numeric()
                || c.is_whitespace()
                || c.is_control()
                || direction)
        };
        if !raw.chars().all(allowed) || raw.is_ascii() {
            return Err(invalid("emoji", "A reaction is one emoji, not text."));
        }
        Ok(Emoji(raw.to_string()))
    }
}

impl StatusText {
    /// Parses a status line.
    pub fn parse(raw: &str) -> Result<StatusText, InvalidValue> {
        one_line(
            raw,
            "status_text",
            STATUS_TEXT_MAX_CHARS,
            format!("A status has 1 to {STATUS_TEXT_MAX_CHARS} characters."),
            "A status cannot contain control characters.",
        )
        .map(StatusText)
    }
}

impl RoomTopic {
    /// Parses a room topic.
    pub fn parse(raw: &str) -> Result<RoomTopic, InvalidValue> {
        one_line(
            raw,
            "topic",
            ROOM_TOPIC_MAX_CHARS,
            format!("A topic has 1 to {ROOM_TOPIC_MAX_CHARS} characters."),
            "A topic is one line, without control characters.",
        )
        .map(RoomTopic)
    }
}

/// A short text typed by a user: trimmed, 1 to `max` characters, no control characters
/// (so one line). `too_long` and `control` are the messages for the two refusals.
fn one_line(
    raw: &str,
    field: &'static str,
    max: usize,
    too_long: String,
    control: &str,
) -> Result<String, InvalidValue> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(invalid(field, too_long));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, control));
    }
    Ok(text.to_string())
}

impl ClientMsgId {
    /// Parses a client message id.
    pub fn parse(raw: &str) -> Result<ClientMsgId, InvalidValue> {
        if raw.is_empty() || raw.len() > CLIENT_MSG_ID_MAX {
            return Err(invalid(
                "client_msg_id",
                format!("A client message id has 1 to {CLIENT_MSG_ID_MAX} characters."),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "client_msg_id",
                "A client message id uses printable ASCII only.",
            ));
        }
        Ok(ClientMsgId(raw.to_string()))
    }
}

/// A password as typed. Not `Serialize`, and its `Debug` hides the text, so it cannot
/// end up in a frame or a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Checks the length rules of a new password.
    pub fn parse_new(raw: &str) -> Result<Password, InvalidValue> {
        let n = raw.chars().count();
        let (min, max) = PASSWORD_CHARS;
        if n < min {
            return Err(invalid(
                "password",
                format!("A password has at least {min} characters."),
            ));
        }
        if n > max {
            return Err(invalid(
                "password",
                format!("A password has at most {max} characters."),
            ));
        }
        Ok(Password(raw.to_string()))
    }

    /// Wraps a password typed at log-in: no rules beyond the upper bound, which keeps
    /// hashing cheap for absurd inputs.
    pub fn for_login(raw: &str) -> Result<Password, InvalidValue> {
        if raw.chars().count() > PASSWORD_CHARS.1 {
            return Err(invalid("password", "Wrong handle or password."));
        }
        Ok(Password(raw.to_string()))
    }

    /// The text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

// After `string_newtype!`, which it uses.
mod profile;
pub use profile::{BIO_MAX_CHARS, Bio, TIME_ZONE_MAX_CHARS, TimeZone};

#[cfg(test)]
mod tests;
