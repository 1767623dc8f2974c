//! The built site's static files: whether the bundle's names carry content hashes, and
//! how long a browser may keep each path.
//!
//! A release build (`cargo leptos build --release`, with `hash-files` in the workspace's
//! Leptos metadata) names the bundle `/pkg/confab.<hash>.{js,wasm,css}`, where `<hash>`
//! is the file's digest, and writes the hashes to `hash.txt` beside the server binary.
//! A hashed name never changes content, so it may be cached for a year without
//! revalidation; the next build's bundle has other names. The page itself, which names
//! the bundle, is never cached without revalidation, so a deploy reaches every browser on
//! its next page load.

use std::path::{Path, PathBuf};

/// One year: the longest `max-age` browsers honour.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The file that lists the bundle's hashes, if the build wrote one beside `exe`. Leptos
/// reads it (from the binary's folder) to name the bundle in each page.
pub fn hash_file_beside(exe: &Path, name: &str) -> Option<PathBuf> {
    let path = exe.parent()?.join(name);
    path.is_file().then_some(path)
}

/// Whether the last path segment is `stem.<hash>.ext`: a digest of 16 or more characters
/// of the URL-safe base64 alphabet (cargo-leptos writes 22), between the stem and the
/// extension.
fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() >= 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The caching rule for a path. The bundle under `/pkg/` with hashed names is immutable;
/// under its plain names (a debug build) a browser must revalidate it (the file server
/// answers `304` from `Last-Modified`). Other static files (favicon, images) may be
/// cached for an hour. Pages and API answers are per user: never shared, always
/// revalidated.
pub fn cache_policy(path: &str) -> &'static str {
    if path.starts_with("/pkg/") {
        if is_hashed_name(path) {
            IMMUTABLE
        } else {
            "no-cache"
        }
    } else if path
        .rsplit('/')
        .next()
        .is_some_and(|file| file.contains('.'))
    {
        "public, max-age=3600"
    } else {
        "private, no-cache"
    }
}

#[cfg(test)]
mod tests {
    use super::{IMMUTABLE, cache_policy, hash_file_beside};

    #[test]
    fn static_files_pages_and_bundles_are_cached_differently() {
        assert_eq!(cache_policy("/pkg/confab_bg.wasm"), "no-cache");
        assert_eq!(cache_policy("/pkg/confab.css"), "no-cache");
        assert_eq!(cache_policy("/favicon.ico"), "public, max-age=3600");
        assert_eq!(cache_policy("/"), "private, no-cache");
        assert_eq!(cache_policy("/r/0199f5c5-aaaa"), "private, no-cache");
        assert_eq!(cache_policy("/api/chat/rooms"), "private, no-cache");
    }

    #[test]
    fn a_bundle_under_hashed_names_is_immutable() {
        assert_eq!(
            cache_policy("/pkg/confab.Xk3_9aQ-lPz0Wm2bVn7cRt.wasm"),
            IMMUTABLE
        );
        assert_eq!(
            cache_policy("/pkg/confab.Xk3_9aQ-lPz0Wm2bVn7cRt.js"),
            IMMUTABLE
        );
        assert_eq!(
            cache_policy("/pkg/confab.Xk3_9aQ-lPz0Wm2bVn7cRt.css"),
            IMMUTABLE
        );
        // Too short to be a digest, or no stem: revalidated as before.
        assert_eq!(cache_policy("/pkg/confab.min.js"), "no-cache");
        assert_eq!(cache_policy("/pkg/.Xk3_9aQ-lPz0Wm2bVn7cRt.js"), "no-cache");
        assert_eq!(
            cache_policy("/pkg/confab.Xk3_9aQ+lPz0Wm2bVn7cRt.js"),
            "no-cache"
        );
        // Only the bundle's folder: a hashed-looking name elsewhere is a plain asset.
        assert_eq!(
            cache_policy("/img/shot.Xk3_9aQ-lPz0Wm2bVn7cRt.png"),
            "public, max-age=3600"
        );
    }

    #[test]
    fn the_hash_file_is_found_only_beside_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("confab");
        assert_eq!(hash_file_beside(&exe, "hash.txt"), None);
        std::fs::write(dir.path().join("hash.txt"), "js: abc\n").unwrap();
        assert_eq!(
            hash_file_beside(&exe, "hash.txt"),
            Some(dir.path().join("hash.txt"))
        );
    }
}
