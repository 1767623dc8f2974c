//! `/login`: sign in with a handle and a password.

use leptos::prelude::*;
use leptos_meta::Title;

use super::password::PasswordField;
use crate::auth::LogIn;
use crate::session_ui::{FormError, use_session};

/// The log-in form. Posts to the `log_in` server function, with or without JavaScript.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    use_session().follow(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Log in · Confab" />
        <main class="page page--narrow">
            <h1>"Log in"</h1>
            <FormError error />
            <ActionForm action=action attr:class="form">
                <label>
                    "Handle"
                    <input name="handle" autocomplete="username" required maxlength="64" />
                </label>
                <PasswordField autocomplete="current-password" />
                <button type="submit" class="button">"Log in"</button>
            </ActionForm>
            <p class="muted">"New here? " <a class="text-link" href="/signup">"Create an account"</a></p>
        </main>
    }
}
