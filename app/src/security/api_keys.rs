//! API keys: `hr_` + 43 base64url characters (32 random bytes). Only the
//! SHA-256 of a key is stored: keys are high-entropy, so a fast hash is safe
//! and lets every request find its key with one indexed lookup.

use super::{SecurityError, random};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "hr_";
/// How many leading characters of a key are kept in clear to tell keys apart in the UI.
pub const DISPLAY_PREFIX_LEN: usize = 8;

/// A freshly generated key: `plaintext` is shown once and then dropped.
pub struct GeneratedKey {
    pub plaintext: String,
    pub hash: String,
    pub display_prefix: String,
}

pub fn generate() -> Result<GeneratedKey, SecurityError> {
    let plaintext = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random::bytes::<32>()?));
    Ok(GeneratedKey {
        hash: hash_key(&plaintext),
        display_prefix: plaintext.chars().take(DISPLAY_PREFIX_LEN).collect(),
        plaintext,
    })
}

/// The stored form of a key (lowercase hex SHA-256).
pub fn hash_key(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_unique_prefixed_and_hash_consistently() {
        let a = generate().expect("key");
        let b = generate().expect("key");
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.starts_with(KEY_PREFIX));
        assert_eq!(a.plaintext.len(), KEY_PREFIX.len() + 43);
        assert_eq!(a.hash, hash_key(&a.plaintext));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.plaintext));
    }
}
