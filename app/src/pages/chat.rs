//! `/r/{room}`: the chat with a room open. Signed-out visitors are asked to log in (and,
//! with JavaScript, taken to the log-in page).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use protocol::ids::RoomId;

use super::split::chat_screen;
use crate::session_ui::use_session;

#[component]
pub fn RoomPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let room = Signal::derive(move || {
        params
            .with(|p| p.get("room"))
            .and_then(|r| r.parse::<RoomId>().ok())
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) => chat_screen(me, room).await,
                    _ => view! {
                        <main class="page page--narrow" data-testid="signed-out">
                            <h1>"Please log in"</h1>
                            <p>"This room is only for signed-in members. "
                                <a href="/login">"Log in"</a>" or "<a href="/signup">"create an account"</a>"."</p>
                            <leptos_router::components::Redirect path="/login" />
                        </main>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
