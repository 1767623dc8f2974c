//! Statuses: what each status is called, the line shown on hover of a member, and the
//! form (in a dialog) where a person picks their own: active, away or do not disturb,
//! with an optional status line. It sends the server's `set_status`; the change comes
//! back to every room as presence, which the member lists show.

use leptos::prelude::*;
use protocol::names::StatusText;
use protocol::{Status, UserView};

use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;

/// The statuses a person can pick, in the picker's order.
const CHOICES: [Status; 3] = [Status::Active, Status::Away, Status::Dnd];

/// What a person reads for `status`.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Active => "Active",
        Status::Away => "Away",
        Status::Dnd => "Do not disturb",
    }
}

/// The wire name of `status`, used as `data-status` by CSS and tests.
pub fn status_key(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Away => "away",
        Status::Dnd => "dnd",
    }
}

/// The hover text of a member: name, handle, and their status while online.
pub fn describe(user: &UserView, status: Option<Status>, line: Option<&str>) -> String {
    let who = format!("{} (@{})", user.name, user.handle);
    match (status, line) {
        (None, _) => format!("{who}: offline"),
        (Some(s), None) => format!("{who}: {}", status_label(s)),
        (Some(s), Some(l)) => format!("{who}: {}, “{l}”", status_label(s)),
    }
}

/// One's own status as the rooms' presence last told it (active until known).
pub fn my_status() -> (Status, Option<String>) {
    let chat = use_chat();
    let me = chat.me.with(|m| m.as_ref().map(|m| m.id));
    me.and_then(|me| {
        chat.presence.with(|p| {
            p.values()
                .find_map(|r| r.users.get(&me).map(|e| (e.status, e.text.clone())))
        })
    })
    .unwrap_or((Status::Active, None))
}

/// The status dialog's form.
#[component]
pub fn StatusForm(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let chat = use_chat();
    let (now, now_line) = my_status();
    let choice = RwSignal::new(now);
    let line = RwSignal::new(now_line.unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let raw = line.get_untracked();
        let text = if raw.trim().is_empty() {
            None
        } else {
            match StatusText::parse(&raw) {
                Ok(t) => Some(t),
                Err(e) => return problem.set(Some(e.message)),
            }
        };
        busy.set(true);
        let status = choice.get_untracked();
        chat.request(RequestKind::SetStatus { status, text }, move |reply| {
            busy.set(false);
            match reply {
                Ok(_) => {
                    close();
                    chat.notify(format!("Your status is now {}.", status_label(status)));
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    view! {
        <form class="form" on:submit=submit data-testid="status-form">
            <fieldset class="status-choices">
                <legend>"Status"</legend>
                {CHOICES.into_iter().map(|s| view! {
                    <label class="check">
                        <input type="radio" name="status" value=status_key(s)
                            prop:checked=move || choice.get() == s
                            on:change=move |_| choice.set(s) />
                        <span class="dot dot--on" data-status=status_key(s) aria-hidden="true"></span>
                        <span>{status_label(s)}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            <label class="field">
                <span>"Status line (optional)"</span>
                <input type="text" maxlength="100" placeholder="In a meeting until 3"
                    data-testid="status-line"
                    on:input=move |ev| line.set(event_target_value(&ev)) prop:value=move || line.get() />
            </label>
            <p class="muted">"Active with no line lets Confab show you as away when you are idle."</p>
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" class="button" disabled=move || busy.get()>"Save status"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::UserId;

    fn ana() -> UserView {
        UserView {
            id: "0199f5c4-e3d2-7c1c-8a7f-3b9d2e4a6c01"
                .parse::<UserId>()
                .unwrap(),
            handle: "ana".into(),
            name: "Ana Lima".into(),
            avatar: None,
        }
    }

    #[test]
    fn hover_text_says_who_and_what() {
        assert_eq!(describe(&ana(), None, None), "Ana Lima (@ana): offline");
        assert_eq!(
            describe(&ana(), Some(Status::Away), None),
            "Ana Lima (@ana): Away"
        );
        assert_eq!(
            describe(&ana(), Some(Status::Dnd), Some("deep work")),
            "Ana Lima (@ana): Do not disturb, “deep work”"
        );
    }

    #[test]
    fn keys_are_the_wire_names() {
        for s in CHOICES {
            let wire = serde_json::to_string(&s).unwrap();
            assert_eq!(wire, format!("\"{}\"", status_key(s)));
        }
    }
}
