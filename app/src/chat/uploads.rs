//! The files waiting in a composer to go with the next message ([`Tray`]): each upload
//! with its progress, then the file the server made of it, or why it was refused. At
//! most [`FILES_PER_MESSAGE_MAX`] go with one message, and a message waits until none is
//! still uploading. Also what an upload's answer means ([`outcome`]). Pure; the
//! browser's requests are in `uploader.rs`, the chips in `view/uploads.rs`.

use super::attachments::human_size;
use protocol::{FILES_PER_MESSAGE_MAX, FileView};
use serde::Deserialize;

/// Names one upload for as long as the page lives (unique across composers, so the
/// requests in flight can be kept in one place).
pub type UploadKey = u32;

/// Where one upload stands.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadState {
    /// On its way: `sent` of `total` bytes.
    Uploading { sent: u64, total: u64 },
    /// Stored by the server, ready to go with the message.
    Done(FileView),
    /// Refused or failed; it will not be sent (the person may remove it).
    Failed(String),
}

/// One file in the tray.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub key: UploadKey,
    /// The name it was picked with.
    pub name: String,
    /// Its size in bytes, as the browser knows it.
    pub size: u64,
    pub state: UploadState,
}

impl Upload {
    /// How far it is, 0–100 (100 once done).
    pub fn percent(&self) -> u8 {
        match self.state {
            UploadState::Uploading { sent, total } if total > 0 => {
                (sent.min(total) * 100 / total) as u8
            }
            UploadState::Uploading { .. } => 0,
            UploadState::Done(_) | UploadState::Failed(_) => 100,
        }
    }

    fn counts(&self) -> bool {
        !matches!(self.state, UploadState::Failed(_))
    }
}

/// A composer's uploads, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tray {
    uploads: Vec<Upload>,
    /// A line about the tray as a whole ("only 10 files…"); cleared by the next change.
    note: Option<String>,
}

impl Tray {
    /// Every upload, oldest first.
    pub fn uploads(&self) -> &[Upload] {
        &self.uploads
    }

    /// One upload.
    pub fn get(&self, key: UploadKey) -> Option<&Upload> {
        self.uploads.iter().find(|u| u.key == key)
    }

    pub fn is_empty(&self) -> bool {
        self.uploads.is_empty()
    }

    /// How many more files the message may take (failed ones do not count: they are
    /// not sent).
    pub fn room_left(&self) -> usize {
        FILES_PER_MESSAGE_MAX.saturating_sub(self.uploads.iter().filter(|u| u.counts()).count())
    }

    /// Adds a file about to be uploaded; false (and nothing added) when the message has
    /// its [`FILES_PER_MESSAGE_MAX`] already.
    pub fn add(&mut self, key: UploadKey, name: String, size: u64) -> bool {
        if self.room_left() == 0 {
            return false;
        }
        self.note = None;
        self.uploads.push(Upload {
            key,
            name,
            size,
            state: UploadState::Uploading {
                sent: 0,
                total: size,
            },
        });
        true
    }

    /// Says that `left_out` files did not fit.
    pub fn left_out(&mut self, left_out: usize) {
        if left_out > 0 {
            let files = if left_out == 1 {
                "file was"
            } else {
                "files were"
            };
            self.note = Some(format!(
                "A message takes at most {FILES_PER_MESSAGE_MAX} files: {left_out} {files} left out."
            ));
        }
    }

    /// The line about the tray as a whole, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Progress of an upload still on its way (a late event after its end is ignored).
    pub fn progress(&mut self, key: UploadKey, sent: u64, total: u64) {
        if let Some(u) = self.uploads.iter_mut().find(|u| u.key == key)
            && matches!(u.state, UploadState::Uploading { .. })
        {
            u.state = UploadState::Uploading { sent, total };
        }
    }

    /// The server stored the upload as `file`.
    pub fn finish(&mut self, key: UploadKey, file: FileView) {
        if let Some(u) = self.uploads.iter_mut().find(|u| u.key == key) {
            u.state = UploadState::Done(file);
        }
    }

    /// The upload failed, for `reason`.
    pub fn fail(&mut self, key: UploadKey, reason: String) {
        if let Some(u) = self.uploads.iter_mut().find(|u| u.key == key) {
            u.state = UploadState::Failed(reason);
        }
    }

    /// The person took a file out (its upload, if still going, is aborted by the caller).
    pub fn remove(&mut self, key: UploadKey) -> Option<Upload> {
        self.note = None;
        let at = self.uploads.iter().position(|u| u.key == key)?;
        Some(self.uploads.remove(at))
    }

    /// Whether an upload is still on its way (the message waits for it).
    pub fn busy(&self) -> bool {
        self.uploads
            .iter()
            .any(|u| matches!(u.state, UploadState::Uploading { .. }))
    }

    /// The uploads still on their way.
    pub fn uploading(&self) -> Vec<UploadKey> {
        self.uploads
            .iter()
            .filter(|u| matches!(u.state, UploadState::Uploading { .. }))
            .map(|u| u.key)
            .collect()
    }

