//! The lines between a room's messages: a day's separator ("Today", "Yesterday",
//! "Friday 4 December", in the reader's time zone) and the "New messages" divider.

use leptos::prelude::*;

use crate::chat::dates;
use crate::chat::state::use_chat;

/// The line between two days' messages: "Today", "Yesterday", "Friday 4 December".
#[component]
pub fn DaySeparator(day: i64) -> impl IntoView {
    let chat = use_chat();
    let label = move || {
        let today = dates::local_day(now_ms(), chat.utc_offset_min.get());
        dates::day_label(day, today)
    };
    view! {
        <div class="day-separator" role="separator" aria-label=label data-testid="day-separator">
            <span>{label}</span>
        </div>
    }
}

/// The clock, in Unix milliseconds.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// The line before the first message the reader had not read when the room opened.
#[component]
pub fn UnreadDivider() -> impl IntoView {
    view! {
        <div class="unread-divider" role="separator" aria-label="New messages" data-testid="unread-divider">
            <span>"New messages"</span>
        </div>
    }
}
