//! How a message's files are shown, decided without a browser: sizes in words
//! ("1.2 MB"), whether a file shows as a picture, the box its thumbnail takes before it
//! loads (so the list never jumps), a file's kind for its card, and the body a
//! message made of files alone carries (a body may not be empty:
//! [`protocol::names::Body`]). Pure; the views are `view/attachments.rs` (a message's
//! files) and `view/uploads.rs` (the composer's).

use protocol::names::BODY_MAX_CHARS;
use protocol::{FileView, ImageSize};

/// Widest a thumbnail is shown, in CSS pixels (the server's are at most 400 × 400; the
/// stylesheet narrows it further to the width of a phone).
pub const THUMB_MAX_WIDTH: u32 = 360;
/// Tallest a thumbnail is shown, in CSS pixels.
pub const THUMB_MAX_HEIGHT: u32 = 270;

/// A size in bytes as people read it: `"999 B"`, `"1.2 KB"`, `"26 MB"` (decimal units, one
/// decimal below ten).
pub fn human_size(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in ["KB", "MB", "GB", "TB"] {
        // 999.5 would print as "1000": it is the next unit's 1.0 already.
        if value < 999.5 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    if value < 9.95 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// Whether the file shows as a picture: the server decoded it as an image (so it has a
/// thumbnail and is served inline). Anything else is a card with a download link.
pub fn is_image(file: &FileView) -> bool {
    file.image.is_some()
}

/// The width and height a thumbnail of an image of `size` is shown at: the image scaled
/// down (never up) to fit [`THUMB_MAX_WIDTH`] × [`THUMB_MAX_HEIGHT`], keeping its shape.
/// Given to the `<img>` as its `width` and `height`, which reserve the space before the
/// thumbnail arrives.
pub fn thumb_box(size: ImageSize) -> (u32, u32) {
    fit(size, THUMB_MAX_WIDTH, THUMB_MAX_HEIGHT)
}

/// `size` scaled down (never up) to fit `max_width` × `max_height`, at least 1 × 1.
pub fn fit(size: ImageSize, max_width: u32, max_height: u32) -> (u32, u32) {
    let (w, h) = (f64::from(size.width.max(1)), f64::from(size.height.max(1)));
    let scale = (f64::from(max_width) / w)
        .min(f64::from(max_height) / h)
        .min(1.0);
    let side = |v: f64| ((v * scale).round() as u32).max(1);
    (side(w), side(h))
}

/// What a file is, for its card: a family (the stylesheet colours its icon by it) and a
/// short label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Image,
    Audio,
    Video,
    Archive,
    Document,
    Other,
}

impl Family {
    /// The family of a file of (server-sniffed) `content_type`.
    pub fn of(content_type: &str) -> Family {
        let (kind, sub) = content_type.split_once('/').unwrap_or((content_type, ""));
        match (kind, sub) {
            ("image", _) => Family::Image,
            ("audio", _) => Family::Audio,
            ("video", _) => Family::Video,
            ("text", _) | ("application", "pdf" | "rtf") => Family::Document,
            (
                "application",
                "zip" | "gzip" | "x-tar" | "x-7z-compressed" | "vnd.rar" | "x-bzip2" | "x-xz"
                | "zstd",
            ) => Family::Archive,
            ("application", s) if s.contains("officedocument") || s.contains("opendocument") => {
                Family::Document
            }
            ("application", "msword" | "vnd.ms-excel" | "vnd.ms-powerpoint") => Family::Document,
            _ => Family::Other,
        }
    }

    /// The family's name, for a `data-` attribute and the stylesheet.
    pub fn key(self) -> &'static str {
        match self {
            Family::Image => "image",
            Family::Audio => "audio",
            Family::Video => "video",
            Family::Archive => "archive",
            Family::Document => "document",
            Family::Other => "other",
        }
    }
}

/// The short type a card shows: `"PDF"`, `"ZIP"`, `"DOCX"`… from the file's extension
/// when it has a plausible one, else from the sniffed type's family (`"Audio"`), else
/// `"File"`.
pub fn kind_label(file: &FileView) -> String {
    if let Some((stem, ext)) = file.name.rsplit_once('.')
        && !stem.is_empty()
        && (1..=6).contains(&ext.len())
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return ext.to_ascii_uppercase();
    }
    match Family::of(&file.content_type) {
        Family::Image => "Image",
        Family::Audio => "Audio",
        Family::Video => "Video",
        Family::Archive => "Archive",
        Family::Document => "Document",
        Family::Other => "File",
    }
    .to_string()
}

/// The line under a card's name: `"1.2 MB · PDF"`.
pub fn card_meta(file: &FileView) -> String {
    format!("{} · {}", human_size(file.size), kind_label(file))
}

