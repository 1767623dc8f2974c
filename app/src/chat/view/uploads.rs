//! Attaching files in a composer: the paperclip button and its hidden file input
//! ([`AttachButton`]), the chips of the files waiting to go with the message, each with
//! its progress bar, its refusal or a remove button ([`UploadTray`]), a part of the page
//! that takes dropped files and lights up while they are dragged over it ([`DropZone`]),
//! and pasting files into the text box ([`paste_files`]). Every file starts uploading at
//! once (`chat::uploader`); what the tray holds is `chat::uploads::Tray`.

use leptos::html::Input;
use leptos::prelude::*;
use protocol::ids::RoomId;
use web_sys::{DataTransfer, File, FileList};

use super::attachments::FileIcon;
use crate::chat::attachments::{Family, human_size};
use crate::chat::uploader;
use crate::chat::uploads::{Tray, UploadKey, UploadState};
use crate::hydration::use_hydrated;

/// The files of a browser's list.
fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Whether a drag or a paste carries `kind` (`"Files"`, `"text/plain"`).
fn carries(data: &DataTransfer, kind: &str) -> bool {
    data.types()
        .iter()
        .any(|t| t.as_string().as_deref() == Some(kind))
}

/// The paperclip button; it opens the browser's file picker (several files at once).
#[component]
pub fn AttachButton(room: RoomId, tray: RwSignal<Tray>) -> impl IntoView {
    let hydrated = use_hydrated();
    let input = NodeRef::<Input>::new();
    let picked = move |_| {
        let Some(el) = input.get_untracked() else {
            return;
        };
        uploader::upload_all(room, files_of(el.files()), tray);
        // Picking the same file again must fire `change` again.
        el.set_value("");
    };
    view! {
        <button type="button" class="icon-button composer__attach" aria-label="Attach files"
            title="Attach files" data-testid="attach"
            disabled=move || !hydrated.get() || tray.with(|t| t.room_left() == 0)
            on:click=move |_| if let Some(el) = input.get_untracked() { el.click() }>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"
                fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"></path>
            </svg>
        </button>
        <input type="file" multiple hidden node_ref=input data-testid="attach-input"
            tabindex="-1" aria-hidden="true" on:change=picked />
    }
}

/// Pastes files into the composer: when what is pasted holds files and no plain text
/// (a screenshot, an image copied from a page), they are attached instead of pasted; text
/// (even text that comes with a picture of itself, as office programs copy it) is pasted
/// as usual.
pub fn paste_files(ev: &leptos::ev::ClipboardEvent, room: RoomId, tray: RwSignal<Tray>) {
    let Some(data) = ev.clipboard_data() else {
        return;
    };
    if carries(&data, "text/plain") {
        return;
    }
    let files = files_of(data.files());
    if !files.is_empty() {
        ev.prevent_default();
        uploader::upload_all(room, files, tray);
    }
}

/// A part of the page that takes dropped files into `tray`, marked (`drop-zone--over`,
/// `data-drop-over`) while files are dragged over it. Drags of anything but files (text,
/// links) are left to the browser.
#[component]
pub fn DropZone(
    room: RoomId,
    tray: RwSignal<Tray>,
    /// The zone's own class, beside `drop-zone`.
    class_name: &'static str,
    children: Children,
) -> impl IntoView {
    // `dragenter` and `dragleave` fire for every child crossed: count them, so the mark
    // stays on while the pointer is anywhere inside.
    let depth = StoredValue::new(0i32);
    let over = RwSignal::new(false);
    let with_files =
        |ev: &leptos::ev::DragEvent| ev.data_transfer().is_some_and(|d| carries(&d, "Files"));
    let enter = move |ev: leptos::ev::DragEvent| {
        if with_files(&ev) {
            ev.prevent_default();
            depth.update_value(|d| *d += 1);
            over.set(true);
        }
    };
    let hover = move |ev: leptos::ev::DragEvent| {
        if with_files(&ev) {
            // Allows the drop, and shows it as a copy.
            ev.prevent_default();
            if let Some(d) = ev.data_transfer() {
                d.set_drop_effect("copy");
            }
        }
    };
    let leave = move |ev: leptos::ev::DragEvent| {
        if with_files(&ev) {
            depth.update_value(|d| *d = (*d - 1).max(0));
            if depth.get_value() == 0 {
                over.set(false);
            }
        }
    };
    let dropped = move |ev: leptos::ev::DragEvent| {
        depth.set_value(0);
        over.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            ev.prevent_default();
            uploader::upload_all(room, files, tray);
        }
    };
    view! {
        <div class=format!("drop-zone {class_name}") class:drop-zone--over=move || over.get()
            data-testid="drop-zone" data-drop-over=move || over.get().to_string()
            on:dragenter=enter on:dragover=hover on:dragleave=leave on:drop=dropped>
            {children()}
        </div>
    }
}

