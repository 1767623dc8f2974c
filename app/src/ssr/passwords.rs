//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), run
//! on the blocking pool so that a burst of log-ins never stalls the async workers.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use protocol::names::Password;

/// Hashing failed (only on a broken environment, e.g. no randomness).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a new password into a PHC string (`$argon2id$…`), with a fresh random salt.
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let text = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashError(e.to_string()))?;
        Argon2::default()
            .hash_password(text.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the stored PHC string. A malformed stored hash never
/// matches. The comparison inside argon2 is constant-time.
pub async fn verify(password: &Password, stored: &str) -> bool {
    let text = password.expose().to_owned();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(text.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A fixed hash to verify against when the handle does not exist, so that a wrong
/// handle takes as long as a wrong password (no user enumeration by timing).
pub async fn verify_against_dummy(password: &Password) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = match DUMMY.get() {
        Some(h) => h.clone(),
        None => {
            let h = hash(&Password::for_login("not a real password").expect("short"))
                .await
                .unwrap_or_default();
            DUMMY.get_or_init(|| h).clone()
        }
    };
    let _ = verify(password, &stored).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let pw = Password::parse_new("correct horse battery").unwrap();
        let stored = hash(&pw).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(verify(&pw, &stored).await);
        let wrong = Password::for_login("correct horse batterz").unwrap();
        assert!(!verify(&wrong, &stored).await);
        assert!(!verify(&pw, "not a hash").await);
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let pw = Password::parse_new("same password").unwrap();
        assert_ne!(hash(&pw).await.unwrap(), hash(&pw).await.unwrap());
    }
}
