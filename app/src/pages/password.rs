//! A password field with a "Show" toggle. The toggle needs JavaScript, so it stays
//! disabled until the page is hydrated; the field itself works either way.

use leptos::prelude::*;

use crate::hydration::use_hydrated;

#[component]
pub fn PasswordField(
    /// `current-password` or `new-password`.
    autocomplete: &'static str,
    /// A hint under the field.
    #[prop(optional)]
    hint: Option<String>,
    /// The form field's name (`password` unless given).
    #[prop(default = "password")]
    name: &'static str,
    /// The visible label (`Password` unless given).
    #[prop(default = "Password")]
    label: &'static str,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let shown = RwSignal::new(false);
    view! {
        <div class="password">
            <label class="password__label">
                {label}
                <input name=name type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete required maxlength="256" data-testid=name />
                {hint.map(|h| view! { <small class="muted">{h}</small> })}
            </label>
            <button type="button" class="button button--quiet password__toggle" data-testid="show-password"
                disabled=move || !hydrated.get()
                aria-pressed=move || shown.get().to_string()
                on:click=move |_| shown.update(|s| *s = !*s)>
                {move || if shown.get() { "Hide password" } else { "Show password" }}
            </button>
        </div>
    }
}
