//! Ephemeral requests: typing (while subscribed and a member) and one's status.

use protocol::AckInfo;
use protocol::ids::RoomId;

use super::Session;
use super::failure::Failure;

impl Session {
    pub(super) async fn typing(&self, room: RoomId) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        self.gateway.start_typing(room, (*self.me).clone());
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    pub(super) fn set_status(
        &self,
        status: protocol::Status,
        text: Option<protocol::names::StatusText>,
    ) -> AckInfo {
        let text = text.map(String::from);
        let presence = self.gateway.presence();
        if presence
            .statuses()
            .set(self.me.id, status, text, std::time::Instant::now())
        {
            presence.restate(self.me.id);
        }
        AckInfo::default()
    }
}
