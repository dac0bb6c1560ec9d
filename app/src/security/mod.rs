//! Server-side secrets handling: randomness, password hashing, API keys.
//! Nothing here ever logs or returns a secret in plain text.

pub mod api_keys;
pub mod passwords;
pub mod random;

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("password hashing failed")]
    Hashing,
}
