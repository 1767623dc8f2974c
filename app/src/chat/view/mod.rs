//! The chat screen's components, one file per part of the screen:
//! [`screen`] (layout, top bar, notices), [`sidebar`] (rooms and DMs with unread
//! counts, and the buttons that open the dialogs), [`room`] (header, typing line),
//! [`members`] (the member list, with a moderator's [`member_menu`] on each row),
//! [`pins`] (the pinned list), [`room_about`] (the room's about and settings dialog),
//! [`messages`] (the scrolling list; its rows in [`message_row`], the day and unread
//! lines between them in [`dividers`]), [`reactions`] (a message's reactions and
//! the picker), [`composer`] (writing and editing; its [`emoji_picker`]), [`uploads`] (attaching files: the
//! paperclip, the chips with their progress, dropping and pasting) and
//! [`dialogs`] (new room, browse rooms, new direct message, invite, search, status;
//! [`invite_link`] makes the invite dialog's link),
//! [`modal`] (the frame they share, with [`focus`] keeping focus inside),
//! [`confirm`] (asking before a delete), [`status`] (statuses: names and the picker),
//! [`search`] (the search dialog's query and hits) and [`thread`] (a thread beside the
//! room). Pieces that several of them show are in their own files, which they import and
//! which import none of them but the dialog frame: [`formatted`] (a message body),
//! [`clipboard`] (copying a link), [`avatar`] (initials on a colour), [`profile_card`] (a
//! name that opens the person's card), [`edit_history`] (a message's "(edited)" and its
//! versions),
//! [`attachments`] (a message's text and files, an image's lightbox in a [`modal`]) and
//! [`jump`] (the `?at=` message).

pub mod attachments;
pub mod avatar;
pub mod clipboard;
pub mod composer;
pub mod confirm;
pub mod dialogs;
pub mod dividers;
pub mod edit_history;
pub mod emoji_picker;
pub mod focus;
pub mod formatted;
pub mod group_dm;
pub mod invite_link;
pub mod jump;
pub mod member_menu;
pub mod members;
pub mod message_row;
pub mod messages;
pub mod modal;
pub mod pins;
pub mod profile_card;
pub mod reactions;
pub mod room;
pub mod room_about;
pub mod screen;
pub mod search;
pub mod sidebar;
pub mod status;
pub mod thread;
pub mod uploads;

pub use screen::ChatScreen;
