//! The domain types of uploaded files: one being stored, a stored one's record, and
//! which of its parts (the file, an image's thumbnail) to read.

use protocol::ids::{FileId, MessageId, RoomId, UserId};

use super::Millis;

/// A file being stored (`Store::create_file`): what the server found out about the
/// upload before storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub room: RoomId,
    pub uploader: UserId,
    /// The name it was uploaded with (already cleaned by the server).
    pub name: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    /// For an image the server decoded: its width and height (it then has a thumbnail).
    pub image: Option<protocol::ImageSize>,
}

/// A stored file's record (its bytes are read apart: `Store::file_bytes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: FileId,
    pub room_id: RoomId,
    pub uploader_id: UserId,
    /// The message it is attached to; `None` while it waits for its message.
    pub message_id: Option<MessageId>,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub image: Option<protocol::ImageSize>,
    pub created_at: Millis,
}

impl StoredFile {
    /// How messages carry it.
    pub fn view(&self) -> protocol::FileView {
        protocol::FileView {
            id: self.id,
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
            image: self.image,
        }
    }
}

/// Which bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePart {
    /// The file as uploaded.
    Original,
    /// An image's thumbnail.
    Thumb,
}

impl FilePart {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FilePart::Original => "original",
            FilePart::Thumb => "thumb",
        }
    }
}