/// The chips of the files waiting to go with the message (nothing when there are none).
#[component]
pub fn UploadTray(tray: RwSignal<Tray>) -> impl IntoView {
    let keys = move || tray.with(|t| t.uploads().iter().map(|u| u.key).collect::<Vec<_>>());
    let note = move || tray.with(|t| t.note().map(str::to_string));
    view! {
        <Show when=move || tray.with(|t| !t.is_empty() || t.note().is_some())>
            {move || note().map(|n| view! { <p class="uploads__note" role="status" data-testid="uploads-note">{n}</p> })}
            <ul class="uploads" aria-label="Attached files" data-testid="uploads">
                <For each=keys key=|k| *k let:key>
                    <UploadChip tray key />
                </For>
            </ul>
        </Show>
    }
}

/// One file in the tray: a thumbnail (an image, once stored) or an icon, its name, then
/// its progress, its size or why it failed, and a button that takes it out.
#[component]
fn UploadChip(tray: RwSignal<Tray>, key: UploadKey) -> impl IntoView {
    let upload = move || tray.with(|t| t.get(key).cloned());
    let name = tray.with_untracked(|t| t.get(key).map(|u| u.name.clone()).unwrap_or_default());
    let state_key = move || {
        upload().map(|u| match u.state {
            UploadState::Uploading { .. } => "uploading",
            UploadState::Done(_) => "done",
            UploadState::Failed(_) => "failed",
        })
    };
    let remove = move |_| {
        tray.update(|t| {
            t.remove(key);
        });
        uploader::abort(key);
    };
    let label = format!("Remove {name}");
    let preview = move || {
        let stored = upload().and_then(|u| match u.state {
            UploadState::Done(f) => Some(f),
            _ => None,
        });
        match stored
            .as_ref()
            .and_then(|f| f.thumb_url().map(|t| (t, f.name.clone())))
        {
            Some((thumb, alt)) => view! {
                <img class="upload__thumb" src=thumb alt=alt width="40" height="40" />
            }
            .into_any(),
            None => {
                let family = stored.map_or(Family::Other, |f| Family::of(&f.content_type));
                view! { <span class="upload__icon"><FileIcon family /></span> }.into_any()
            }
        }
    };
    let status = move || {
        let u = upload()?;
        Some(match u.state {
            UploadState::Uploading { .. } => {
                let percent = u.percent();
                view! {
                    <progress class="upload__progress" max="100" value=percent
                        aria-label=format!("Uploading {}", u.name) data-testid="upload-progress"></progress>
                }
                .into_any()
            }
            UploadState::Done(f) => view! {
                <span class="upload__size">{human_size(f.size)}</span>
            }
            .into_any(),
            UploadState::Failed(reason) => view! {
                <span class="upload__error" role="alert" data-testid="upload-error">{reason}</span>
            }
            .into_any(),
        })
    };
    view! {
        <li class="upload" data-testid="upload" data-state=state_key
            class:upload--failed=move || state_key() == Some("failed")>
            {preview}
            <span class="upload__text">
                <span class="upload__name" title=name.clone() data-testid="upload-name">{name.clone()}</span>
                {status}
            </span>
            <button type="button" class="tool upload__remove" aria-label=label on:click=remove>"×"</button>
        </li>
    }
    .into_any()
}
