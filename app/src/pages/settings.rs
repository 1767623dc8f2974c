//! `/settings`: the signed-in person's account: avatar picture ([`super::avatar_setting`]),
//! display name, bio and time zone (with the browser's own zone offered), password, sessions, API tokens, and deactivating the
//! account. Every form posts to a server function in
//! [`crate::account`], with or without JavaScript; a change comes back to this page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::avatar_setting::AvatarSetting;
use super::password::PasswordField;
use crate::account::{
    AccountSettings, ChangeDisplayName, ChangePassword, ChangeProfile, CreateToken,
    DeactivateAccount, EndSession, RevokeToken, account_overview,
};
use crate::session_ui::FormError;

/// The settings page; asks to sign in when signed out.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let rename = ServerAction::<ChangeDisplayName>::new();
    let profile = ServerAction::<ChangeProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndSession>::new();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let deactivate = ServerAction::<DeactivateAccount>::new();
    let overview = Resource::new(
        move || {
            (
                rename.version().get(),
                profile.version().get(),
                end.version().get(),
                create.version().get(),
                revoke.version().get(),
            )
        },
        |_| account_overview(),
    );
    let errors = |a: ServerAction<_>| Signal::derive(move || a.value().get().and_then(Result::err));
    let rename_error = errors(rename);
    let profile_error = Signal::derive(move || profile.value().get().and_then(Result::err));
    let password_error = Signal::derive(move || password.value().get().and_then(Result::err));
    let token_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let deactivate_error = Signal::derive(move || deactivate.value().get().and_then(Result::err));
    let new_secret = move || create.value().get().and_then(Result::ok);
    let password_changed = move || matches!(password.value().get(), Some(Ok(())));

    view! {
        <Title text="Settings · Confab" />
        <main class="page page--narrow settings" data-testid="settings">
            <p><a class="text-link" href="/">"← Back to chat"</a></p>
            <h1>"Settings"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(account) => view! {
                            <Account account rename rename_error profile profile_error end revoke />
                        }
                        .into_any(),
                        Err(_) => view! {
                            <p>"Sign in to see your settings. " <a class="text-link" href="/login">"Log in"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>

            <section class="settings__section" aria-labelledby="password-heading">
                <h2 id="password-heading">"Password"</h2>
                <FormError error=password_error />
                <Show when=password_changed>
                    <p class="form-ok" role="status">"Password changed. Your other sessions were signed out."</p>
                </Show>
                <ActionForm action=password attr:class="form">
                    <PasswordField name="current" label="Current password" autocomplete="current-password" />
                    <PasswordField name="new_password" label="New password" autocomplete="new-password" />
                    <button type="submit" class="button">"Change password"</button>
                </ActionForm>
            </section>

            <section class="settings__section" aria-labelledby="tokens-new-heading">
                <h2 id="tokens-new-heading">"New API token"</h2>
                <p class="muted">"For bots and tools: send it as " <code>"Authorization: Bearer …"</code> "."</p>
                <FormError error=token_error />
                <ActionForm action=create attr:class="form form--inline">
                    <label>"Name" <input name="name" required maxlength="64" placeholder="ci-bot" /></label>
                    <button type="submit" class="button">"Create token"</button>
                </ActionForm>
                {move || new_secret().map(|secret| view! {
                    <div class="settings__secret" role="status" data-testid="new-token">
                        <p>"Copy it now: it will not be shown again."</p>
                        <code>{secret}</code>
                    </div>
                })}
            </section>

            <section class="settings__section settings__danger" aria-labelledby="deactivate-heading">
                <h2 id="deactivate-heading">"Deactivate account"</h2>
                <p class="muted">"You will be signed out everywhere and cannot sign in again. Your messages stay."</p>
                <FormError error=deactivate_error />
                <ActionForm action=deactivate attr:class="form">
                    <PasswordField name="password" label="Your password" autocomplete="current-password" />
                    <button type="submit" class="button button--danger">"Deactivate my account"</button>
                </ActionForm>
            </section>
        </main>
    }
}

