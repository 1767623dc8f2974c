//! Making an invite link (docs/moderation.md): a fresh secret, of which only the SHA-256
//! is stored, valid for a number of hours. One place for `POST /invites` (the server's
//! HTTP handler) and the chat's "Invite link" button (a server function).

use protocol::ids::{RoomId, UserId};
use store::{Store, StoreError, StoreResult};

use crate::chat::api::InviteLink;

/// How long a link lasts unless asked otherwise: a week.
pub const DEFAULT_HOURS: u32 = 7 * 24;
/// The longest a link may last: 30 days.
pub const MAX_HOURS: u32 = 30 * 24;

/// Makes a link to `room` for `by` (who must be a member; the store decides), lasting
/// `hours` (default [`DEFAULT_HOURS`], at most [`MAX_HOURS`]).
pub async fn create(
    store: &dyn Store,
    room: RoomId,
    by: UserId,
    hours: Option<u32>,
) -> StoreResult<InviteLink> {
    let hours = hours.unwrap_or(DEFAULT_HOURS).clamp(1, MAX_HOURS);
    let secret = super::tokens::generate();
    let hash = super::tokens::lookup_hash(&secret).ok_or(StoreError::Invalid {
        reason: "an invite secret could not be hashed",
    })?;
    let expires_at = store::now_millis() + i64::from(hours) * 3_600_000;
    store.create_invite(room, by, &hash, expires_at).await?;
    Ok(InviteLink {
        path: format!("/join/{secret}"),
        expires_at,
    })
}
