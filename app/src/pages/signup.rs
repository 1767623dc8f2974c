//! `/signup`: create an account (and be signed in).

use leptos::prelude::*;
use leptos_meta::Title;
use protocol::names::{DISPLAY_NAME_MAX_CHARS, HANDLE_CHARS, PASSWORD_CHARS};

use super::password::PasswordField;
use crate::auth::SignUp;
use crate::session_ui::{FormError, use_session};

/// The sign-up form. Posts to the `sign_up` server function, with or without JavaScript.
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    use_session().follow(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Sign up · Confab" />
        <main class="page page--narrow">
            <h1>"Create your account"</h1>
            <FormError error />
            <ActionForm action=action attr:class="form">
                <label>
                    "Handle"
                    <input name="handle" autocomplete="username" required />
                    <small class="muted">
                        {format!(
                            "{} to {} letters, digits, _ . -; people mention you with it.",
                            HANDLE_CHARS.0,
                            HANDLE_CHARS.1,
                        )}
                    </small>
                </label>
                <label>
                    "Display name"
                    <input name="display_name" autocomplete="name" required />
                    <small class="muted">
                        {format!("Up to {DISPLAY_NAME_MAX_CHARS} characters.")}
                    </small>
                </label>
                <PasswordField autocomplete="new-password"
                    hint=format!("At least {} characters.", PASSWORD_CHARS.0) />
                <button type="submit" class="button">"Sign up"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a class="text-link" href="/login">"Log in"</a></p>
        </main>
    }
}
