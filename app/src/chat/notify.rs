//! Browser notifications (the Notification API) for mentions and direct messages that
//! arrive while the tab is hidden. Nothing is asked before the person chooses to turn
//! them on (a button in the top bar); a refusal is respected and never asked again by
//! us (the browser remembers it). Clicking a notification brings the tab forward on the
//! room.
//!
//! What to say and when is pure logic here ([`alert_for`]); showing it is browser-only.

use protocol::ids::RoomId;

/// Longest notification text, in characters (a longer body is cut with `…`).
pub const BODY_CHARS_MAX: usize = 140;

/// What the browser lets us do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// No Notification API (or not in a secure context).
    Unsupported,
    /// Not asked yet.
    Ask,
    Granted,
    Denied,
}

/// Someone else's new message, as far as alerting goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival<'a> {
    /// The room's title as the sidebar shows it (a DM: the other person's name).
    pub room_title: &'a str,
    pub dm: bool,
    /// Whether it calls out the reader (`@handle`, `@room`).
    pub mention: bool,
    /// The author's display name and the body, when known (an unread notice for a room
    /// this page does not watch carries neither).
    pub author: Option<&'a str>,
    pub body: Option<&'a str>,
}

/// A notification to show: its title, its text, and the tag that makes a newer one for
/// the same room replace the older.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
    pub tag: String,
}

/// The notification for `arrival` when the tab is `hidden`, if one is due: only for
/// mentions and direct messages, only while hidden.
pub fn alert_for(room: RoomId, arrival: &Arrival<'_>, hidden: bool) -> Option<Alert> {
    if !hidden || !(arrival.mention || arrival.dm) {
        return None;
    }
    let title = match (arrival.dm, arrival.author) {
        (true, _) => arrival.room_title.to_string(),
        (false, Some(author)) => format!("{author} mentioned you in #{}", arrival.room_title),
        (false, None) => format!("You were mentioned in #{}", arrival.room_title),
    };
    let body = match arrival.body {
        Some(body) => shorten(body),
        None if arrival.dm => "New message".to_string(),
        None => "New mention".to_string(),
    };
    Some(Alert {
        title,
        body,
        tag: format!("room-{room}"),
    })
}

fn shorten(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= BODY_CHARS_MAX {
        return flat;
    }
    let mut cut: String = flat.chars().take(BODY_CHARS_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(feature = "hydrate")]
pub use browser::{permission, request, show};

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Alert, Permission};
    use protocol::ids::RoomId;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    fn supported() -> bool {
        web_sys::window().is_some_and(|w| {
            js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
        })
    }

    /// What the browser allows now.
    pub fn permission() -> Permission {
        if !supported() {
            return Permission::Unsupported;
        }
        match Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Denied => Permission::Denied,
            _ => Permission::Ask,
        }
    }

    /// Asks the person (the browser shows its prompt); `done` gets the answer.
    pub fn request(done: impl FnOnce(Permission) + 'static) {
        if !supported() {
            return done(Permission::Unsupported);
        }
        let Ok(promise) = Notification::request_permission() else {
            return done(permission());
        };
        let mut done = Some(done);
        let answered = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if let Some(done) = done.take() {
                done(permission());
            }
        });
        let _ = promise.then(&answered);
        // Called once, when the person answers; it lives until then.
        answered.forget();
    }

    /// Shows `alert` if allowed; a click focuses the tab and opens `room`.
    pub fn show(alert: &Alert, room: RoomId) {
        if permission() != Permission::Granted {
            return;
        }
        let options = NotificationOptions::new();
        options.set_body(&alert.body);
        options.set_tag(&alert.tag);
        let Ok(note) = Notification::new_with_options(&alert.title, &options) else {
            return;
        };
        let onclick = Closure::<dyn FnMut()>::new(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
                let path = format!("/r/{room}");
                if w.location().pathname().ok().as_deref() != Some(path.as_str()) {
                    let _ = w.location().set_href(&path);
                }
            }
        });
        note.set_onclick(Some(onclick.as_ref().unchecked_ref()));
        // The handler lives as long as the notification may be clicked.
        onclick.forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn room() -> RoomId {
        RoomId(Uuid::from_u128(3))
    }

    fn arrival<'a>() -> Arrival<'a> {
        Arrival {
            room_title: "general",
            dm: false,
            mention: true,
            author: Some("Ana"),
            body: Some("hi @bo"),
        }
    }

    #[test]
    fn only_mentions_and_dms_while_hidden() {
        assert!(alert_for(room(), &arrival(), true).is_some());
        assert!(alert_for(room(), &arrival(), false).is_none());
        let plain = Arrival {
            mention: false,
            ..arrival()
        };
        assert!(alert_for(room(), &plain, true).is_none());
        let dm = Arrival {
            dm: true,
            ..plain.clone()
        };
        assert!(alert_for(room(), &dm, true).is_some());
    }

    #[test]
    fn says_who_and_where() {
        let a = alert_for(room(), &arrival(), true).unwrap();
        assert_eq!(a.title, "Ana mentioned you in #general");
        assert_eq!(a.body, "hi @bo");
        assert_eq!(a.tag, format!("room-{}", room()));
        let dm = Arrival {
            dm: true,
            room_title: "Ana",
            author: None,
            body: None,
            ..arrival()
        };
        let a = alert_for(room(), &dm, true).unwrap();
        assert_eq!((a.title.as_str(), a.body.as_str()), ("Ana", "New message"));
        let unknown = Arrival {
            author: None,
            body: None,
            ..arrival()
        };
        let a = alert_for(room(), &unknown, true).unwrap();
        assert_eq!(a.title, "You were mentioned in #general");
    }

    #[test]
    fn long_bodies_are_cut_and_flattened() {
        let long = format!("line\n{}", "x".repeat(300));
        let a = alert_for(
            room(),
            &Arrival {
                body: Some(&long),
                ..arrival()
            },
            true,
        )
        .unwrap();
        assert_eq!(a.body.chars().count(), BODY_CHARS_MAX);
        assert!(a.body.starts_with("line x") && a.body.ends_with('…'));
    }
}
