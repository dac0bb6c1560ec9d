//! API-key authentication for the REST API: `Authorization: <KEY>` or
//! `Authorization: Bearer <KEY>`; anything else is a 401. Authenticated
//! requests then pass the key's rate limit; requests with keys that do not
//! exist pass a limit per client address.

use super::{ApiError, AppState};
use app::server_fns::context::ClientAddress;
use app::storage::accounts::Account;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The account behind the request's API key.
pub struct Authenticated(pub Account);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("send your API key in the Authorization header"))?
            .to_str()
            .map_err(|_| ApiError::Unauthorized("the Authorization header is not valid text"))?;
        let key = presented_key(value).ok_or(ApiError::Unauthorized("the Authorization header holds no API key"))?;
        let Some(owner) = app::storage::api_keys::authenticate(&state.db, key).await? else {
            // Guessing keys (or a client stuck on a revoked one) is limited per address.
            let address = parts.extensions.get::<ClientAddress>().map_or("unknown", |c| c.0.as_str());
            state.limits.unknown_key.check(address).map_err(|retry_after_secs| {
                tracing::warn!(client = address, "unknown API keys throttled");
                ApiError::RateLimited { retry_after_secs }
            })?;
            return Err(ApiError::Unauthorized("unknown or revoked API key"));
        };
        state
            .limits
            .api_key
            .check(&owner.key_id)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        Ok(Self(owner.account))
    }
}

/// The key from an Authorization value: either the bare key or `Bearer <key>`
/// (scheme case-insensitive).
fn presented_key(value: &str) -> Option<&str> {
    let value = value.trim();
    let key = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") => return None,
        None => value,
    };
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::presented_key;

    #[test]
    fn accepts_bare_and_bearer_forms_only() {
        assert_eq!(presented_key("hr_abc"), Some("hr_abc"));
        assert_eq!(presented_key("Bearer hr_abc"), Some("hr_abc"));
        assert_eq!(presented_key("bearer   hr_abc "), Some("hr_abc"));
        assert_eq!(presented_key("Basic dXNlcjpwYXNz"), None);
        assert_eq!(presented_key("Bearer "), None);
        assert_eq!(presented_key(""), None);
    }
}
