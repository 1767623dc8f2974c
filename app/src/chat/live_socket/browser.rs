//! What the socket asks of the browser: the clock, whether the tab is visible and the
//! browser online, fresh
//! client ids, the outbox's place in `localStorage` and the gateway's address.

use leptos::prelude::*;

use crate::chat::state::Chat;

pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

pub(super) fn is_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        .unwrap_or(true)
}

/// What the browser believes of its network (`navigator.onLine`; true if unknown). Read
/// by reflection, which spares web-sys's `Navigator` bindings for one flag.
pub(super) fn is_online() -> bool {
    let Some(window) = web_sys::window() else {
        return true;
    };
    js_sys::Reflect::get(&window, &"navigator".into())
        .and_then(|nav| js_sys::Reflect::get(&nav, &"onLine".into()))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

pub(super) fn new_client_msg_id() -> String {
    let r = |_| (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{:x}-{:08x}{:08x}", now_ms() as u64, r(0), r(1))
}

pub(super) fn outbox_key(chat: &Chat) -> String {
    let me = chat
        .me
        .with_untracked(|m| m.as_ref().map(|m| m.id.to_string()))
        .unwrap_or_default();
    format!("confab.outbox.{me}")
}

pub(super) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(super) fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub(super) fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

pub(super) fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    let host = location.host().ok()?;
    Some(format!("{scheme}://{host}{}", protocol::WS_PATH))
}
