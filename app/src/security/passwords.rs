//! Account passwords: argon2id (the crate's defaults), PHC-string encoded.

use super::{SecurityError, random};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// At most one argon2 run per core at a time. Each run takes ~19 MiB and
/// tens of milliseconds of a core: without a cap a login flood fills the
/// blocking pool (512 threads), memory grows with it and the dispatcher
/// starves. Waiting logins queue as futures, holding no thread.
static HASHING_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)))
});

pub fn hash_password(password: &str) -> Result<String, SecurityError> {
    let salt = SaltString::encode_b64(&random::bytes::<16>()?).map_err(|_| SecurityError::Hashing)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| SecurityError::Hashing)
}

/// True when `password` matches the stored PHC hash. A malformed stored hash
/// never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A real argon2 hash of a random password, checked when the email is
/// unknown so both cases take the same time (no account enumeration).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = random::bytes::<16>().map(hex::encode).unwrap_or_default();
        hash_password(&random).unwrap_or_default()
    })
}

/// A login's password check: [`verify_password`] against the account's
/// hash, or against a dummy hash (same cost, never true) when there is no
/// account. Runs on the blocking pool, at most one run per core at a time,
/// so the async workers serving everyone else never stall on it.
pub async fn verify_login(password: String, stored_hash: Option<String>) -> Result<bool, SecurityError> {
    let slot = HASHING_SLOTS.clone().acquire_owned().await.map_err(|_| SecurityError::Hashing)?;
    tokio::task::spawn_blocking(move || {
        // The slot goes with the blocking task: a client that hangs up
        // drops the future, not the hash already running.
        let _slot = slot;
        match stored_hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                // The same work as a real check, and never a match.
                let _ = verify_password(&password, dummy_hash());
                false
            }
        }
    })
    .await
    .map_err(|_| SecurityError::Hashing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password_and_hides_it() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not-a-hash"));
    }
}
