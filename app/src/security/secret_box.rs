//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per value. The
//! associated data binds each ciphertext to its row and field, so a value
//! copied into another row does not decrypt.
//!
//! Stored form: `0x01 || nonce (12 bytes) || ciphertext+tag`.

use super::{SecurityError, random};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use std::fmt;
use std::sync::Arc;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
pub const KEY_LEN: usize = 32;

#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<Aes256Gcm>,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self { cipher: Arc::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))) }
    }

    /// Encrypts `plaintext` for the slot named by `context` (e.g. `hook:<id>:token`).
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>, SecurityError> {
        let nonce = random::bytes::<NONCE_LEN>()?;
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| SecurityError::Crypto)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, SecurityError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SecurityError::Crypto);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| SecurityError::Crypto)?;
        String::from_utf8(plaintext).map_err(|_| SecurityError::Crypto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_contexts_keys_and_tampering() {
        let key = [7u8; KEY_LEN];
        let sb = SecretBox::new(&key);
        let sealed = sb.seal("hunter2-secret", "hook:a:token").expect("seal");
        assert!(!sealed.windows(14).any(|w| w == b"hunter2-secret"));
        assert_eq!(sb.open(&sealed, "hook:a:token").expect("open"), "hunter2-secret");
        assert!(sb.open(&sealed, "hook:b:token").is_err());
        assert!(SecretBox::new(&[8u8; KEY_LEN]).open(&sealed, "hook:a:token").is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(sb.open(&tampered, "hook:a:token").is_err());
        assert_ne!(sb.seal("x", "c").expect("seal"), sb.seal("x", "c").expect("seal"), "nonces must differ");
    }
}
