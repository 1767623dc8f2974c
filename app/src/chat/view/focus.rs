//! Keeping keyboard focus inside a modal dialog: focus its first control when it opens,
//! wrap Tab and Shift+Tab around its controls, and give focus back to what had it before
//! (the button that opened it) when it closes. Also the arrow keys of a small menu. Browser only: callers run these from
//! effects and event handlers.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// What can take focus inside a dialog, in document order.
const FOCUSABLE: &str = "button:not([disabled]), [href], input:not([disabled]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

fn focusables(container: &Element) -> Vec<HtmlElement> {
    let Ok(list) = container.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// The element that has focus now (to give it back later).
pub fn focused() -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<HtmlElement>()
        .ok()
}

/// Focuses the dialog's control marked `data-autofocus`, else its first control.
pub fn focus_first(container: &Element) {
    let marked = container
        .query_selector("[data-autofocus]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(el) = marked.or_else(|| focusables(container).into_iter().next()) {
        let _ = el.focus();
    }
}

/// On Tab from the last control (or Shift+Tab from the first), wraps to the other end,
/// so focus never leaves the dialog.
pub fn trap_tab(ev: &web_sys::KeyboardEvent, container: &Element) {
    if ev.key() != "Tab" {
        return;
    }
    let all = focusables(container);
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        ev.prevent_default();
        return;
    };
    let now = focused();
    let inside = now
        .as_ref()
        .is_some_and(|n| container.contains(Some(n.unchecked_ref::<web_sys::Node>())));
    if ev.shift_key() && (!inside || now.as_ref() == Some(first)) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (!inside || now.as_ref() == Some(last)) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// In a menu: the arrow keys move focus to the next or previous item (wrapping), Home
/// and End to the first or last. Returns whether `ev` was one of those keys (and was
/// handled).
pub fn move_in_menu(ev: &web_sys::KeyboardEvent, menu: &Element) -> bool {
    let items = focusables(menu);
    if items.is_empty() {
        return false;
    }
    let at = focused().and_then(|f| items.iter().position(|i| *i == f));
    let last = items.len() - 1;
    let to = match ev.key().as_str() {
        "ArrowRight" | "ArrowDown" => at.map_or(0, |i| if i == last { 0 } else { i + 1 }),
        "ArrowLeft" | "ArrowUp" => at.map_or(last, |i| if i == 0 { last } else { i - 1 }),
        "Home" => 0,
        "End" => last,
        _ => return false,
    };
    ev.prevent_default();
    let _ = items[to].focus();
    true
}

/// Marks the element that has focus now as the one to give focus back to.
pub fn remember_opener() {
    if let Some(el) = focused() {
        let _ = el.set_attribute(RETURN, "");
    }
}

/// Gives focus back to the element [`remember_opener`] marked, or, if it is gone (a
/// deleted message's tools), to the composer.
pub fn return_focus() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let opener = doc.query_selector(&format!("[{RETURN}]")).ok().flatten();
    let target = opener
        .clone()
        .filter(|el| el.is_connected())
        .or_else(|| doc.query_selector(".composer__input").ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(el) = target {
        let _ = el.focus();
    }
    // Only now: the mark keeps a message's tools shown (CSS) until focus is back in them.
    if let Some(el) = &opener {
        let _ = el.remove_attribute(RETURN);
    }
}

/// The attribute that marks a dialog's opener.
const RETURN: &str = "data-return-focus";
