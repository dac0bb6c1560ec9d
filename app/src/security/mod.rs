//! Server-side secrets handling: randomness, password hashing, API keys.
//! Nothing here ever logs or returns a secret in plain text.

pub mod api_keys;
pub mod passwords;
pub mod random;
pub mod secret_box;
pub mod signing;

pub use secret_box::SecretBox;

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("password hashing failed")]
    Hashing,
    #[error("a stored secret could not be encrypted or decrypted (wrong HOOKRELAY_SECRET_KEY?)")]
    Crypto,
}
