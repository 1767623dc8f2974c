//! Whether the page has been hydrated: false in the server's HTML and until the wasm has
//! taken over the page, then true. Controls that only work with JavaScript are disabled
//! until then (a `<noscript>` beside them says why), and tests wait for the root's
//! `data-hydrated="true"` before relying on client-side behaviour.

use leptos::prelude::*;

#[derive(Clone, Copy)]
struct Hydrated(RwSignal<bool>);

/// Creates the flag (flipped by an effect, and effects run only in the browser) and puts
/// it in context.
pub fn provide_hydrated() -> Signal<bool> {
    let flag = RwSignal::new(false);
    Effect::new(move |_| flag.set(true));
    provide_context(Hydrated(flag));
    flag.into()
}

/// Whether the page is hydrated (false outside [`crate::App`]).
pub fn use_hydrated() -> Signal<bool> {
    use_context::<Hydrated>()
        .map(|h| h.0.into())
        .unwrap_or_else(|| Signal::derive(|| false))
}
