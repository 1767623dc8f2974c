//! A person's name (their newest, [`crate::chat::people`]) as a button that opens their
//! profile card (beside messages, thread replies, and in the member list): avatar, name, handle,
//! bio, and the local time where they are (their time zone, shown by the browser's own
//! clock; a zone the browser does not know shows none). Read when opened
//! ([`crate::chat::api::profile::load_profile`]).

use leptos::prelude::*;
use protocol::UserView;

use super::avatar::Avatar;
use super::modal::Modal;
use crate::chat::api::profile::load_profile;
use crate::chat::state::Chat;

#[component]
pub fn PersonName(
    user: UserView,
    /// The name's own class where it stands (`message__author` by default).
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let chat = use_context::<Chat>();
    let name = {
        let user = user.clone();
        move || match chat {
            Some(chat) => chat.people.with(|p| p.look(&user).name),
            None => user.name.clone(),
        }
    };
    let shown = StoredValue::new(user);
    let class = format!("{} link-button", class.unwrap_or("message__author"));
    view! {
        <button class=class data-testid="person-name"
            title="Show the profile" on:click=move |_| open.set(true)>{name}</button>
        {move || open.get().then(|| view! {
            <Card user=shown.get_value() close=move || open.set(false) />
        })}
    }
}

#[component]
fn Card(user: UserView, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let user = match use_context::<Chat>() {
        Some(chat) => chat.people.with_untracked(|p| p.look(&user)),
        None => user,
    };
    let id = user.id;
    let profile = LocalResource::new(move || load_profile(id));
    let title = user.name.clone();
    view! {
        <Modal title close>
            <div class="profile-card" data-testid="profile-card">
                <Avatar user=user.clone() large=true />
                <p class="profile-card__handle">"@"{user.handle.clone()}</p>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || profile.get().map(|found| match found {
                        Ok(p) => {
                            let local = local_time(&p.time_zone);
                            view! {
                                {(!p.bio.is_empty()).then(|| view! {
                                    <p class="profile-card__bio" data-testid="profile-bio">{p.bio.clone()}</p>
                                })}
                                {local.map(|t| view! {
                                    <p class="profile-card__time" data-testid="profile-time">
                                        {format!("Local time {t} ({})", p.time_zone)}
                                    </p>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </div>
        </Modal>
    }
}

/// The time now in `zone` ("14:05"), as the browser's `toLocaleTimeString` gives it;
/// `None` for no zone, or one the browser does not know (it throws, and is caught).
fn local_time(zone: &str) -> Option<String> {
    if zone.is_empty() {
        return None;
    }
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &k.into(), &v.into());
        set("timeZone", zone).ok()?;
        set("hour", "2-digit").ok()?;
        set("minute", "2-digit").ok()?;
        set("hourCycle", "h23").ok()?;
        let now = js_sys::Date::new_0();
        let format = js_sys::Reflect::get(&now, &"toLocaleTimeString".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        format
            .call2(&now, &JsValue::from_str("en-GB"), &options)
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}
