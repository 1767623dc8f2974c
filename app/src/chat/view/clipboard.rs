//! Copying a link of this site: a path made absolute on the page's origin, put on the
//! clipboard. Used by the invite dialog's link and a message's *Copy link*.

/// `path` on this page's origin: the link as someone else will open it.
pub fn absolute(path: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{path}")
}

/// Puts `text` on the clipboard through `navigator.clipboard.writeText`, looked up by
/// name. The browser may refuse silently; callers keep the text where it can be copied
/// by hand, or say where it leads.
pub fn copy(text: &str) {
    use wasm_bindgen::{JsCast, JsValue};
    let get = |on: &JsValue, name: &str| js_sys::Reflect::get(on, &JsValue::from_str(name)).ok();
    let Some(window) = web_sys::window() else {
        return;
    };
    let clipboard = get(&window.into(), "navigator").and_then(|n| get(&n, "clipboard"));
    let write = clipboard
        .as_ref()
        .and_then(|c| get(c, "writeText"))
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let (Some(clipboard), Some(write)) = (clipboard, write) {
        let _ = write.call1(&clipboard, &JsValue::from_str(text));
    }
}