/// The body a message of files alone carries: their names, comma-separated (so that
/// search, notifications and screen readers have something to say), cut to the longest
/// body allowed.
pub fn files_body(files: &[FileView]) -> String {
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.join(", ").chars().take(BODY_MAX_CHARS).collect()
}

/// The body to send: what was typed, or, when nothing was but files are attached, their
/// names ([`files_body`]); `None` when there is nothing to send.
pub fn message_body(typed: &str, files: &[FileView]) -> Option<String> {
    if !typed.trim().is_empty() {
        Some(typed.to_string())
    } else if !files.is_empty() {
        Some(files_body(files))
    } else {
        None
    }
}

/// Whether a message's body only names its files (it was sent with nothing typed), so
/// the list shows the files without repeating their names above them.
pub fn body_only_names_files(body: &str, files: &[FileView]) -> bool {
    !files.is_empty() && body == files_body(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::{FileId, Uuid};

    fn file(name: &str, content_type: &str, size: u64, image: Option<(u32, u32)>) -> FileView {
        FileView {
            id: FileId(Uuid::from_u128(7)),
            name: name.into(),
            size,
            content_type: content_type.into(),
            image: image.map(|(width, height)| ImageSize { width, height }),
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1000), "1.0 KB");
        assert_eq!(human_size(1234), "1.2 KB");
        assert_eq!(human_size(9_949), "9.9 KB");
        assert_eq!(human_size(9_950), "10 KB");
        assert_eq!(human_size(999_499), "999 KB");
        assert_eq!(human_size(999_500), "1.0 MB");
        assert_eq!(human_size(1_200_000), "1.2 MB");
        assert_eq!(human_size(25 * 1024 * 1024), "26 MB");
        assert_eq!(human_size(3_000_000_000), "3.0 GB");
        assert_eq!(human_size(u64::MAX), "18446744 TB");
    }

    #[test]
    fn thumbnails_keep_their_shape_and_never_grow() {
        let size = |width, height| ImageSize { width, height };
        assert_eq!(thumb_box(size(4000, 3000)), (360, 270));
        assert_eq!(thumb_box(size(400, 100)), (360, 90));
        assert_eq!(thumb_box(size(100, 400)), (68, 270));
        assert_eq!(thumb_box(size(40, 30)), (40, 30), "small images stay small");
        assert_eq!(thumb_box(size(10_000, 1)), (360, 1), "never zero");
        assert_eq!(thumb_box(size(0, 0)), (1, 1));
        assert_eq!(fit(size(1600, 900), 800, 800), (800, 450));
    }

    #[test]
    fn only_decoded_images_show_as_pictures() {
        assert!(is_image(&file("a.png", "image/png", 10, Some((2, 2)))));
        assert!(!is_image(&file(
            "a.svg",
            "application/octet-stream",
            10,
            None
        )));
        assert!(!is_image(&file("a.bmp", "image/bmp", 10, None)));
    }

    #[test]
    fn cards_say_the_kind_by_extension_then_by_family() {
        let pdf = file("Report 2024.pdf", "application/pdf", 1_234_567, None);
        assert_eq!(kind_label(&pdf), "PDF");
        assert_eq!(card_meta(&pdf), "1.2 MB · PDF");
        assert_eq!(Family::of(&pdf.content_type), Family::Document);
        assert_eq!(
            kind_label(&file("notes", "text/plain", 1, None)),
            "Document"
        );
        assert_eq!(
            kind_label(&file(".bashrc", "application/octet-stream", 1, None)),
            "File"
        );
        assert_eq!(
            kind_label(&file("a.tar.gz", "application/gzip", 1, None)),
            "GZ"
        );
        assert_eq!(
            kind_label(&file("weird.not-an-ext", "audio/mpeg", 1, None)),
            "Audio"
        );
        assert_eq!(Family::of("application/zip").key(), "archive");
        assert_eq!(
            Family::of("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            Family::Document
        );
        assert_eq!(Family::of("application/octet-stream"), Family::Other);
        assert_eq!(Family::of("nonsense"), Family::Other);
    }

    #[test]
    fn a_message_of_files_alone_carries_their_names() {
        let files = [
            file("cat.png", "image/png", 1, Some((1, 1))),
            file("dog.jpg", "image/jpeg", 1, Some((1, 1))),
        ];
        assert_eq!(
            message_body("  ", &files).as_deref(),
            Some("cat.png, dog.jpg")
        );
        assert_eq!(message_body("look", &files).as_deref(), Some("look"));
        assert_eq!(message_body(" \n", &[]), None);
        assert!(body_only_names_files("cat.png, dog.jpg", &files));
        assert!(!body_only_names_files("look", &files));
        assert!(!body_only_names_files("", &[]));
        let long = vec![file(&"x".repeat(200), "text/plain", 1, None); 30];
        let body = files_body(&long);
        assert_eq!(body.chars().count(), BODY_MAX_CHARS);
        assert!(protocol::names::Body::parse(&body).is_ok());
    }
}
