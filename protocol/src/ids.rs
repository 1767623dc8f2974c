//! Typed ids. UUIDs on the wire (strings), distinct types in code so that a room id can
//! never be passed where a user id is expected. The server creates them (v7, time-ordered);
//! this crate only carries them, so it needs no random source in the browser.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
pub use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

id_type!(
    /// A user.
    UserId
);
id_type!(
    /// A room (public, private or direct).
    RoomId
);
id_type!(
    /// A message.
    MessageId
);
id_type!(
    /// An API token (the record, not its secret).
    TokenId
);
id_type!(
    /// An uploaded file.
    FileId
);

/// A room's sequence number: 1 for its first event, then +1 per event, with no gaps.
pub type Seq = u64;
