//! Uploads in the browser. Each file picked, dropped or pasted into a composer goes to
//! `POST /files?room=…&name=…` at once, as the raw request body, through an
//! `XMLHttpRequest`: its upload events give the progress bar (`fetch` reports none for a
//! request body). Its progress, then the stored file or the server's refusal, land in the
//! composer's [`Tray`]. A file larger than the server takes (its `welcome` says how
//! large) is refused here, before a byte is sent. The requests in flight are kept here
//! with their handlers, so that
//! taking a chip out (or leaving the room) aborts its upload, and the handlers are
//! dropped once the request has ended.
//!
//! Browser only in effect: it is called from event handlers, which never run on the
//! server (it compiles there, as web-sys does, but is never called).

use leptos::prelude::*;
use protocol::FILES_PATH;
use protocol::ids::RoomId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, ProgressEvent, XmlHttpRequest};

use super::uploads::{Tray, UploadKey, outcome, too_large};

/// A request in flight and the handlers it calls.
struct InFlight {
    xhr: XmlHttpRequest,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _ended: Closure<dyn FnMut(ProgressEvent)>,
}

thread_local! {
    static NEXT_KEY: Cell<UploadKey> = const { Cell::new(1) };
    static IN_FLIGHT: RefCell<HashMap<UploadKey, InFlight>> = RefCell::new(HashMap::new());
    static LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The largest file the server takes, as its `welcome` said.
pub fn set_limit(max_bytes: Option<u64>) {
    LIMIT.with(|l| l.set(max_bytes));
}

/// Uploads `files` to `room` into `tray`, as many as the message still takes; says in
/// the tray how many were left out.
pub fn upload_all(room: RoomId, files: Vec<File>, tray: RwSignal<Tray>) {
    let mut left_out = 0;
    for file in files {
        if !upload(room, file, tray) {
            left_out += 1;
        }
    }
    if left_out > 0 {
        tray.update(|t| t.left_out(left_out));
    }
}

/// Starts uploading `file` to `room`, shown in `tray`; false if the message has all the
/// files it may take.
fn upload(room: RoomId, file: File, tray: RwSignal<Tray>) -> bool {
    let key = NEXT_KEY.with(|k| {
        let key = k.get();
        k.set(key.wrapping_add(1));
        key
    });
    let name = file.name();
    let size = file.size() as u64;
    if !tray
        .try_update(|t| t.add(key, name.clone(), size))
        .unwrap_or(false)
    {
        return false;
    }
    if let Some(refusal) = too_large(size, LIMIT.with(Cell::get)) {
        tray.update(|t| t.fail(key, refusal));
    } else if begin(room, key, &name, &file, tray).is_err() {
        tray.update(|t| t.fail(key, "The upload could not start.".into()));
    }
    true
}

/// Opens and sends the request, and keeps it with its handlers.
fn begin(
    room: RoomId,
    key: UploadKey,
    name: &str,
    file: &File,
    tray: RwSignal<Tray>,
) -> Result<(), JsValue> {
    let xhr = XmlHttpRequest::new()?;
    let name = String::from(js_sys::encode_uri_component(name));
    xhr.open_with_async(
        "POST",
        &format!("{FILES_PATH}?room={room}&name={name}"),
        true,
    )?;
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
        if ev.length_computable() {
            let (sent, total) = (ev.loaded() as u64, ev.total() as u64);
            tray.try_update(|t| t.progress(key, sent, total));
        }
    });
    xhr.upload()?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    // `loadend` follows every end: loaded, failed, timed out or aborted.
    let answered = xhr.clone();
    let ended = Closure::<dyn FnMut(ProgressEvent)>::new(move |_: ProgressEvent| {
        let status = answered.status().unwrap_or(0);
        let body = answered.response_text().ok().flatten().unwrap_or_default();
        // An aborted upload's chip is gone already: finishing or failing it does nothing.
        tray.try_update(|t| match outcome(status, &body) {
            Ok(file) => t.finish(key, file),
            Err(reason) => t.fail(key, reason),
        });
        forget_later(key);
    });
    xhr.set_onloadend(Some(ended.as_ref().unchecked_ref()));
    xhr.send_with_opt_blob(Some(file))?;
    IN_FLIGHT.with(|m| {
        m.borrow_mut().insert(
            key,
            InFlight {
                xhr,
                _progress: progress,
                _ended: ended,
            },
        )
    });
    Ok(())
}

/// Stops the upload `key` if it is still on its way (its chip was taken out).
pub fn abort(key: UploadKey) {
    let held = IN_FLIGHT.with(|m| m.borrow_mut().remove(&key));
    if let Some(req) = held {
        // Runs the `loadend` handler at once, which finds nothing left to do.
        let _ = req.xhr.abort();
        drop_later(req);
    }
}

/// Forgets the request `key` once its handler has returned (a handler must not be
/// dropped while it runs).
fn forget_later(key: UploadKey) {
    if let Some(req) = IN_FLIGHT.with(|m| m.borrow_mut().remove(&key)) {
        drop_later(req);
    }
}

fn drop_later(req: InFlight) {
    leptos::task::spawn_local(async move { drop(req) });
}
