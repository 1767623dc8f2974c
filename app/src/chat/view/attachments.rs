//! A message's files, under its body ([`Attachments`]): an image as its thumbnail, sized
//! from the image's known width and height so the list does not jump when it loads,
//! which opens the full image in a lightbox (a [`Modal`]: Esc, Close or a click beside it
//! closes it); any other file as a card with an icon, its name, size and kind, which
//! downloads it. Without JavaScript a thumbnail is a plain link to the image.
//!
//! [`MessageBody`], shared by the message list and the thread pane, shows a message's
//! text and then its files, leaving the text out when it only names the files (a
//! message sent with nothing typed).

use leptos::prelude::*;
use protocol::FileView;

use super::formatted::Formatted;
use super::modal::Modal;
use crate::chat::attachments::{
    Family, body_only_names_files, card_meta, fit, human_size, is_image, thumb_box,
};

/// Largest box the lightbox shows an image in before the stylesheet fits it to the screen.
const LIGHTBOX_MAX: u32 = 1600;

/// A message's text, then its files.
#[component]
pub fn MessageBody(body: String, files: Vec<FileView>) -> impl IntoView {
    let text = (!body_only_names_files(&body, &files)).then(|| {
        view! { <div class="message__body" data-testid="body"><Formatted text=body /></div> }
    });
    view! {
        {text}
        <Attachments files />
    }
}

/// The files of one message (nothing when it has none).
#[component]
pub fn Attachments(files: Vec<FileView>) -> impl IntoView {
    (!files.is_empty()).then(|| {
        view! {
            <div class="attachments" data-testid="attachments">
                {files.into_iter().map(|file| if is_image(&file) {
                    view! { <ImageAttachment file /> }.into_any()
                } else {
                    view! { <FileCard file /> }.into_any()
                }).collect_view()}
            </div>
        }
    })
}

/// An image: its thumbnail, a link to the full image that opens it in the lightbox (a
/// modified click, or no JavaScript, follows the link to a new tab).
#[component]
fn ImageAttachment(file: FileView) -> impl IntoView {
    let open = RwSignal::new(false);
    let size = file.image.unwrap_or(protocol::ImageSize {
        width: 1,
        height: 1,
    });
    let (w, h) = thumb_box(size);
    let (full_w, full_h) = fit(size, LIGHTBOX_MAX, LIGHTBOX_MAX);
    let url = file.url();
    let thumb = file.thumb_url().unwrap_or_else(|| url.clone());
    let name = file.name.clone();
    let show = move |ev: leptos::ev::MouseEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.button() != 0 {
            return;
        }
        ev.prevent_default();
        open.set(true);
    };
    let caption = format!("{} · {}", human_size(file.size), file.content_type);
    let lightbox = {
        let (url, name) = (url.clone(), name.clone());
        move || {
            open.get().then(|| {
                let (url, name, caption) = (url.clone(), name.clone(), caption.clone());
                view! {
                    <Modal title=name.clone() close=move || open.set(false) variant="dialog--lightbox">
                        <figure class="lightbox" data-testid="lightbox">
                            <img class="lightbox__image" src=url.clone() alt=name.clone()
                                width=full_w height=full_h />
                            <figcaption class="lightbox__caption">
                                <span>{caption}</span>
                                <a href=url.clone() download=name.clone()>"Download"</a>
                                <a href=url target="_blank" rel="noopener">"Open in a new tab"</a>
                            </figcaption>
                        </figure>
                    </Modal>
                }
            })
        }
    };
    view! {
        <a class="attachment-image" href=url target="_blank" rel="noopener"
            aria-label=format!("Open {name}") data-testid="attachment-image-link" on:click=show>
            <img src=thumb alt=name.clone() loading="lazy" width=w height=h
                data-testid="attachment-image" />
        </a>
        {lightbox}
    }
    .into_any()
}

/// Any other file: a card that downloads it.
#[component]
fn FileCard(file: FileView) -> impl IntoView {
    let family = Family::of(&file.content_type);
    view! {
        <a class="attachment-file" href=file.url() download=file.name.clone()
            data-testid="attachment-file" data-kind=family.key()>
            <FileIcon family />
            <span class="attachment-file__text">
                <span class="attachment-file__name" data-testid="attachment-name">{file.name.clone()}</span>
                <span class="attachment-file__meta" data-testid="attachment-meta">{card_meta(&file)}</span>
            </span>
            <svg class="attachment-file__download" viewBox="0 0 24 24" width="18" height="18"
                aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2"
                stroke-linecap="round" stroke-linejoin="round">
                <path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"></path>
                <polyline points="7 10 12 15 17 10"></polyline>
                <line x1="12" y1="15" x2="12" y2="3"></line>
            </svg>
        </a>
    }
    .into_any()
}

/// A file's icon (decorative: the text beside it says what the file is), a sheet with a
/// folded corner that the stylesheet colours by the file's family (drawn, not an emoji,
/// which not every system has a font for).
#[component]
pub fn FileIcon(family: Family) -> impl IntoView {
    view! {
        <svg class="file-icon" data-kind=family.key() viewBox="0 0 24 24" width="28" height="28"
            aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8"
            stroke-linecap="round" stroke-linejoin="round">
            <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"></path>
            <polyline points="14 2 14 8 20 8"></polyline>
        </svg>
    }
}
