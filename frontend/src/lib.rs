//! The browser entry point: hydrates the server-rendered page.

/// Called by the generated JS once the wasm module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: the chat pages' code is a separate part of the bundle (`cargo leptos build
    // --split`), loaded before such a page hydrates (app::pages::split).
    leptos::mount::hydrate_lazy(app::App);
}
