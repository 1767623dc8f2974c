//! What a handle is, as far as both [`crate::names`] (parsing one a user types) and
//! [`crate::mentions`] (finding one in a message body) need it: its length bounds and
//! the word no user may take, because `@room` mentions everyone.

/// Smallest and largest handle, in characters.
pub const HANDLE_CHARS: (usize, usize) = (2, 32);

/// The word after `@` that names everyone in the room (no user may take it as a handle).
pub const EVERYONE: &str = "room";