/// The parts that show the account as it is: name, sessions, tokens.
#[component]
fn Account(
    account: AccountSettings,
    rename: ServerAction<ChangeDisplayName>,
    rename_error: Signal<Option<crate::auth::AuthError>>,
    profile: ServerAction<ChangeProfile>,
    profile_error: Signal<Option<crate::auth::AuthError>>,
    end: ServerAction<EndSession>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let AccountSettings {
        person,
        handle,
        display_name,
        bio,
        time_zone,
        site_admin,
        sessions,
        tokens,
    } = account;
    // The browser's own time zone, offered for the field (known once hydrated).
    let browser_zone = RwSignal::new(None::<String>);
    Effect::new(move |_| browser_zone.set(this_browser_s_zone()));
    let zone_input = NodeRef::<leptos::html::Input>::new();
    view! {
        {site_admin.then(|| view! {
            <p><a class="text-link" href="/admin" data-testid="admin-link">"Site administration →"</a></p>
        })}
        <AvatarSetting me=person />
        <section class="settings__section" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <p class="muted">"Your handle is @" {handle} "; it does not change."</p>
            <FormError error=rename_error />
            <ActionForm action=rename attr:class="form form--inline">
                <label>
                    "Display name"
                    <input name="display_name" required maxlength="64" value=display_name data-testid="display-name" />
                </label>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
            <FormError error=profile_error />
            <ActionForm action=profile attr:class="form" attr:data-testid="profile-form">
                <label class="field">
                    <span>"Bio"</span>
                    <textarea name="bio" rows="3" maxlength=protocol::names::BIO_MAX_CHARS data-testid="bio"
                        placeholder="A few words about you: what you work on, what to ask you about">{bio}</textarea>
                </label>
                <label class="field">
                    <span>"Time zone"</span>
                    <input name="time_zone" maxlength=protocol::names::TIME_ZONE_MAX_CHARS value=time_zone
                        node_ref=zone_input data-testid="time-zone" placeholder="Europe/Lisbon" />
                </label>
                {move || browser_zone.get().map(|zone| {
                    let shown = zone.clone();
                    view! {
                        <p class="muted">"This browser is in " {shown} ". "
                            <button type="button" class="link-button" data-testid="use-browser-zone"
                                on:click=move |_| if let Some(el) = zone_input.get_untracked() { el.set_value(&zone) }>"Use it"</button>
                        </p>
                    }
                })}
                <button type="submit" class="button">"Save profile"</button>
            </ActionForm>
        </section>
        <section class="settings__section" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <ul class="settings__list" data-testid="sessions">
                {sessions.into_iter().map(|s| view! {
                    <li class="settings__row">
                        <span>
                            {if s.current { "This browser" } else { "Another browser" }}
                            <span class="muted">" · active until " {s.until.clone()}</span>
                        </span>
                        {(!s.current).then(|| view! {
                            <ActionForm action=end attr:class="inline-form">
                                <input type="hidden" name="key" value=s.key.clone() />
                                <button type="submit" class="button button--quiet">"Sign out"</button>
                            </ActionForm>
                        })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <section class="settings__section" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <ul class="settings__list" data-testid="tokens">
                {tokens.into_iter().map(|t| view! {
                    <li class="settings__row">
                        <span>
                            <strong>{t.name.clone()}</strong>
                            <span class="muted">
                                " · created " {t.created.clone()}
                                {t.last_used.clone().map(|at| format!(" · last used {at}"))}
                                {t.revoked.then_some(" · revoked")}
                            </span>
                        </span>
                        {(!t.revoked).then(|| view! {
                            <ActionForm action=revoke attr:class="inline-form">
                                <input type="hidden" name="id" value=t.id.clone() />
                                <button type="submit" class="button button--quiet">"Revoke"</button>
                            </ActionForm>
                        })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The browser's time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`); `None`
/// on the server.
fn this_browser_s_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}
