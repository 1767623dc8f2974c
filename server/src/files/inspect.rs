//! What an upload is, decided from its bytes alone (never from the uploader's word):
//! its content type (the `infer` crate, and UTF-8 text without NULs as `text/plain`), and
//! for the image formats we show inline (PNG, JPEG, GIF, WebP) its size and a thumbnail.
//!
//! An image is decoded under limits before anything is stored: its header's dimensions are
//! read first and refused past [`MAX_PIXELS`] or [`MAX_SIDE`], and the decoder's
//! allocations are capped, so a decompression bomb costs a header read, not gigabytes. A
//! file that claims to be such an image and does not decode is refused too.
//!
//! An avatar picture ([`avatar_picture`]) is decoded the same way, then cropped to its
//! centre square and scaled to [`AVATAR_SIDE`].

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use protocol::ImageSize;
use std::io::Cursor;

/// Most pixels an image may have (50 megapixels: a large phone photo is 12–50).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Most pixels an image may have on one side.
pub const MAX_SIDE: u32 = 16_384;
/// Most bytes the decoder may allocate (the pixels of [`MAX_PIXELS`] at 4 bytes each, and
/// some room).
const MAX_ALLOC: u64 = MAX_PIXELS * 4 + 64 * 1024 * 1024;
/// A thumbnail fits in this square.
pub const THUMB_SIDE: u32 = 400;
/// An avatar picture is a square this many pixels a side (or its upload's, if smaller).
pub const AVATAR_SIDE: u32 = 256;

/// What the server found an upload to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub content_type: String,
    /// For an image shown inline: its size and its thumbnail's bytes.
    pub image: Option<(ImageSize, Vec<u8>)>,
}

/// The content types served inline (as themselves): images we decoded. Anything else is
/// served as a download.
pub fn shown_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// Inspects an upload: its type, and for an image its size and thumbnail. `Err` says
/// why an image is refused.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, &'static str> {
    let content_type = sniff(bytes);
    if !shown_inline(&content_type) {
        return Ok(Inspected {
            content_type,
            image: None,
        });
    }
    let decoded = decode_bounded(bytes, &content_type)?;
    let (width, height) = (decoded.width(), decoded.height());
    let thumb = thumbnail(&decoded).map_err(|_| "the image's thumbnail could not be made")?;
    Ok(Inspected {
        content_type,
        image: Some((ImageSize { width, height }, thumb)),
    })
}

/// An avatar picture made from an upload: a PNG, JPEG, GIF or WebP (sniffed), decoded under
/// the same limits as any image, cropped to its centre square and scaled down to
/// [`AVATAR_SIDE`]. Returns the picture's content type and bytes; `Err` says why the
/// upload is refused.
pub fn avatar_picture(bytes: &[u8]) -> Result<(String, Vec<u8>), &'static str> {
    let content_type = sniff(bytes);
    if !shown_inline(&content_type) {
        return Err("an avatar must be a PNG, JPEG, GIF or WebP image");
    }
    let decoded = decode_bounded(bytes, &content_type)?;
    let side = decoded.width().min(decoded.height());
    let square = decoded.crop_imm(
        (decoded.width() - side) / 2,
        (decoded.height() - side) / 2,
        side,
        side,
    );
    let small = if side > AVATAR_SIDE {
        square.resize_exact(
            AVATAR_SIDE,
            AVATAR_SIDE,
            image::imageops::FilterType::Lanczos3,
        )
    } else {
        square
    };
    encode_small(&small).map_err(|_| "the avatar could not be made from the image")
}

/// Decodes an image of `content_type` (one [`shown_inline`] names): its header's size is
/// checked before any pixel is, and the decoder's allocations are capped.
fn decode_bounded(bytes: &[u8], content_type: &str) -> Result<DynamicImage, &'static str> {
    let format = match content_type {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        _ => ImageFormat::WebP,
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| "the image could not be read")?;
    if width == 0 || height == 0 {
        return Err("the image has no pixels");
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err("the image is too large in pixels (at most 50 megapixels, 16384 a side)");
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|_| "the image could not be decoded")
}

/// The content type of `bytes`: a known signature's, else `text/plain` for UTF-8 text
/// without NUL bytes, else `application/octet-stream`.
pub fn sniff(bytes: &[u8]) -> String {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_string();
    }
    let head = &bytes[..bytes.len().min(8192)];
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the head is still text.
        Err(e) => e.error_len().is_none(),
    };
    if text && !head.contains(&0) {
        "text/plain".into()
    } else {
        "application/octet-stream".into()
    }
}

/// A thumbnail of at most [`THUMB_SIDE`] a side: PNG if the image has transparency (a
/// JPEG would turn it black), JPEG otherwise.
fn thumbnail(image: &DynamicImage) -> image::ImageResult<Vec<u8>> {
    Ok(encode_small(&image.thumbnail(THUMB_SIDE, THUMB_SIDE))?.1)
}

