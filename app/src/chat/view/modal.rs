//! The frame every dialog shares: a backdrop, a box with `role="dialog"` (or
//! `alertdialog`) and `aria-modal`, its title and a Close button. While it is open focus
//! stays inside it ([`super::focus`]); Esc, Close or a click on the backdrop closes it,
//! and focus goes back to the control that opened it. The lightbox of an image
//! (`attachments.rs`) is one too, named by the image's file name.

use leptos::html::Div;
use leptos::prelude::*;

#[component]
pub fn Modal(
    #[prop(into)] title: String,
    /// Closes the dialog (the owner clears its signal).
    close: impl Fn() + Copy + Send + Sync + 'static,
    /// `alertdialog` for a question that needs an answer; `dialog` otherwise.
    #[prop(default = "dialog")]
    role: &'static str,
    /// The id of the text that describes the dialog, if any.
    #[prop(optional)]
    described_by: Option<&'static str>,
    /// A class of the box's own beside `dialog` (`dialog--lightbox`).
    #[prop(optional)]
    variant: &'static str,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    let label = title.clone();
    // Runs once the box is in the page: note who had focus, move it inside.
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            super::focus::remember_opener();
            super::focus::focus_first(&el);
        }
    });
    on_cleanup(|| {
        #[cfg(feature = "hydrate")]
        super::focus::return_focus();
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| close()>
            <div class=format!("dialog {variant}") node_ref=node role=role aria-modal="true" aria-label=label
                aria-describedby=described_by data-testid="dialog"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        close();
                    } else if let Some(el) = node.get_untracked() {
                        super::focus::trap_tab(&ev, &el);
                    }
                }>
                <header class="dialog__header">
                    <h2>{title}</h2>
                    <button class="button button--quiet" on:click=move |_| close()>"Close"</button>
                </header>
                {children()}
            </div>
        </div>
    }
}