    /// The stored files, in order: what goes with the message.
    pub fn files(&self) -> Vec<FileView> {
        self.uploads
            .iter()
            .filter_map(|u| match &u.state {
                UploadState::Done(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether a message may be sent with `typed` as its text: nothing is uploading,
    /// and there is text or at least one stored file.
    pub fn can_send(&self, typed: &str) -> bool {
        !self.busy() && (!typed.trim().is_empty() || !self.files().is_empty())
    }

    /// Empties the tray (the message went, failed uploads with it).
    pub fn clear(&mut self) {
        *self = Tray::default();
    }
}

/// The server's refusal (`{"code": …, "message": …}`).
#[derive(Deserialize)]
struct Refusal {
    message: String,
}

/// What an upload's answer means: the stored file (HTTP 201, its `FileView` as JSON), or
/// what to tell the person. `status` 0 is the browser's "no answer" (network error).
pub fn outcome(status: u16, body: &str) -> Result<FileView, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body)
            .map_err(|_| "The server's answer could not be read.".to_string());
    }
    if let Ok(r) = serde_json::from_str::<Refusal>(body)
        && !r.message.trim().is_empty()
    {
        return Err(sentence(&r.message));
    }
    Err(match status {
        0 => "The upload failed: the server could not be reached.".to_string(),
        413 => "The file is too large.".to_string(),
        401 | 403 => "You may not share files here.".to_string(),
        s => format!("The upload failed (HTTP {s})."),
    })
}

/// Why a file of `size` bytes is not uploaded at all, when the server takes at most
/// `limit` (none known: the server decides).
pub fn too_large(size: u64, limit: Option<u64>) -> Option<String> {
    let limit = limit.filter(|limit| size > *limit)?;
    Some(format!(
        "The file is too large: files up to {} can be shared here.",
        human_size(limit)
    ))
}

/// `text` starting with a capital and ending with a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::{FileId, Uuid};

    fn stored(n: u128) -> FileView {
        FileView {
            id: FileId(Uuid::from_u128(n)),
            name: format!("f{n}.txt"),
            size: 3,
            content_type: "text/plain".into(),
            image: None,
        }
    }

    #[test]
    fn an_upload_goes_from_progress_to_its_file() {
        let mut t = Tray::default();
        assert!(t.add(1, "a.txt".into(), 200));
        assert!(t.busy());
        assert!(!t.can_send("hello"), "a message waits for its uploads");
        t.progress(1, 50, 200);
        assert_eq!(t.get(1).unwrap().percent(), 25);
        t.finish(1, stored(1));
        t.progress(1, 60, 200);
        assert_eq!(
            t.get(1).unwrap().percent(),
            100,
            "a late progress event changes nothing"
        );
        assert!(!t.busy());
        assert!(t.can_send(""), "files alone may be sent");
        assert_eq!(t.files(), vec![stored(1)]);
        t.clear();
        assert!(t.is_empty());
        assert!(!t.can_send(" "));
    }

    #[test]
    fn failed_uploads_are_not_sent_and_do_not_count() {
        let mut t = Tray::default();
        for k in 0..10 {
            assert!(t.add(k, format!("{k}"), 1));
        }
        assert!(!t.add(10, "one too many".into(), 1));
        assert_eq!(t.room_left(), 0);
        t.fail(3, "too large".into());
        assert_eq!(t.room_left(), 1);
        assert!(t.add(10, "fits now".into(), 1));
        assert_eq!(t.uploading().len(), 10);
        for k in 0..=10 {
            t.finish(k, stored(k.into()));
        }
        t.fail(4, "refused".into());
        assert_eq!(t.files().len(), 10);
        assert!(t.remove(4).is_some());
        assert!(t.remove(4).is_none());
        assert_eq!(t.uploads().len(), 10);
    }

    #[test]
    fn a_tray_says_when_files_were_left_out() {
        let mut t = Tray::default();
        t.left_out(0);
        assert_eq!(t.note(), None);
        t.left_out(2);
        assert_eq!(
            t.note(),
            Some("A message takes at most 10 files: 2 files were left out.")
        );
        t.add(1, "a".into(), 0);
        assert_eq!(t.note(), None);
        assert_eq!(
            t.get(1).unwrap().percent(),
            0,
            "an empty file has no progress"
        );
    }

    #[test]
    fn answers_become_files_or_sentences() {
        let json = serde_json::to_string(&stored(5)).unwrap();
        assert_eq!(outcome(201, &json), Ok(stored(5)));
        assert!(outcome(201, "nonsense").is_err());
        assert_eq!(
            outcome(
                413,
                r#"{"code":"too_large","message":"a file may be at most 1000 bytes"}"#
            ),
            Err("A file may be at most 1000 bytes.".into())
        );
        assert_eq!(
            outcome(
                422,
                r#"{"code":"bad_file","message":"The image cannot be decoded!"}"#
            ),
            Err("The image cannot be decoded!".into())
        );
        assert_eq!(outcome(413, "<html>"), Err("The file is too large.".into()));
        assert_eq!(
            outcome(0, ""),
            Err("The upload failed: the server could not be reached.".into())
        );
        assert_eq!(
            outcome(403, ""),
            Err("You may not share files here.".into())
        );
        assert_eq!(
            outcome(500, "{}"),
            Err("The upload failed (HTTP 500).".into())
        );
    }

    #[test]
    fn a_file_over_the_server_s_limit_is_refused_before_it_is_sent() {
        let limit = Some(25 * 1024 * 1024);
        assert_eq!(
            too_large(25 * 1024 * 1024, limit),
            None,
            "exactly the limit"
        );
        assert_eq!(
            too_large(10, None),
            None,
            "no limit known: the server decides"
        );
        assert_eq!(
            too_large(25 * 1024 * 1024 + 1, limit).as_deref(),
            Some("The file is too large: files up to 26 MB can be shared here.")
        );
    }
}
