//! API token secrets. A secret is `cfb_` followed by 43 URL-safe base64 characters (32
//! random bytes); only its SHA-256 is stored, and lookups go by that hash, so the
//! database never holds a usable credential and no secret is compared byte by byte.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of every Confab API token (makes leaked tokens easy to recognise and scan for).
pub const PREFIX: &str = "cfb_";

/// A new random secret.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The lookup hash of a secret; `None` for text that cannot be a token.
pub fn lookup_hash(secret: &str) -> Option<[u8; 32]> {
    let body = secret.strip_prefix(PREFIX)?;
    if body.len() != 43 || URL_SAFE_NO_PAD.decode(body).is_err() {
        return None;
    }
    Some(Sha256::digest(secret.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hashable() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43, "{a}");
        assert_eq!(lookup_hash(&a), lookup_hash(&a.clone()));
        assert_ne!(lookup_hash(&a), lookup_hash(&b));
    }

    #[test]
    fn malformed_secrets_have_no_hash() {
        assert_eq!(lookup_hash("cfb_short"), None);
        assert_eq!(lookup_hash(&format!("xyz_{}", "a".repeat(43))), None);
        assert_eq!(lookup_hash(&format!("cfb_{}", "!".repeat(43))), None);
    }
}
