//! `?at=SEQ` in a room's address (a search hit): the message the room opens on. Read by
//! the room (to load the page that reaches back to it) and by the message list (to
//! scroll to it).

/// The seq in `?at=SEQ`, the message to show.
pub fn jump_target(query: &leptos_router::params::ParamsMap) -> Option<protocol::ids::Seq> {
    query.get("at").and_then(|v| v.parse().ok())
}
