//! Asking before a delete: a message or a reply is deleted only after the person says so
//! in a small alert dialog (Cancel has the focus, so Enter or Esc keeps the message).

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId};

use super::modal::Modal;
use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;

/// What is waiting for a yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Message { room: RoomId, message: MessageId },
    Reply { room: RoomId, message: MessageId },
}

/// The pending question, shared by every message row through context.
#[derive(Clone, Copy)]
pub struct Confirm(RwSignal<Option<Deletion>>);

impl Confirm {
    /// Opens the question for `what`.
    pub fn ask(&self, what: Deletion) {
        self.0.set(Some(what));
    }
}

/// Puts a [`Confirm`] in context for the chat screen.
pub fn provide_confirm() -> Confirm {
    let c = Confirm(RwSignal::new(None));
    provide_context(c);
    c
}

/// The chat screen's [`Confirm`].
pub fn use_confirm() -> Confirm {
    expect_context::<Confirm>()
}

/// The dialog, shown while a question is pending.
#[component]
pub fn ConfirmDelete(confirm: Confirm) -> impl IntoView {
    let chat = use_chat();
    let pending = confirm.0;
    let close = move || pending.set(None);
    let yes = move |_| {
        match pending.get_untracked() {
            Some(Deletion::Message { room, message }) => chat.delete(room, message),
            Some(Deletion::Reply { room, message }) => {
                chat.request(RequestKind::DeleteReply { room, message }, move |reply| {
                    if let Err(e) = reply {
                        chat.notify(format!("Could not delete the reply: {e}"));
                    }
                })
            }
            None => {}
        }
        close();
    };
    move || {
        pending.get().map(|what| {
            let (title, noun) = match what {
                Deletion::Message { .. } => ("Delete this message?", "message"),
                Deletion::Reply { .. } => ("Delete this reply?", "reply"),
            };
            view! {
                <Modal title close role="alertdialog" described_by="confirm-text">
                    <p id="confirm-text">
                        {format!("Everyone in the room will see that this {noun} was deleted. This cannot be undone.")}
                    </p>
                    <div class="dialog__actions">
                        <button class="button button--quiet" data-autofocus="true" on:click=move |_| close()>"Cancel"</button>
                        <button class="button button--danger" data-testid="confirm-delete" on:click=yes>"Delete"</button>
                    </div>
                </Modal>
            }
        })
    }
}
