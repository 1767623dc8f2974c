//! `/admin`: the site admin's page. A search of active accounts by handle, each with a
//! *Deactivate* button that asks first; everyone else is told the page is not theirs.
//! The work is [`crate::admin`]'s server functions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::admin::{AccountRow, admin_accounts, admin_deactivate};

#[component]
pub fn AdminPage() -> impl IntoView {
    let prefix = RwSignal::new(String::new());
    // Bumped after a deactivation, so the list is read again.
    let done = RwSignal::new(0u32);
    let accounts = Resource::new(
        move || (prefix.get(), done.get()),
        |(p, _)| admin_accounts(p),
    );
    let notice = RwSignal::new(None::<String>);
    view! {
        <Title text="Site administration · Confab" />
        <main class="page page--narrow admin" data-testid="admin">
            <p><a class="text-link" href="/">"← Back to chat"</a></p>
            <h1>"Site administration"</h1>
            <label class="field">
                <span>"Find accounts by handle"</span>
                <input type="search" data-testid="admin-search" placeholder="ana"
                    on:input=move |ev| prefix.set(event_target_value(&ev)) prop:value=move || prefix.get() />
            </label>
            {move || notice.get().map(|n| view! { <p class="form-ok" role="status" data-testid="admin-notice">{n}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No active account starts so."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="settings__list" data-testid="admin-accounts">
                                {list.into_iter().map(|a| view! { <Row account=a done notice /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert" data-testid="admin-refused">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn Row(
    account: AccountRow,
    done: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let AccountRow {
        id,
        handle,
        name,
        site_admin,
        me,
    } = account;
    let who = format!("{name} (@{handle})");
    let said = who.clone();
    let deactivate = move |_| {
        let id = id.clone();
        let said = said.clone();
        leptos::task::spawn_local(async move {
            match admin_deactivate(id).await {
                Ok(()) => {
                    notice.set(Some(format!("{said} was deactivated.")));
                    done.update(|n| *n += 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <li class="settings__row" data-testid="admin-account" data-handle=handle.clone()>
            <span>
                <strong>{name.clone()}</strong>
                <span class="muted">" @" {handle.clone()} {site_admin.then_some(" · site admin")} {me.then_some(" · you")}</span>
            </span>
            {(!me).then(|| view! {
                <Show when=move || asking.get()
                    fallback=move || view! {
                        <button class="button button--quiet" data-testid="admin-deactivate"
                            on:click=move |_| asking.set(true)>"Deactivate"</button>
                    }>
                    <span class="admin__question" role="group" aria-label=format!("Deactivate {who}?")>
                        {format!("Deactivate {who}? They are signed out everywhere.")}
                        <button class="button button--quiet" on:click=move |_| asking.set(false)>"Cancel"</button>
                        <button class="button button--danger" data-testid="admin-deactivate-confirm"
                            on:click=deactivate.clone()>"Deactivate"</button>
                    </span>
                </Show>
            })}
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        </li>
    }
}
