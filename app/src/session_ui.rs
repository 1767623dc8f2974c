//! Who is signed in, for every page: a resource of the current user that refetches
//! whenever the session changes, and the log-out action.
//!
//! The log-in and sign-up actions are created by their pages, inside the router: only
//! there does `ServerAction::new` see the error a no-JavaScript form post was redirected
//! back with (`?__err=…`), so that the server-rendered page can show it. A page whose
//! action succeeds calls [`SessionCtx::changed`].

use leptos::prelude::*;

use crate::auth::{AuthError, LogOut, Me, current_user};

/// The current user and the log-out action, provided by [`provide_session`].
#[derive(Clone, Copy)]
pub struct SessionCtx {
    version: RwSignal<u64>,
    pub log_out: ServerAction<LogOut>,
    pub me: Resource<Result<Option<Me>, AuthError>>,
}

impl SessionCtx {
    /// Tells every view that the session changed (someone signed in or out).
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }

    /// Calls [`SessionCtx::changed`] whenever `action` completes successfully.
    pub fn follow<A>(&self, action: ServerAction<A>)
    where
        A: leptos::server_fn::ServerFn<Output = ()> + Clone + Send + Sync + 'static,
        A::Error: Clone + Send + Sync + 'static,
    {
        let this = *self;
        Effect::new(move |_| {
            if matches!(action.value().get(), Some(Ok(()))) {
                this.changed();
            }
        });
    }
}

/// Creates the log-out action and the user resource and puts them in context.
pub fn provide_session() -> SessionCtx {
    let version = RwSignal::new(0u64);
    let log_out = ServerAction::<LogOut>::new();
    let me = Resource::new(
        move || (version.get(), log_out.version().get()),
        |_| current_user(),
    );
    let ctx = SessionCtx {
        version,
        log_out,
        me,
    };
    provide_context(ctx);
    ctx
}

/// The session context; panics only if a page is rendered outside [`crate::App`].
pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}

/// The account corner of the top bar: "signed in as …" with a log-out button, or links
/// to log in and sign up.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| view! { <span class="account">"…"</span> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) => view! {
                        <div class="account" data-testid="account">
                            <span class="account__who">
                                "Signed in as " <strong data-testid="me">{me.display_name.clone()}</strong>
                                " (@" {me.handle.clone()} ")"
                            </span>
                            <a class="button button--quiet" href="/settings" data-testid="settings-link">"Settings"</a>
                            <ActionForm action=session.log_out attr:class="inline-form">
                                <button type="submit" class="button button--quiet">"Log out"</button>
                            </ActionForm>
                        </div>
                    }
                    .into_any(),
                    _ => view! {
                        <nav class="account" data-testid="account">
                            <a class="button button--quiet" href="/login">"Log in"</a>
                            <a class="button" href="/signup">"Sign up"</a>
                        </nav>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The error of the last run of an account action, shown above its form.
#[component]
pub fn FormError(error: Signal<Option<AuthError>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert" data-testid="form-error">
                {move || error.get().map(|e| e.to_string()).unwrap_or_default()}
            </p>
        </Show>
    }
}
