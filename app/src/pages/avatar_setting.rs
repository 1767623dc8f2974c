//! The settings page's avatar section: the picture people see beside one's messages, a
//! button to upload a new one (any PNG, JPEG, GIF or WebP: the server keeps its middle
//! square, scaled down) with a progress bar, and *Remove* to go back to the initials.
//! Uploads go to `PUT /avatar` as the raw body through an `XMLHttpRequest` (for its
//! progress events), removals to `DELETE /avatar`; the server's refusal is shown as it
//! words it.

use leptos::prelude::*;
use protocol::UserView;

use crate::chat::view::avatar::Avatar;

/// What the browser accepts from the file picker.
const ACCEPT: &str = "image/png,image/jpeg,image/gif,image/webp";

#[component]
pub fn AvatarSetting(me: UserView) -> impl IntoView {
    let current = RwSignal::new(me);
    // 0 to 1 while an upload is on its way.
    let progress = RwSignal::new(None::<f64>);
    let error = RwSignal::new(None::<String>);
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let file = input.files().and_then(|list| list.get(0));
        input.set_value("");
        if let Some(file) = file {
            error.set(None);
            progress.set(Some(0.0));
            browser::send("PUT", Some(file), progress, move |result| {
                progress.set(None);
                match result.and_then(|body| {
                    serde_json::from_str::<UserView>(&body)
                        .map_err(|_| "The server's answer could not be read.".to_string())
                }) {
                    Ok(view) => current.set(view),
                    Err(reason) => error.set(Some(reason)),
                }
            });
        }
    };
    let on_remove = move |_| {
        error.set(None);
        browser::send("DELETE", None, progress, move |result| match result {
            Ok(_) => current.update(|u| u.avatar = None),
            Err(reason) => error.set(Some(reason)),
        });
    };
    view! {
        <section class="settings__section" aria-labelledby="avatar-heading">
            <h2 id="avatar-heading">"Avatar"</h2>
            <div class="avatar-setting" data-testid="avatar-setting">
                {move || view! { <Avatar user=current.get() large=true /> }}
                <div class="avatar-setting__actions">
                    <label class="button">
                        "Upload a picture"
                        <input type="file" class="visually-hidden" accept=ACCEPT
                            data-testid="avatar-input" on:change=on_pick />
                    </label>
                    {move || current.with(|u| u.avatar.is_some()).then(|| view! {
                        <button type="button" class="button button--quiet" on:click=on_remove>
                            "Remove picture"
                        </button>
                    })}
                </div>
                {move || progress.get().map(|p| view! {
                    <progress max="1" prop:value=p aria-label="Uploading the picture"
                        data-testid="avatar-progress"></progress>
                })}
            </div>
            <p class="muted">"PNG, JPEG, GIF or WebP. The middle square is kept; without a picture, your initials show."</p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

/// The request itself (browser only in effect: called from event handlers).
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{File, ProgressEvent, XmlHttpRequest};

    /// Sends `method /avatar` with `file` as the body; reports the upload's progress in
    /// `progress`, then calls `done` with the answer's body, or the refusal's message.
    pub fn send(
        method: &str,
        file: Option<File>,
        progress: RwSignal<Option<f64>>,
        done: impl FnOnce(Result<String, String>) + 'static,
    ) {
        if start(method, file.as_ref(), progress, done).is_err() {
            progress.set(None);
        }
    }

    fn start(
        method: &str,
        file: Option<&File>,
        progress: RwSignal<Option<f64>>,
        done: impl FnOnce(Result<String, String>) + 'static,
    ) -> Result<(), JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open_with_async(method, "/avatar", true)?;
        let moved = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress.try_set(Some(ev.loaded() / ev.total()));
            }
        });
        xhr.upload()?
            .set_onprogress(Some(moved.as_ref().unchecked_ref()));
        let answered = xhr.clone();
        // `loadend` follows every end; the progress handler lives until then.
        let ended = Closure::once_into_js(move |_: ProgressEvent| {
            drop(moved);
            let status = answered.status().unwrap_or(0);
            let body = answered.response_text().ok().flatten().unwrap_or_default();
            done(super::outcome(status, body));
        });
        xhr.set_onloadend(Some(ended.unchecked_ref()));
        match file {
            Some(file) => xhr.send_with_opt_blob(Some(file))?,
            None => xhr.send()?,
        }
        Ok(())
    }
}

/// An answer's body on success (2xx), else the message to show: the server's own (its
/// error body is `{"code", "message"}`), or a general one.
fn outcome(status: u16, body: String) -> Result<String, String> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    #[derive(serde::Deserialize)]
    struct Refusal {
        message: String,
    }
    Err(match serde_json::from_str::<Refusal>(&body) {
        Ok(r) if !r.message.is_empty() => format!("The picture was refused: {}.", r.message),
        _ if status == 0 => "The picture could not be sent; check the connection.".into(),
        _ => format!("The picture could not be saved (HTTP {status})."),
    })
}

#[cfg(test)]
mod tests {
    use super::outcome;

    #[test]
    fn an_answer_is_the_body_or_the_reason_in_words() {
        assert_eq!(outcome(200, "{}".into()), Ok("{}".into()));
        assert_eq!(outcome(204, String::new()), Ok(String::new()));
        assert_eq!(
            outcome(
                422,
                r#"{"code":"bad_file","message":"the image could not be decoded"}"#.into()
            ),
            Err("The picture was refused: the image could not be decoded.".into())
        );
        assert_eq!(
            outcome(0, String::new()),
            Err("The picture could not be sent; check the connection.".into())
        );
        assert_eq!(
            outcome(502, "<html>".into()),
            Err("The picture could not be saved (HTTP 502).".into())
        );
    }
}