/// A small image's content type and bytes: PNG if it has transparency (a JPEG would turn
/// it black), JPEG otherwise.
fn encode_small(small: &DynamicImage) -> image::ImageResult<(String, Vec<u8>)> {
    let mut out = Cursor::new(Vec::new());
    if small.color().has_alpha() {
        small.write_to(&mut out, ImageFormat::Png)?;
        Ok(("image/png".into(), out.into_inner()))
    } else {
        let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&rgb)?;
        Ok(("image/jpeg".into(), out.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let image = if alpha {
            DynamicImage::new_rgba8(width, height)
        } else {
            DynamicImage::new_rgb8(width, height)
        };
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A PNG whose header claims `width` × `height` but carries no pixel data worth the
    /// name: what a decompression bomb's header looks like.
    fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = png(1, 1, false);
        // IHDR's width and height are the 8 bytes after the signature (8), the chunk
        // length (4) and its type (4); its checksum covers the type and the 13 data bytes.
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32fast::hash(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn an_image_gets_its_size_and_a_bounded_thumbnail() {
        let found = inspect(&png(1200, 300, false)).unwrap();
        assert_eq!(found.content_type, "image/png");
        let (size, thumb) = found.image.unwrap();
        assert_eq!((size.width, size.height), (1200, 300));
        assert_eq!(
            sniff(&thumb),
            "image/jpeg",
            "an opaque image's thumbnail is a JPEG"
        );
        let small = image::load_from_memory(&thumb).unwrap();
        assert_eq!(
            (small.width(), small.height()),
            (400, 100),
            "aspect ratio kept"
        );
    }

    #[test]
    fn a_transparent_image_keeps_its_transparency_in_a_png_thumbnail() {
        let (_, thumb) = inspect(&png(50, 50, true)).unwrap().image.unwrap();
        assert_eq!(sniff(&thumb), "image/png");
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        for (w, h) in [(100_000, 100_000), (20_000, 10), (10_000, 10_000)] {
            let err = inspect(&png_header_claiming(w, h)).unwrap_err();
            assert!(err.contains("too large in pixels"), "{w}×{h}: {err}");
        }
    }

    #[test]
    fn an_avatar_is_the_centre_square_scaled_down() {
        // A wide image: red left and right quarters, blue in the middle.
        let mut wide = image::RgbImage::new(1200, 600);
        for (x, _, px) in wide.enumerate_pixels_mut() {
            *px = if (300..900).contains(&x) {
                image::Rgb([0, 0, 255])
            } else {
                image::Rgb([255, 0, 0])
            };
        }
        let mut bytes = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(wide)
            .write_to(&mut bytes, ImageFormat::Png)
            .unwrap();
        let (content_type, picture) = avatar_picture(&bytes.into_inner()).unwrap();
        assert_eq!(content_type, "image/jpeg", "opaque: a JPEG");
        let read = image::load_from_memory(&picture).unwrap().to_rgb8();
        assert_eq!((read.width(), read.height()), (AVATAR_SIDE, AVATAR_SIDE));
        for (x, y) in [(2, 2), (128, 128), (253, 253)] {
            let [r, _, b] = read.get_pixel(x, y).0;
            assert!(b > 200 && r < 60, "the centre square only, at {x},{y}");
        }
        let (content_type, small) = avatar_picture(&png(40, 90, true)).unwrap();
        assert_eq!(content_type, "image/png", "transparency kept");
        let read = image::load_from_memory(&small).unwrap();
        assert_eq!(
            (read.width(), read.height()),
            (40, 40),
            "a small one is not scaled up"
        );
    }

    #[test]
    fn an_avatar_must_be_a_sound_image_within_limits() {
        assert!(avatar_picture(b"%PDF-1.7\n...").is_err());
        assert!(avatar_picture(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        let err = avatar_picture(&png_header_claiming(100_000, 100_000)).unwrap_err();
        assert!(err.contains("too large in pixels"), "{err}");
        let mut broken = png(64, 64, false);
        broken.truncate(40);
        assert!(avatar_picture(&broken).is_err());
    }

    #[test]
    fn a_malformed_image_is_refused() {
        let mut broken = png(64, 64, false);
        broken.truncate(40);
        assert!(inspect(&broken).is_err());
        let mut garbage = b"\x89PNG\r\n\x1a\n".to_vec();
        garbage.extend(std::iter::repeat_n(0xAB, 200));
        assert!(inspect(&garbage).is_err());
    }

    #[test]
    fn the_type_comes_from_the_bytes_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff("plain text, naïve".as_bytes()), "text/plain");
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert!(!shown_inline(&sniff(svg)), "an SVG is never shown inline");
        assert!(inspect(svg).unwrap().image.is_none());
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff]), "application/octet-stream");
        for risky in [
            "text/html",
            "image/svg+xml",
            "application/pdf",
            "text/plain",
        ] {
            assert!(!shown_inline(risky), "{risky} is never shown inline");
        }
        let found = inspect(b"<html><script>alert(1)</script></html>").unwrap();
        assert!(found.image.is_none());
    }
}
