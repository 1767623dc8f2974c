//! Whether a part of the page has been hydrated: false in the server's HTML and until the
//! wasm has taken that part over, then true. Controls that only work with JavaScript are
//! disabled until then (a `<noscript>` beside them says why), and tests wait for the
//! root's `data-hydrated="true"` before relying on client-side behaviour.
//!
//! Each caller gets a flag of its own, flipped by an effect of its own: the chat's part of
//! the page hydrates later than the root (once its code has loaded, `pages::split`), and
//! hydration takes the server's HTML as it is, so a flag that was already true when that
//! part hydrated would never reach its attributes.

use leptos::prelude::*;

/// A flag that turns true once the calling component has been hydrated (effects run only
/// in the browser, after the component's hydration).
pub fn use_hydrated() -> Signal<bool> {
    let flag = RwSignal::new(false);
    Effect::new(move |_| flag.set(true));
    flag.into()
}
